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
        """The tab names as they fit: spaced out; closer together; or, when even that is too
        wide, the tabs around the active one between ``‹N`` and ``N›`` (N tabs not shown)."""
        accent = self.app.theme_variables.get("accent", "yellow")
        width = self.size.width or 10_000
        labels = [label.plain if isinstance(label, Text) else str(label) for _, label in self.tabs]
        active = next((i for i, (tab_id, _) in enumerate(self.tabs) if tab_id == self.active), 0)
        for pad, gap in ((1, 1), (0, 1)):
            if sum(len(x) + 2 * pad for x in labels) + gap * (len(labels) - 1) <= width:
                return self._strip(range(len(labels)), labels, active, pad, gap, accent)
        # too many: a window around the active tab, growing on both sides while it fits
        lo = hi = active

        def need(a: int, b: int) -> int:
            marks = (len(f"‹{a} ") if a else 0) + (len(f" {len(labels) - 1 - b}›") if b < len(labels) - 1 else 0)
            return sum(len(labels[i]) for i in range(a, b + 1)) + (b - a) + marks

        while True:
            grew = False
            if hi + 1 < len(labels) and need(lo, hi + 1) <= width:
                hi, grew = hi + 1, True
            if lo > 0 and need(lo - 1, hi) <= width:
                lo, grew = lo - 1, True
            if not grew:
                break
        return self._strip(range(lo, hi + 1), labels, active, 0, 1, accent, hidden=(lo, len(labels) - 1 - hi))

    def _strip(self, shown, labels, active: int, pad: int, gap: int, accent: str,
               hidden: tuple[int, int] = (0, 0)) -> Text:
        t = Text(no_wrap=True, overflow="crop")
        self._spans = []
        if hidden[0]:
            t.append(f"‹{hidden[0]} ", "bold")
        for k, i in enumerate(shown):
            if k:
                t.append(" " * gap)
            start = len(t)
            label = f"{' ' * pad}{labels[i]}{' ' * pad}"
            t.append(label, f"bold reverse {accent}" if i == active else "")
            self._spans.append((start, len(t), self.tabs[i][0]))
        if hidden[1]:
            t.append(f" {hidden[1]}›", "bold")
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

    async def mount_lazy(self) -> None:
        """Anything else the pane mounts after the first frame, before its tabs."""

    def schedule_tabs(self) -> None:
        self.call_after_refresh(self.ensure_tabs)

    async def ensure_tabs(self) -> None:
        import asyncio

        if self._tabs_ready is not None:
            await self._tabs_ready.wait()
            return
        self._tabs_ready = asyncio.Event()
        await self.mount_lazy()
        widgets = self.lazy_tabs()
        for widget in widgets:
            widget.display = False
        from textual.widgets import ContentSwitcher

        await self.query_one(ContentSwitcher).mount_all(widgets)
        self._tabs_ready.set()
