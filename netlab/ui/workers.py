"""Work that runs in thread workers, never on the UI thread, and the services it uses.

Each function gets ``post`` (the app's thread-safe ``post_message``) and reports only
through messages: nothing here touches a widget.  Heavy imports (the engine, psutil,
dnspython, sqlite) happen here, off the first frame's path.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from netlab.ui import messages as m

Post = Callable[[object], object]


@dataclass(frozen=True)
class SendHow:
    """How a send runs beyond its engine Options (the composer's Options tab): follow
    redirects (each hop its own exchange), keep cookies in the session's jar, capture the
    exchange's packets (root or CAP_NET_RAW)."""

    follow: bool = False
    max_redirects: int = 30
    cookies: bool = False
    packets: bool = False

SWEEP_INTERVAL = 1.0  # seconds between sweeps of the keep-alive pool: a CLOSE_WAIT lives at most about this long


class HistoryStore:
    """The SQLite history, used from one thread of its own (SQLite connections stay on
    the thread that opened them).  ``call(fn)`` runs ``fn(history)`` there and waits."""

    def __init__(self, path: str | None = None, options: dict | None = None) -> None:
        self._path = path
        self._options = dict(options or {})  # History's keywords: body_cap, store_bodies, max_entries
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="netlab-history")
        self._history = None
        self.notice: str | None = None  # set when the history file cannot be used

    def _open(self):
        if self._history is None:
            from netlab.engine.history import History

            self._history = History(self._path, **self._options)
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
    """What the connection pane's table holds, mirrored on the worker side (rows and ages,
    no view), so each poll posts only a diff, or, for a big change, a whole sorted table.
    One poll runs at a time: the connection pane's ScanPacer sees to it."""

    def __init__(self) -> None:
        self.mirror = None  # a netstat.ConnTable(view=False)

    @property
    def old(self) -> dict:
        return {} if self.mirror is None else self.mirror.rows


class Services:
    """What the workers share: one Engine, the history store, the lab server."""

    def __init__(self, history_path: str | None = None, *, history: bool = True,
                 history_options: dict | None = None) -> None:
        self._lock = threading.Lock()
        self._engine = None
        self.store = HistoryStore(history_path, history_options) if history else None
        self.feed = ConnFeed()
        self.lab = None
        self.exchange_pairs: dict = {}  # (local, remote) of recent exchanges, both ends, oldest first
        self._jar = None  # the session's cookie jar (engine.cookies.Jar), made when first used

    def jar_if_made(self):
        """The session's jar, or None when no send has used one yet (nothing to list)."""
        return self._jar

    def jar(self):
        with self._lock:
            if self._jar is None:
                from netlab.engine.cookies import Jar

                self._jar = Jar()
            return self._jar

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

    def sweep(self) -> int:
        """Close the pooled connections whose server closed them (else each sits in CLOSE_WAIT,
        a red row owned by netlab, until the next send to that origin).  Cheap enough for the
        UI thread's timer: a poll() with timeout 0 over the idle sockets, close() for the dead;
        nothing when no engine was made yet."""
        engine = self._engine
        return 0 if engine is None else engine.sweep()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
        if self.lab is not None:
            self.lab.stop()
        if self.store is not None:
            self.store.close()


def start_lab(services: Services, post: Post) -> None:
    try:
        from netlab.lab import LabServer

        services.lab = LabServer("127.0.0.1", 0).start()
    except Exception as exc:  # noqa: BLE001 - reported to the user, the app still works
        post(m.LabReady(None, f"the lab server did not start: {exc}"))
        return
    services.engine()  # warm the engine up while the user reads the first frame
    post(m.LabReady(services.lab.url))


