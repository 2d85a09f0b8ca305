"""DnsTable: the DNS pane's table of one section's records.

Mounted after the first frame (LazyTabs), so DataTable is imported with this module then,
not before the first frame (bench/startup.py)."""

from __future__ import annotations

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
        return self.query_ancestor("DnsPane")  # by name: the DNS pane imports this module
