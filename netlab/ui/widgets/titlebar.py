"""TitleBar: the top line, the app's title and sub-title (``netlab — lab server …``).

One widget drawing one line.  Textual's Header is four widgets (icon, title, clock space
and the header itself), and every widget on the first frame costs start-up time
(bench/startup.py); the icon's click (the command palette) is ctrl+p here.
"""

from __future__ import annotations

from textual.widget import Widget


class TitleBar(Widget):
    """``app.format_title(title, sub_title)``, centred; redrawn when either changes."""

    DEFAULT_CSS = """
    TitleBar { dock: top; width: 100%; height: 1; background: $panel; color: $foreground;
               content-align: center middle; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._changed, init=False)
        self.watch(self.app, "sub_title", self._changed, init=False)

    def _changed(self, _value: str) -> None:
        self.refresh()

    def render(self):
        return self.app.format_title(self.app.title, self.app.sub_title)