def send(services: Services, request, options, cancel, send_id: int, how: SendHow = SendHow(), *,
         post: Post) -> None:
    """Send one request (following redirects, with the session's cookies, captured, as
    ``how`` says), forwarding every engine event; store it; post the render."""
    from netlab.ui.views.exchange import prepare

    def on_event(event) -> None:
        post(m.ExchangeEvent(send_id, event))

    capture = _start_capture(request, options) if how.packets else None
    if how.follow or how.cookies:
        from netlab.engine.redirects import follow

        ex = follow(services.engine(), request, on_event, options=options, cancel=cancel,
                    max_redirects=how.max_redirects, jar=services.jar() if how.cookies else None,
                    redirects=how.follow, jar_raw=True)
    else:
        ex = services.engine().send(request, on_event, options=options, cancel=cancel)
    for hop in [*(ex.redirects or ()), ex]:
        if hop.connection is not None:
            services.remember(hop.connection.local, hop.connection.remote)
    below = _below(ex, capture, options)
    try:
        prepared = prepare(ex)
        prepared.extra["below"] = below
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


def _start_capture(request, options):
    """A capture around one send, started before its SYN (and DNS query) leaves; on the
    lab network, on every hop too."""
    from netlab.engine.capture import start_for
    from netlab.lab.net import links_to

    return start_for(request, options.dns_server, links_to(request.host))


def _below(ex, capture, options) -> dict:
    """What lies under the exchange's socket: the route (netlink) and, when captured, the
    packets (the connection stays pooled: its FIN comes later and is not waited for)."""
    from netlab.engine.capture.route import route_of

    route = route_of(ex)
    below: dict = {"route": route.as_json() if route is not None else None}
    if capture is not None:
        capture.finish(ex, dns_server=options.dns_server)
        below.update(capture.report())
        below["frames"] = capture.frames  # for a pcap saved from the Packets tab
    return below


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
    from netlab.ui.views.exchange import prepare

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


def compare_history(services: Services, a_id: int | None, b_id: int | None, post: Post) -> None:
    """Compare two stored exchanges (the newest two when ``b_id`` is None; ``b_id`` and the
    one stored before it when ``a_id`` is None) and post the DiffScreen's lines."""
    from netlab.engine.diff import compare
    from netlab.ui.views.diff import diff_texts

    def pick(h):
        if b_id is None:
            newest = h.list(2)
            return (newest[1].id, newest[0].id) if len(newest) == 2 else None
        if a_id is None:
            older = [e.id for e in h.list(0) if e.id < b_id]
            return (max(older), b_id) if older else None
        return a_id, b_id

    try:
        ids = services.store.call(pick)
        if ids is None:
            post(m.Problem("nothing to compare yet: the history needs two exchanges"
                           if b_id is None else f"history entry {b_id} is the oldest: nothing before it to compare"))
            return
        a, b = (services.store.call(lambda h, i=i: h.get(i)) for i in ids)
        lines = diff_texts(a, b, ids[0], ids[1], compare(a, b))
    except KeyError as exc:
        post(m.Problem(f"history: entry {exc.args[0]} is gone (the history keeps a limited number)"))
        return
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"history: cannot compare: {type(exc).__name__}: {exc}"))
        return
    post(m.CompareReady(ids[0], ids[1], lines))


def export_history(services: Services, entry_id: int, post: Post) -> None:
    """Read one stored exchange's request and options, for the export chooser."""
    try:
        ex = services.store.call(lambda h: h.get(entry_id))
    except KeyError:
        post(m.Problem(f"history: entry {entry_id} is gone"))
        return
    except Exception as exc:  # noqa: BLE001
        post(m.Problem(f"history: cannot load entry {entry_id}: {exc}"))
        return
    post(m.ExportReady(ex.request, ex.options, f"exchange #{entry_id}"))


def export_all(request, options, source: str | None, post: Post) -> None:
    """Every export format of ``request``, secrets masked and shown (the chooser's preview)."""
    from netlab.engine import NetlabError
    from netlab.engine.export import FORMATS, export_request

    results: dict = {}
    for fmt in FORMATS:
        for show in (False, True):
            try:
                results[(fmt, show)] = export_request(request, options, fmt, show_secrets=show, source=source)
            except NetlabError as exc:
                results[(fmt, show)] = exc.message + (f" ({exc.hint})" if exc.hint else "")
            except Exception as exc:  # noqa: BLE001 - shown in the chooser, not a crash
                results[(fmt, show)] = f"cannot export: {type(exc).__name__}: {exc}"
    post(m.ExportsComputed(results))


