"""The live connection table (like ``ss -tanp`` / htop): protocol, local, remote, state,
pid, process.

A thread worker takes the snapshots and diffs them (never the UI thread); this pane
applies each diff by row key inside ``batch_update()`` — rows are added, removed and
updated in place, never cleared and refilled.  The sockets of netlab's own engine are
highlighted (● and colour); after a send the row of that exchange is selected.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

COLUMNS = ("proto", "local", "remote", "state", "pid", "process")
OWN_STYLE = "bold cyan"


def _addr(addr) -> str:
    if not addr:
        return "*"
    if isinstance(addr, str):
        return addr
    host, port = addr[0], addr[1]
    if not port:
        return str(host) or "-"
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _norm(addr) -> tuple[str, int] | None:
    """(ip, port) from a tuple/namedtuple or an "ip:port" string."""
    if not addr:
        return None
    if isinstance(addr, str):
        host, sep, port = addr.rpartition(":")
        return (host.strip("[]"), int(port)) if sep and port.isdigit() else None
    return (str(addr[0]), int(addr[1]))


def _safe(value) -> str:
    from netlab.engine.text import safe_text

    return safe_text(str(value), keep_newlines=False)


class ConnectionsPane(Vertical):
    """Every inet socket on the machine, live."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("o", "toggle_own", "Own only", tooltip="Show only netlab's own sockets, or all"),
        Binding("z", "toggle_pause", "Pause", tooltip="Freeze the table (like htop's Z)"),
    ]

    def __init__(self, *, live: bool = True, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Connections"
        self.border_subtitle = "F5"
        self.live = live
        self.paused = False
        self.own_only = False
        self._rows: dict[str, object] = {}
        self._own: frozenset[str] = frozenset()
        self._target: tuple | None = None
        self._last = ""

    def compose(self) -> ComposeResult:
        text = "waiting for the first snapshot …" if self.live else "live table off"
        yield Static(Text(text, "dim italic"), id="conn-status")
        yield DataTable(id="conn-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)

    # -- actions -----------------------------------------------------------------------------
    def focus_pane(self) -> None:
        self.query_one(DataTable).focus()

    def action_toggle_own(self) -> None:
        self.own_only = not self.own_only
        self._sync_visible()
        self._show_status()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._show_status()

    # -- updates from the worker ---------------------------------------------------------------
    def apply(self, msg) -> None:
        """Apply one ConnectionsChanged diff by row key."""
        if self.paused:
            return
        table = self.query_one(DataTable)
        old_own = self._own
        self._own = frozenset(str(k) for k in msg.own)
        with self.app.batch_update():
            for key in msg.removed:
                k = str(key)
                self._rows.pop(k, None)
                if k in table.rows:
                    table.remove_row(k)
            for row in msg.added:
                k = str(row.key)
                self._rows[k] = row
                if self._visible(k) and k not in table.rows:
                    table.add_row(*self._cells(row, k), key=k)
            for row in msg.changed:
                k = str(row.key)
                self._rows[k] = row
                if k in table.rows:
                    self._update(table, k, row)
            for k in old_own ^ self._own:
                if k in self._rows:
                    if k in table.rows:
                        self._update(table, k, self._rows[k])
            if self.own_only:
                self._sync_visible()
        self._last = f"{msg.total} sockets · snapshot {msg.elapsed_ms:.0f} ms"
        if msg.notice:
            self._last += f" · {msg.notice}"
        self._show_status()
        if self._target is not None:
            self._select_target()

    def select_exchange(self, local, remote) -> None:
        """Select the row of this connection (now, or when a snapshot shows it)."""
        self._target = (_norm(local), _norm(remote))
        self._select_target()

    def _select_target(self) -> None:
        local, remote = self._target
        table = self.query_one(DataTable)
        found = None
        for k, row in self._rows.items():
            pair = (_norm(row.local), _norm(row.remote))
            if pair == (local, remote):
                found = k
                break
            if pair == (remote, local) and found is None:
                found = k  # the server's end of the same connection
        if found is not None and found in table.rows:
            table.move_cursor(row=table.get_row_index(found), animate=False)
            self._target = None

    # -- helpers -------------------------------------------------------------------------------
    def _visible(self, k: str) -> bool:
        return not self.own_only or k in self._own

    def _sync_visible(self) -> None:
        table = self.query_one(DataTable)
        with self.app.batch_update():
            for k, row in self._rows.items():
                want = self._visible(k)
                if want and k not in table.rows:
                    table.add_row(*self._cells(row, k), key=k)
                elif not want and k in table.rows:
                    table.remove_row(k)

    def _cells(self, row, k: str) -> list[Text]:
        own = k in self._own
        style = OWN_STYLE if own else ""
        state = str(row.state or "")
        return [
            Text(("● " if own else "  ") + _safe(row.proto), style),
            Text(_addr(row.local), style),
            Text(_addr(row.remote), style),
            Text(state, style or ("green" if state == "ESTABLISHED" else "dim" if state == "LISTEN" else "")),
            Text("" if row.pid is None else str(row.pid), style or "dim"),
            Text(_safe(row.process or ""), style),
        ]

    def _update(self, table: DataTable, k: str, row) -> None:
        for column, cell in zip(COLUMNS, self._cells(row, k)):
            table.update_cell(k, column, cell)

    def _show_status(self) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        if not self.live:
            t.append("live table off", "dim italic")
        else:
            t.append(self._last or "waiting for the first snapshot …", "dim")
        t.append(f" · {len(self._own)} netlab", OWN_STYLE)
        if self.own_only:
            t.append(" · own only (o)", "yellow")
        if self.paused:
            t.append(" · PAUSED (z)", "bold yellow")
        self.query_one("#conn-status", Static).update(t)

    def selected_row(self):
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self._rows.get(key)
