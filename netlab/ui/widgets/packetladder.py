"""PacketLadder: the Packets tab's ladder, one line a packet, with a cursor on one packet
(↑/↓ or j/k, page keys, home/end, a click); the packet under the cursor is the one whose
layers the tab opens below (``on_cursor`` is told every move)."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding

from netlab.ui.widgets.lineview import LineView


class PacketLadder(LineView):
    """A LineView whose line ``cursor`` is the selected packet."""

    DEFAULT_CSS = """
    PacketLadder { overflow-x: hidden; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous packet", show=False),
        Binding("down,j", "move(1)", "Next packet", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First packet", show=False),
        Binding("end", "edge(1)", "Last packet", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cursor = 0
        self.on_cursor: Callable[[int], None] | None = None

    def set_lines(self, count: int, line: Callable[[int], Text], width: int, lines=None) -> None:
        def marked(i: int) -> Text:
            t = line(i)
            if i != self.cursor:
                return t
            t = t.copy()
            t.stylize("reverse" if self.has_focus else "underline")
            return t

        super().set_lines(count, marked, width, lines)
        self.cursor = max(0, min(self.cursor, count - 1))
        self.call_after_refresh(self._keep_visible)

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

    def move_to(self, index: int) -> None:
        count = self.shown_count
        if not count:
            return
        index = max(0, min(index, count - 1))
        if index == self.cursor:
            return
        self.cursor = index
        self._cache.clear()
        self._keep_visible()
        self.refresh()
        if self.on_cursor is not None:
            self.on_cursor(index)

    def _keep_visible(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_move(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.move_to(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        self.move_to(self.shown_count - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        self.move_to(int(self.scroll_y) + event.y)