@dataclass(frozen=True)
class DnsOutcome:
    """One lookup of the DNS pane, everything it gave: the replies (one per record type),
    or the trace, and getaddrinfo's answer when asked."""

    lookup_id: int
    name: str
    types: tuple[str, ...]
    server_text: str
    transport: str
    results: tuple = ()  # DnsResult per type
    trace: object = None  # TraceResult
    system: object = None  # SystemAnswer
    started: float = 0.0  # time.time()
    elapsed_ms: float = 0.0
    error: str | None = None  # a failure outside DNS (a bug), for the status line


def lookup(name: str, rdtype: str, server: str | None, port: int | None, options: dict | None, lookup_id: int,
           post: Post) -> None:
    """Run the DNS pane's query (several types, or a trace; getaddrinfo beside it when asked)."""
    import time

    from netlab.engine import dns

    o = dict(options or {})
    types = tuple(o.get("types") or (rdtype,))
    transport = o.get("transport") or "udp"
    started, t0 = time.time(), time.perf_counter()
    results, trace, system, error = (), None, None, None
    try:
        if o.get("trace"):
            trace = dns.trace(name, types[0], root=server, port=port or 53, timeout=o.get("timeout", 5.0),
                              transport=transport, reverse=o.get("reverse", False), do=o.get("do", False),
                              cd=o.get("cd", False), payload=o.get("payload"))
        else:
            results = tuple(dns.lookup_many(
                name, types, server=server, port=port, transport=transport, timeout=o.get("timeout", 5.0),
                rd=o.get("rd", True), cd=o.get("cd", False), do=o.get("do", False), payload=o.get("payload"),
                reverse=o.get("reverse", False), path=o.get("path") or "/dns-query"))
        if o.get("compare") and not o.get("reverse"):
            system = dns.system_lookup(name, o.get("timeout", 5.0))
    except Exception as exc:  # noqa: BLE001 - lookup itself never raises; this is a bug, shown, not a crash
        error = f"DNS lookup failed: {type(exc).__name__}: {exc}"
    outcome = DnsOutcome(lookup_id, name, types, o.get("server_text") or (server or ""), transport, results, trace,
                         system, started, (time.perf_counter() - t0) * 1000, error)
    first = results[0] if results else (trace.final if trace is not None else None)
    post(m.LookupDone(first, outcome))


def poll_connections(services: Services, follow_pairs: tuple, spec, retired: list, post: Post) -> None:
    """One snapshot of the machine's sockets, posted as a diff against the last one, with
    everything the pane would otherwise work out on the UI thread: which rows are ours,
    the counts per state, the new rows' sort keys and filter texts, the followed
    connections' states —
    and, when the change is big (the first snapshot, thousands of new sockets), the
    whole table already sorted for ``spec``, so that the UI thread only adopts it.
    ``retired``: tables the pane replaced, to be freed in this thread."""
    import time

    feed = services.feed
    retired.clear()  # tables the pane replaced: freed here, off the UI thread
    t0 = time.perf_counter()
    try:
        from netlab.engine import netstat

        services.sweep()  # our own dead keep-alive sockets are closed before the kernel is asked
        snap = netstat.snapshot("inet")
        mirror = feed.mirror if feed.mirror is not None else netstat.ConnTable(view=False)
        added, removed, changed = netstat.diff(mirror.rows, netstat.by_key(snap.rows))
        own = netstat.own_keys(snap.rows, services.own_pairs())
        natural = {r.key: netstat.natural_key(r) for r in added}
        search = {r.key: netstat.search_text(r) for r in (*added, *changed)}
        mirror.apply(added, removed, changed, now=snap.taken, natural=natural, search=search)
        table = mirror.copy(spec, own) if mirror.big(len(added) + len(removed) + len(changed)) else None
        msg = m.ConnectionsChanged(
            tuple(added), tuple(removed), tuple(changed), own, len(snap.rows), 0.0, snap.notice,
            taken=snap.taken, counts=netstat.state_counts(snap.rows), natural=natural, search=search,
            follow_states=netstat.states_of(snap.rows, follow_pairs),
            no_pid=sum(1 for r in snap.rows if r.pid is None), table=table)
        feed.mirror = mirror
    except Exception as exc:  # noqa: BLE001 - shown in the pane; the next scan tries again
        feed.mirror = None  # the pane did not get this diff: the next scan sends it a whole table
        msg = m.ConnectionsChanged((), (), (), frozenset(), 0, 0.0, None, error=f"{type(exc).__name__}: {exc}")
    msg.elapsed_ms = (time.perf_counter() - t0) * 1000  # the whole scan: what the pacing is based on
    post(msg)


