"""The response viewer: a live status line and progress while an exchange runs, then
tabs for the body, headers, raw bytes, hex, timing, the connection and its packets.

While a send runs the app calls ``begin()`` and ``apply(event)`` for every engine event
(the head and headers show before the body is complete; a progress bar shows bytes and
rate).  When it is done the app sets ``prepared`` (a ``views.exchange.Prepared``, computed in
the worker) and ``watch_prepared`` draws every tab.  What the tabs show is drawn in
netlab/ui/views/ (status, body, raw, hexdump, timing, connection, packets); this pane holds them.

On a finished exchange: ``/`` searches the active tab (Body, Raw, Hex, Connection; the
LineView does the searching, the SearchBar edits the query), ``s``/``S`` save the body /
the raw response, ``w`` the captured frames as pcap, ``v``/``e`` open the body in $PAGER / $EDITOR (the app suspended),
``y``, ``Y``, ``C`` copy (a header or the body, the status line, the request as curl).
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, Static

from netlab.ui.messages import TabSelected
from netlab.ui.widgets.tabstrip import LazyTabs, TabStrip

if TYPE_CHECKING:
    from netlab.ui.views.timing import LiveTimings
    from netlab.ui.widgets.lineview import LineView  # with the tabs, after the first frame

TABS = ("body", "headers", "raw", "hex", "timing", "connection", "packets")
SEARCHABLE = ("body", "raw", "hex", "connection")
CLIP_LIMIT = 1 << 20  # bytes of body text copied to the clipboard at most (OSC 52 carries it base64)


def _safe(value) -> str:
    """Untrusted text made visible: ``views.text.safe``, imported when first needed."""
    from netlab.ui.views.text import safe

    return safe(value)


TICK = 0.1  # seconds between two redraws of the waterfall while a send runs


class ResponseView(LazyTabs, Vertical):
    """Shows one exchange; live while it runs."""

    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("left_square_bracket", "cycle_tab(-1)", "Prev tab", tooltip="Previous response tab"),
        Binding("right_square_bracket", "cycle_tab(1)", "Next tab", tooltip="Next response tab"),
    ] + [Binding(str(i + 1), f"tab('{name}')", name.title(), show=False) for i, name in enumerate(TABS)] + [
        Binding("slash", "search", "Search", show=False, id="response_search",
                tooltip="Search the Body, Raw, Hex or Connection tab as you type; enter keeps it, "
                        "esc in the search line clears it; in Hex, text or hex bytes (48 54)"),
        Binding("n", "next_match(1)", "Next match", show=False, id="response_next_match",
                tooltip="Go to the next match of the search (wraps to the top)"),
        Binding("N", "next_match(-1)", "Prev match", show=False, id="response_prev_match",
                tooltip="Go to the previous match of the search (wraps to the bottom)"),
        Binding("s", "save('body')", "Save body", show=False, id="response_save_body",
                tooltip="Write the body's exact bytes to a file (as curl -o: gzip stays gzip)"),
        Binding("S", "save('raw')", "Save raw", show=False, id="response_save_raw",
                tooltip="Write the raw response to a file: the head and the body as on the wire"),
        Binding("w", "save('pcap')", "Save pcap", show=False, id="response_save_pcap",
                tooltip="Write the exchange's captured frames as a pcap file (tcpdump -r, Wireshark open it); "
                        "capture: the composer's Options tab or netlab --packets"),
        Binding("v", "open_body('pager')", "Pager", show=False, id="response_pager",
                tooltip="Read the body in $PAGER (less): decoded text, control characters escaped"),
        Binding("e", "open_body('editor')", "Editor", show=False, id="response_editor",
                tooltip="Open a temporary copy of the body in $EDITOR (vi, nano); the copy is deleted after"),
        Binding("y,c", "copy", "Copy", show=False, id="response_copy",
                tooltip="Copy the selected header (Headers tab: 'Name: value'), else the body as text"),
        Binding("Y", "copy_status", "Copy status", show=False, id="response_copy_status",
                tooltip="Copy the status line"),
        Binding("C", "copy_curl", "Copy as curl", show=False, id="response_copy_curl",
                tooltip="Copy the request as a curl command (Authorization and Cookie values masked)"),
    ]

    prepared = reactive(None, always_update=True, init=False)
    follow = reactive(None, always_update=True, init=False)  # a netstat.Follow: the TCP states in Connection

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Response"
        self.border_subtitle = "F3"
        self.send_id = 0
        self._times: dict[str, float] = {}
        self._tls = False  # the send in flight makes a TLS handshake on a new connection
        self._ticker = None  # the Timer that redraws the waterfall while a send runs
        self._stopped: LiveTimings | None = None  # the waterfall when a send failed: its cut phase
        self._failed_phase = ""  # the phase of the Failed event of the send shown ("cancelled": escape)
        self._body_started = 0.0
        self.in_flight = False
        self._pair: tuple | None = None  # (local, remote) of the exchange shown, or being sent
        # What each tab shows.  The tabs, Body too, are mounted after the first frame (Lazy)
        # and take their content from here when they mount.
        self.content: dict[str, object] = {"body": None, "body_note": "", "headers": ((), ()), "raw": None,
                                           "hex": None, "connection": None, "timing": None, "packets": None}
        self._query, self._match_case = "", False  # the search (empty: none)
        self._origin = 0  # the line a search starts from: the view's top line when / was pressed
        self._confirm: str | None = None  # a path that exists: a second enter overwrites it

    def compose(self) -> ComposeResult:
        yield Static(Text("No response yet. ctrl+j sends the composer's request.", "dim italic"),
                     id="resp-status")
        yield Static(id="resp-progress")
        yield TabStrip([(f"resp-{t}", t.title()) for t in TABS], "resp-body", id="resp-tabs")
        # Empty until the tabs mount, right after the first frame: before a response the Body
        # tab shows nothing either, and its three widgets would cost the first frame.
        yield ContentSwitcher(id="resp-switcher")

    def lazy_tabs(self) -> list:
        """Every tab, Body too: mounted after the first frame, they pull from ``content``."""
        get = self.content.get
        from netlab.ui.widgets.headerstable import HeadersTable  # a DataTable: imported after the first frame
        from netlab.ui.widgets.lineview import LineView
        from netlab.ui.widgets.packetview import PacketsView
        from netlab.ui.widgets.waterfall import Waterfall

        body = Vertical(Static(self.content["body_note"], id="body-note"),
                        LineView(id="body-view", source=partial(get, "body")), id="resp-body")
        return [body, HeadersTable(self.content, id="resp-headers", cursor_type="row", zebra_stripes=True),
                LineView(id="resp-raw", source=partial(get, "raw")),
                LineView(id="resp-hex", source=partial(get, "hex")),
                Waterfall(id="resp-timing", source=partial(get, "timing")),
                LineView(id="resp-connection", source=partial(get, "connection")),
                PacketsView(id="resp-packets", source=partial(get, "packets"))]

    async def ensure_tabs(self) -> None:
        """Mount the tabs (once) and show the active one."""
        await super().ensure_tabs()
        switcher = self.query_one(ContentSwitcher)
        if switcher.current is None and self.query(f"#resp-{self.active_tab}"):  # (else the app is closing)
            switcher.current = f"resp-{self.active_tab}"

    def _show_body(self, lines, note) -> None:
        """What the Body tab shows: the body's lines (None: nothing) and the note over them."""
        self.content["body"], self.content["body_note"] = lines, note
        for widget in self.query("#body-note").results(Static):
            widget.update(note)
        for view in self.query("#body-view"):
            view.pull()

    def _set(self, name: str, value) -> None:
        """Set what tab ``name`` shows (drawn now if the tab is mounted)."""
        self.content[name] = value
        widget = next(iter(self.query(f"#resp-{name}")), None)
        if widget is not None:
            widget.pull()
            if self._query and widget is self.search_view():  # new lines (the TCP states grew): search them
                widget.search(self._query, self._match_case, origin=self._origin)

    async def action_tab(self, name: str) -> None:
        await self.ensure_tabs()
        self.query_one(TabStrip).active = f"resp-{name}"
        self.query_one(ContentSwitcher).current = f"resp-{name}"
        self.focus_content()
        if self._query:
            self._search_here()

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
        widget = next(iter(self.query(f"#resp-{self.active_tab}")), None)
        if widget is None:  # the tabs mount after the first frame: focus it once they are there
            self.call_later(self._focus_when_mounted)
            return
        if widget.id == "resp-body":
            widget = self.query_one("#body-view")
        elif widget.id == "resp-packets":
            widget = widget.focus_target()
        if widget.can_focus:
            widget.focus()

    async def _focus_when_mounted(self) -> None:
        await self.ensure_tabs()
        grid = getattr(self.app, "grid", None)
        if self.query(f"#resp-{self.active_tab}") and (grid is None or grid.pane_of(self.app.focused) in (None, self)):
            self.focus_content()  # (not when another pane was asked for meanwhile)

    # -- search ------------------------------------------------------------------------------
    def search_view(self) -> LineView | None:
        """The LineView of the active tab when it can be searched (Body, Raw, Hex, Connection)."""
        tab = self.active_tab
        if tab not in SEARCHABLE:
            return None
        return next(iter(self.query(f"#{'body-view' if tab == 'body' else 'resp-' + tab}")), None)

    @property
    def search_bar(self):
        """The SearchBar, once ``/`` has mounted it (else None)."""
        return next(iter(self.query("#resp-search")), None)

    async def action_search(self) -> None:
        await self.ensure_tabs()
        view = self.search_view()
        if view is None:
            self.app.key_hold.release()  # no search line opens: the keys typed after / are keys again
            self.app.notify(f"search works in the Body, Raw, Hex and Connection tabs, not in {self.active_tab.title()}")
            return
        bar = self.search_bar
        if bar is None:
            from netlab.ui.widgets.searchbar import SearchBar

            bar = SearchBar(id="resp-search")
            await self.mount(bar)  # the last child: under the tabs
        self._origin = int(view.scroll_y)
        bar.open()

    def on_search_changed(self, msg) -> None:
        msg.stop()
        changed = (msg.query, msg.match_case) != (self._query, self._match_case)
        self._query, self._match_case = msg.query, msg.match_case
        if msg.final and not msg.query:
            self._end_search()
            self.focus_content()
            return
        view = self.search_view()
        if view is None:
            if self.search_bar is not None:
                self.search_bar.show_status(f"nothing to search in the {self.active_tab.title()} tab")
            return
        if changed or view.query != msg.query:
            view.search(msg.query, msg.match_case, origin=self._origin)
            if not msg.query and self.search_bar is not None:
                self.search_bar.show_status("")
        if msg.final:
            view.focus()

    def on_search_closed(self, msg) -> None:
        msg.stop()
        self._end_search()
        self.focus_content()

    def on_search_report(self, msg) -> None:
        msg.stop()
        bar = self.search_bar
        if bar is not None and msg.view is self.search_view():
            bar.show_status(msg.text)

    async def action_next_match(self, step: int) -> None:
        view = self.search_view()
        if not self._query or view is None:
            self.app.notify("no search here: / starts one (in the Body, Raw, Hex or Connection tab)")
            return
        self.search_bar.display = True
        view.next_match(step)

    def _search_here(self) -> None:
        """The tab changed during a search: search the new tab, from its top line on screen."""
        view = self.search_view()
        for other in self.query("LineView"):
            if other is not view:
                other.clear_search()
        if view is None:
            self.search_bar.show_status(f"nothing to search in the {self.active_tab.title()} tab")
            return
        self._origin = int(view.scroll_y)
        view.search(self._query, self._match_case, origin=self._origin)

    def _end_search(self) -> None:
        """Clear the search: highlights gone, the search line hidden."""
        self._query = ""
        for view in self.query("LineView"):
            view.clear_search()
        bar = self.search_bar
        if bar is not None:
            bar.display = False
            bar.show_status("")

    # -- save, pager, editor, clipboard --------------------------------------------------------
    def shown(self):
        """The finished exchange shown (a views.exchange.Prepared), or None (nothing yet, or sending)."""
        return None if self.in_flight else self.prepared

    def _response(self, what: str):
        """The response shown, or None after telling the user why there is none."""
        prepared = self.shown()
        r = prepared.exchange.response if prepared is not None else None
        if r is None or not r.status:
            self.app.notify(f"no response to {what} yet" + (" (a request is in flight)" if self.in_flight else ""),
                            severity="warning")
            return None
        return r

    def _work(self, fn, *args, group: str = "response") -> None:
        self.run_worker(partial(fn, *args, post=self.post_message), thread=True, group=group, exit_on_error=False)

    def action_save(self, what: str) -> None:
        if what == "pcap":
            self._save_pcap()
            return
        r = self._response("save")
        if r is None or what == "body" and not r.body_bytes:
            self.app.key_hold.release()  # no prompt opens
        if r is None:
            return
        if what == "body" and not r.body_bytes:
            self.app.notify("the response has no body (S saves the raw response)", severity="warning")
            return
        from netlab.ui.bodyfiles import save_name
        from netlab.ui.screens.prompt import PromptScreen
        from netlab.ui.views.text import fmt_bytes

        ex = self.prepared.exchange
        size = r.body_bytes if what == "body" else len(r.raw_head) + sum(len(i.raw) for i in r.informational) + \
            (r.raw_body_store or r.body_store).size
        import os

        help_ = (f"{fmt_bytes(size)}, exactly as received · a relative name is saved in {_safe(os.getcwd())} · "
                 "an existing file is replaced only after a second enter")
        title = "Save the body to" if what == "body" else "Save the raw response (head and wire body) to"
        self._confirm = None
        self.app.push_screen(PromptScreen(title, value=save_name(ex.request.url, r, raw=what == "raw"), help=help_,
                                          check=partial(self._save_to, self.prepared, what), id="save-prompt"))

    def _save_pcap(self) -> None:
        """``w``: the prompt for a pcap file of the exchange's captured frames (or why there are none)."""
        prepared = self.shown()
        below = (prepared.extra.get("below") or {}) if prepared is not None else {}
        frames = below.get("frames") or []
        if not frames:
            self.app.key_hold.release()  # no prompt opens
            from netlab.ui.bodyfiles import no_pcap_reason

            self.app.notify(no_pcap_reason(prepared, self.in_flight, below), severity="warning", timeout=8)
            return
        import os

        from netlab.ui.bodyfiles import pcap_name
        from netlab.ui.screens.prompt import PromptScreen

        help_ = (f"{len(frames)} frames as tcpdump -w writes them (tcpdump -r, Wireshark) · mode 0600 · a relative "
                 f"name is saved in {_safe(os.getcwd())} · an existing file is replaced only after a second enter")
        self._confirm = None
        self.app.push_screen(PromptScreen("Save the captured frames (pcap) to", value=pcap_name(prepared.exchange),
                                          help=help_, check=partial(self._save_to, prepared, "pcap"), id="save-prompt"))

    def _save_to(self, prepared, what: str, value: str) -> str | None:
        """The prompt's check: open the file (errors are shown in the prompt, naming the
        path) and let a worker write the bytes; None closes the prompt."""
        import os

        if not value.strip():
            return "give a file name"
        path = os.path.abspath(os.path.expanduser(value.strip()))
        shown = _safe(path)
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            return f"cannot save to {shown}: the directory {_safe(folder)} does not exist"
        if os.path.isdir(path):
            return f"{shown} is a directory: give a file name"
        exists = os.path.lexists(path)
        if exists and self._confirm != path:
            self._confirm = path
            return f"{shown} exists: enter again to replace it, or change the name"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if exists else os.O_EXCL),
                         0o600 if what == "pcap" else 0o666)  # (frames hold the exchange's bytes, as --pcap)
        except FileExistsError:
            self._confirm = path
            return f"{shown} exists now: enter again to replace it, or change the name"
        except OSError as exc:
            return f"cannot write {shown}: {exc.strerror or exc}"
        self._confirm = None
        if what == "pcap":
            from netlab.ui.bodyfiles import save_pcap

            self._work(save_pcap, fd, path, list(prepared.extra["below"]["frames"]), group="save")
            return None
        r = prepared.exchange.response
        from netlab.ui import workers
        from netlab.ui.bodyfiles import chunks, stored_note

        self._work(workers.save_bytes, fd, path, partial(chunks, r, what), stored_note(r), group="save")
        return None

    def on_file_saved(self, msg) -> None:
        msg.stop()
        from netlab.ui.views.text import fmt_bytes

        path = _safe(msg.path)
        if msg.error:
            self.app.notify(f"writing {path} failed after {msg.written} bytes: {msg.error}", title="not saved",
                            severity="error", timeout=15)
            return
        note = f" · {msg.note}" if msg.note else ""
        self.app.notify(f"saved {msg.written} bytes ({fmt_bytes(msg.written)}) to {path}{note}", title="saved")

    def action_open_body(self, kind: str) -> None:
        r = self._response("open")
        if r is None:
            return
        if not r.body_bytes:
            self.app.notify("the response has no body to open", severity="warning")
            return
        from netlab.ui.bodyfiles import external_command

        argv, problem = external_command(kind)
        if problem:
            self.app.notify(problem, severity="error", timeout=10)
            return
        from netlab.ui import workers

        self._work(workers.body_file, self.prepared, kind, argv, group="external")

    def on_external_file_ready(self, msg) -> None:
        """Run the pager or editor on the temporary file, the app suspended; delete the file."""
        msg.stop()
        if msg.error:
            self.app.notify(msg.error, severity="error")
            return
        import os

        try:
            code, problem = self._run_external([*msg.argv, msg.path])
        finally:
            try:
                os.unlink(msg.path)
            except OSError:
                pass
        name = _safe(msg.argv[0])
        if problem:
            self.app.notify(problem, severity="error", timeout=10)
        elif code:
            self.app.notify(f"{name} exited with status {code}", severity="warning")
        elif msg.kind == "editor":
            self.app.notify(f"{name} closed; its temporary copy of the body was deleted (s saves the body)")
        self.app.refresh()
        self.focus_content()

    def _run_external(self, argv: list) -> tuple[int | None, str | None]:
        """(exit status, problem): ``argv`` run with the terminal handed over to it."""
        import subprocess

        from textual.app import SuspendNotSupported

        def run(**kw) -> tuple[int | None, str | None]:
            try:
                return subprocess.call(argv, **kw), None
            except OSError as exc:  # caught here: an exception would leave the app suspended
                return None, f"cannot run {_safe(argv[0])}: {exc.strerror or exc}"

        try:
            with self.app.suspend():
                return run()
        except SuspendNotSupported:
            if not self.app.is_headless:
                return None, "this terminal cannot be handed over to another program (Textual cannot suspend here)"
        # headless (tests): there is no terminal to hand over; the program runs without one
        return run(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def action_copy(self) -> None:
        """In Headers: the selected header; elsewhere: the body."""
        if self.active_tab == "headers":
            self._copy_header()
        else:
            self._copy_body()

    def _copy_header(self) -> None:
        from netlab.ui.widgets.headerstable import HeadersTable

        table = self.query_one("#resp-headers", HeadersTable)
        headers, trailers = self.content["headers"]
        rows = [*headers, *trailers]
        if not rows or not 0 <= table.cursor_row < len(rows):
            self.app.notify("no header to copy", severity="warning")
            return
        name, value = rows[table.cursor_row]
        from netlab.ui.views.text import header_bytes

        self._clip(f"{_safe(name)}: {_safe(header_bytes(value))}", f"copied the header {_safe(name)}")

    def _copy_body(self) -> None:
        r = self._response("copy")
        if r is None:
            return
        from netlab.ui.views.text import fmt_bytes

        if not r.body_bytes:
            self.app.notify("the response has no body to copy", severity="warning")
            return
        if self.prepared.body_kind == "binary":
            self.app.notify(f"the body is binary ({fmt_bytes(r.body_bytes)}): nothing copied · s saves it, "
                            "v shows it as a hex dump", severity="warning")
            return
        from netlab.ui.views.body import body_text

        text = body_text(r, CLIP_LIMIT)
        if text is None:
            self.app.notify(f"the body is larger than {fmt_bytes(CLIP_LIMIT)}: too much for the clipboard, nothing "
                            "copied · s saves it", severity="warning")
            return
        from netlab.engine.text import safe_text

        shown = safe_text(text)
        note = " (control characters written as escapes)" if shown != text else ""
        self._clip(shown, f"copied the body: {len(shown)} characters{note}")

    def action_copy_status(self) -> None:
        content = self.query_one("#resp-status", Static).content
        text = content.plain if isinstance(content, Text) else str(content)
        self._clip(text.strip(), "copied the status line")

    def action_copy_curl(self) -> None:
        prepared = self.shown()
        if prepared is None:
            self.app.notify("no exchange to copy yet" + (" (a request is in flight)" if self.in_flight else ""),
                            severity="warning")
            return
        from netlab.engine.curl import to_curl
        from netlab.engine.errors import NetlabError
        from netlab.engine.secrets import is_sensitive

        ex = prepared.exchange
        try:
            command = to_curl(ex.request, ex.options, show_secrets=False)
        except NetlabError as exc:
            hint = f" · {exc.hint}" if exc.hint else ""
            self.app.notify(f"cannot copy as curl: {exc.message}{hint}", severity="error", timeout=10)
            return
        masked = sorted({n.strip().title() for n, _ in ex.request.headers if is_sensitive(n)})
        note = f" · the values of {', '.join(masked)} are masked (********)" if masked else ""
        self._clip(command, f"copied the request as a curl command{note}")

    def _clip(self, text: str, message: str) -> None:
        """Put ``text`` on the clipboard (Textual sends it base64-encoded in OSC 52)."""
        self.app.copy_to_clipboard(text)
        self.app.notify(message, title="clipboard")

    # -- live --------------------------------------------------------------------------------
    def begin(self, send_id: int, what: str) -> None:
        """A send started: clear the last exchange and show progress."""
        self.send_id = send_id
        self.in_flight = True
        self._pair = None
        self._times = {"start": time.monotonic()}
        self._tls = what.partition(" ")[2][:8].lower() == "https://"
        self._stopped, self._failed_phase = None, ""
        if self._ticker is None:
            self._ticker = self.set_interval(TICK, self._tick)
        self._end_search()
        self._status(Text.assemble(("● ", "bold cyan"), ("sending ", ""), (_safe(what), "bold")))
        self._clear_tabs()
        self.query_one("#resp-progress").display = False

    def apply(self, event) -> None:
        """Show one engine event."""
        from netlab.engine import events as ev
        from netlab.ui.views.status import live_status, progress_text

        t = self._times
        t[type(event).__name__] = event.t  # each step's time by its event's name: the live waterfall reads them
        match event:
            case ev.Resolving():
                t["start"] = event.t
            case ev.Connected():
                t["connected"] = event.t
                self._pair = (tuple(event.local), tuple(event.remote))
            case ev.ResponseHead():
                self._body_started = event.t
                self._show_headers(event.headers, ())
            case ev.BodyChunk():
                progress = self.query_one("#resp-progress", Static)
                progress.display = True
                progress.update(progress_text(event, self._body_started))
            case ev.Complete() | ev.Failed():
                self.query_one("#resp-progress").display = False
        if isinstance(event, ev.Failed):
            self._failed_phase = event.phase
        line = live_status(event)
        if line is not None:
            self._status(line)
        self._live_waterfall()
        if isinstance(event, ev.Failed):
            self._stopped = self.content.get("timing")

    def _tick(self) -> None:
        """Every TICK seconds: redraw the waterfall while a send runs; stop when it is over."""
        if self.in_flight and "Complete" not in self._times and "Failed" not in self._times:
            self._live_waterfall()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _live_waterfall(self) -> None:
        """The Timing tab from the events so far (``views.timing.live_timings``)."""
        from netlab.ui.views.timing import live_timings

        self._set("timing", live_timings(self._times, self._tls, self._failed_phase))

    # -- done --------------------------------------------------------------------------------
    def not_sent(self, text: str) -> None:
        """The composer's request could not be built: say so here, and clear the last
        exchange so its 200 is not taken for this request's answer."""
        self.prepared = None
        self._status(Text.assemble((" ✗ not sent ", "bold white on red"), f" {_safe(text)}",
                                   (" · fix it in the composer (F2)", "dim")))

    def watch_prepared(self, prepared) -> None:
        self.in_flight = False
        self.query_one("#resp-progress").display = False
        self._end_search()
        if prepared is None:
            self._clear_tabs()
            return
        self._status(prepared.status)
        self._show_body(prepared.body, prepared.body_note)
        self._set("headers", (prepared.headers, prepared.trailers))
        self._set("raw", prepared.raw)
        self._set("hex", prepared.hex)
        c = prepared.exchange.connection
        self._pair = (tuple(c.local), tuple(c.remote)) if c is not None and c.family != "AF_UNIX" else None
        self._show_connection()
        self._set("packets", prepared)
        from netlab.ui.views.timing import final_timings

        stopped, self._stopped = self._stopped, None
        self._set("timing", final_timings(prepared, stopped))

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
            below = prepared.extra.get("below")
            if follow is None and below is None:
                self._set("connection", prepared.connection)
                return
            from netlab.ui.views.connection import connection_lines

            self._set("connection", connection_lines(prepared.exchange, follow, below))
        elif follow is not None:  # still sending: the states so far
            from netlab.ui.views.connection import follow_lines
            from netlab.ui.views.lines import Lines

            self._set("connection", Lines.of(follow_lines(follow)))

    def _status(self, text: Text) -> None:
        self.query_one("#resp-status", Static).update(text)

    def _clear_tabs(self) -> None:
        self._show_body(None, "")
        self._set("headers", ((), ()))
        for name in ("raw", "hex", "connection", "timing", "packets"):
            self._set(name, None)

    def _show_headers(self, headers, trailers) -> None:
        self._set("headers", (tuple(headers), tuple(trailers)))

    def header_rows(self) -> list[tuple[str, str]]:
        """(name, value) as shown in the Headers tab (for tests)."""
        from netlab.ui.widgets.headerstable import HeadersTable

        table = self.query_one("#resp-headers", HeadersTable)
        return [(table.get_row_at(i)[1].plain, table.get_row_at(i)[2].plain) for i in range(table.row_count)]

