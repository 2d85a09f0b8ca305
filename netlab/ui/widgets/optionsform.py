"""OptionsForm: the composer's Options tab, mounted after the first frame (LazyTabs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input


class OptionsForm(VerticalScroll):
    """Timeouts, insecure TLS, resolve pin, Unix socket and DNS server; built from ``opt``
    when mounted."""

    def __init__(self, opt: dict, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opt = opt

    def compose(self) -> ComposeResult:
        from textual.widgets import Label

        from netlab.ui.widgets.checkbox import TickBox  # [x] / [ ], the label wrapped when narrow

        yield Label("Timeout, seconds (connect and each read)", classes="section")
        yield Input(self.opt["timeout"], id="opt-timeout", compact=True)
        yield TickBox("Insecure TLS: do not verify the certificate (curl -k)", self.opt["insecure"],
                      id="opt-insecure", compact=True)
        yield Label("Resolve pin: HOST:PORT:ADDR, several separated by spaces (curl --resolve)", classes="section")
        yield Input(self.opt["resolve"], id="opt-resolve", compact=True, placeholder="example.com:80:127.0.0.1")
        yield Label("Unix socket: send HTTP over this socket path (curl --unix-socket)", classes="section")
        yield Input(self.opt["unix"], id="opt-unix", compact=True, placeholder="/run/app.sock")
        yield Label("DNS server: resolve the host with ADDR[:PORT], skipping /etc/hosts (netlab send --dns-server)",
                    classes="section")
        yield Input(self.opt["dns"], id="opt-dns", compact=True, placeholder="127.0.0.1:5353 (empty: the system's)")
        yield Label("Head timeout, seconds from the request sent to the whole response head; 0: none "
                    "(netlab send --head-timeout)", classes="section")
        yield Input(self.opt["head_timeout"], id="opt-head_timeout", compact=True)
        yield TickBox("Follow redirects: each hop its own exchange, at most 30 (curl -L)", self.opt["follow"],
                      id="opt-follow", compact=True)
        yield TickBox("Cookie jar: keep this session's cookies and send them back (curl -b/-c)", self.opt["cookies"],
                      id="opt-cookies", compact=True)
        yield TickBox("Capture packets: the exchange below the socket, Packets tab (root or CAP_NET_RAW)",
                      self.opt["packets"], id="opt-packets", compact=True)
