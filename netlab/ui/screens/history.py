"""The history list: method, URL, status, time and duration of every exchange, newest
first.  ``enter`` loads an entry into the composer and the viewer; ``r`` replays it
exactly (same bytes, same target).  The app sets ``entries`` (read in a worker).

``space`` (or ``m``) marks an entry; ``d`` on another compares the marked one with it
(DiffScreen), or, with nothing marked, compares the entry with the previous exchange of
the same request (the previous replay; else the exchange before it).  ``e`` exports it."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from netlab.ui.messages import CompareRequested, ExportRequested, HistoryLoadRequested, HistoryReplayRequested

HINT = "enter loads · r replays exactly · ctrl+r replays the last one"


def _safe(value) -> str:
    """Untrusted text made visible: ``views.text.safe``, imported when first needed."""
    from netlab.ui.views.text import safe

    return safe(value)


class HistoryTable(DataTable):
    """History rows keyed by entry id."""

    BINDINGS = [
        Binding("enter", "load", "Load", tooltip="Load this exchange into the composer and the viewer"),
        Binding("r", "replay", "Replay", tooltip="Send these exact bytes to the same target again"),
        Binding("space,m", "mark", "Mark", show=False, tooltip="Mark this exchange (again: unmark); d compares it"),
        Binding("d", "compare", "Compare", show=False,
                tooltip="Compare the marked exchange with this one (nothing marked: with the previous replay)"),
        Binding("e", "export", "Export", show=False,
                tooltip="Export: raw, .http, curl, python-socket, python-requests"),
    ]

    marked: int | None = None  # the entry id marked with space

    def _entry_id(self) -> int | None:
        if not self.row_count:
            return None
        return int(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)

    def action_load(self) -> None:
        entry = self._entry_id()
        if entry is not None:
            self.post_message(HistoryLoadRequested(entry))

    def action_replay(self) -> None:
        entry = self._entry_id()
        if entry is not None:
            self.post_message(HistoryReplayRequested(entry))

    def action_mark(self) -> None:
        entry = self._entry_id()
        if entry is None:
            return
        old, self.marked = self.marked, (None if self.marked == entry else entry)
        for key in {old, self.marked} - {None}:
            if str(key) in self.rows:
                self.update_cell(str(key), "#", _id_cell(key, key == self.marked))
        self.query_ancestor(HistoryPane).show_hint(self.marked)

    def action_compare(self) -> None:
        entry = self._entry_id()
        if entry is None:
            return
        if self.marked is not None and self.marked != entry:
            self.post_message(CompareRequested(self.marked, entry))
            return
        before = previous_of(self.query_ancestor(HistoryPane).entries, entry)
        self.post_message(CompareRequested(before, entry))  # None: the worker looks further back

    def action_export(self) -> None:
        entry = self._entry_id()
        if entry is not None:
            self.post_message(ExportRequested(entry))

    def forget(self, gone: set) -> None:
        if self.marked is not None and str(self.marked) in gone:
            self.marked = None
            self.query_ancestor(HistoryPane).show_hint(None)


def previous_of(entries, entry_id: int) -> int | None:
    """The exchange to compare ``entry_id`` with: the newest older one of the same method
    and URL (the previous replay), else the newest older one; None when none is listed."""
    current = next((e for e in entries if e.id == entry_id), None)
    older = [e for e in entries if e.id < entry_id]
    if current is None or not older:
        return None
    same = [e for e in older if (e.method, e.url) == (current.method, current.url)]
    return max(same or older, key=lambda e: e.id).id


def _id_cell(entry_id: int, marked: bool) -> Text:
    return Text(f"● {entry_id}", "bold magenta") if marked else Text(str(entry_id), "dim")


class HistoryPane(Vertical):
    """Every exchange, newest first."""

    ALLOW_MAXIMIZE = True
    entries = reactive((), always_update=True, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "History"
        self.border_subtitle = "F6"

    def compose(self) -> ComposeResult:
        yield Static(Text(HINT, "dim italic"), id="history-status")
        yield HistoryTable(id="history-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(HistoryTable)
        for name in ("#", "time", "method", "url", "status", "duration"):
            table.add_column(name, key=name)

    def watch_entries(self, entries) -> None:
        """Add new entries and drop vanished ones by key, newest first."""
        table = self.query_one(HistoryTable)
        wanted = {str(e.id): e for e in entries}
        with self.app.batch_update():
            gone = {k.value for k in table.rows if k.value not in wanted}
            for key in gone:
                table.remove_row(key)
            table.forget(gone)
            for key, entry in wanted.items():
                if key not in table.rows:
                    table.add_row(*_cells(entry), key=key)
            table.sort("#", key=lambda cell: -int(cell.plain.split()[-1]), reverse=False)
        if entries:
            table.move_cursor(row=0, animate=False)

    def focus_table(self) -> None:
        self.query_one(HistoryTable).focus()

    def show_hint(self, marked: int | None) -> None:
        text = HINT if marked is None else (f"#{marked} marked: d on another entry compares #{marked} with it · "
                                            "space again unmarks")
        self.query_one("#history-status", Static).update(Text(text, "dim italic" if marked is None else "magenta"))


def _cells(e) -> list[Text]:
    status = e.status
    if e.error_phase:
        st = Text(f"✗ {_safe(e.error_phase)}", "red")
    elif status is None:
        st = Text("-", "dim")
    else:
        colour = "green" if status < 300 else "cyan" if status < 400 else "yellow" if status < 500 else "red"
        st = Text(str(status), colour)
    when = time.strftime("%H:%M:%S", time.localtime(e.started)) if e.started else "-"
    ms = e.duration_ms
    duration = "-" if ms is None else f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"
    from netlab.engine.secrets import mask_url  # a password in the URL: user:****@host

    return [_id_cell(e.id, False), Text(when), Text(_safe(e.method), "bold"), Text(_safe(mask_url(e.url))), st,
            Text(duration + (" (reused)" if getattr(e, "reused", False) else ""), "dim")]


class HistoryScreen(ModalScreen):
    """The history list over the panes; escape or F6 closes it."""

    BINDINGS = [Binding("escape,f6", "dismiss", "Close", tooltip="Back to the panes")]
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > HistoryPane { width: 95%; height: 90%; border: round $accent; background: $surface; }
    """

    def __init__(self, entries=()) -> None:
        super().__init__()
        self._entries = entries

    def compose(self) -> ComposeResult:
        yield HistoryPane(id="history")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        pane = self.query_one(HistoryPane)
        pane.entries = self._entries
        pane.focus_table()


def toggle_history(app) -> None:
    """F6: open the history list (and read it again), or close it."""
    from netlab.ui import workers

    if app.services.store is None:
        app.notify("history is off", markup=False)
        return
    if isinstance(app.screen, HistoryScreen):
        app.pop_screen()
        return
    app.push_screen(HistoryScreen(app.history_entries))
    app._thread(workers.refresh_history, app.services, group="history")
