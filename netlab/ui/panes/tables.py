"""The panes' DataTables: the DNS pane's section tables and the response's Headers tab.

Both are mounted after the first frame (LazyTabs), so DataTable is imported with this
module then, not before the first frame (bench/startup.py)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class DnsTable(DataTable):
    """Records of one section; ``p`` pins the looked-up name to an A/AAAA address for the
    composer, ``u`` also puts that name in the composer's URL."""

    BINDINGS = [
        Binding("p", "pin", "Pin name", id="dns_pin",
                tooltip="Pin the looked-up name to this A/AAAA address for the composer's sends "
                        "(curl --resolve NAME:PORT:ADDR, PORT from the composer's URL)"),
        Binding("u", "pin(True)", "Use name", id="dns_use",
                tooltip="Pin the name to this address and put the name in the composer's URL "
                        "(scheme, port and path kept)"),
    ]

    def action_pin(self, use: bool = False) -> None:
        self.parent_pane().action_pin(self, use)

    def parent_pane(self):
        from netlab.ui.panes.dns import DnsPane

        return self.query_ancestor(DnsPane)


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
        from netlab.ui.panes.response import _safe, _wire

        headers, trailers = self.content["headers"]
        self.clear()
        for i, (name, value) in enumerate(headers, 1):
            self.add_row(Text(str(i), "dim"), Text(_safe(name), "bold"), Text(_safe(_wire(value))))
        for name, value in trailers:
            self.add_row(Text("trailer", "yellow"), Text(_safe(name), "bold yellow"), Text(_safe(_wire(value))))
