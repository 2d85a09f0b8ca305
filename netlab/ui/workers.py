"""Work that runs in thread workers, never on the UI thread, and the services it uses.

Each function gets ``post`` (the app's thread-safe ``post_message``) and reports only
through messages: nothing here touches a widget.  Heavy imports (the engine, psutil,
dnspython, sqlite) happen here, off the first frame's path.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from netlab.ui import messages as m

Post = Callable[[object], object]


class HistoryStore:
    """The SQLite history, used from one thread of its own (SQLite connections stay on
    the thread that opened them).  ``call(fn)`` runs ``fn(history)`` there and waits."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="netlab-history")
        self._history = None
        self.notice: str | None = None  # set when the history file cannot be used

    def _open(self):
        if self._history is None:
            from netlab.engine.history import History

            self._history = History(self._path)
            self.notice = self._history.notice
        return self._history

    def call(self, fn):
        return self._pool.submit(lambda: fn(self._open())).result()

    def close(self) -> None:
        def close():
            if self._history is not None:
                self._history.close()

        try:
            self._pool.submit(close).result(timeout=5)
        except Exception:  # noqa: BLE001 - closing on exit must not fail
            pass
        self._pool.shutdown(wait=False)


class ConnFeed:
    """The previous connection snapshot, so each poll posts only a diff."""

    def __init__(self) -> None:
        self.old: dict = {}
        self.busy = False


class Services:
    """What the workers share: one Engine, the history store, the lab server."""

    def __init__(self, history_path: str | None = None, *, history: bool = True) -> None:
        self._lock = threading.Lock()
        self._engine = None
        self.store = HistoryStore(history_path) if history else None
        self.feed = ConnFeed()
        self.lab = None
        self.exchange_pairs: dict = {}  # (local, remote) of recent exchanges, both ends, oldest first

    def engine(self):
        with self._lock:
            if self._engine is None:
                from netlab.engine import Engine

                self._engine = Engine()
            return self._engine

    def remember(self, local, remote, keep: int = 100) -> None:
        """Highlight this connection (and the server's end of it) in the connection table."""
        local, remote = tuple(local), tuple(remote)
        with self._lock:
            for pair in ((local, remote), (remote, local)):
                self.exchange_pairs.pop(pair, None)
                self.exchange_pairs[pair] = True
            while len(self.exchange_pairs) > keep:
                self.exchange_pairs.pop(next(iter(self.exchange_pairs)))

    def own_pairs(self) -> set:
        """(local, remote) of the engine's open sockets and of recent exchanges."""
        engine = self.engine()
        with self._lock:
            pairs = set(self.exchange_pairs)
        return pairs | set(engine.own_sockets())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        if self.lab is not None:
            self.lab.stop()
        if self.store is not None:
            self.store.close()


def start_lab(services: Services, post: Post) -> None:
    try:
        from netlab.engine.labserver import LabServer

        services.lab = LabServer("127.0.0.1", 0).start()
    except Exception as exc:  # noqa: BLE001 - reported to the user, the app still works
        post(m.LabReady(None, f"the lab server did not start: {exc}"))
        return
    services.engine()  # warm the engine up while the user reads the first frame
    post(m.LabReady(services.lab.url))


def send(services: Services, request, options, cancel, send_id: int, post: Post) -> None:
    """Send one request, forwarding every engine event; store it; post the render."""
    from netlab.ui.render import prepare

    def on_event(event) -> None:
        post(m.ExchangeEvent(send_id, event))

    ex = services.engine().send(request, on_event, options=options, cancel=cancel)
    if ex.connection is not None:
        services.remember(ex.connection.local, ex.connection.remote)
    try:
        prepared = prepare(ex)
    except Exception as exc:  # noqa: BLE001 - never leave the viewer waiting
        post(m.Problem(f"cannot show this exchange: {type(exc).__name__}: {exc}"))
        prepared = None
    post(m.ExchangeDone(send_id, prepared))  # show it first, then store it
    if services.store is not None:
        try:
            services.store.call(lambda h: h.add(ex))
        except Exception as exc:  # noqa: BLE001
            post(m.Problem(f"history: the exchange was not saved: {exc}"))
        refresh_history(services, post)


def refresh_history(services: Services, post: Post, limit: int = 500) -> None:
    try:
        entries = services.store.call(lambda h: h.list(limit))
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"history: cannot read it: {exc}"))
        return
    if services.store.notice:
        post(m.Problem(services.store.notice))
        services.store.notice = None
    post(m.HistoryChanged(entries))


def load_history(services: Services, entry_id: int | None, replay: bool, post: Post) -> None:
    """Read one stored exchange (the newest when ``entry_id`` is None) and post it."""
    from netlab.ui.render import prepare

    try:
        if entry_id is None:
            entry_id = services.store.call(lambda h: h.last_id())
            if entry_id is None:
                post(m.Problem("nothing to replay yet: send a request first (ctrl+j)"))
                return
        ex = services.store.call(lambda h: h.get(entry_id))
        prepared = prepare(ex, entry_id)
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"history: cannot load entry {entry_id}: {exc}"))
        return
    post(m.HistoryLoaded(prepared, replay))


def lookup(name: str, rdtype: str, server: str | None, port: int, post: Post) -> None:
    from netlab.engine.dns import lookup as dns_lookup

    try:
        result = dns_lookup(name, rdtype, server=server, port=port)
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"DNS lookup failed: {exc}"))
        return
    post(m.LookupDone(result))


def poll_connections(services: Services, post: Post) -> None:
    """One snapshot of the machine's sockets, posted as a diff against the last one."""
    feed = services.feed
    try:
        from netlab.engine import netstat

        snap = netstat.snapshot("inet")
        new = {row.key: row for row in snap.rows}
        added, removed, changed = netstat.diff(feed.old, new)
        feed.old = new
        ours = services.own_pairs()
        own = frozenset(row.key for row in snap.rows if netstat.is_own(row, ours))
        post(m.ConnectionsChanged(tuple(added), tuple(removed), tuple(changed), own, len(snap.rows),
                                  snap.elapsed_ms, snap.notice))
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"connection table: {exc}"))
    finally:
        feed.busy = False
