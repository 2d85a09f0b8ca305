"""The help screen (F1): every key, by pane, generated from the bindings themselves so it
cannot drift from what the keys do."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from netlab.ui.keys import keys_text

INTRO = (
    "netlab shows every step under one HTTP request: the name is resolved (DNS pane), the kernel "
    "opens a TCP connection and picks a local port (Connections pane), the exact request bytes go "
    "out (Composer, Raw tab) and the exact response bytes come back (Response: Raw and Hex tabs, "
    "with the framing marked). Every action is also in the command palette (ctrl+p)."
)


def binding_rows(bindings) -> list[tuple[str, str, str]]:
    """(keys, description, tooltip) for each described binding."""
    rows = []
    for b in bindings:
        if isinstance(b, tuple):
            b = Binding(*b)
        if not b.description:
            continue
        keys = keys_text(b.key)
        rows.append((keys, b.description, b.tooltip or ""))
    return rows


def help_text(sections: list[tuple[str, list[tuple[str, str, str]]]]):
    from rich.console import Group
    from rich.table import Table

    parts: list = [Text("netlab — keys\n", "bold"), Text(INTRO, "dim")]
    for title, rows in sections:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column(style="bold cyan", no_wrap=True, width=16)
        table.add_column(no_wrap=True, width=14)
        table.add_column(style="dim", ratio=1)
        for keys, description, tooltip in rows:
            table.add_row(Text(keys), Text(description), Text(tooltip))
        parts += [Text(""), Text(title, "bold underline"), table]
    return Group(*parts)


class HelpScreen(ModalScreen):
    """Every key binding, grouped by pane."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 95%; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, sections) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll") as scroll:
            scroll.border_title = "Help"
            scroll.border_subtitle = "esc closes"
            yield Static(help_text(self.sections), id="help-text")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
