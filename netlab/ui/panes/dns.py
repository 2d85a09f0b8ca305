"""The DNS pane: the query form, the answer by section, a trace, getaddrinfo, a history.

Form: name (an IP address asks its PTR record), record types (several, separated by
spaces: one query each), server (``ADDR[:PORT]``, ``tls://…``, ``https://…/dns-query``;
empty: the system's resolver) and, on the options line under the tables, the transport,
RD / DO / CD, the EDNS buffer size, the timeout, ``trace`` (iterative from the root
hints, or from the server field's address) and ``getaddrinfo`` (what the system resolver
says for the same name: asked only when ticked, since for a name that is not in
/etc/hosts it queries the system's DNS servers).

``enter`` in a field (or ctrl+l) posts LookupRequested; the app runs the lookup in a
worker (a slow server never blocks the UI) and sets ``outcome``; ``watch_outcome`` adds
it to the history and shows it.  ``[``/``]`` cycle the tabs: Answer, Authority,
Additional, Trace, getaddrinfo, History.  ``p`` on an A/AAAA row posts PinRequested: the
looked-up name (the question of the reply shown, not the composer's host) gets that address
as a --resolve pin at the composer URL's port; ``u`` pins it too and puts the name in the
composer's URL (its scheme, port and path kept), as one would run ``curl --resolve
NAME:PORT:ADDR http://NAME/``.  ``enter`` on a history row shows that lookup again, on a
trace step shows that step's reply.  DNS data is untrusted: every string from the network
is escaped (safe_text) and rendered as Text, never as markup.

The first frame shows the form, the tab strip and the Answer table's empty header; the
tables themselves (five of them, and the getaddrinfo text) are mounted after it (LazyTabs),
or as soon as a result or a tab needs them.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widget import MountError
from textual.widgets import ContentSwitcher, Input, Select, Static

from netlab.ui.messages import LookupRequested, PinRequested, TabSelected
from netlab.ui.widgets.tabstrip import LazyTabs, TabStrip

if TYPE_CHECKING:
    from textual.widgets import Checkbox, DataTable
# DataTable (netlab/ui/widgets/dnstable.py: DnsTable) and Checkbox are imported where the tables
# and the options line are built, after the first frame.

RDTYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "PTR", "SRV", "CAA", "HTTPS", "SVCB", "DNSKEY", "DS",
           "ANY")
TABS = ("answer", "authority", "additional", "trace", "system", "history")
TAB_LABELS = {"answer": "Answer", "authority": "Auth", "additional": "Addl", "trace": "Trace",
              "system": "getaddrinfo", "history": "History"}
TABLES = ("answer", "authority", "additional", "trace", "history")  # the tabs that are a DataTable
TRANSPORTS = (("udp", "udp"), ("tcp", "tcp"), ("tls", "tls"), ("https", "https"))
HISTORY_LIMIT = 200
COLUMNS = {"answer": ("name", "TTL", "type", "data"),  # also Authority and Additional
           "trace": ("#", "zone", "asked", "result", "ms"),
           "history": ("time", "name", "types", "server", "via", "result", "ms")}
# The status line before the first lookup: the longest of these that fits the pane.
HINTS = ("enter looks the name up · [ ] tabs · on an A/AAAA row: p pins the name to it, u also puts the name in "
         "the composer's URL",
         "enter looks up · [ ] tabs · on an A/AAAA row: p pins the name, u also puts it in the URL",
         "enter looks up · [ ] tabs · p pins the name · u also puts it in the URL",
         "enter: look up · [ ] tabs · p: pin the name · u: put it in the URL",
         "enter: look up · [ ]: tabs · p: pin name · u: use in URL",
         "enter: look up · p: pin name · u: use in URL",
         "p: pin name · u: use in URL")


def _safe(value) -> str:
    """Untrusted text made visible: ``views.text.safe``, imported when first needed."""
    from netlab.ui.views.text import safe

    return safe(value)


def parse_server(text: str) -> tuple[str | None, int]:
    """``1.1.1.1``, ``1.1.1.1:5353``, ``::1``, ``[::1]:5353`` → (address, port)."""
    from netlab.engine.dns import parse_server as parse_spec

    text = text.strip()
    if not text:
        return None, 53
    spec = parse_spec(text)
    return spec.host, spec.port or 53


def _add_row(table: DataTable, *cells: Text, key: str | None = None) -> None:
    """``table.add_row``, with the columns widened at once: DataTable measures new cells
    only when it next goes idle, so a picture taken before then would show them cut."""
    table.add_row(*cells, key=key)
    for column, cell in zip(table.ordered_columns, cells):
        column.content_width = max(column.content_width, cell.cell_len)


def _child_id(tab: str) -> str:
    """The id of the widget a tab shows (the answer table keeps its old id, dns-table)."""
    return "dns-table" if tab == "answer" else f"dns-{tab}"


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.strip().strip("[]"))
        return True
    except ValueError:
        return False


class DnsPane(LazyTabs, Vertical):
    """Look names up with any record types, server, transport and flags."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("ctrl+l", "lookup", "Lookup", tooltip="Look the name up (enter in a field does too)"),
        Binding("left_square_bracket", "cycle_tab(-1)", "Prev DNS tab", tooltip="Previous DNS tab"),
        Binding("right_square_bracket", "cycle_tab(1)", "Next DNS tab", tooltip="Next DNS tab"),
    ]

    result = reactive(None, always_update=True, init=False)  # the DnsResult shown in the section tables
    outcome = reactive(None, always_update=True, init=False)  # a finished lookup (workers.DnsOutcome)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "DNS"
        self.border_subtitle = "F4"
        self._records: dict[str, list] = {t: [] for t in ("answer", "authority", "additional")}
        self.history: list = []  # DnsOutcome, oldest first (as the History tab lists them)
        self.pending: int | None = None  # the lookup the pane waits for
        self._next_id = 0
        self._shown = None  # the outcome on display
        self._trace_steps: list = []
        # What the tables show, kept here: they are mounted after the first frame and filled
        # from it then; until then a result still sets the counts, the status and rows().
        self._rows: dict[str, list[tuple[str | None, tuple[Text, ...]]]] = {t: [] for t in TABLES}  # (key, cells)
        self._system = Text("tick getaddrinfo below, then look a name up: the system resolver's answer "
                            "(/etc/hosts first, then DNS with the search list) shows here", "dim italic")
        self._tables = False  # the tab widgets (lazy_tabs) are mounted and have their columns
        self._tables_done: asyncio.Event | None = None  # set once ensure_tabs is through
        self._hinting = True  # the status line shows the keys (HINTS), not a lookup

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="dns-bar"):
            yield Input("", id="dns-name", compact=True, placeholder="name or IP, e.g. example.com")
            yield Input("A", id="dns-type", compact=True, tooltip="Record types, several separated by spaces: "
                        + ", ".join(RDTYPES) + ", TYPE65, or a number",
                        suggester=SuggestFromList(RDTYPES, case_sensitive=False))
            yield Input("", id="dns-server", compact=True, placeholder="server[:port], tls://…, https://… (system)")
        yield Static(self._hint(), id="dns-status")
        yield TabStrip([(f"dns-tab-{t}", TAB_LABELS[t]) for t in TABS], "dns-tab-answer", id="dns-tabs")
        with ContentSwitcher(initial="dns-waiting", id="dns-switcher"):
            # Until the tables are mounted (after the first frame): the empty Answer table's header.
            yield Static(Text(" " + "  ".join(COLUMNS["answer"]) + " ", "bold"), id="dns-waiting")

    def _options(self) -> ComposeResult:
        """The options line under the tables: mounted with them, after the first frame."""
        yield Select(TRANSPORTS, value="udp", allow_blank=False, compact=True, id="dns-transport",
                     tooltip="udp (TCP again when truncated), tcp, tls (DoT, 853), https (DoH, 443)")
        from netlab.ui.widgets.checkbox import TickBox  # [x] / [ ], not colour only

        yield TickBox("RD", True, compact=True, id="dns-rd", tooltip="Recursion desired")
        yield TickBox("DO", False, compact=True, id="dns-do", tooltip="DNSSEC OK (adds EDNS)")
        yield TickBox("CD", False, compact=True, id="dns-cd", tooltip="Checking disabled")
        yield Input("", id="dns-bufsize", compact=True, placeholder="EDNS", tooltip="EDNS UDP buffer size "
                    "(empty: no EDNS, as getaddrinfo; 1232 with DO)")
        yield Input("5", id="dns-timeout", compact=True, tooltip="Timeout, seconds")
        yield TickBox("trace", False, compact=True, id="dns-trace-on",
                      tooltip="Iterative resolution from the root hints (like dig +trace)")
        yield TickBox("getaddrinfo", False, compact=True, id="dns-compare",
                      tooltip="Also ask the system resolver (getaddrinfo: /etc/hosts, then its DNS servers)")

    def on_mount(self) -> None:
        # The tables and options after the first frame: this first hop runs once it is drawn,
        # the mount itself after the next refresh (the app's first-frame callbacks run first).
        self.call_after_refresh(self.schedule_tabs)

    def lazy_tabs(self) -> list:
        """The section tables, the trace, the getaddrinfo text and the history."""
        from textual.widgets import DataTable

        from netlab.ui.widgets.dnstable import DnsTable
        from netlab.ui.widgets.systemtext import SystemText

        def table(cls, wid: str) -> DataTable:
            return cls(id=wid, cursor_type="row", zebra_stripes=True)

        return [table(DnsTable, "dns-table"), table(DnsTable, "dns-authority"), table(DnsTable, "dns-additional"),
                table(DataTable, "dns-trace"), SystemText(self._system, id="dns-system"),
                table(DataTable, "dns-history")]

    async def ensure_tabs(self) -> None:
        """Mount the tables and the options line (once; later calls wait until that is done),
        fill the tables with what arrived before and show the active tab."""
        if self._tables_done is not None:
            await self._tables_done.wait()
            return
        self._tables_done = asyncio.Event()
        try:
            await super().ensure_tabs()
            await self.mount(HorizontalScroll(*self._options(), id="dns-opts"))
            if self.query("#dns-history"):  # else the app is closing
                self._set_up_tables()
        except MountError:  # the app is closing
            pass
        finally:
            self._tables_done.set()

    def _set_up_tables(self) -> None:
        from textual.widgets import DataTable

        for tab in TABLES:
            table = self.query_one(f"#{_child_id(tab)}", DataTable)
            for label in COLUMNS.get(tab, COLUMNS["answer"]):
                table.add_column(label, key=label.lower())
        self._tables = True
        for tab in TABLES:  # what arrived before the mount
            self._load(tab)
        self.query_one("#dns-system", Static).update(self._system)
        self.query_one(ContentSwitcher).current = _child_id(self.active_tab)
        self.query_one("#dns-waiting").remove()

    def _table(self, tab: str) -> DataTable | None:
        """The table of tab ``tab`` once mounted (else None: ``_rows`` fills it at the mount)."""
        if not self._tables:
            return None
        from textual.widgets import DataTable

        return self.query_one(f"#{_child_id(tab)}", DataTable)

    def _load(self, tab: str) -> None:
        """Show ``_rows[tab]`` in its table (when mounted)."""
        table = self._table(tab)
        if table is None:
            return
        table.clear()
        for key, cells in self._rows[tab]:
            _add_row(table, *cells, key=key)
        if tab == "history" and table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def _when_tables(self, fn, *args) -> AwaitComplete | None:
        """None when the tables are mounted (go on now); else mount them and call ``fn(*args)``
        then: the AwaitComplete returned runs whether it is awaited or not."""
        if self._tables:
            return None

        async def later() -> None:
            await self.ensure_tabs()
            if self._tables:
                fn(*args)

        return AwaitComplete(later())

    def _hint(self, width: int = 56) -> Text:
        return Text(next((h for h in HINTS if len(h) <= width), HINTS[-1]), "dim italic", no_wrap=True,
                    overflow="ellipsis")

    def on_resize(self, event) -> None:
        if self._hinting:
            self._status(self._hint(event.size.width - 4))  # the border and the status line's padding
            self._hinting = True

    def focus_pane(self) -> None:
        self.query_one("#dns-name", Input).focus()

    # -- tabs ---------------------------------------------------------------------------------
    @property
    def active_tab(self) -> str:
        return self.query_one(TabStrip).active.removeprefix("dns-tab-")

    def show_tab(self, name: str) -> AwaitComplete:
        """Show tab ``name`` (now, or once the tables are mounted: await to wait for that)."""
        self.query_one(TabStrip).active = f"dns-tab-{name}"
        later = self._when_tables(self.show_tab, name)
        if later is not None:
            return later
        self.query_one(ContentSwitcher).current = _child_id(name)
        return AwaitComplete.nothing()

    def action_tab(self, name: str) -> AwaitComplete:
        """Show tab ``name`` and focus its table (once mounted: await to wait for that)."""
        later = self._when_tables(self.action_tab, name)
        if later is not None:
            self.query_one(TabStrip).active = f"dns-tab-{name}"
            return later
        self.show_tab(name)
        widget = self._tab_widget(name)
        if widget.can_focus:
            widget.focus()
        return AwaitComplete.nothing()

    def action_cycle_tab(self, step: int) -> AwaitComplete:
        i = TABS.index(self.active_tab) if self.active_tab in TABS else 0
        return self.action_tab(TABS[(i + step) % len(TABS)])

    async def on_tab_selected(self, event: TabSelected) -> None:
        event.stop()
        await self.action_tab(event.tab_id.removeprefix("dns-tab-"))

    def _tab_widget(self, name: str):
        return self.query_one(f"#{_child_id(name)}")

    def _label_tabs(self, counts: dict[str, int]) -> None:
        strip = self.query_one(TabStrip)
        strip.tabs = [(f"dns-tab-{t}", TAB_LABELS[t] + (f" {counts[t]}" if counts.get(t) else "")) for t in TABS]
        strip.refresh()

    # -- the form -----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_lookup()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()

    def _value(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def query_options(self) -> dict:
        """What the form asks for, checked; raises ValueError with a message for the status line."""
        from textual.widgets import Checkbox

        from netlab.engine.dns import is_rdtype, parse_rdtype
        from netlab.engine.dns import parse_server as parse_spec

        name = self._value("dns-name")
        if not name:
            raise ValueError("type a name to look up")
        types = [t for t in self._value("dns-type").replace(",", " ").upper().split() if t]
        for t in types:
            if not (is_rdtype(t) or t.isdigit()):
                raise ValueError(f"unknown record type {t!r}")
            parse_rdtype(t)
        reverse = _is_ip(name)
        if reverse and (not types or types == ["A"]):
            types = ["PTR"]
        server_text = self._value("dns-server")
        spec = parse_spec(server_text) if server_text else None
        transport = spec.transport if spec and spec.transport else self.query_one("#dns-transport", Select).value
        bufsize_text = self._value("dns-bufsize")
        payload = None
        if bufsize_text:
            if not bufsize_text.isdigit() or not 512 <= int(bufsize_text) <= 65535:
                raise ValueError(f"EDNS buffer size {bufsize_text!r}: a number of bytes, 512-65535")
            payload = int(bufsize_text)
        timeout_text = self._value("dns-timeout") or "5"
        try:
            timeout = float(timeout_text)
            if timeout <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(f"timeout {timeout_text!r} is not a positive number of seconds") from None
        trace = self.query_one("#dns-trace-on", Checkbox).value
        if trace and spec is not None and not _is_ip(spec.host):
            raise ValueError("trace starts from the root hints, or from the server field's IP address")
        if trace and transport not in ("udp", "tcp"):
            raise ValueError("trace asks over udp or tcp")
        return {
            "name": name, "types": tuple(types or ["A"]), "server": spec.host if spec else None,
            "port": spec.port if spec else None, "path": spec.path if spec else None, "transport": transport,
            "rd": self.query_one("#dns-rd", Checkbox).value, "do": self.query_one("#dns-do", Checkbox).value,
            "cd": self.query_one("#dns-cd", Checkbox).value, "payload": payload, "timeout": timeout,
            "reverse": reverse, "trace": trace, "compare": self.query_one("#dns-compare", Checkbox).value,
            "server_text": server_text,
        }

    def action_lookup(self) -> AwaitComplete | None:
        later = self._when_tables(self.action_lookup)  # the options line is read
        if later is not None:
            return later
        try:
            opts = self.query_options()
        except ValueError as exc:
            self._status(Text(str(exc), "yellow"))
            if "name" in str(exc):
                self.query_one("#dns-name", Input).focus()
            return None
        self._next_id += 1
        self.pending = self._next_id
        what = f"{opts['name']} {' '.join(opts['types'])}"
        where = opts["server_text"] or ("the root hints" if opts["trace"] else "the system resolver")
        if opts["trace"]:
            where = f"trace from {where}"
        self._status(Text(f"looking up {what} at {where} over {opts['transport']} …", "cyan"))
        self.post_message(LookupRequested(opts["name"], opts["types"][0], opts["server"], opts["port"],
                                          options=opts, lookup_id=self.pending))
        return None

    def set_query(self, name: str, rdtype: str = "A", server: str = "") -> None:
        self.query_one("#dns-name", Input).value = name
        self.query_one("#dns-type", Input).value = rdtype
        self.query_one("#dns-server", Input).value = server

    def suggest(self, host: str | None) -> None:
        """Offer the composer's host name as the name to look up (not an IP literal)."""
        box = self.query_one("#dns-name", Input)
        if not host or box.value or _is_ip(host):
            return
        box.value = host

    # -- pin ----------------------------------------------------------------------------------
    def action_pin(self, table: DataTable | None = None, use: bool = False) -> None:
        """Pin the looked-up name to the A/AAAA address under the cursor (``use``: and put the
        name in the composer's URL): posts PinRequested, the app answers with ``pinned``."""
        if not self._tables:
            self.app.bell()
            return
        if table is None:
            from netlab.ui.widgets.dnstable import DnsTable

            table = self.query_one("#dns-table", DnsTable)
        section = {"dns-table": "answer", "dns-authority": "authority", "dns-additional": "additional"}.get(
            table.id or "", "answer")
        records = self._records[section]
        if not records or table.cursor_row is None or not (0 <= table.cursor_row < len(records)):
            self.app.bell()
            return
        record = records[table.cursor_row]
        if record is None or str(record.type).upper() not in ("A", "AAAA"):
            self._status(Text("only an A or AAAA record can be pinned", "yellow"))
            self.app.bell()
            return
        name = self.looked_up_name()
        if name is None:
            self.app.bell()
            return
        self.post_message(PinRequested(str(record.data), name, use=use))

    def looked_up_name(self) -> str | None:
        """The name the reply on display answers (its question; the lookup's name, not an
        alias target further down a CNAME chain), without the root's dot."""
        result = self.result
        if isinstance(result, _Merged):
            result = result.results[0] if result.results else None
        name = getattr(result, "name", None) or (self._shown.name if self._shown is not None else "")
        return name.rstrip(".") or None

    def pinned(self, name: str, pin: str | None, composer_host: str | None) -> str:
        """Say what a pin did (``pin``: the composer's NAME:PORT:ADDR; None when its URL is not
        valid) and offer ``u`` when the composer asks another host: in the status line, the key
        first (the line is cut at the pane's edge); returned whole for the app's toast."""
        name, host = _safe(name), _safe(composer_host or "?")
        if pin is None:
            line = toast = f"no valid URL in the composer: u puts http://{name}/ in it and pins {name} there"
            style = "yellow"
        elif (composer_host or "").rstrip(".").lower() == name.lower():
            line = toast = f"pinned {_safe(pin)} (--resolve): the composer's sends to {name} connect there"
            style = "cyan"
        else:
            line = f"u puts {name} in the composer's URL (it asks {host}) · pinned {_safe(pin)}"
            toast = f"pinned {_safe(pin)} (--resolve), but the composer's URL asks {host}: u puts {name} in it"
            style = "yellow"
        self._status(Text(line, style, no_wrap=True, overflow="ellipsis"))
        return toast

    # -- showing results ----------------------------------------------------------------------
    def watch_outcome(self, outcome) -> None:
        if outcome is None:
            return
        self._remember(outcome)
        if outcome.lookup_id != self._next_id:
            return  # a newer lookup was asked for since: this one only goes to the history
        self.pending = None
        self._show(outcome)

    def _remember(self, outcome) -> None:
        """Append to the history table (oldest first, by row key; the oldest drops off)."""
        table = self._table("history")
        self.history.append(outcome)
        key, cells = str(outcome.lookup_id), self._history_row(outcome)
        self._rows["history"].append((key, cells))
        if table is not None:
            _add_row(table, *cells, key=key)
        while len(self.history) > HISTORY_LIMIT:
            old = self.history.pop(0)
            self._rows["history"].pop(0)
            if table is not None:
                table.remove_row(str(old.lookup_id))
        if table is not None:
            table.move_cursor(row=table.row_count - 1)
        self._label_tabs(self._counts())

    def _history_row(self, o) -> tuple:
        first = o.results[0] if o.results else (o.trace.final if o.trace else None)
        if o.trace is not None:
            verdict = o.trace.error[0] if o.trace.error else (o.trace.final.rcode if o.trace.final else "-")
            via = "trace"
        else:
            verdict = " ".join(r.rcode or r.error[0] for r in o.results) if o.results else (o.error or "-")
            via = first.transport if first else o.transport
        if o.trace is not None:
            server = o.server_text or "root hints"
        else:
            server = first.at if first is not None and first.server else (o.server_text or "system")
        return (Text(time.strftime("%H:%M:%S", time.localtime(o.started)), "dim"), Text(_safe(o.name)),
                Text(_safe(" ".join(o.types))), Text(_safe(server)), Text(_safe(via)),
                Text(_safe(verdict), "green" if verdict == "NOERROR" else "yellow"),
                Text(f"{o.elapsed_ms:.1f}", "dim"))

    def _counts(self) -> dict[str, int]:
        counts = {k: len(v) for k, v in self._records.items()}
        counts["trace"] = len(self._trace_steps)
        counts["history"] = len(self.history)
        return counts

    def _show(self, outcome) -> None:
        self._shown = outcome
        self._show_trace(outcome.trace)
        self._show_system(outcome)
        if outcome.trace is not None:
            final = outcome.trace.final
            if final is not None:
                self.result = final
            else:
                self._fill_sections(())
                self._status(self._trace_status(outcome.trace))
            if outcome.trace.error is not None or final is None:
                self.show_tab("trace")
            return
        if outcome.error:
            self._fill_sections(())
            self._status(Text.assemble((" ✗ ", "bold white on red"), " " + _safe(outcome.error)))
            return
        self.result = outcome.results[0] if len(outcome.results) == 1 else _Merged(outcome.results)

    def watch_result(self, result) -> None:
        if result is None:
            self._fill_sections(())
            return
        results = result.results if isinstance(result, _Merged) else (result,)
        self._fill_sections(results)
        self._status(self._status_text(results))

    def _fill_sections(self, results) -> None:
        for section in ("answer", "authority", "additional"):
            shown: list[tuple[str | None, tuple[Text, ...]]] = []
            records = self._records[section] = []
            for res in results:
                if len(results) > 1:
                    rows = getattr(res, section)
                    if section == "answer" or rows:
                        label = f";; {res.rdtype}: {res.rcode or (res.error[0] if res.error else '')}"
                        if res.nodata:
                            label += " · NODATA"
                        shown.append((None, (Text(_safe(label), "dim"), Text(""), Text(""), Text(""))))
                        records.append(None)
                for r in getattr(res, section):
                    shown.append((None, (Text(_safe(r.name)), Text(str(r.ttl), "dim"), Text(_safe(r.type), "bold"),
                                         Text(_safe(r.data), "green" if str(r.type) in ("A", "AAAA") else ""))))
                    records.append(r)
            self._rows[section] = shown
            self._load(section)
        self._label_tabs(self._counts())

    def _status_text(self, results) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        first = results[0]
        for res in results:
            if res.error:
                t.append(f" ✗ {_safe(res.error[0])} ", "bold white on red")
                t.append(f" {_safe(res.error[1])} ")
                continue
            rcode = _safe(res.rcode)
            label = rcode + (" · NODATA" if res.nodata else "")
            if len(results) > 1:
                label = f"{_safe(res.rdtype)} {label}"
            t.append(f" {label} ", "bold black on green" if rcode == "NOERROR" and not res.nodata
                     else "bold black on yellow")
            t.append(" ")
        server = (_safe(first.url) if first.url else f"{_safe(first.at)}") if first.server else "system resolver"
        via = _safe(first.transport) + (f" {_safe(first.tls)}" if first.tls else "")
        elapsed = sum(r.elapsed_ms for r in results)
        t.append(f" {elapsed:.2f} ms · {server} · {via}")
        if len(results) == 1 and first.size:
            t.append(f" · {first.size} bytes")
        if first.flags:
            t.append(f" · flags {' '.join(_safe(f) for f in first.flags)}", "dim")
        if first.udp_truncated:
            t.append(" · TC: asked again over TCP", "yellow")
        elif "tc" in first.flags:
            t.append(" · truncated", "yellow")
        if first.edns is not None:
            e = first.edns
            t.append(f" · EDNS{e.version} udp {e.payload}" + (" do" if "do" in e.flags else ""), "dim")
            for opt in e.options:
                t.append(f" {_safe(opt)}", "dim")
        if all(r.error is None for r in results) and not any(r.answer for r in results):
            t.append("  · no answer records", "yellow")
        return t

    def _trace_status(self, tr) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        if tr.error is not None:
            t.append(f" ✗ trace: {_safe(tr.error[0])} ", "bold white on red")
            t.append(f" {_safe(tr.error[1])}")
        else:
            t.append(" trace ", "bold black on green")
            t.append(f" {len(tr.steps)} queries in {tr.elapsed_ms:.2f} ms")
        return t

    def _show_trace(self, tr) -> None:
        rows: list[tuple[str | None, tuple[Text, ...]]] = []
        self._trace_steps = list(tr.steps) if tr is not None else []
        for i, step in enumerate(self._trace_steps, 1):
            r = step.result
            asked = f"{step.server_name} ({r.at})" if step.server_name != r.server else r.at
            if step.kind == "referral":
                what = f"→ {step.next_zone} ({', '.join(step.referral)})"
            elif r.error is not None:
                what = f"no reply: {r.error[1]}"
            elif step.kind == "answer":
                what = ", ".join(f"{x.type} {x.data}" for x in r.answer)
            else:
                what = r.rcode + (" (NODATA)" if step.kind == "nodata" else "")
            if step.failed:
                what += "  [" + "; ".join(f"{w}: {m}" for w, m in step.failed) + "]"
            zone = step.zone + (f"  ({step.purpose})" if step.purpose else "")
            rows.append((None, (Text(str(i), "dim"), Text(_safe(zone)), Text(_safe(asked)),
                                Text(_safe(what), "yellow" if step.failed or r.error else ""),
                                Text(f"{r.elapsed_ms:.1f}", "dim"))))
        if tr is not None and tr.error is not None:
            rows.append((None, (Text("✗", "red"), Text(""), Text(""), Text(_safe(tr.error[1]), "red"), Text(""))))
            self._trace_steps.append(None)
        self._rows["trace"] = rows
        self._load("trace")

    def _show_system(self, outcome) -> None:
        self._system = self._system_text(outcome)
        if self._tables:
            self.query_one("#dns-system", Static).update(self._system)

    def _system_text(self, outcome) -> Text:
        ans = outcome.system
        if ans is None:
            return Text("getaddrinfo was not asked for this lookup (tick getaddrinfo below)", "dim italic")
        t = Text()
        t.append(f"getaddrinfo({_safe(ans.name)!r})", "bold")
        t.append(f"  what requests.get() would use · {ans.elapsed_ms:.2f} ms\n", "dim")
        if ans.error is not None:
            t.append(f"  ✗ {_safe(ans.error[0])}: {_safe(ans.error[1])}\n", "red")
        for a in ans.addresses:
            t.append(f"  {_safe(a)}\n", "green")
        if ans.canonname and ans.canonname.rstrip(".").lower() != ans.name.rstrip(".").lower():
            t.append(f"  canonical name {_safe(ans.canonname)}\n")
        if ans.hosts:
            t.append(f"  {ans.hosts_path} has it: {', '.join(_safe(a) for a in ans.hosts)} "
                     "(files come before DNS)\n", "cyan")
        else:
            t.append(f"  not in {ans.hosts_path}\n", "dim")
        t.append(f"  nsswitch hosts: {_safe(ans.nsswitch or '?')} · search: "
                 f"{' '.join(_safe(s) for s in ans.search) or '(none)'} · ndots {ans.ndots}\n", "dim")
        dns_addrs = {r.data for res in outcome.results for r in res.answer if r.type in ("A", "AAAA")}
        if outcome.results and not ans.error:
            only_sys = [a for a in ans.addresses if a not in dns_addrs]
            only_dns = sorted(dns_addrs - set(ans.addresses))
            if not only_sys and not only_dns:
                t.append("  same addresses as the DNS answer\n", "green")
            else:
                if only_sys:
                    t.append(f"  only getaddrinfo: {', '.join(_safe(a) for a in only_sys)}\n", "yellow")
                if only_dns:
                    t.append(f"  only the DNS answer: {', '.join(_safe(a) for a in only_dns)}\n", "yellow")
        return t

    # -- history and trace rows ---------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "dns-history":
            event.stop()
            i = event.cursor_row
            if 0 <= i < len(self.history):
                o = self.history[i]
                self.set_query(o.name, " ".join(o.types), o.server_text)
                self._show(o)
                if o.trace is None:
                    self.show_tab("answer")
        elif event.data_table.id == "dns-trace":
            event.stop()
            i = event.cursor_row
            if 0 <= i < len(self._trace_steps) and self._trace_steps[i] is not None:
                self.result = self._trace_steps[i].result
                self.show_tab("answer")

    def _status(self, text: Text) -> None:
        self._hinting = False
        self.query_one("#dns-status", Static).update(text)

    # -- for tests ----------------------------------------------------------------------------
    def rows(self, section: str = "answer") -> list[tuple[str, ...]]:
        """A section's table as plain text (before the tables are mounted: what they will show)."""
        table = self._table(section)
        if table is None:
            return [tuple(c.plain for c in cells) for _key, cells in self._rows[section]]
        return [tuple(c.plain for c in table.get_row_at(i)) for i in range(table.row_count)]

    def status_text(self) -> str:
        return str(self.query_one("#dns-status", Static).render())


class _Merged:
    """Several DnsResults (one per record type) shown together."""

    __slots__ = ("results",)

    def __init__(self, results) -> None:
        self.results = tuple(results)
