"""The request composer: method + URL bar, headers and body (the fields view), the raw
view (the exact bytes that will be sent, line endings visible) and the send options.

One value is the truth: ``self.data``, the request bytes.  Editing the fields rebuilds
it; editing the raw text decodes it (``requesttext.from_raw_text``); either way the other
view is updated.  Only edits made in the focused widget count as the user's: values the
composer sets itself never echo back.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, ContentSwitcher, Input, Label, Static, TextArea

from netlab.ui import requesttext as rt
from netlab.ui.messages import SendRequested, TabSelected
from netlab.ui.panes.tabstrip import LazyTabs, TabStrip

TABS = [("fields", "Fields"), ("raw", "Raw"), ("options", "Options")]

BODY_METHODS = ("POST", "PUT", "PATCH")


class Composer(LazyTabs, Vertical):
    """Compose a request; ``request_send()`` posts SendRequested."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("f7", "toggle_raw", "Raw view", tooltip="Switch between the fields view and the raw bytes view"),
        Binding("f8", "options", "Options", tooltip="Timeout, insecure TLS, resolve pin, Unix socket"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data = b""
        self._url = ""
        self._version = "HTTP/1.1"
        self.border_title = "Composer"
        self.border_subtitle = "F2"
        # the send options; the Options tab edits them (it is mounted after the first frame)
        self.opt: dict = {"timeout": "10", "insecure": False, "resolve": "", "unix": "", "dns": ""}

    def compose(self) -> ComposeResult:
        with Horizontal(id="composer-bar"):
            yield Input("GET", id="method", compact=True, tooltip="Method (any token; malformed is allowed)")
            yield Input("", id="url", compact=True, placeholder="http://host:port/path")
        yield TabStrip(TABS, "fields", id="composer-tabs")
        with ContentSwitcher(initial="fields", id="composer-switcher"):
            with Vertical(id="fields"):
                yield Label("Headers — one 'Name: value' a line", classes="section")
                yield TextArea(id="headers", soft_wrap=False, compact=True)
                yield Label("Body", classes="section")
                yield TextArea(id="body", compact=True)
        yield Static(id="composer-status")

    # -- public ------------------------------------------------------------------------------
    def focus_pane(self) -> None:
        self.query_one("#url", Input).focus()

    @property
    def url(self) -> str:
        return self.query_one("#url", Input).value.strip()

    @property
    def host(self) -> str | None:
        """The host name of the URL in the bar."""
        from urllib.parse import urlsplit

        url = self.url if "://" in self.url else "http://" + self.url
        try:
            return urlsplit(url).hostname
        except ValueError:
            return None

    @property
    def raw_text(self) -> str:
        area = self._maybe("#raw")
        return area.text if area is not None else rt.to_raw_text(self.data)

    def _maybe(self, selector: str):
        """A widget that may not be mounted yet (the Raw and Options tabs are lazy)."""
        return next(iter(self.query(selector)), None)

    def load(self, data: bytes, url: str, options=None) -> None:
        """Show these request bytes (and options) in both views."""
        self.data = bytes(data)
        self._url = url
        fields = rt.split_request(self.data, url)
        self._version = fields.version
        self._show_fields(fields)
        self._set_text("#raw", rt.to_raw_text(self.data))
        if options is not None:
            self._set_opt("timeout", f"{options.timeout:g}")
            self._set_opt("insecure", options.insecure)
            self._set_opt("resolve", " ".join(_pin_text(p) for p in options.resolve))
            self._set_opt("unix", options.unix_socket or "")
            host, port = options.dns_server or ("", 0)
            self._set_opt("dns", "" if not host else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"))
        self._show_status()

    def load_url(self, url: str) -> None:
        """The classic hand-written request for ``url``."""
        self.load(rt.classic_request(url), url)

    def pin(self, address: str) -> str | None:
        """Pin ``address`` for the host and port of the URL; returns the pin text."""
        from netlab.engine.request import parse_target

        try:
            t = parse_target(self.url)
        except Exception:  # noqa: BLE001 - a bad URL is reported by the status line
            return None
        text = f"{t.host}:{t.port}:{address}"
        keep = [p for p in self.opt["resolve"].split() if not p.lower().startswith(f"{t.host.lower()}:{t.port}:")]
        self._set_opt("resolve", " ".join(keep + [text]))
        self._show_status()
        return text

    def build(self):
        """(Request, Options) for the current bytes and options; raises NetlabError."""
        from netlab.engine import NetlabError, Options, Request, parse_pin

        url = self.url
        if not url:
            raise NetlabError("usage", "no URL: type one in the URL bar")
        if "://" not in url:
            url = "http://" + url
        request = Request.raw(self.data, url)
        timeout_s = self.opt["timeout"].strip() or "10"
        try:
            timeout = float(timeout_s)
            if timeout <= 0:
                raise ValueError
        except ValueError:
            raise NetlabError("usage", f"timeout {timeout_s!r} is not a positive number of seconds") from None
        pins = tuple(parse_pin(p) for p in self.opt["resolve"].split())
        unix = self.opt["unix"].strip() or None
        dns_server = None
        if self.opt["dns"].strip():
            from netlab.engine.dns import parse_dns_server

            try:
                dns_server = parse_dns_server(self.opt["dns"])
            except ValueError as exc:
                raise NetlabError("usage", f"DNS server {self.opt['dns'].strip()!r}: {exc}") from None
        options = Options(timeout=timeout, insecure=bool(self.opt["insecure"]), resolve=pins, unix_socket=unix,
                          dns_server=dns_server)
        return request, options

    def request_send(self) -> bool:
        from netlab.engine import NetlabError

        self.normalize_raw()
        try:
            request, options = self.build()
        except NetlabError as exc:
            self._show_status(error=exc.message)
            return False
        self.post_message(SendRequested(request, options))
        return True

    # -- actions -----------------------------------------------------------------------------
    def lazy_tabs(self) -> list:
        """The Raw and Options tabs: mounted after the first frame."""
        return [RawArea(id="raw", soft_wrap=True, compact=True), OptionsForm(self.opt, id="options")]

    async def show_tab(self, name: str) -> None:
        await self.ensure_tabs()
        self.query_one(TabStrip).active = name
        self.query_one(ContentSwitcher).current = name

    async def on_tab_selected(self, event: TabSelected) -> None:
        event.stop()
        await self.show_tab(event.tab_id)

    async def action_toggle_raw(self) -> None:
        tab = "fields" if self.query_one(TabStrip).active == "raw" else "raw"
        await self.show_tab(tab)
        self.query_one("#headers" if tab == "fields" else "#raw").focus()

    async def action_options(self) -> None:
        await self.show_tab("options")
        self.query_one("#opt-timeout").focus()

    # -- keeping the two views in step --------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id in ("method", "url") and event.input.has_focus:
            self._fields_edited(event.input.id)
        elif event.input.id and event.input.id.startswith("opt-"):
            self.opt[event.input.id.removeprefix("opt-")] = event.value
            self._show_status()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.opt["insecure"] = event.value
        self._show_status()

    def _set_opt(self, key: str, value) -> None:
        self.opt[key] = value
        widget = self._maybe(f"#opt-{key}")
        if widget is not None and widget.value != value:
            widget.value = value
        self._show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.request_send()

    def normalize_raw(self) -> None:
        """Rewrite the raw text in its canonical form (every line ending written out),
        keeping the cursor: after an edit, and before a send, it shows exactly what goes."""
        area = self._maybe("#raw")
        canonical = rt.to_raw_text(self.data)
        if area is not None and area.text != canonical:
            row, col = area.cursor_location
            area.load_text(canonical)
            row = min(row, area.document.line_count - 1)
            area.move_cursor((row, min(col, len(area.document.get_line(row)))))

    def on_descendant_blur(self, event) -> None:
        if event.widget.id == "raw":
            self.normalize_raw()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        area = event.text_area
        if not area.has_focus:
            return
        if area.id == "raw":
            self._raw_edited()
        else:
            self._fields_edited(area.id or "")

    def _fields(self) -> rt.Fields:
        return rt.Fields(
            self.query_one("#method", Input).value,
            self.url,
            self.query_one("#headers", TextArea).text,
            self.query_one("#body", TextArea).text,
            self._version,
        )

    def _fields_edited(self, source: str) -> None:
        fields = self._fields()
        headers = fields.headers
        if source == "url" and fields.url != self._url:
            old_host, new_host = rt.host_header(self._url), rt.host_header(fields.url)
            if new_host and rt.get_header(headers, "host") in (old_host, None):
                headers = rt.set_header(headers, "Host", new_host)
            self._url = fields.url
        if source in ("body", "method") and rt.get_header(headers, "transfer-encoding") is None:
            size = len(fields.body.encode("utf-8"))
            if size or fields.method.upper() in BODY_METHODS or rt.get_header(headers, "content-length"):
                headers = rt.set_header(headers, "Content-Length", str(size))
        if headers != fields.headers:
            self._set_text("#headers", headers)
            fields = rt.Fields(fields.method, fields.url, headers, fields.body, fields.version)
        if rt.split_request(self.data, self._url) != fields:
            self.data = rt.build_request(fields)
            self._set_text("#raw", rt.to_raw_text(self.data))
        self._show_status()

    def _raw_edited(self) -> None:
        data = rt.from_raw_text(self.raw_text)
        if data == self.data:
            return
        self.data = data
        fields = rt.split_request(data, self._url)
        self._version = fields.version
        self._url = fields.url
        self._show_fields(fields)
        self._show_status()

    def _show_fields(self, fields: rt.Fields) -> None:
        self._set_input("#method", fields.method)
        self._set_input("#url", fields.url)
        self._set_text("#headers", fields.headers)
        self._set_text("#body", fields.body)

    def _set_input(self, selector: str, value: str) -> None:
        box = self.query_one(selector, Input)
        if box.value != value:
            box.value = value

    def _set_text(self, selector: str, text: str) -> None:
        area = self._maybe(selector)
        if area is not None and area.text != text:
            area.load_text(text)

    def _show_status(self, error: str | None = None) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        if error:
            t.append(" ✗ ", "bold white on red")
            t.append(f" {error}", "red")
        elif not self.url:
            t.append("type a URL above (or wait for the lab server)", "dim italic")
        else:
            t.append(f"{len(self.data)} bytes", "bold")
            for warning in rt.lint(self.data):
                t.append(" · ")
                t.append(warning, "yellow")
            opts = []
            resolve = self.opt["resolve"].split()
            if resolve:
                opts.append("pin " + " ".join(resolve))
            if self.opt["insecure"]:
                opts.append("insecure TLS")
            unix = self.opt["unix"].strip()
            if unix:
                opts.append(f"unix {unix}")
            dns = self.opt["dns"].strip()
            if dns:
                opts.append(f"dns {dns}")
            timeout = self.opt["timeout"].strip()
            if timeout not in ("10", ""):
                opts.append(f"timeout {timeout}s")
            if opts:
                t.append(" · " + " · ".join(opts), "cyan")
        self.query_one("#composer-status", Static).update(t)


def _pin_text(pin) -> str:
    addrs = ",".join(f"[{a}]" if ":" in a else a for a in pin.addresses)
    return f"{pin.host}:{pin.port if pin.port is not None else '*'}:{addrs}"


class RawArea(TextArea):
    """The raw view; mounted after the first frame, it starts from the composer's bytes."""

    def on_mount(self) -> None:
        composer = self.query_ancestor(Composer)
        self.load_text(rt.to_raw_text(composer.data))


class OptionsForm(VerticalScroll):
    """Timeout, insecure TLS, resolve pin and Unix socket; built from ``opt`` when mounted."""

    def __init__(self, opt: dict, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opt = opt

    def compose(self) -> ComposeResult:
        yield Label("Timeout, seconds (connect and each read)", classes="section")
        yield Input(self.opt["timeout"], id="opt-timeout", compact=True)
        yield Checkbox("Insecure TLS: do not verify the certificate (curl -k)", self.opt["insecure"],
                       id="opt-insecure", compact=True)
        yield Label("Resolve pin: HOST:PORT:ADDR, several separated by spaces (curl --resolve)", classes="section")
        yield Input(self.opt["resolve"], id="opt-resolve", compact=True, placeholder="example.com:80:127.0.0.1")
        yield Label("Unix socket: send HTTP over this socket path (curl --unix-socket)", classes="section")
        yield Input(self.opt["unix"], id="opt-unix", compact=True, placeholder="/run/app.sock")
        yield Label("DNS server: resolve the host with ADDR[:PORT], skipping /etc/hosts (netlab send --dns-server)",
                    classes="section")
        yield Input(self.opt["dns"], id="opt-dns", compact=True, placeholder="127.0.0.1:5353 (empty: the system's)")
