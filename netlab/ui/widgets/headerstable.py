"""HeadersTable: the response's Headers tab.

Mounted after the first frame (LazyTabs), so DataTable is imported with this module then,
not before the first frame (bench/startup.py)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from netlab.ui.views.text import header_bytes, safe


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
            self.add_row(Text(str(i), "dim"), Text(safe(name), "bold"), Text(safe(header_bytes(value))))
        for name, value in trailers:
            self.add_row(Text("trailer", "yellow"), Text(safe(name), "bold yellow"), Text(safe(header_bytes(value))))
