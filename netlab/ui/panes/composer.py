"""The request composer: method + URL bar, headers and body (the fields view), the raw
view (the exact bytes that will be sent, line endings visible) and the send options.

A curl command pasted (or typed, then enter) into the URL bar is read with
``netlab.engine.curl.parse_curl`` into the request and options; ``ctrl+y`` copies the
request as a curl command, ``ctrl+s`` appends it to a .http file.

One value is the truth: ``self.data``, the request bytes.  Editing the fields rebuilds
it; editing the raw text decodes it (``requesttext.from_raw_text``); either way the other
view is updated.  Only edits made in the focused widget count as the user's: values the
composer sets itself never echo back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Input, Static

from netlab.ui import requesttext as rt
from netlab.ui.messages import ComposeFailed, SendRequested, TabSelected
from netlab.ui.widgets.tabstrip import LazyTabs, TabStrip

if TYPE_CHECKING:
    import asyncio

    from textual.widgets import Checkbox, TextArea  # imported with the fields after the first frame

TABS = [("fields", "Fields"), ("raw", "Raw"), ("options", "Options")]

BODY_METHODS = ("POST", "PUT", "PATCH")

FIELDS = [("headers", "Headers — one 'Name: value' a line"), ("body", "Body")]


class Composer(LazyTabs, Vertical):
    """Compose a request; ``request_send()`` posts SendRequested."""

    ALLOW_MAXIMIZE = True
    # Priority: the composer's keys win over its text fields' own (TextArea's ctrl+z/ctrl+y).
    # F7 / F8 are the app's (they work from every pane; netlab/ui/keys.py).
    BINDINGS = [
        Binding("ctrl+z", "undo", "Undo", show=False, priority=True,
                tooltip="Undo the last edit of the request (method, URL, headers, body, raw, options)"),
        Binding("ctrl+shift+z", "redo", "Redo", show=False, priority=True, tooltip="Redo what ctrl+z undid"),
        Binding("ctrl+y", "copy_curl", "Copy as curl", show=False, priority=True,
                tooltip="Copy the request as a curl command (credential values masked)"),
        Binding("ctrl+s", "save_http", "Save to .http", show=False, priority=True,
                tooltip="Append the request to a .http file (### NAME)"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data = b""
        self._url = ""
        self._version = "HTTP/1.1"
        self.border_title = "Composer"
        self.border_subtitle = "F2"
        # the send options; the Options tab edits them (it is mounted after the first frame);
        # cacert and max_time have no field: they come from a curl command, a .http entry or history
        self.opt: dict = {"timeout": "10", "head_timeout": "30", "insecure": False, "follow": False, "cookies": False,
                          "packets": False, "resolve": "", "unix": "",
                          "dns": "", "cacert": "", "max_time": ""}
        self._note: tuple[bytes, str, str] | None = None  # (data, url, text): shown while they are unchanged
        self._curl_error: tuple[str, str] | None = None  # (URL bar text, why it is not a curl command we read)
        self.host_auto = True  # the Host header is netlab's (it follows the URL), not one the user typed
        self._undo: list[tuple] = []  # states before each edit (ctrl+z), newest last
        self._redo: list[tuple] = []
        self._restoring = False
        self._fields_ready: asyncio.Event | None = None  # the text areas are mounted (mount_lazy)

    def compose(self) -> ComposeResult:
        with Horizontal(id="composer-bar"):
            yield Input("GET", id="method", compact=True, tooltip="Method (any token; malformed is allowed)")
            yield UrlInput("", id="url", compact=True, placeholder="http://host:port/path (or paste a curl command)")
        yield TabStrip(TABS, "fields", id="composer-tabs")
        with ContentSwitcher(initial="fields", id="composer-switcher"):
            with Vertical(id="fields"):  # the section names are the areas' border titles, not Labels
                # The first frame draws the two text areas' empty boxes; the areas themselves
                # (TextArea: an import and two dear widgets) replace them right after it
                # (mount_fields), before the keys typed meanwhile are let go.
                for name, title in FIELDS:
                    box = Static(id=f"{name}-box", classes="field")
                    box.border_title = title
                    yield box
        yield Static(id="composer-status")

    # -- public ------------------------------------------------------------------------------
    def focus_pane(self) -> None:
        self.query_one("#url", Input).focus()

    def focus_start(self) -> None:
        """The app's first focus, right after the first frame: the URL bar with its cursor
        after the URL and nothing selected, so keys typed at start go on the URL's end."""
        url = self.query_one("#url", Input)
        self.screen.set_focus(url)  # now, before the keys the app holds until then are let go
        url.call_later(url.action_end)  # after its Focus, which selects all (Input.select_on_focus)

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
        self.host_auto = rt.get_header(fields.headers, "host") in (None, rt.host_header(url))
        self._show_fields(fields)
        if self._maybe("#raw") is not None:  # the Raw tab, once mounted, starts from self.data (RawArea)
            self._set_text("#raw", rt.to_raw_text(self.data))
        if options is not None:
            self._set_opt("timeout", f"{options.timeout:g}")
            self._set_opt("head_timeout", "0" if options.head_timeout is None else f"{options.head_timeout:g}")
            self._set_opt("insecure", options.insecure)
            self._set_opt("resolve", " ".join(_pin_text(p) for p in options.resolve))
            self._set_opt("unix", options.unix_socket or "")
            host, port = options.dns_server or ("", 0)
            self._set_opt("dns", "" if not host else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"))
            self._set_opt("cacert", options.cafile or "")
            self._set_opt("max_time", f"{options.deadline:g}" if options.deadline else "")
        self._show_status()

    def load_url(self, url: str) -> None:
        """The classic hand-written request for ``url``."""
        self.load(rt.classic_request(url), url)

    def pin(self, address: str, name: str | None = None, *, use: bool = False) -> str | None:
        """Pin ``name`` (default: the URL's host) to ``address`` at the URL's port, as curl's
        --resolve NAME:PORT:ADDR (a pin for the same name and port is replaced).  ``use``: the
        URL's host becomes ``name`` too, its scheme, port and path kept (no valid URL:
        ``http://NAME/``); the Host header follows when netlab filled it.  One undo step.
        Returns the pin text; None when there is no valid URL to take the host or port from."""
        from urllib.parse import urlsplit, urlunsplit

        from netlab.engine.request import parse_target

        try:
            t = parse_target(self.url)
        except Exception:  # noqa: BLE001 - a bad URL is reported by the status line
            t = None
        if t is None and not (use and name):
            return None
        host = name.rstrip(".") if name else t.host
        port = t.port if t is not None else 80
        self._remember()
        if use and (t is None or t.host.lower() != host.lower()):
            if t is None:
                url = f"http://{host}/"
            else:
                bare = "://" not in self.url
                parts = urlsplit("http://" + self.url if bare else self.url)
                userinfo, at, _ = parts.netloc.rpartition("@")
                netloc = f"{userinfo}{at}{host}" + (f":{parts.port}" if parts.port is not None else "")
                url = urlunsplit(parts._replace(netloc=netloc))
                url = url.removeprefix("http://") if bare else url
            fields = rt.split_request(self.data, self._url)
            headers = fields.headers
            if self.host_auto and rt.get_header(headers, "host") is not None:
                headers = rt.set_header(headers, "Host", rt.host_header(url) or host)
            self.load(rt.build_request(rt.Fields(fields.method, url, headers, fields.body, fields.version)), url)
        text = f"{host}:{port}:" + (f"[{address}]" if ":" in address else address)
        keep = [p for p in self.opt["resolve"].split() if not p.lower().startswith(f"{host.lower()}:{port}:")]
        self._set_opt("resolve", " ".join(keep + [text]))
        self._show_status()
        return text

    def build(self):
        """(Request, Options) for the current bytes and options; raises NetlabError.  Each
        number is read by the rule every option value follows (netlab/limits.py), so a
        bad one is refused with its name and value, as the command line and settings do."""
        from netlab import limits
        from netlab.engine import NetlabError, Options, Request, parse_pin

        def number(key: str, rule: str, name: str, empty):  # an empty field: ``empty``
            text = str(self.opt.get(key) or "").strip()
            if not text:
                return empty
            try:
                return limits.parse(rule, text, name)
            except limits.OptionValueError as exc:
                raise NetlabError("usage", str(exc)) from None

        url = self.url
        if not url:
            raise NetlabError("usage", "no URL: type one in the URL bar")
        if "://" not in url:
            url = "http://" + url
        request = Request.raw(self.data, url)
        timeout = number("timeout", "timeout", "timeout", Options().timeout)
        head_timeout = number("head_timeout", "head_timeout", "head timeout", limits.DEFAULT_HEAD_TIMEOUT)
        deadline = number("max_time", "deadline", "max time", None)
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
                          dns_server=dns_server, cafile=self.opt["cacert"].strip() or None, deadline=deadline,
                          head_timeout=head_timeout).checked()
        return request, options

    def request_send(self) -> bool:
        from netlab.engine import NetlabError

        if _maybe_curl(self.url) and not self.load_curl(self.query_one("#url", Input).value):
            return False
        self.normalize_raw()
        try:
            request, options = self.build()
        except NetlabError as exc:
            self._show_status(error=exc.message)
            self.post_message(ComposeFailed(exc.message))
            return False
        self.post_message(SendRequested(request, options))
        return True

    # -- curl and .http ------------------------------------------------------------------------
    def load_curl(self, text: str) -> bool:
        """Read a curl command into the composer: the request bytes, URL and options.  On
        a parse error the status line says what and where; the URL bar keeps the text."""
        from netlab.engine.curl import CurlError, parse_curl

        try:
            cmd = parse_curl(text)
        except CurlError as exc:
            self._curl_error = (self.query_one("#url", Input).value, "curl: " + exc.message)
            self._show_status()
            return False
        self._curl_error = None
        # curl has neither: keep the composer's
        keep = {"dns": self.opt["dns"], "head_timeout": self.opt["head_timeout"]}
        if "timeout" not in cmd.given:
            keep["timeout"] = self.opt["timeout"]
        self.load(cmd.request.data, cmd.request.url, cmd.options)
        for key, value in keep.items():
            self._set_opt(key, value)
        notes = "".join(f" · {n}" for n in cmd.notes)
        self.note(f"loaded the curl command: {cmd.request.method} {cmd.request.url}{notes}")
        return True

    def paste_curl(self, text: str) -> None:
        """A curl command pasted into the URL bar (possibly several lines with ``\\``
        continuations): load it, or keep it in the bar as one line and say why not."""
        if self.load_curl(text):
            return
        one_line = _one_line(text)
        error = self._curl_error[1] if self._curl_error else ""
        box = self.query_one("#url", Input)
        box.value = one_line
        box.cursor_position = len(one_line)
        self._curl_error = (one_line, error)
        self._show_status()

    def note(self, text: str) -> None:
        """Say ``text`` in the status line until the request or URL changes."""
        self._note = (self.data, self.query_one("#url", Input).value, text)
        self._show_status()

    def action_copy_curl(self) -> None:
        """The request as a curl command, to the clipboard (credential values masked)."""
        from netlab.engine import NetlabError
        from netlab.engine.curl import to_curl
        from netlab.engine.export import masked_request

        self.normalize_raw()
        try:
            request, options = self.build()
            text = to_curl(request, options)
        except NetlabError as exc:
            self._show_status(error=f"copy as curl: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            return
        self.app.copy_to_clipboard(text)
        _, masked = masked_request(request)
        more = f" · {', '.join(masked)} masked (ctrl+n exports with the secrets)" if masked else ""
        self.note(f"copied as a curl command ({len(text)} characters){more}")

    def action_save_http(self) -> None:
        """Append the request to a .http file: ask for the path, then the entry's name."""
        import os

        from netlab.engine import NetlabError
        from netlab.ui.screens.prompt import PromptScreen

        self.normalize_raw()
        try:
            request, options = self.build()
        except NetlabError as exc:
            self._show_status(error=exc.message)
            return
        app = self.app
        saved: dict = {}

        def check_path(value: str) -> str | None:
            path = os.path.expanduser(value.strip())
            if not path:
                return "type the path of a .http file"
            if os.path.isdir(path):
                return f"{path} is a directory"
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                return f"there is no directory {folder}"
            saved["path"] = path
            return None

        def check_name(value: str) -> str | None:
            from netlab.engine.httpfile import append_entry

            try:
                saved["line"] = append_entry(saved["path"], request, value.strip() or None, options)
            except NetlabError as exc:
                return exc.message + (f" ({exc.hint})" if exc.hint else "")
            return None

        def got_name(value: str | None) -> None:
            if value is not None:
                app.http_path = saved["path"]
                self.note(f"saved to {saved['path']}, line {saved['line']}")

        def got_path(value: str | None) -> None:
            if value is not None:
                app.push_screen(PromptScreen("Name of the request (the ### line; empty: none)",
                                             placeholder="get-my-address", check=check_name,
                                             help=f"appended to {saved['path']}"), got_name)

        app.push_screen(PromptScreen("Save the request to a .http file", value=getattr(app, "http_path", "")
                                     or "requests.http", check=check_path,
                                     help="appended after a ### line; the file is created (mode 0600) when missing"),
                        got_path)

    # -- actions -----------------------------------------------------------------------------
    def lazy_tabs(self) -> list:
        """The Raw and Options tabs: mounted after the first frame."""
        from netlab.ui.widgets.optionsform import OptionsForm
        from netlab.ui.widgets.rawarea import RawArea

        raw = Vertical(Static(RAW_HINT, id="raw-hint"), RawArea(id="raw", soft_wrap=True, compact=True),
                       id="raw-view")
        return [raw, OptionsForm(self.opt, id="options")]

    async def mount_lazy(self) -> None:
        """The Headers and Body text areas in place of the first frame's empty boxes, holding
        the request as it is by now (a URL given on the command line, say).  The app awaits
        this right after the first frame, before it lets the keys typed meanwhile go."""
        import asyncio

        from textual.widgets import TextArea

        if self._fields_ready is not None:
            await self._fields_ready.wait()
            return
        self._fields_ready = asyncio.Event()
        fields = rt.split_request(self.data, self._url)
        areas = []
        for name, title in FIELDS:
            area = TextArea(getattr(fields, name), id=name, soft_wrap=name != "headers", compact=True,
                            classes="field")
            area.border_title = title
            areas.append(area)
        holder = self.query_one("#fields", Vertical)
        with self.app.batch_update():
            await holder.mount_all(areas, before=0)
            await holder.query(".field").exclude("TextArea").remove()
        self._fields_ready.set()

    @property
    def active_tab(self) -> str:
        return self.query_one(TabStrip).active

    async def show_tab(self, name: str) -> None:
        await self.ensure_tabs()
        self.query_one(TabStrip).active = name
        self.query_one(ContentSwitcher).current = "raw-view" if name == "raw" else name

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
        if self._restoring:
            return
        if event.input.id in ("method", "url") and event.input.has_focus:
            self._fields_edited(event.input.id)
        elif event.input.id and event.input.id.startswith("opt-"):
            key = event.input.id.removeprefix("opt-")
            if self.opt.get(key) != event.value:
                self._remember()
                self.opt[key] = event.value
            self._show_status()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self._restoring:
            return
        key = (event.checkbox.id or "").removeprefix("opt-")
        if key not in self.opt:
            return
        if self.opt[key] != event.value:
            self._remember()
        self.opt[key] = event.value
        self._show_status()

    def send_how(self):
        """Redirects, cookies and capture for the next send (the Options tab's boxes)."""
        from netlab.ui.workers import SendHow

        return SendHow(follow=bool(self.opt["follow"]), cookies=bool(self.opt["cookies"]),
                       packets=bool(self.opt["packets"]))

    # -- undo / redo: the whole request (bytes, URL, options) before each edit ----------------
    def _state(self) -> tuple:
        """The request as it stands before the edit being handled (``_url``: the URL bar's
        text as last read; the bar itself may already show the edit)."""
        return (self.data, self._url, self._version, self.host_auto, tuple(sorted(self.opt.items())))

    def _remember(self, state: tuple | None = None) -> None:
        """Called before an edit changes the request: ctrl+z comes back to this state."""
        state = state if state is not None else self._state()
        if not self._undo or self._undo[-1] != state:
            self._undo.append(state)
            del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def action_undo(self) -> None:
        self._step(self._undo, self._redo, "nothing to undo")

    def action_redo(self) -> None:
        self._step(self._redo, self._undo, "nothing to redo")

    def _step(self, source: list, target: list, empty: str) -> None:
        if not source:
            self.app.bell()
            self.note(empty)
            return
        focused = self.app.focused
        target.append(self._state())
        data, url, version, host_auto, opt = source.pop()
        self._restoring = True
        try:
            self.load(data, url)
            self._set_input("#url", url)
            self._version, self.host_auto = version, host_auto
            for key, value in opt:
                self._set_opt(key, value)
        finally:
            self.call_after_refresh(self._restored)
        if focused is not None:
            focused.focus()
        self._show_status()

    def _restored(self) -> None:
        self._restoring = False

    def _set_opt(self, key: str, value) -> None:
        self.opt[key] = value
        widget = self._maybe(f"#opt-{key}")
        if widget is not None and widget.value != value:
            widget.value = value
        self._show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "url" and _maybe_curl(event.value):
            self.load_curl(event.value)  # enter loads a curl command; the next enter sends it
            return
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
        if not area.has_focus or self._restoring:
            return
        if area.id == "raw":
            self._raw_edited()
        else:
            self._fields_edited(area.id or "")

    def _fields(self) -> rt.Fields:
        headers, body = self._maybe("#headers"), self._maybe("#body")
        if headers is None or body is None:  # before mount_lazy: the request bytes hold them
            known = rt.split_request(self.data, self._url)
        return rt.Fields(
            self.query_one("#method", Input).value,
            self.url,
            known.headers if headers is None else headers.text,
            known.body if body is None else body.text,
            self._version,
        )

    def _fields_edited(self, source: str) -> None:
        if source == "url" and _maybe_curl(self.url):
            self._show_status()  # a curl command being typed or pasted: the request waits for enter
            return
        before = self._state()
        fields = self._fields()
        headers = fields.headers
        if source == "headers":  # the user's own Host is kept; one equal to the URL's follows it again
            self.host_auto = rt.get_header(headers, "host") in (None, rt.host_header(fields.url))
        if source == "url" and fields.url != self._url:
            new_host = rt.host_header(fields.url)
            if new_host and self.host_auto and rt.get_header(headers, "host") is not None:
                headers = rt.set_header(headers, "Host", new_host)
            self._url = fields.url
        if source in ("body", "method") and rt.get_header(headers, "transfer-encoding") is None:
            size = len(fields.body.encode("utf-8"))
            if size or fields.method.upper() in BODY_METHODS or rt.get_header(headers, "content-length"):
                headers = rt.set_header(headers, "Content-Length", str(size))
        if headers != fields.headers:
            self._set_text("#headers", headers)
            fields = rt.Fields(fields.method, fields.url, headers, fields.body, fields.version)
        if rt.split_request(self.data, self._url) != fields or before[1] != self._url:
            self._remember(before)
        if rt.split_request(self.data, self._url) != fields:
            self.data = rt.build_request(fields)
            if self._maybe("#raw") is not None:
                self._set_text("#raw", rt.to_raw_text(self.data))
        self._show_status()

    def _raw_edited(self) -> None:
        data = rt.from_raw_text(self.raw_text)
        if data == self.data:
            return
        self._remember()
        self.data = data
        fields = rt.split_request(data, self._url)
        self._version = fields.version
        self._url = fields.url
        self.host_auto = rt.get_header(fields.headers, "host") in (None, rt.host_header(fields.url))
        self._show_fields(fields)
        self._show_status()

    def _show_fields(self, fields: rt.Fields) -> None:
        self._set_input("#method", fields.method)
        self._set_input("#url", fields.url)
        self._set_text("#headers", fields.headers)
        self._set_text("#body", fields.body)

    def host_mismatch(self) -> str | None:
        """A Host header the user typed that is not the URL's host: said in the status line."""
        if self.host_auto:
            return None
        fields = rt.split_request(self.data, self._url)
        typed, want = rt.get_header(fields.headers, "host"), rt.host_header(self.url)
        if typed is None or want is None or typed == want:
            return None
        return f"Host {_shown(typed)!r} is not the URL's {_shown(want)!r} (yours: kept)"

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
        url_text = self.query_one("#url", Input).value
        if not error and self._curl_error is not None and self._curl_error[0] == url_text:
            error = self._curl_error[1]
        if error:
            t.append(" ✗ ", "bold white on red")
            t.append(f" {_shown(error)}", "red")
        elif _maybe_curl(url_text):
            t.append("a curl command: enter loads it into the composer", "cyan")
        elif not self.url:
            t.append("type a URL above (or wait for the lab server)", "dim italic")
        else:
            if self._note is not None and self._note[:2] == (self.data, url_text):
                t.append(f"{_shown(self._note[2])} · ", "green")
            t.append(f"{len(self.data)} bytes", "bold")
            for warning in rt.lint(self.data):
                t.append(" · ")
                t.append(warning, "yellow")
            mismatch = self.host_mismatch()
            if mismatch:
                t.append(" · ")
                t.append(mismatch, "yellow")
            opts = _options_said(self.opt)
            if opts:  # a Unix socket path (from the history, say) may hold anything
                t.append(" · " + _shown(" · ".join(opts)), "cyan")
            self._show_added(t)
        self.query_one("#composer-status", Static).update(t)

    def added_headers(self) -> list[str]:
        """The headers of the request that netlab wrote by itself, as spelled in it."""
        return netlab_added(self.data, self._url, self.host_auto)

    def jar_adds(self) -> str | None:
        """What the session's cookie jar adds at send ("Cookie: a, b"), when the Cookie jar
        box is ticked and a cookie matches; None otherwise (no engine import then)."""
        jar = self.app.services.jar_if_made() if self.opt.get("cookies") else None
        if jar is None or not len(jar) or rt.get_header(rt.split_request(self.data, self._url).headers, "cookie"):
            return None
        from netlab.engine import NetlabError, Request

        try:
            value = jar.header_for(Request.raw(self.data, self.url if "://" in self.url else "http://" + self.url))
        except (NetlabError, ValueError):
            return None
        return None if value is None else ", ".join(part.split("=", 1)[0].strip() for part in value.split(";"))

    def _show_added(self, t: Text) -> None:
        """"added by netlab: Host, Connection" after the status, the Raw tab's marks and hint."""
        added = self.added_headers()
        cookies = self.jar_adds()
        said = ", ".join(_shown(n) for n in added)
        if cookies:
            said += (", " if said else "") + f"Cookie from the jar ({_shown(cookies)})"
        if said:
            t.append(f" · netlab adds {said}", "dim")
        raw, hint = self._maybe("#raw"), self._maybe("#raw-hint")
        if raw is not None:
            raw.mark(added)
        if hint is not None:
            more = Text.assemble((" · ", "dim"), ("+", "bold cyan"), (f" added by netlab: {said}", "dim")) if said \
                else Text("")
            hint.update(Text.assemble(RAW_HINT, more))


RAW_HINT = Text.assemble(("enter", "bold"), (" CRLF · ", "dim"), ("\\n", "bold"), (" bare LF · ", "dim"),
                         ("\\r", "bold"), (" CR · ", "dim"), ("\\xNN", "bold"), (" byte · ", "dim"),
                         ("\\\\", "bold"), (" backslash", "dim"))
UNDO_DEPTH = 200


def netlab_added(data: bytes, url: str, host_auto: bool) -> list[str]:
    """The header lines netlab wrote by itself rather than the user: Host while it follows
    the URL (``host_auto``), a ``netlab/…`` User-Agent, Accept ``*/*``, a Content-Length
    equal to the body's length (netlab keeps it in step), Connection ``close`` (the classic
    request's).  A value the user changes makes the line theirs."""
    fields = rt.split_request(data, url)
    import re

    end = re.search(rb"\r?\n\r?\n", data)
    body = len(data) - end.end() if end else None
    out = []
    for line in fields.headers.splitlines():
        name, sep, value = line.partition(":")
        key, value = name.strip().lower(), value.strip()
        if not sep or name != name.strip():
            continue
        if key == "host" and host_auto or key == "user-agent" and value.startswith("netlab/") or \
                key == "accept" and value == "*/*" or key == "connection" and value.lower() == "close" or \
                key == "content-length" and body is not None and value == str(body):
            out.append(name)
    return out


def _options_said(opt: dict) -> list[str]:
    """The send options that differ from the defaults, for the status line."""
    said = []
    resolve = opt["resolve"].split()
    if resolve:
        said.append("pin " + " ".join(resolve))
    if opt["insecure"]:
        said.append("insecure TLS")
    for key, name in (("follow", "follow redirects"), ("cookies", "cookie jar"), ("packets", "capture packets")):
        if opt.get(key):
            said.append(name)
    for key, name, default in (("unix", "unix", ""), ("dns", "dns", ""), ("timeout", "timeout", "10"),
                               ("head_timeout", "head timeout", "30"), ("max_time", "max time", ""),
                               ("cacert", "cacert", "")):
        value = opt[key].strip()
        if value not in (default, ""):
            unit = "s" if key in ("timeout", "head_timeout", "max_time") else ""
            said.append(f"{name} {value}{unit}")
    return said


def _shown(text: str) -> str:
    """Text for the status line with control and bidi/zero-width characters escaped."""
    from netlab.engine.text import safe_text  # (light, and loaded with requesttext already)

    return safe_text(text, keep_newlines=False)


def _maybe_curl(text: str) -> bool:
    """Does the URL bar hold a curl command?  (The curl module is imported only then.)"""
    if "curl" not in text[:200]:
        return False
    from netlab.engine.curl import looks_like_curl

    return looks_like_curl(text)


def _one_line(text: str) -> str:
    """A pasted multi-line command as one line: ``\\`` + newline continuations (and the
    indentation after them) become one space, as the shell reads them."""
    import re

    return re.sub(r"[ \t]*\\\r?\n[ \t]*", " ", text).replace("\r\n", " ").replace("\n", " ").strip()


class UrlInput(Input):
    """The URL bar: a pasted curl command (several lines too) is read whole, not cut to
    its first line as Input does with a paste."""

    def _on_paste(self, event: events.Paste) -> None:
        if event.text and _maybe_curl(event.text):
            event.prevent_default()  # not Input's paste: it keeps only the first line
            event.stop()
            self.query_ancestor(Composer).paste_curl(event.text)


def _pin_text(pin) -> str:
    addrs = ",".join(f"[{a}]" if ":" in a else a for a in pin.addresses)
    return f"{pin.host}:{pin.port if pin.port is not None else '*'}:{addrs}"
