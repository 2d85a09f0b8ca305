"""ExportScreen: export a request (an exchange's, or the composer's) as raw bytes, a .http
entry, a curl command, a standalone Python socket script or a ``requests`` call.

The chooser lists the formats with a preview of the highlighted one; ``enter`` or ``c``
copies it to the clipboard, ``s`` saves it to a file (a path prompt).  Credential values
(Authorization, Proxy-Authorization, Cookie) are masked unless "show secrets" is ticked
(``t``).  Every format is computed once, in a worker (``workers.export_all``), when the
screen opens.  The preview is plain text with control characters escaped.
"""

from __future__ import annotations

import os
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, OptionList, Static
from textual.widgets.option_list import Option

from netlab.ui.messages import ExportsComputed
from netlab.ui.widgets.checkbox import TickBox
from netlab.ui.widgets.lineview import LineView

FORMATS = (
    ("raw", "the exact request bytes"),
    ("http", "a .http entry (REST Client, JetBrains)"),
    ("curl", "a curl command sending the same bytes"),
    ("python-socket", "a standalone script: socket (and ssl) only"),
    ("python-requests", "the equivalent requests call"),
)


def export_current(app) -> None:
    """ctrl+n: export what the user is looking at — the composer's request when the composer
    has focus (or nothing was sent yet), else the exchange in the response viewer."""
    from netlab.engine import NetlabError

    prepared = app.response.prepared
    in_composer = app.grid.pane_of(app.focused) is app.composer
    if in_composer or prepared is None:
        app.composer.normalize_raw()
        try:
            request, options = app.composer.build()
        except NetlabError as exc:
            app.notify(f"cannot export the composer's request: {exc.message}", severity="warning")
            return
        app.push_screen(ExportScreen(request, options, "the composer's request"))
        return
    ex = prepared.exchange
    hid = getattr(prepared, "history_id", None)
    app.push_screen(ExportScreen(ex.request, ex.options, f"exchange #{hid}" if hid else "the exchange shown"))


class ExportScreen(ModalScreen):
    """Choose a format; copy it or save it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="Close without exporting"),
        Binding("c", "copy", "Copy", tooltip="Copy the highlighted format to the clipboard"),
        Binding("s", "save", "Save", tooltip="Save the highlighted format to a file"),
        Binding("t", "toggle_secrets", "Show secrets", tooltip="Mask credential values, or show them"),
    ]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 110; max-width: 95%; height: 90%; border: round $accent; background: $surface; }
    ExportScreen OptionList { height: auto; width: 1fr; }
    ExportScreen #export-notes { height: auto; color: $warning; }
    ExportScreen LineView { height: 1fr; border-top: solid $primary-darken-2; }
    """

    def __init__(self, request, options, source: str) -> None:
        super().__init__()
        self.request = request
        self.options = options
        self.source = source
        self.results: dict | None = None  # (format, show_secrets) -> Export or error text
        self._confirm: str | None = None  # a path that exists: enter again replaces it

    def compose(self) -> ComposeResult:
        from netlab.ui.views.text import safe

        with Vertical(id="export-box") as box:
            box.border_title = f"Export {safe(self.source)}"
            box.border_subtitle = "enter/c copies · s saves · t shows secrets · esc"
            yield OptionList(*[Option(Text.assemble((f"{fmt:<17}", "bold"), (what, "dim")), id=fmt)
                               for fmt, what in FORMATS], id="export-formats")
            yield TickBox("show secrets (credential headers and URL passwords)", False,
                          id="export-secrets", compact=True)
            yield Static(id="export-notes")
            yield LineView(id="export-preview")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        from netlab.ui import workers

        self.query_one("#export-notes", Static).update(Text("preparing …", "dim italic"))
        self.query_one(OptionList).highlighted = 0
        self.query_one(OptionList).focus()
        self.run_worker(partial(workers.export_all, self.request, self.options, self.source,
                                post=self.post_message), thread=True, exit_on_error=False)

    # -- state -----------------------------------------------------------------------------------
    @property
    def format(self) -> str:
        index = self.query_one(OptionList).highlighted
        return FORMATS[index or 0][0]

    @property
    def show_secrets(self) -> bool:
        return self.query_one("#export-secrets", Checkbox).value

    def current(self):
        """The engine Export for the highlighted format, an error text, or None (not ready)."""
        if self.results is None:
            return None
        return self.results.get((self.format, self.show_secrets))

    def on_exports_computed(self, msg: ExportsComputed) -> None:
        msg.stop()
        self.results = msg.results
        self._show()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_copy()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._show()

    def _show(self) -> None:
        from netlab.engine.rawtext import visible_line_endings
        from netlab.engine.text import safe_text

        notes = self.query_one("#export-notes", Static)
        view = self.query_one(LineView)
        item = self.current()
        if item is None:
            notes.update(Text("preparing …", "dim italic"))
            view.show_texts([])
            return
        if isinstance(item, str):
            notes.update(Text(f"✗ {safe_text(item, keep_newlines=False)}", "red"))
            view.show_texts([])
            return
        shown = [safe_text(n.replace("--show-secrets exports it", "t shows it"), keep_newlines=False)
                 for n in item.notes]
        notes.update(Text(" · ".join(shown), "yellow") if shown else Text(f"{len(item.data)} bytes", "dim"))
        if item.format == "raw" or item.text is None:
            lines = visible_line_endings(item.data)
        else:
            lines = [safe_text(line, keep_newlines=False) for line in item.text.split("\n")]
        view.show_texts([Text(line) for line in lines])

    # -- actions ---------------------------------------------------------------------------------
    def action_toggle_secrets(self) -> None:
        box = self.query_one("#export-secrets", Checkbox)
        box.value = not box.value

    def _ready(self):
        item = self.current()
        if item is None:
            self.app.notify("the export is still being prepared", severity="warning")
            return None
        if isinstance(item, str):
            self.app.notify(item, severity="error")
            return None
        return item

    def _masked_note(self, item) -> str:
        masked = [n for n in item.notes if n.startswith("masked")]
        return " (credential values masked)" if masked else ""

    def action_copy(self) -> None:
        item = self._ready()
        if item is None:
            return
        if item.text is None:
            self.app.notify("these request bytes are not UTF-8 text: save them to a file (s) instead",
                            severity="warning")
            return
        self.app.copy_to_clipboard(item.text)
        self.app.notify(f"copied {item.format} ({len(item.text)} characters) to the clipboard"
                        + self._masked_note(item))
        self.dismiss()

    def action_save(self) -> None:
        from netlab.ui.screens.prompt import PromptScreen

        item = self._ready()
        if item is None:
            return
        stem = "request" if not self.source.startswith("exchange #") else f"exchange-{self.source[10:]}"
        self._confirm = None

        def check(value: str) -> str | None:
            return self._write(value, item)

        def done(value: str | None) -> None:
            if value is not None:
                self.app.notify(f"saved {item.format} to {os.path.expanduser(value.strip())}"
                                + self._masked_note(item))
                self.dismiss()

        self.app.push_screen(PromptScreen(f"Save {item.format} to", value=f"{stem}{item.suffix}", check=check,
                                          help="a new file is created with mode 0600"), done)

    def _write(self, value: str, item) -> str | None:
        path = os.path.expanduser(value.strip())
        if not path:
            return "type a file path"
        if os.path.isdir(path):
            return f"{path} is a directory"
        if os.path.exists(path) and self._confirm != path:
            self._confirm = path
            return f"{path} exists: enter again to replace it"
        try:
            item.save(path)
        except OSError as exc:
            return f"cannot write {path}: {exc.strerror or exc}"
        return None