def probe_follows(pairs: tuple, post: Post) -> None:
    """The kernel's state of each followed (local, remote) pair: one sock_diag query each."""
    import time

    from netlab.engine import netstat

    try:
        states = netstat.probe_states(pairs)
    except netstat.ProbeUnavailable as exc:
        post(m.FollowProbed({}, time.monotonic(), str(exc)))
        return
    except Exception as exc:  # noqa: BLE001
        post(m.FollowProbed({}, time.monotonic(), f"{type(exc).__name__}: {exc}"))
        return
    post(m.FollowProbed(states, time.monotonic()))


# -- the response viewer: search, save, pager and editor ---------------------------------------

def find_matches(search, search_id: int, stop: Callable[[], bool], post: Post) -> None:
    """List the matches of a ``views.search.Search`` (nothing is posted when ``stop()`` says a
    newer search replaced it)."""
    try:
        found = search.find(stop)
    except Exception as exc:  # noqa: BLE001 - a bug: said, not a crash
        post(m.Problem(f"search failed: {type(exc).__name__}: {exc}"))
        found = ([], False)
    if found is not None:
        post(m.SearchFound(search_id, *found))


def save_bytes(fd: int, path: str, chunks: Callable[[], object], note: str, post: Post) -> None:
    """Write what ``chunks()`` yields to the open file ``fd`` (at ``path``) and close it
    (``note``: added to the message that says it is done)."""
    written = 0
    try:
        with open(fd, "wb") as f:
            for chunk in chunks():
                f.write(chunk)
                written += len(chunk)
    except OSError as exc:
        post(m.FileSaved(path, written, exc.strerror or str(exc), note))
        return
    except Exception as exc:  # noqa: BLE001 - reading the body back failed: say so
        post(m.FileSaved(path, written, f"{type(exc).__name__}: {exc}", note))
        return
    post(m.FileSaved(path, written, None, note))


def body_file(prepared, kind: str, argv: list, post: Post) -> None:
    """Write the body to a new temporary file (mode 0600) for ``argv`` to open: for a
    pager (``kind`` "pager") the text the Body tab shows, whole, control characters
    escaped; for an editor the body's bytes (Content-Encoding undone when netlab can)."""
    import os
    import tempfile

    from netlab.engine.errors import NetlabError
    from netlab.ui.bodyfiles import suffix_for
    from netlab.ui.views.body import iter_body
    from netlab.ui.views.pager import OPEN_DECODE_LIMIT, pager_text

    r = prepared.exchange.response
    suffix = ".txt" if kind == "pager" else suffix_for(r)
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix="netlab-body-", suffix=suffix)
        if kind == "pager":
            with open(fd, "w", encoding="utf-8", newline="") as f:
                pager_text(prepared, f.write)
        else:
            with open(fd, "wb") as f:
                try:
                    for chunk in iter_body(r, limit=OPEN_DECODE_LIMIT):
                        f.write(chunk)
                except NetlabError:  # not really gzip/deflate, or a bomb: the bytes as received
                    f.seek(0)
                    f.truncate()
                    for chunk in r.body_store.iter_chunks():
                        f.write(chunk)
    except Exception as exc:  # noqa: BLE001 - disk full, no temp dir: said, nothing opened
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass
        post(m.ExternalFileReady(kind, argv, None, f"cannot write a temporary file: {exc}"))
        return
    post(m.ExternalFileReady(kind, argv, path))

