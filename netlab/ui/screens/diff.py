"""DiffScreen: two stored exchanges side by side — "replay and see what changed".

The lines are built in a worker by ``netlab.ui.views.diff.diff_texts`` (a body diff can
be long); this screen shows them in one scrollable ``LineView``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen

from netlab.ui.views.diff import diff_texts
from netlab.ui.widgets.lineview import LineView

__all__ = ["DiffScreen", "diff_texts"]


class DiffScreen(ModalScreen):
    """The comparison of two exchanges over the panes; escape closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", tooltip="Back to where you were")]
    DEFAULT_CSS = """
    DiffScreen { align: center middle; }
    DiffScreen > Vertical { width: 95%; height: 90%; border: round $accent; background: $surface; }
    DiffScreen LineView { height: 1fr; }
    """

    def __init__(self, a_id: int, b_id: int, lines: list[Text]) -> None:
        super().__init__()
        self.a_id = a_id
        self.b_id = b_id
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-box") as box:
            box.border_title = f"Compare #{self.a_id} → #{self.b_id}"
            box.border_subtitle = "esc closes"
            yield LineView(id="diff-view")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        view = self.query_one(LineView)
        view.show_texts(self.lines)
        view.focus()
