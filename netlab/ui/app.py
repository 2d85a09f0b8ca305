"""NetlabApp: four panes on one engine.  The app composes the panes, owns the bindings,
starts workers for the panes' intents and hands the results back to the panes.
Everything else lives elsewhere: the panes (panes/), the screens over them (screens/),
the thread-side work (workers.py), what a send does (sending.py) and the renderers
(views/, requesttext.py)."""

from __future__ import annotations

import os
import time
from functools import partial

from textual import events
from textual.app import App, ComposeResult

from netlab.ui import messages as m
from netlab.ui import sending
from netlab.ui.keys import APP_BINDINGS, KeyHold, ScreenActions
from netlab.ui.panes.composer import Composer
from netlab.ui.panes.connections import ConnectionsPane
from netlab.ui.panes.dns import DnsPane
from netlab.ui.panes.response import ResponseView
from netlab.ui.widgets.grid import PaneGrid
from netlab.ui.widgets.keybar import KeyBar
from netlab.ui.widgets.titlebar import TitleBar


class NetlabApp(ScreenActions, App):
    """The netlab TUI.  Test-only knobs: ``lab`` (start the lab server when there is no
    URL), ``live_connections`` (poll the connection table), ``history_path``/``history``."""

    CSS_PATH = "netlab.tcss"
    TITLE = "netlab"
    ESCAPE_TO_MINIMIZE = False
    # No focus at the first frame: _after_first_frame gives the URL bar the focus (focusing
    # lights the pane's border and restyles the bar: a dearer first frame), and sets
    # AUTO_FOCUS = "#url" then; keys typed before that are held and land in the URL bar.
    AUTO_FOCUS = None
    BINDINGS = APP_BINDINGS

    def __init__(self, url: str | None = None, *, lab: bool = True, live_connections: bool = True,
                 history: bool = True, history_path: str | None = None, packets: bool = False) -> None:
        super().__init__()
        self.start_url = url
        self.start_packets = packets  # `netlab --packets`: the composer's capture box starts ticked
        self.use_lab = lab and not url
        self.live_connections = live_connections
        from netlab.ui import usersettings
        from netlab.ui.workers import Services

        self.user_settings = usersettings.load(self).settings  # theme and keymap set; problems kept
        self.services = Services(history_path, history=history,
                                 history_options=self.user_settings.history_options())
        self.history_entries: list = []
        self._send_id = 0
        self._cancel = None
        self._last = None  # (request, options) of the last send
        self._queue: list = []  # (request, options, label) still to send: a .http file's "send all"
        self.http_path = ""  # the .http file last opened or saved to
        self.started = False  # the first frame is drawn and what follows it is under way
        self.key_hold = KeyHold(self)
        self.key_hold.hold()  # until the URL bar has the focus (_after_first_frame)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self.key_hold.take(event):
            return  # a modal line is opening: the key waits for it (netlab/ui/keys.py)
        await super().on_event(event)

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast is plain text with control characters made visible: messages can
        quote peer bytes (errors, paths), and Textual passes ESC through to the terminal."""
        from netlab.engine.text import safe_text

        super().notify(safe_text(str(message)), title=safe_text(str(title), keep_newlines=False), severity=severity,
                       timeout=timeout, markup=False)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with PaneGrid(id="panes"):
            yield Composer(id="composer", classes="pane")
            yield ResponseView(id="response", classes="pane")
            yield DnsPane(id="dns", classes="pane")
            yield ConnectionsPane(id="connections", classes="pane", live=self.live_connections)
        yield KeyBar()

    def on_mount(self) -> None:
        self.composer, self.response = self.query_one(Composer), self.query_one(ResponseView)
        self.dns, self.connections = self.query_one(DnsPane), self.query_one(ConnectionsPane)
        self.grid = self.query_one(PaneGrid)
        from netlab.ui import usersettings

        usersettings.apply(self)  # the composer's and DNS pane's defaults; the file's problems, once
        self.composer.opt["packets"] = self.start_packets
        if self.start_url:
            self.composer.load_url(self.start_url)
        elif self.use_lab:
            self.sub_title = "starting the lab server …"
        self.call_after_refresh(self._after_first_frame)

    async def _after_first_frame(self) -> None:
        """Start what the first frame does not need (netlab/ui/startup.py)."""
        if os.environ.get("NETLAB_FIRST_FRAME_FILE"):  # bench/startup.py
            with open(os.environ["NETLAB_FIRST_FRAME_FILE"], "w") as f:
                f.write(repr(time.time()))
            self.exit()
            return
        from netlab.ui.startup import after_first_frame

        await after_first_frame(self)

    def on_unmount(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
        self.services.close()

    # -- plumbing ------------------------------------------------------------------------------
    @staticmethod
    def _work():
        from netlab.ui import workers

        return workers

    def _thread(self, fn, *args, group: str = "default", exclusive: bool = False) -> None:
        self.run_worker(partial(fn, *args, post=self.post_message), thread=True, group=group,
                        exclusive=exclusive, exit_on_error=False)

    def on_resize(self, event) -> None:
        self.query_one(PaneGrid).arrange_for(event.size)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return action != "cancel" or self._cancel is not None or self.screen.maximized is not None

    def get_system_commands(self, screen):
        from netlab.ui.commands import system_commands

        yield from super().get_system_commands(screen)
        yield from system_commands(self, screen)

    def on_problem(self, msg: m.Problem) -> None:
        self.notify(msg.text, severity="warning", markup=False)

    # -- actions -------------------------------------------------------------------------------
    def action_send(self) -> None:
        sending.send(self)

    def action_cancel(self) -> None:
        sending.cancel(self)

    def action_replay_last(self) -> None:
        sending.replay_last(self)

    def action_help(self) -> None:
        from netlab.ui.commands import toggle_help

        toggle_help(self)

    def action_history(self) -> None:
        from netlab.ui.screens.history import toggle_history

        toggle_history(self)

    def action_show_pane(self, name: str) -> None:
        from netlab.ui.navigation import show

        self.call_after_refresh(self.grid.focus_into, show(self, name))

    async def action_composer_tab(self, tab: str) -> None:
        from netlab.ui.navigation import composer_tab

        await composer_tab(self, tab)

    def action_toggle_maximize(self) -> None:
        from netlab.ui.navigation import toggle_maximize

        toggle_maximize(self)

    # -- sending -------------------------------------------------------------------------------
    def on_send_requested(self, msg: m.SendRequested) -> None:
        self._start_send(msg.request, self.user_settings.fill_options(msg.options))

    def on_compose_failed(self, msg: m.ComposeFailed) -> None:
        if self._cancel is None:  # a send in flight keeps its view; the composer says what is wrong
            self.response.not_sent(msg.text)

    def _start_send(self, request, options) -> None:
        sending.start(self, request, options)

    def on_exchange_event(self, msg: m.ExchangeEvent) -> None:
        sending.exchange_event(self, msg)

    def on_exchange_done(self, msg: m.ExchangeDone) -> None:
        sending.exchange_done(self, msg)

    # -- DNS, connections, history, lab ----------------------------------------------------------
    def on_lookup_requested(self, msg: m.LookupRequested) -> None:
        self._thread(self._work().lookup, msg.name, msg.rdtype, msg.server, msg.port, msg.options, msg.lookup_id,
                     group="dns")

    def on_lookup_done(self, msg: m.LookupDone) -> None:
        if msg.outcome is not None:
            self.dns.outcome = msg.outcome
        else:
            self.dns.result = msg.result

    def on_pin_requested(self, msg: m.PinRequested) -> None:
        pin = self.composer.pin(msg.address, msg.name, use=msg.use)
        if msg.name is None:
            text = f"pinned {pin}: the next send connects there" if pin else "no valid URL in the composer to pin"
        else:  # from the DNS pane: it says what the pin did, and offers u when the URL asks another host
            text = self.dns.pinned(msg.name, pin, self.composer.host)
        self.notify(text, markup=False)

    def on_connections_scan_requested(self, msg: m.ConnectionsScanRequested) -> None:
        self._thread(self._work().poll_connections, self.services, msg.follow_pairs, msg.spec, msg.retired,
                     group="netstat")

    def on_connections_changed(self, msg: m.ConnectionsChanged) -> None:
        self.connections.apply(msg)

    def on_follow_probe_requested(self, msg: m.FollowProbeRequested) -> None:
        self._thread(self._work().probe_follows, msg.pairs, group="follow")

    def on_follow_probed(self, msg: m.FollowProbed) -> None:
        self.connections.probed(msg)

    def on_follow_changed(self, msg: m.FollowChanged) -> None:
        self.response.follow = msg.follow

    def on_history_changed(self, msg: m.HistoryChanged) -> None:
        self.history_entries = msg.entries
        for pane in self.screen.query("HistoryPane"):
            pane.entries = msg.entries

    def on_history_load_requested(self, msg: m.HistoryLoadRequested) -> None:
        self._thread(self._work().load_history, self.services, msg.entry_id, False, group="history")

    def on_history_replay_requested(self, msg: m.HistoryReplayRequested) -> None:
        self._thread(self._work().load_history, self.services, msg.entry_id, True, group="history")

    def on_history_loaded(self, msg: m.HistoryLoaded) -> None:
        sending.history_loaded(self, msg)

    # -- compare, export, .http files (the screens live in screens/) --------------------------------
    def action_compare_last(self) -> None:
        self.post_message(m.CompareRequested(None, None))

    def on_compare_requested(self, msg: m.CompareRequested) -> None:
        if self.services.store is None:
            self.notify("history is off: nothing to compare", markup=False)
            return
        self._thread(self._work().compare_history, self.services, msg.a_id, msg.b_id, group="history")

    def on_compare_ready(self, msg: m.CompareReady) -> None:
        from netlab.ui.screens.diff import DiffScreen

        self.push_screen(DiffScreen(msg.a_id, msg.b_id, msg.lines))

    def action_export(self) -> None:
        from netlab.ui.screens.export import export_current

        export_current(self)

    def on_export_requested(self, msg: m.ExportRequested) -> None:
        self._thread(self._work().export_history, self.services, msg.entry_id, group="history")

    def on_export_ready(self, msg: m.ExportReady) -> None:
        from netlab.ui.screens.export import ExportScreen

        self.push_screen(ExportScreen(msg.request, msg.options, msg.source))

    def action_open_http(self) -> None:
        from netlab.ui.screens.requestlist import open_http_file

        open_http_file(self)

    def on_http_entries_chosen(self, msg: m.HttpEntriesChosen) -> None:
        sending.entries_chosen(self, msg)

    def on_lab_ready(self, msg: m.LabReady) -> None:
        if msg.url is None:
            self.sub_title = "no lab server"
            self.notify(msg.error or "the lab server did not start", severity="error", markup=False)
            return
        self.sub_title = f"lab server {msg.url}"
        self.composer.load_url(msg.url + "/ip")


def run_app(url: str | None = None, *, packets: bool = False) -> int:
    """``netlab [URL]``: with no URL the built-in lab server is the target."""
    import sys

    # Sends run in worker threads while the UI thread renders; with the default 5 ms GIL
    # switch interval a worker can wait that long between two socket calls, and the
    # timings would show the wait.  A 0.5 ms interval keeps them close to the wire.
    sys.setswitchinterval(0.0005)
    app = NetlabApp(url, packets=packets)
    app.run()
    return app.return_code or 0
