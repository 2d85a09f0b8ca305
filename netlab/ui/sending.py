"""What the app does with a send: one exchange at a time (a new send cancels the one in
flight), a queue for a .http file's "send all", the replay of the last send.  The send
itself runs in a worker thread (``workers.send``) and reports through messages; these
functions start it and hand its events and its result to the panes.

The state stays on the app, where the key table's checks and the tests read it:
``_send_id`` (the send whose messages count), ``_cancel`` (its CancelToken while in
flight), ``_last`` ((request, options) of the last send) and ``_queue``."""

from __future__ import annotations


def start(app, request, options) -> None:
    """Send ``request`` now, cancelling any send in flight and what was still queued;
    redirects, cookies and capture as the composer's Options tab says."""
    from netlab.engine import CancelToken
    from netlab.ui import workers

    if app._cancel is not None:
        app._cancel.cancel()
    app._queue = []
    app._send_id += 1
    app._cancel = CancelToken()
    app._last = (request, options)
    app.response.begin(app._send_id, f"{request.method} {request.url}")
    if app.grid.compact:
        app.action_show_pane("response")
    app._thread(workers.send, app.services, request, options, app._cancel, app._send_id, app.composer.send_how(),
                group="send")
    app.refresh_bindings()


def exchange_event(app, msg) -> None:
    """An engine event of the send in flight: to the response viewer, and a connection's
    to the connection table."""
    if msg.send_id != app._send_id:
        return
    from netlab.engine import events as ev

    app.response.apply(msg.event)
    if isinstance(msg.event, (ev.Connecting, ev.Connected)):
        app.connections.note_event(msg.event)
    if isinstance(msg.event, ev.Connected):
        app.services.remember(msg.event.local, msg.event.remote)
        app.connections.scan_soon()


def exchange_done(app, msg) -> None:
    """The send finished: the response viewer shows it, the connection table selects its
    connection, and the next queued request goes out."""
    if msg.send_id != app._send_id:
        return
    app._cancel = None
    app.refresh_bindings()
    if app._queue:
        app.call_later(send_next, app)
    if msg.prepared is None:
        app.response.in_flight = False
        return
    app.response.prepared = msg.prepared
    connection = msg.prepared.exchange.connection
    if connection is not None and connection.family != "AF_UNIX":
        app.connections.select_exchange(connection.local, connection.remote)
        app.response.follow = app.connections.follow_for(connection.local, connection.remote)


def send_next(app) -> None:
    """Send the next queued request (what the composer shows: its bytes, its options)."""
    if not app._queue:
        return
    (request, options, _label), *rest = app._queue
    app.composer.load(request.data, request.url, options)
    app._start_send(request, app.user_settings.fill_options(options))
    app._queue = rest


def cancel(app) -> None:
    """escape: cancel the send in flight and what is queued; else restore a maximized pane."""
    app._queue = []
    if app._cancel is not None:
        app._cancel.cancel()
    elif app.screen.maximized is not None:
        app.screen.minimize()


def replay_last(app) -> None:
    """Send the last request again (after a restart: the newest in the history)."""
    if app._last is not None:
        request, options = app._last
        app.composer.load(request.data, request.url, options)
        app._start_send(request, options)
    elif app.services.store is not None:
        from netlab.ui import workers

        app._thread(workers.load_history, app.services, None, True, group="history")
    else:
        app.notify("nothing to replay yet: send a request first (ctrl+j)", markup=False)


def entries_chosen(app, msg) -> None:
    """Requests chosen in a .http file's list: send them all in turn, or load the one."""
    while len(app.screen_stack) > 1:
        app.pop_screen()
    if msg.send:
        app._queue = list(msg.items)
        send_next(app)
        return
    request, options, label = msg.items[0]
    app.composer.load(request.data, request.url, options)
    app.composer.note(f"loaded {label}")
    app.action_show_pane("composer")


def history_loaded(app, msg) -> None:
    """A stored exchange was read: into the composer, and sent again or shown."""
    while len(app.screen_stack) > 1:
        app.pop_screen()
    ex = msg.prepared.exchange
    app.composer.load(ex.request.data, ex.request.url, ex.options)
    if msg.replay:
        app._start_send(ex.request, ex.options)
    else:
        app.response.prepared = msg.prepared


def send(app) -> None:
    """ctrl+j: in a .http file's request list, send its selected entry; else close any
    screen over the panes and send the composer's request (its SendRequested comes back)."""
    send_here = getattr(app.screen, "send_selected", None)
    if send_here is not None:
        send_here()
        return
    if len(app.screen_stack) > 1:
        app.pop_screen()
    app.composer.request_send()
