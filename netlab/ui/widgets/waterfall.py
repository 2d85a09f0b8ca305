"""Waterfall: the Timing tab's widget; ``views.timing`` draws it."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from netlab.ui.views.timing import waterfall_text


class Waterfall(Widget):
    """Horizontal bars for dns, connect, tls, send, ttfb and download, with ms figures."""

    can_focus = True  # the Timing tab holds the focus like every tab, so the viewer's keys stay there

    DEFAULT_CSS = """
    Waterfall { height: auto; min-height: 9; padding: 1 1; }
    """

    timings = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None, source=None) -> None:
        super().__init__(id=id)
        self._source = source  # gives the timings to show: see pull()

    def on_mount(self) -> None:
        self.pull()

    def pull(self) -> None:
        if self._source is not None:
            self.timings = self._source()

    def render(self) -> Text:
        return waterfall_text(self.timings, self.size.width)
