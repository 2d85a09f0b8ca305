"""The DNS pane: name, record type and optional server; the answer as a table.

``enter`` in a field (or ctrl+l) posts LookupRequested; the app runs the lookup in a
worker and sets ``result``.  ``p`` on an A/AAAA row posts PinRequested: that address
becomes the composer host's --resolve pin for the next send.  DNS data is untrusted
and shown escaped, as Text.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Input, Static

from netlab.ui.messages import LookupRequested, PinRequested

RDTYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "PTR", "SRV", "CAA", "HTTPS", "ANY")


def _safe(value) -> str:
    from netlab.engine.text import safe_text

    return safe_text(str(value), keep_newlines=False)


def parse_server(text: str) -> tuple[str | None, int]:
    """``1.1.1.1``, ``1.1.1.1:5353``, ``::1``, ``[::1]:5353`` → (address, port)."""
    text = text.strip()
    if not text:
        return None, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 53
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if port.isdigit():
            return host, int(port)
    return text, 53


class DnsTable(DataTable):
    """The answer records; ``p`` pins an A/AAAA address for the composer."""

    BINDINGS = [Binding("p", "pin", "Pin address", tooltip="Use this address for the composer's host (--resolve)")]

    def action_pin(self) -> None:
        self.parent_pane().action_pin()

    def parent_pane(self) -> "DnsPane":
        return self.query_ancestor(DnsPane)


class DnsPane(Vertical):
    """Look names up with any record type and server."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [Binding("ctrl+l", "lookup", "Lookup", tooltip="Look the name up (enter in a field does too)")]

    result = reactive(None, always_update=True, init=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "DNS"
        self.border_subtitle = "F4"
        self._records: list = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="dns-bar"):
            yield Input("", id="dns-name", compact=True, placeholder="name, e.g. example.com")
            yield Input("A", id="dns-type", compact=True, tooltip="Record type: " + ", ".join(RDTYPES),
                        suggester=SuggestFromList(RDTYPES, case_sensitive=False))
            yield Input("", id="dns-server", compact=True, placeholder="server[:port] (system)")
        yield Static(Text("enter looks the name up · p on an A/AAAA row pins it for the composer", "dim italic"),
                     id="dns-status")
        yield DnsTable(id="dns-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DnsTable)
        for label in ("name", "TTL", "type", "data"):
            table.add_column(label, key=label.lower())

    def focus_pane(self) -> None:
        self.query_one("#dns-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_lookup()

    def action_lookup(self) -> None:
        name = self.query_one("#dns-name", Input).value.strip()
        if not name:
            self._status(Text("type a name to look up", "yellow"))
            self.query_one("#dns-name", Input).focus()
            return
        server, port = parse_server(self.query_one("#dns-server", Input).value)
        rdtype = self.query_one("#dns-type", Input).value.strip().upper() or "A"
        self._status(Text(f"looking up {name} {rdtype}" + (f" at {server}:{port}" if server else "") + " …", "cyan"))
        self.post_message(LookupRequested(name, rdtype, server, port))

    def action_pin(self) -> None:
        table = self.query_one(DnsTable)
        if not self._records or table.cursor_row is None or not (0 <= table.cursor_row < len(self._records)):
            self.app.bell()
            return
        record = self._records[table.cursor_row]
        if record is None or str(record.type).upper() not in ("A", "AAAA"):
            self._status(Text("only an A or AAAA record can be pinned", "yellow"))
            self.app.bell()
            return
        self.post_message(PinRequested(str(record.data)))

    def suggest(self, host: str | None) -> None:
        """Offer the composer's host name as the name to look up (not an IP literal)."""
        import ipaddress

        box = self.query_one("#dns-name", Input)
        if not host or box.value:
            return
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            box.value = host

    def set_query(self, name: str, rdtype: str = "A", server: str = "") -> None:
        self.query_one("#dns-name", Input).value = name
        self.query_one("#dns-type", Input).value = rdtype
        self.query_one("#dns-server", Input).value = server

    def watch_result(self, result) -> None:
        table = self.query_one(DnsTable)
        table.clear()
        self._records = []
        if result is None:
            return
        t = Text(no_wrap=True, overflow="ellipsis")
        server = f"{_safe(result.server)}:{result.port}" if result.server else "system resolver"
        if result.error:
            kind, message = result.error
            t.append(f" ✗ {_safe(kind)} ", "bold white on red")
            t.append(f" {_safe(message)}")
        else:
            rcode = _safe(result.rcode)
            t.append(f" {rcode} ", "bold black on green" if rcode == "NOERROR" else "bold black on yellow")
        t.append(f"  {result.elapsed_ms:.2f} ms · {server} · {_safe(result.transport)}")
        if result.size:
            t.append(f" · {result.size} bytes")
        if result.flags:
            flags = result.flags if isinstance(result.flags, str) else " ".join(map(str, result.flags))
            t.append(f" · flags {_safe(flags)}", "dim")
        self._status(t)
        for section, records in (("", result.answer), ("AUTHORITY", result.authority),
                                 ("ADDITIONAL", result.additional)):
            if section and records:
                table.add_row(Text(f";; {section}", "dim"), Text(""), Text(""), Text(""))
                self._records.append(None)
            for r in records:
                table.add_row(Text(_safe(r.name)), Text(str(r.ttl), "dim"), Text(_safe(r.type), "bold"),
                              Text(_safe(r.data), "green" if str(r.type) in ("A", "AAAA") else ""))
                self._records.append(r)
        if not result.error and not result.answer:
            self._status(t.append("  · no answer records", "yellow"))

    def _status(self, text: Text) -> None:
        self.query_one("#dns-status", Static).update(text)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as plain text (for tests)."""
        table = self.query_one(DnsTable)
        return [tuple(c.plain for c in table.get_row_at(i)) for i in range(table.row_count)]
