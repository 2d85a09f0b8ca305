"""TabStrip: one line of tab names over a ContentSwitcher.

A single widget (Textual's TabbedContent builds a widget per tab plus an animated
underline, which costs start-up time).  Keys are the owning pane's; a click posts
TabSelected, which the pane handles.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widget import Widget

from netlab.ui.messages import TabSelected


class TabStrip(Widget):
    """``tabs``: (id, label) pairs; ``active``: the id shown as selected."""

    DEFAULT_CSS = """
    TabStrip { height: 1; padding: 0 1; color: $text-muted; }
    """

    active = reactive("")

    def __init__(self, tabs: list[tuple[str, str]], active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tabs = tabs
        self.set_reactive(TabStrip.active, active)
        self._spans: list[tuple[int, int, str]] = []

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="crop")
        self._spans = []
        accent = self.app.theme_variables.get("accent", "yellow")
        for i, (tab_id, label) in enumerate(self.tabs):
            start = len(t)
            if tab_id == self.active:
                t.append(f" {label} ", f"bold reverse {accent}")
            else:
                t.append(f" {label} ")
            self._spans.append((start, len(t), tab_id))
            if i < len(self.tabs) - 1:
                t.append(" ")
        return t

    def on_click(self, event: events.Click) -> None:
        for start, end, tab_id in self._spans:
            if start <= event.x - 1 < end:
                self.post_message(TabSelected(self, tab_id))
                return


class LazyTabs:
    """Mixin for a pane whose hidden tabs are mounted after the first frame (the app calls
    ``schedule_tabs()``) or as soon as one is shown: ``lazy_tabs()`` builds them;
    ``await self.ensure_tabs()`` before using them."""

    _tabs_ready = None  # asyncio.Event once the mount has started

    def lazy_tabs(self) -> list[Widget]:  # pragma: no cover - each pane says
        raise NotImplementedError

    def schedule_tabs(self) -> None:
        self.call_after_refresh(self.ensure_tabs)

    async def ensure_tabs(self) -> None:
        import asyncio

        if self._tabs_ready is not None:
            await self._tabs_ready.wait()
            return
        self._tabs_ready = asyncio.Event()
        widgets = self.lazy_tabs()
        for widget in widgets:
            widget.display = False
        from textual.widgets import ContentSwitcher

        await self.query_one(ContentSwitcher).mount_all(widgets)
        self._tabs_ready.set()
