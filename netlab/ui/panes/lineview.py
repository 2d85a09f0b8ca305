"""LineView: a scrollable view of many lines that renders only the visible ones.

Its source is a count and a function giving line *i* as ``rich.text.Text`` (see
``render.Lines``): a hex dump of 16 MiB is 1M lines, computed as they scroll into view.
Text is drawn as-is (no markup, no wrapping); the source escapes untrusted bytes.
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineView(ScrollView, can_focus=True):
    """Lines on demand; arrow keys, page keys, home/end scroll."""

    DEFAULT_CSS = """
    LineView {
        background: $surface;
        overflow: auto;
        padding: 0 0 0 1;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None,
                 source: Callable[[], object] | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._count = 0
        self._line: Callable[[int], Text] = lambda i: Text("")
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self._source = source  # gives the render.Lines to show (or None): see pull()

    def on_mount(self) -> None:
        if self._source is not None:
            self.pull()

    def pull(self) -> None:
        """Show what ``source`` gives now (empty when it gives None)."""
        lines = self._source() if self._source is not None else None
        if lines is None:
            self.set_lines(0, lambda i: Text(""), 0)
        else:
            self.show(lines)

    def set_lines(self, count: int, line: Callable[[int], Text], width: int) -> None:
        """Show a new source from the top."""
        self._count = count
        self._line = line
        self._cache.clear()
        self.virtual_size = Size(width + 1, count)
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def show(self, lines) -> None:
        """Show a ``render.Lines``."""
        self.set_lines(lines.count, lines.line, lines.width)

    def show_texts(self, texts: list[Text]) -> None:
        from rich.cells import cell_len

        self.set_lines(len(texts), texts.__getitem__, max((cell_len(t.plain) for t in texts), default=0))

    @property
    def line_count(self) -> int:
        return self._count

    def text_of(self, index: int) -> str:
        """The plain text of one line (for tests)."""
        return self._line(index).plain if 0 <= index < self._count else ""

    def plain(self, limit: int = 10_000) -> str:
        return "\n".join(self.text_of(i) for i in range(min(self._count, limit)))

    def notify_style_update(self) -> None:
        self._cache.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= self._count:
            return Strip.blank(width, style)
        strip = self._cache.get(index)
        if strip is None:
            text = self._line(index).copy()
            text.no_wrap = True
            text.end = ""
            text.stylize_before(style)
            strip = Strip(list(text.render(self.app.console)), text.cell_len)
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)
