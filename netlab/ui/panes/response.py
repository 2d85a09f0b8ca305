"""The response viewer: a live status line and progress while an exchange runs, then
tabs for the body, headers, raw bytes, hex, timing and the connection.

While a send runs the app calls ``begin()`` and ``apply(event)`` for every engine event
(the head and headers show before the body is complete; a progress bar shows bytes and
rate).  When it is done the app sets ``prepared`` (a ``render.Prepared``, computed in
the worker) and ``watch_prepared`` draws every tab.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from functools import partial

from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, DataTable, Static

from netlab.ui.messages import TabSelected
from netlab.ui.panes.lineview import LineView
from netlab.ui.panes.tabstrip import LazyTabs, TabStrip
from netlab.ui.panes.waterfall import Waterfall

TABS = ("body", "headers", "raw", "hex", "timing", "connection")
BAR = 24  # cells of the progress bar
_STEP = "bold cyan"


def _safe(value) -> str:
    from netlab.engine.text import safe_text

    return safe_text(value, keep_newlines=False)


def _size(n: float) -> str:
    from netlab.ui.render import fmt_bytes

    return fmt_bytes(n)


class _LiveTimings:
    """Phase durations from event timestamps, for the waterfall while a send runs."""

    __slots__ = ("dns", "connect", "tls", "send", "ttfb", "download", "total")

    def __init__(self) -> None:
        for k in self.__slots__:
            setattr(self, k, 0.0)


class ResponseView(LazyTabs, Vertical):
    """Shows one exchange; live while it runs."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("left_square_bracket", "cycle_tab(-1)", "Prev tab", tooltip="Previous response tab"),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", tooltip="Next response tab"),
    ] + [Binding(str(i + 1), f"tab('{name}')", name.title(), show=False) for i, name in enumerate(TABS)]

    prepared = reactive(None, always_update=True, init=False)
    follow = reactive(None, always_update=True, init=False)  # a netstat.Follow: the TCP states in Connection

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Response"
        self.border_subtitle = "F3"
        self.send_id = 0
        self._times: dict[str, float] = {}
        self._body_started = 0.0
        self.in_flight = False
        self._pair: tuple | None = None  # (local, remote) of the exchange shown, or being sent
        # What each tab shows.  The tabs other than Body are mounted after the first frame
        # (Lazy) and take their content from here when they mount.
        self.content: dict[str, object] = {"headers": ((), ()), "raw": None, "hex": None, "connection": None,
                                           "timing": None}

    def compose(self) -> ComposeResult:
        yield Static(Text("No response yet. ctrl+j sends the composer's request.", "dim italic"),
                     id="resp-status")
        yield Static(id="resp-progress")
        yield TabStrip([(f"resp-{t}", t.title()) for t in TABS], "resp-body", id="resp-tabs")
        with ContentSwitcher(initial="resp-body", id="resp-switcher"):
            with Vertical(id="resp-body"):
                yield Static(id="body-note")
                yield LineView(id="body-view")

    def lazy_tabs(self) -> list:
        """Every tab but Body: mounted after the first frame, they pull from ``content``."""
        get = self.content.get
        return [HeadersTable(self.content, id="resp-headers", cursor_type="row", zebra_stripes=True),
                LineView(id="resp-raw", source=partial(get, "raw")),
                LineView(id="resp-hex", source=partial(get, "hex")),
                Waterfall(id="resp-timing", source=partial(get, "timing")),
                LineView(id="resp-connection", source=partial(get, "connection"))]

    def _set(self, name: str, value) -> None:
        """Set what tab ``name`` shows (drawn now if the tab is mounted)."""
        self.content[name] = value
        widget = next(iter(self.query(f"#resp-{name}")), None)
        if widget is not None:
            widget.pull()

    async def action_tab(self, name: str) -> None:
        await self.ensure_tabs()
        self.query_one(TabStrip).active = f"resp-{name}"
        self.query_one(ContentSwitcher).current = f"resp-{name}"
        self.focus_content()

    async def on_tab_selected(self, event: TabSelected) -> None:
        event.stop()
        await self.action_tab(event.tab_id.removeprefix("resp-"))

    @property
    def active_tab(self) -> str:
        return self.query_one(TabStrip).active.removeprefix("resp-")

    async def action_cycle_tab(self, step: int) -> None:
        i = TABS.index(self.active_tab) if self.active_tab in TABS else 0
        await self.action_tab(TABS[(i + step) % len(TABS)])

    def focus_pane(self) -> None:
        self.focus_content()

    def focus_content(self) -> None:
        """Focus what the active tab shows (so arrow keys scroll it)."""
        widget = self.query_one(f"#resp-{self.active_tab}")
        if widget.id == "resp-body":
            widget = self.query_one("#body-view")
        if widget.can_focus:
            widget.focus()

    # -- live --------------------------------------------------------------------------------
    def begin(self, send_id: int, what: str) -> None:
        """A send started: clear the last exchange and show progress."""
        self.send_id = send_id
        self.in_flight = True
        self._pair = None
        self._times = {"start": time.monotonic()}
        self._status(Text.assemble(("● ", _STEP), ("sending ", ""), (what, "bold")))
        self._clear_tabs()
        self.query_one("#resp-progress").display = False

    def apply(self, event) -> None:
        """Show one engine event."""
        kind = type(event).__name__
        t = self._times
        t[kind] = event.t
        status = self.query_one("#resp-status", Static)
        if kind == "Resolving":
            t["start"] = event.t
            self._status(Text.assemble(("● ", _STEP), f"resolving {_safe(event.name)} …"))
        elif kind == "Resolved":
            self._status(Text.assemble(("● ", _STEP), f"{_safe(event.name)} → {_safe(', '.join(event.addresses))} "
                                       f"({event.source}, {event.elapsed_ms:.2f} ms) · connecting …"))
        elif kind == "Connecting":
            self._status(Text.assemble(("● ", _STEP), f"connecting to {_safe(event.address)}"
                                       f"{f':{event.port}' if event.port else ''} ({event.family}) …"))
        elif kind == "ConnectFailed":
            self._status(Text.assemble(("● ", "bold yellow"), f"connect to {_safe(event.address)} failed: "
                                       f"{_safe(event.message)} · trying the next address …"))
        elif kind == "Connected":
            from netlab.ui.render import fmt_addr

            t["connected"] = event.t
            self._pair = (tuple(event.local), tuple(event.remote))
            how = "reusing" if event.reused else "connected"
            self._status(Text.assemble(("● ", _STEP), f"{how} {fmt_addr(event.local)} → {fmt_addr(event.remote)} …"))
        elif kind == "TLSDone":
            self._status(Text.assemble(("● ", _STEP), f"TLS {_safe(event.version)} {_safe(event.cipher)} · sending …"))
        elif kind == "RequestSent":
            self._status(Text.assemble(("● ", _STEP), f"sent {event.nbytes} bytes · waiting for the response …"))
        elif kind == "InformationalHead":
            self._status(Text.assemble(("● ", _STEP), f"informational {event.status} {_safe(event.reason)} · waiting …"))
        elif kind == "ResponseHead":
            self._body_started = event.t
            from netlab.ui.render import status_style

            status.update(Text.assemble((f" {event.http_version} {event.status} {_safe(event.reason)} ",
                                         status_style(event.status)), ("  receiving the body …", "dim")))
            self._show_headers(event.headers, ())
        elif kind == "BodyChunk":
            self._progress(event)
        elif kind == "Complete":
            self.query_one("#resp-progress").display = False
            self._status(Text.assemble(("● ", _STEP), f"received {_size(event.body_bytes)} body in "
                                       f"{event.total_ms:.1f} ms · preparing the views …"))
        elif kind == "Failed":
            self.query_one("#resp-progress").display = False
        self._live_waterfall()

    def _progress(self, event) -> None:
        box = self.query_one("#resp-progress", Static)
        box.display = True
        elapsed = max(event.t - (self._body_started or event.t), 1e-6)
        rate = event.total / elapsed if event.t > self._body_started else 0
        t = Text(no_wrap=True)
        if event.expected:
            done = min(1.0, event.total / event.expected)
            cells = int(done * BAR)
            t.append("█" * cells, "green")
            t.append("░" * (BAR - cells), "dim")
            t.append(f" {done:4.0%} ")
            t.append(f"{_size(event.total)} of {_size(event.expected)}")
        else:
            t.append("receiving ", "dim")
            t.append(f"{_size(event.total)} (no Content-Length)")
        t.append(f" · {_size(rate)}/s", "cyan")
        box.update(t)

    def _live_waterfall(self) -> None:
        t = self._times
        live = _LiveTimings()
        if "Resolved" in t and "Resolving" in t:
            live.dns = (t["Resolved"] - t["Resolving"]) * 1000
        if "Connected" in t and "Connecting" in t:
            live.connect = (t["Connected"] - t["Connecting"]) * 1000
        if "TLSDone" in t and "Connected" in t:
            live.tls = (t["TLSDone"] - t["Connected"]) * 1000
        if "RequestSent" in t:
            live.send = 0.0
            first = t.get("InformationalHead") or t.get("ResponseHead")
            if first:
                live.ttfb = (first - t["RequestSent"]) * 1000
        if "ResponseHead" in t:
            end = t.get("Complete") or t.get("BodyChunk") or t["ResponseHead"]
            live.download = (end - t["ResponseHead"]) * 1000
        live.total = (max(t.values()) - t["start"]) * 1000
        self._set("timing", live)

    # -- done --------------------------------------------------------------------------------
    def watch_prepared(self, prepared) -> None:
        self.in_flight = False
        self.query_one("#resp-progress").display = False
        if prepared is None:
            self._clear_tabs()
            return
        self._status(prepared.status)
        self.query_one("#body-note", Static).update(prepared.body_note)
        self.query_one("#body-view", LineView).show(prepared.body)
        self._set("headers", (prepared.headers, prepared.trailers))
        self._set("raw", prepared.raw)
        self._set("hex", prepared.hex)
        c = prepared.exchange.connection
        self._pair = (tuple(c.local), tuple(c.remote)) if c is not None and c.family != "AF_UNIX" else None
        self._show_connection()
        self._set("timing", prepared.exchange.timings)

    def watch_follow(self, follow) -> None:
        if self._follows(follow):
            self._show_connection()

    def _follows(self, follow) -> bool:
        """True when ``follow`` is the connection of the exchange shown (or being sent)."""
        if follow is None or self._pair is None:
            return False
        from netlab.engine.netstat import Follow

        return follow.pair == Follow(*self._pair, _peer=False).pair

    def _show_connection(self) -> None:
        """The Connection tab: the exchange's connection, and its TCP states when followed."""
        follow = self.follow if self._follows(self.follow) else None
        prepared = self.prepared
        if prepared is not None and not self.in_flight:
            if follow is None:
                self._set("connection", prepared.connection)
                return
            from netlab.ui.render import connection_lines

            self._set("connection", connection_lines(prepared.exchange, follow))
        elif follow is not None:  # still sending: the states so far
            from netlab.ui.render import Lines, follow_lines

            self._set("connection", Lines.of(follow_lines(follow)))

    def _status(self, text: Text) -> None:
        self.query_one("#resp-status", Static).update(text)

    def _clear_tabs(self) -> None:
        self.query_one("#body-note", Static).update("")
        self.query_one("#body-view", LineView).set_lines(0, lambda i: Text(""), 0)
        self._set("headers", ((), ()))
        for name in ("raw", "hex", "connection", "timing"):
            self._set(name, None)

    def _show_headers(self, headers, trailers) -> None:
        self._set("headers", (tuple(headers), tuple(trailers)))

    def header_rows(self) -> list[tuple[str, str]]:
        """(name, value) as shown in the Headers tab (for tests)."""
        table = self.query_one("#resp-headers", DataTable)
        return [(table.get_row_at(i)[1].plain, table.get_row_at(i)[2].plain) for i in range(table.row_count)]


class HeadersTable(DataTable):
    """The headers in the order received, duplicates kept, then the trailers."""

    def __init__(self, content: dict, **kw) -> None:
        super().__init__(**kw)
        self.content = content

    def on_mount(self) -> None:
        self.add_column("#", key="n")
        self.add_column("Name", key="name")
        self.add_column("Value", key="value")
        self.pull()

    def pull(self) -> None:
        headers, trailers = self.content["headers"]
        self.clear()
        for i, (name, value) in enumerate(headers, 1):
            self.add_row(Text(str(i), "dim"), Text(_safe(name), "bold"), Text(_safe(value)))
        for name, value in trailers:
            self.add_row(Text("trailer", "yellow"), Text(_safe(name), "bold yellow"), Text(_safe(value)))
