"""SearchBar: the response viewer's search line (``/``).

One line at the bottom of the viewer: ``/``, the query, whether case matters, and where
the search stands ("match 3 of 17", "no match for 'x'").  Typing searches as you type
(``SearchChanged``); enter keeps the search and goes back to the view, where ``n`` and
``N`` move between matches; escape clears it (``SearchClosed``); alt+c toggles case.
The pane does the searching; this widget only edits the query and shows the status.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from netlab.ui.messages import SearchChanged, SearchClosed


class SearchBar(Horizontal):
    """``/`` query · case · status."""

    DEFAULT_CSS = """
    SearchBar { height: 1; padding: 0 1; background: $panel; }
    SearchBar #search-slash { width: 2; color: $accent; text-style: bold; }
    SearchBar #search-input { width: 1fr; height: 1; border: none; padding: 0; background: $panel; }
    SearchBar #search-case { width: auto; padding: 0 1; }
    SearchBar #search-status { width: auto; max-width: 60%; color: $text-muted; text-wrap: nowrap;
                               text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("escape", "close", "Clear search", tooltip="Clear the search and its highlights"),
        Binding("alt+c", "toggle_case", "Match case", tooltip="Match case, or ignore it (the default)"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.match_case = False

    def compose(self) -> ComposeResult:
        yield Static("/", id="search-slash")
        yield Input(placeholder="search: enter keeps it, n/N move, esc clears, alt+c case", id="search-input",
                    select_on_focus=False)
        yield Static(id="search-case")
        yield Static(id="search-status")

    def on_mount(self) -> None:
        self._show_case()

    @property
    def query(self) -> str:
        return self.query_one(Input).value

    def open(self) -> None:
        """Show the line and edit the query (selected, so typing replaces it)."""
        self.display = True
        field = self.query_one(Input)
        field.focus()
        field.select_all()

    def show_status(self, text: Text | str) -> None:
        self.query_one("#search-status", Static).update(text if isinstance(text, Text) else Text(text))

    @property
    def status(self) -> str:
        content = self.query_one("#search-status", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(SearchChanged(event.value, self.match_case))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(SearchChanged(event.value, self.match_case, final=True))

    def action_close(self) -> None:
        self.display = False
        self.post_message(SearchClosed())

    def action_toggle_case(self) -> None:
        self.match_case = not self.match_case
        self._show_case()
        self.post_message(SearchChanged(self.query, self.match_case))

    def _show_case(self) -> None:
        self.query_one("#search-case", Static).update(
            Text("Aa match case", "bold") if self.match_case else Text("aA any case", "dim"))
