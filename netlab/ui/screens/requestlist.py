"""RequestListScreen: the requests of a .http file (REST Client / JetBrains format).

``ctrl+o`` asks for the file (``open_http_file``); a parse error names the file and the
line and stays in the prompt, with the path as typed.  The list shows each entry's name,
method, URL and line; ``enter`` loads the entry into the composer, the send key
(``ctrl+j``) sends it, ``a`` sends every entry in order (each goes to the history; the
response viewer ends on the last one).
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from netlab.ui.messages import HttpEntriesChosen


def _safe(value) -> str:
    from netlab.ui.views.text import safe

    return safe(value)


def base_options(app):
    """The engine Options an entry's own settings (``# @insecure``...) go over: the
    settings file's timeout and DNS server."""
    from netlab.engine import Options

    s = app.user_settings
    try:
        dns = s.dns_address
    except ValueError:
        dns = None
    return Options(timeout=s.timeout, dns_server=dns)


def open_http_file(app) -> None:
    """Ask for a .http file, parse it and show its requests."""
    from netlab.engine import NetlabError
    from netlab.engine.httpfile import parse_file
    from netlab.ui.screens.prompt import PromptScreen

    parsed: dict = {}

    def check(value: str) -> str | None:
        path = os.path.expanduser(value.strip())
        if not path:
            return "type the path of a .http file"
        try:
            http_file = parse_file(path)
        except NetlabError as exc:
            return exc.message + (f"\n{exc.hint}" if exc.hint else "")
        if not http_file.entries:
            return f"{path}: the file holds no requests (they start with a request line: GET http://…)"
        parsed["file"] = http_file
        return None

    def done(value: str | None) -> None:
        if value is None:
            return
        app.http_path = os.path.expanduser(value.strip())
        app.push_screen(RequestListScreen(parsed["file"], base_options(app)))

    app.push_screen(PromptScreen("Open a .http file", value=getattr(app, "http_path", ""),
                                 placeholder="requests.http", check=check,
                                 help="requests separated by ### lines; @name = value variables; < FILE bodies"),
                    done)


class RequestListScreen(ModalScreen):
    """The entries of one .http file."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="Back to the panes"),
        Binding("a", "send_all", "Send all", tooltip="Send every request of the file, in order"),
    ]
    DEFAULT_CSS = """
    RequestListScreen { align: center middle; }
    RequestListScreen > Vertical { width: 95%; height: 90%; border: round $accent; background: $surface; }
    RequestListScreen #requests-help { height: 1; }
    """

    def __init__(self, http_file, base=None) -> None:
        super().__init__()
        self.http_file = http_file
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(id="requests-box") as box:
            box.border_title = f".http file {_safe(self.http_file.path or '')}"
            box.border_subtitle = f"{len(self.http_file.entries)} requests"
            yield Static(Text("enter loads into the composer · ctrl+j sends · a sends all in order · esc closes",
                              "dim italic"), id="requests-help")
            yield DataTable(id="requests-table", cursor_type="row", zebra_stripes=True)
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in ("#", "name", "method", "url", "line"):
            table.add_column(name, key=name)
        for i, e in enumerate(self.http_file.entries):
            table.add_row(Text(str(i + 1), "dim"), Text(_safe(e.name or "")), Text(_safe(e.request.method), "bold"),
                          Text(_safe(e.request.url)), Text(str(e.line), "dim"), key=str(i))
        table.focus()

    def item(self, index: int) -> tuple:
        """(request, options, label) of entry ``index``."""
        e = self.http_file.entries[index]
        return e.request, e.options_for(self.base), e.label

    @property
    def selected(self) -> int:
        return self.query_one(DataTable).cursor_row

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(HttpEntriesChosen((self.item(event.cursor_row),), send=False))

    def send_selected(self) -> None:
        """The app's send key, while this list is on top: send the selected entry."""
        self.post_message(HttpEntriesChosen((self.item(self.selected),), send=True))

    def action_send_all(self) -> None:
        items = tuple(self.item(i) for i in range(len(self.http_file.entries)))
        self.post_message(HttpEntriesChosen(items, send=True))
