"""The live connection table (like ``ss -tanp`` / htop): protocol, local, remote, state,
pid, process and age, for every inet socket on the machine, at 20,000 sockets as at 20.

The scans run in a thread worker, one at a time: the pane asks for one
(ConnectionsScanRequested), the app runs it, the diff comes back (ConnectionsChanged)
and ``apply`` sets it on a ``netstat.ConnTable`` by row key — rows added, dropped and
changed in place, never cleared and refilled — and the next scan is scheduled when
this one has been shown, after an interval that grows when scans are slow
(``netstat.ScanPacer``).  The table widget (ConnTableView) draws only the visible rows.

Follow: when the engine connects, the pane starts following that connection's
4-tuple (``netstat.StateTracker``): its row and the server's end are highlighted (◆),
its states are looked up directly (FollowProbeRequested → a sock_diag query in a
worker, quickly after a change, backing off while nothing happens) and taken from
every snapshot, and each change is posted as FollowChanged for the response viewer's
Connection tab.

Under the table, for the selected row (live only): the owning process's ancestry (htop's
tree: ``login → zsh → python``) and the connection's ``tcp_info`` (``ss -ti``), looked up
for that one row in a worker (``netstat.detail.row_detail``) when the cursor settles and
again after every scan, so the numbers are live and the scan's cost does not grow.

The pane's bottom border is its footer: the legend of the row markers (● netlab's own
sockets, ◆ the connection of the exchange shown) and where the cursor is ("row N of M").
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from netlab.ui import messages as m
from netlab.ui.widgets.conntable import COLUMNS, FOLLOWED, OWN, STATE_STYLES, ConnTableView

if TYPE_CHECKING:  # the engine is imported after the first frame (see _model)
    from netlab.engine.netstat import ViewSpec

SPARK = "▁▂▃▄▅▆▇█"
PROTO_CYCLE = ((), ("tcp", "tcp6"), ("udp", "udp6"))  # both, TCP only, UDP only
FAST_SCAN_MS = 200  # a send triggers a scan at once only when scans are this cheap
DETAIL_DELAY = 0.15  # seconds the cursor rests on a row before its detail is looked up


def _safe(value) -> str:
    """Untrusted text made visible: ``views.text.safe``, imported when first needed."""
    from netlab.ui.views.text import safe

    return safe(value)


def sparkline(values, width: int = 24) -> str:
    """The last ``width`` values as block characters, scaled between their min and max."""
    vals = list(values)[-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return SPARK[0] * len(vals)
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) * len(SPARK) / (hi - lo)))] for v in vals)


def _filter_parts(spec) -> list[str]:
    """The filter in force, in words: states, protocol, listening, own only, search text."""
    parts = []
    if spec.states:
        parts.append("state " + ",".join(sorted(spec.states)))
    if spec.protos:
        parts.append("/".join(sorted({p.rstrip("6") for p in spec.protos})) + " only")
    if spec.listening:
        parts.append("listening")
    if spec.own:
        parts.append("own only")
    if spec.text.strip():
        parts.append(f"/{_safe(spec.text.strip())}")
    return parts


class ConnectionsPane(Vertical):
    """Every inet socket on the machine, live; the last exchange's connection followed."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter as you type: every word must match an address, "
                "port, state, pid or process name"),
        Binding("t", "cycle_state", "State", tooltip="Show one TCP state only; again for the next one; then all"),
        Binding("p", "cycle_proto", "Protocol", tooltip="TCP only, UDP only, or both"),
        Binding("l", "toggle_listening", "Listening", tooltip="Listening sockets only (TCP LISTEN, unconnected UDP)"),
        Binding("o", "toggle_own", "Own only", tooltip="Show only netlab's own sockets, or all"),
        Binding("less_than_sign", "sort_column(-1)", "Sort left", tooltip="Sort by the column to the left"),
        Binding("greater_than_sign", "sort_column(1)", "Sort right", tooltip="Sort by the column to the right"),
        Binding("i", "invert_sort", "Invert", tooltip="Reverse the sort order"),
        Binding("c", "clear_filters", "Clear", tooltip="Clear every filter"),
        Binding("z", "toggle_pause", "Pause", tooltip="Freeze the table (like htop's Z)"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    def __init__(self, *, live: bool = True, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Connections"
        self.border_subtitle = "F5"  # then the footer: see footer_text
        self.live = live
        self.paused = False
        # netstat's ConnTable, ScanPacer and StateTracker: made by _model() when first
        # needed, after the first frame (importing the engine costs start-up time)
        self.table = None
        self.pacer = None
        self.tracker = None
        self.total = 0
        self.counts: dict[str, int] = {}
        self.no_pid = 0
        self.notice: str | None = None  # e.g. psutil.AccessDenied: only our own sockets
        self.error: str | None = None  # the last scan failed
        self.spark: deque[int] = deque(maxlen=48)  # socket count per scan
        self.apply_ms: deque[float] = deque(maxlen=1000)  # UI-thread time of each apply()
        self._pending: list = []  # diffs that came while paused
        self._retired: list = []  # replaced tables: 20,000 rows take milliseconds to free
        self._scan_timer = None
        self._probe_timer = None
        self._probing = False
        self._started = False
        self._connecting_t: float | None = None
        self._target: tuple | None = None  # a (local, remote) to put the cursor on once it shows
        self._footer = ""  # the bottom border's text now
        self._detail_timer = None  # the lookup of the selected row's detail, once the cursor rests

    def compose(self) -> ComposeResult:
        yield Static(id="conn-status")
        yield Static(id="conn-counts")
        yield Static(id="conn-notice")
        # (the filter line, #conn-filter, is mounted when / first opens it: _filter_box)
        yield ConnTableView(id="conn-table")

    def on_mount(self) -> None:
        self.view = self.query_one(ConnTableView)
        self.view.on_position = self._show_position
        self._show_status()
        self._show_position()

    def on_resize(self, event) -> None:
        self._show_position()

    def footer_text(self) -> Text:
        """The bottom border's text: the markers' legend, "row N of M" and the pane's key,
        as much of the legend as the width has room for."""
        n = self.view.count
        where = f"row {self.view.cursor + 1:,} of {n:,}" if n else "no rows"
        room = (self.size.width or 80) - 6  # the border's corners and the title's margins
        for own, followed in (("netlab's own", "this exchange's connection"), ("own", "this exchange"),
                              ("own", "followed"), ("", "")):
            t = Text()
            if own:
                t.append("● ", OWN)
                t.append(f"{own}  ")
                t.append("◆ ", FOLLOWED)
                t.append(f"{followed} · ")
            t.append(where, "bold")
            t.append(" · F5")
            if t.cell_len <= room:
                return t
        return t

    def _show_position(self, cursor: int | None = None, count: int | None = None) -> None:
        footer = self.footer_text()
        if footer.plain != self._footer:
            self._footer = footer.plain
            self.border_subtitle = footer
        if cursor is not None:
            self._want_detail()

    # -- the selected row's detail: process ancestry, tcp_info -----------------------------------
    def _want_detail(self) -> None:
        """Look the selected row's detail up once the cursor rests (live tables only)."""
        if not self.live or self.table is None:
            return
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._detail_tick)

    def _detail_tick(self) -> None:
        self._detail_timer = None
        row = self.selected_row()
        if row is None:
            box = self._detail_box()
            if box is not None:
                box.clear()
            return
        from functools import partial

        from netlab.engine.netstat.detail import row_detail

        self.run_worker(partial(row_detail, row), thread=True, group="conn-detail", exclusive=True,
                        exit_on_error=False, name="conn-detail")

    def _detail_box(self):
        return next(iter(self.query("#conn-detail")), None)

    async def on_worker_state_changed(self, event) -> None:
        worker = event.worker
        if worker.name != "conn-detail" or event.state.name != "SUCCESS":
            return
        event.stop()
        detail = worker.result
        row = self.selected_row()
        if row is None or detail is None or detail.key != row.key:
            return  # the cursor moved on meanwhile
        box = self._detail_box()
        if box is None:
            from netlab.ui.widgets.conndetail import ConnDetail

            box = ConnDetail(id="conn-detail")
            await self.mount(box, after=self.view)
        box.show(row, detail, row.key in self.table.own)

    def detail_text(self) -> str:
        """The detail lines under the table (for tests)."""
        box = self._detail_box()
        return box.plain if box is not None else ""

    def _model(self):
        """The table, the scan pacer and the follow tracker (made on first use)."""
        if self.table is None:
            from netlab.engine import netstat

            self.table = netstat.ConnTable()
            self.pacer = netstat.ScanPacer(1.0)
            self.tracker = netstat.StateTracker()
            self.view.table = self.table
        return self.table

    # -- what the tests and the app read -----------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows the table shows (after the filters)."""
        return self.view.count

    @property
    def own_only(self) -> bool:
        return self.table is not None and self.table.spec.own

    def selected_row(self):
        key = self.view.selected_key()
        return None if key is None else self.table.get(key)

    def follow_for(self, local, remote):
        """The Follow of this connection, if it is followed."""
        return None if self.tracker is None else self.tracker.find(local, remote)

    def focus_pane(self) -> None:
        self.view.focus()

    # -- scans ---------------------------------------------------------------------------------
    def start_live(self) -> None:
        """Begin scanning (the app calls it after the first frame)."""
        if self.live and not self._started:
            self._model()
            self._started = True
            self._schedule_scan(0)

    def scan_soon(self) -> None:
        """A send just connected: scan now if scans are cheap, else the schedule shows it."""
        if self._started and not self.paused and not self.pacer.busy and \
                (self.pacer.last_ms is None or self.pacer.last_ms < FAST_SCAN_MS):
            self._schedule_scan(0)

    def _schedule_scan(self, delay: float) -> None:
        if self._scan_timer is not None:
            self._scan_timer.stop()
        self._scan_timer = self.set_timer(max(delay, 0.001), self._scan_tick)  # a 0 s Timer divides by 0

    def _scan_tick(self) -> None:
        self._scan_timer = None
        if self.paused:
            return  # resuming schedules the next one
        if not self._seen():
            self._schedule_scan(self.pacer.base)  # nobody sees the table: save the CPU, look again later
            return
        if self.pacer.begin():  # never two at once
            retired, self._retired = self._retired, []
            self.post_message(m.ConnectionsScanRequested(self.tracker.wanted(), self.table.spec, retired))

    def _seen(self) -> bool:
        maximized = self.screen.maximized
        return self.display and self.app.screen is self.screen and (maximized is None or maximized is self)

    def apply(self, msg: m.ConnectionsChanged) -> None:
        """Apply one scan's diff by row key (the public update method; also for tests)."""
        self._model()
        delay = self.pacer.end(None if msg.error is not None else msg.elapsed_ms)
        if msg.error is not None:
            self.error = msg.error
            self._show_status()
        elif self.paused:
            self._pending.append(msg)
        else:
            t0 = time.perf_counter()
            self._apply(msg)
            self.apply_ms.append((time.perf_counter() - t0) * 1000)
        if self._started and not self.paused:
            self._schedule_scan(delay)  # the next scan: when this one has been shown, after the interval

    def _apply(self, msg: m.ConnectionsChanged) -> None:
        now = msg.taken or time.monotonic()
        self.error = None
        if msg.table is not None:  # a big change, sorted in the worker: adopt it whole
            spec = self.table.spec
            self._retired.append(self.table)  # freed by the next scan's worker, not here
            self.table = self.view.table = msg.table
            self.table.set_view(spec, msg.own)  # (nothing to do unless the filter changed meanwhile)
        else:
            self.table.apply(msg.added, msg.removed, msg.changed, now=now, natural=msg.natural, search=msg.search)
            self.table.set_view(own=msg.own)
        self.view.own = self.table.own
        self.total = msg.total
        self.counts = msg.counts if msg.counts is not None else self.table.counts()
        self.no_pid = msg.no_pid
        self.notice = msg.notice
        self.spark.append(msg.total)
        for follow in self.tracker.observe_states(msg.follow_states, now, "scan") if msg.follow_states else ():
            self.post_message(m.FollowChanged(follow))
        self.view.rows_changed(now)
        if self._target is not None:
            self._select_target()
        self._show_status()
        self._want_detail()  # the selected row's numbers, live

    # -- following the exchange's connection ---------------------------------------------------
    def note_event(self, event) -> None:
        """An engine event of the current send: Connecting and Connected start a follow."""
        from netlab.engine import events as ev

        if isinstance(event, ev.Connecting):
            self._connecting_t = event.t
        elif isinstance(event, ev.Connected) and event.family in ("AF_INET", "AF_INET6"):
            self._model()
            follow = self.tracker.start(event.local, event.remote, reused=event.reused, connected_t=event.t,
                                        connecting_t=None if event.reused else self._connecting_t,
                                        proto="tcp6" if event.family == "AF_INET6" else "tcp")
            self._connecting_t = None
            self.view.followed = frozenset({(tuple(event.local), tuple(event.remote)),
                                            (tuple(event.remote), tuple(event.local))})
            self.view.refresh()
            self.post_message(m.FollowChanged(follow))
            self._probe_now()

    def _probe_now(self) -> None:
        if self._probe_timer is not None:
            self._probe_timer.stop()
            self._probe_timer = None
        self._probe_tick()

    def _probe_tick(self) -> None:
        self._probe_timer = None
        if self._probing or self.tracker is None or not self.tracker.can_probe:
            return
        wanted = self.tracker.wanted()
        if wanted:
            self._probing = True
            self.post_message(m.FollowProbeRequested(wanted))

    def probed(self, msg: m.FollowProbed) -> None:
        """The states a probe found: record the changes, and probe again later."""
        self._probing = False
        if msg.error is not None:
            self.tracker.probe_failed(msg.error)
            self._show_status()
            return
        for follow in self.tracker.observe_states(msg.states, msg.t, "probe"):
            self.post_message(m.FollowChanged(follow))
        wait = self.tracker.next_probe_in()
        if wait is not None:
            self._probe_timer = self.set_timer(max(wait, 0.001), self._probe_tick)

    def select_exchange(self, local, remote) -> None:
        """Put the cursor on this connection's row (now, or when a snapshot shows it)."""
        self._target = (tuple(local), tuple(remote))
        self._model()
        self._select_target()

    def _select_target(self) -> None:
        local, remote = self._target
        rows = self.table.rows
        mine = [k for k in self.table.own if k in rows]
        found = next((k for k in mine if (k[1], k[2]) == (local, remote)), None)
        found = found or next((k for k in mine if (k[1], k[2]) == (remote, local)), None)  # the server's end
        if found is not None and self.view.move_to_key(found):
            self._target = None

    # -- the view: filter, sort, pause -----------------------------------------------------------
    def set_spec(self, spec: ViewSpec) -> None:
        """Show what ``spec`` keeps, in its order."""
        self._model()
        if self.table.set_view(spec):
            self.view.rows_changed()
        self._show_status()

    def _filter_box(self) -> Input | None:
        """The filter line, once / has opened it (None before)."""
        return next(iter(self.query("#conn-filter").results(Input)), None)

    async def action_filter(self) -> None:
        box = self._filter_box()
        if box is None:  # mounted on first use: a hidden Input costs the first frame as much as a shown one
            box = Input(id="conn-filter", placeholder="filter: words that must all match (address, port, state, "
                                                      "pid, process); enter keeps it, escape clears it")
            await self.mount(box, before=self.view)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "conn-filter":
            event.stop()
            self.set_spec(replace(self._model().spec, text=event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "conn-filter":
            event.stop()
            if not event.value.strip():
                event.input.display = False
            self.view.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "close_filter":  # else escape is the app's (cancel, restore)
            box = self._filter_box()
            return box is not None and box.display
        return True

    def action_close_filter(self) -> None:
        box = self._filter_box()
        if box is not None:
            box.value = ""
            box.display = False
        self.set_spec(replace(self._model().spec, text=""))
        self.view.focus()

    def action_cycle_state(self) -> None:
        from netlab.engine.netstat import STATES

        spec = self._model().spec
        present = [s for s in STATES if self.counts.get(s) and s != "NONE"]
        current = next(iter(spec.states)) if len(spec.states) == 1 else None
        if current in present and present.index(current) + 1 < len(present):
            states = frozenset({present[present.index(current) + 1]})
        elif current is None and present:
            states = frozenset({present[0]})
        else:
            states = frozenset()
        self.set_spec(replace(spec, states=states))

    def action_cycle_proto(self) -> None:
        spec = self._model().spec
        now = tuple(sorted(spec.protos))
        i = PROTO_CYCLE.index(now) if now in PROTO_CYCLE else 0
        self.set_spec(replace(spec, protos=frozenset(PROTO_CYCLE[(i + 1) % len(PROTO_CYCLE)])))

    def action_toggle_listening(self) -> None:
        spec = self._model().spec
        self.set_spec(replace(spec, listening=not spec.listening))

    def action_toggle_own(self) -> None:
        spec = self._model().spec
        self.set_spec(replace(spec, own=not spec.own))

    def action_sort_column(self, step: int) -> None:
        spec = self._model().spec
        i = COLUMNS.index(spec.sort)
        self.set_spec(replace(spec, sort=COLUMNS[(i + step) % len(COLUMNS)], reverse=False))

    def action_invert_sort(self) -> None:
        spec = self._model().spec
        self.set_spec(replace(spec, reverse=not spec.reverse))

    def on_conn_sort_clicked(self, msg: m.ConnSortClicked) -> None:
        msg.stop()
        spec = self._model().spec
        if msg.column == spec.sort:
            self.set_spec(replace(spec, reverse=not spec.reverse))
        else:
            self.set_spec(replace(spec, sort=msg.column, reverse=False))

    def action_clear_filters(self) -> None:
        box = self._filter_box()
        if box is not None:
            box.value = ""
            box.display = False
        spec = self._model().spec
        self.set_spec(type(spec)(sort=spec.sort, reverse=spec.reverse))

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            pending, self._pending = self._pending, []
            for msg in pending:
                self._apply(msg)
            if self._started:
                self._schedule_scan(0)
        self._show_status()

    # -- the lines above the table -------------------------------------------------------------
    def _show_status(self) -> None:
        """Refresh the three lines above the table: status, state counts and notices."""
        if self.table is None:
            text = "waiting for the first snapshot …" if self.live else "live table off"
            self.query_one("#conn-status", Static).update(Text(text, "dim italic"))
            self.query_one("#conn-notice").display = False
            return
        self.query_one("#conn-status", Static).update(self._status_text())
        self.query_one("#conn-counts", Static).update(self._counts_text())
        self._show_notice()

    def _status_text(self) -> Text:
        """The status line: socket total, pacing and sparkline, netlab's own sockets, pause."""
        t = Text(no_wrap=True, overflow="ellipsis")
        if not self.live and not self.total:
            t.append("live table off", "dim italic")
        elif not self.spark:
            t.append("waiting for the first snapshot …", "dim italic")
        else:
            t.append(f"{self.total:,} sockets", "bold")
            if self.no_pid:
                t.append(f" · {self.no_pid:,} without pid", "dim")
            t.append(f" · {self.pacer.describe()}", "yellow" if self.pacer.backed_off else "dim")
            t.append(" ")
            t.append(sparkline(self.spark), "cyan")
        mine = len(self.table.own)
        if mine:
            t.append(f" · {mine} netlab", OWN)
        if self.paused:
            t.append(" · PAUSED (z)", "bold yellow")
        return t

    def _counts_text(self) -> Text:
        """The counts line: sockets per state (filtered states reversed), then the filter in force."""
        c = Text(no_wrap=True, overflow="ellipsis")
        spec = self.table.spec
        for state, n in self.counts.items():
            style = STATE_STYLES.get(state, "")
            if state in spec.states:
                style += " reverse"
            c.append(f"{state if state != 'NONE' else 'UDP'} {n:,}", style)
            c.append("  ")
        if spec.filtering:
            c.append(f"│ showing {self.row_count:,}: " + " · ".join(_filter_parts(spec)) + " (c clears)",
                     "yellow")
        return c

    def _show_notice(self) -> None:
        """The notice line: a failed scan, the current notice and the probe's; hidden when none."""
        note = [x for x in (self.error and f"scan failed: {self.error}", self.notice, self.tracker.probe_notice) if x]
        box = self.query_one("#conn-notice", Static)
        box.display = bool(note)
        if note:
            box.update(Text(" · ".join(_safe(x) for x in note), "bold yellow"))
