"""The connection table, like ``netstat``/``ss``: a psutil snapshot as rows, the
difference between two snapshots, and which rows are netlab's own sockets; the pieces
of a live table that stays fast at 20,000 sockets; and following one connection
through its TCP states.

One ``snapshot()`` makes one ``psutil.net_connections`` call and one
``psutil.process_iter(["name"])`` pass for the process names (never one call per
row).  Where the system does not let us list every process's sockets
(``psutil.AccessDenied``, e.g. macOS without root) it falls back to this process's
own sockets and says so in ``Snapshot.notice``.

Rows are keyed by ``(proto, local, remote, pid)``: a socket that moves from
ESTABLISHED to CLOSE_WAIT keeps its key (a *changed* row); one that the process closes
and that lingers in TIME_WAIT loses its pid (the kernel owns it now), so it shows as
removed plus added.  Unix paths and process names are untrusted text: show them
escaped (netlab.engine.text.safe_text).  psutil names one process per inet socket
(the first holder it finds): a listener shared by forked workers shows under one pid,
where ``ss -p`` lists them all.

The live table (all pure, no threads, no UI): ``ViewSpec`` (filter and sort),
``filter_sort`` and ``ConnTable`` (rows by key with an incrementally sorted view),
``own_keys`` (netlab's rows, for a whole table at once), ``ScanPacer`` (one scan at a
time, the next one an interval after the last ended, backing off when scans are
slow).  Following: ``Follow``/``StateTracker`` record a connection's states with
timestamps, from the engine's own connect() times, from snapshots, and from
``tcp_state`` — one sock_diag netlink query for exactly one 4-tuple on Linux.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import socket
import time
from dataclasses import dataclass

import psutil

__all__ = [
    "ConnRow", "Snapshot", "snapshot", "diff", "is_own", "format_addr", "by_key",
    # states
    "STATES", "CLOSING_STATES", "GONE", "STATE_NOTES", "normalize_state", "state_counts",
    # the live table: own sockets, filter, sort, keyed updates
    "own_keys", "COLUMNS", "KINDS", "ViewSpec", "is_listening", "search_text", "addr_sort_key",
    "natural_key", "sort_key", "filter_sort", "ConnTable",
    # scanning and following
    "ScanPacer", "tcp_state", "probe_states", "states_of", "ProbeUnavailable", "StateStep", "Follow",
    "StateTracker",
]

_PROTO = {
    (socket.AF_INET, socket.SOCK_STREAM): "tcp",
    (socket.AF_INET6, socket.SOCK_STREAM): "tcp6",
    (socket.AF_INET, socket.SOCK_DGRAM): "udp",
    (socket.AF_INET6, socket.SOCK_DGRAM): "udp6",
}

_FAMILY = {"tcp": "AF_INET", "udp": "AF_INET", "tcp6": "AF_INET6", "udp6": "AF_INET6", "unix": "AF_UNIX"}
_TYPE = {"tcp": "SOCK_STREAM", "tcp6": "SOCK_STREAM", "udp": "SOCK_DGRAM", "udp6": "SOCK_DGRAM"}
_SOCKTYPES = {socket.SOCK_STREAM: "SOCK_STREAM", socket.SOCK_DGRAM: "SOCK_DGRAM",
              getattr(socket, "SOCK_SEQPACKET", -5): "SOCK_SEQPACKET"}


@dataclass(frozen=True, slots=True)
class ConnRow:
    proto: str  # tcp | tcp6 | udp | udp6 | unix
    local: tuple[str, int]  # unix: (path, 0)
    remote: tuple[str, int] | None
    state: str  # psutil status: ESTABLISHED, LISTEN, TIME_WAIT, ... NONE
    pid: int | None
    process: str | None
    socktype: str = ""  # SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET as reported ("" when not known)

    @property
    def key(self) -> tuple:
        return (self.proto, self.local, self.remote, self.pid)

    @property
    def family(self) -> str:
        """AF_INET, AF_INET6 or AF_UNIX (from ``proto``)."""
        return _FAMILY.get(self.proto) or self.proto.split("/", 1)[0]

    @property
    def type(self) -> str:
        """SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET."""
        return self.socktype or _TYPE.get(self.proto, "")


@dataclass(frozen=True, slots=True)
class Snapshot:
    rows: tuple[ConnRow, ...]
    elapsed_ms: float
    taken: float  # time.monotonic()
    notice: str | None = None

    def by_key(self) -> dict[tuple, ConnRow]:
        return by_key(self.rows)


def by_key(rows) -> dict[tuple, ConnRow]:
    """``{row.key: row}``, the form ``diff`` compares."""
    return {r.key: r for r in rows}


def _proto(c) -> str:
    if c.family == getattr(socket, "AF_UNIX", object()):
        return "unix"
    return _PROTO.get((c.family, c.type)) or f"{getattr(c.family, 'name', c.family)}/{getattr(c.type, 'name', c.type)}"


def _addr(a, unix: bool) -> tuple[str, int] | None:
    if unix:
        if isinstance(a, bytes):
            a = a.decode("utf-8", "backslashreplace")
        return (a or "", 0)
    if not a:
        return None
    return (a[0], int(a[1]))


def _row(c, pid: int | None, names: dict[int, str | None]) -> ConnRow:
    proto = _proto(c)
    unix = proto == "unix"
    local = _addr(c.laddr, unix) or ("", 0)
    remote = _addr(c.raddr, unix) if (c.raddr or not unix) else None
    if unix and remote == ("", 0):
        remote = None
    return ConnRow(proto, local, remote, c.status or psutil.CONN_NONE, pid,
                   names.get(pid) if pid is not None else None, _socktype(c.type))


def _socktype(t) -> str:
    name = getattr(t, "name", None)
    if name is None:
        name = _SOCKTYPES.get(t, str(t))
    return name


def snapshot(kind: str = "inet") -> Snapshot:
    """The system's connection table now (``kind`` as in psutil.net_connections:
    inet, inet4, inet6, tcp, tcp4, tcp6, udp, udp4, udp6, unix, all)."""
    t0 = time.perf_counter()
    notice = None
    try:
        conns = [(c, c.pid) for c in psutil.net_connections(kind)]
        names: dict[int, str | None] = {}
        for p in psutil.process_iter(["name"]):
            names[p.pid] = p.info.get("name")
    except psutil.AccessDenied:
        me = psutil.Process()
        pid = os.getpid()
        conns = [(c, pid) for c in me.net_connections(kind)]
        try:
            names = {pid: me.name()}
        except psutil.Error:
            names = {}
        notice = ("not allowed to list other processes' sockets (psutil.AccessDenied): showing netlab's own "
                  "sockets only; run with more privileges (e.g. sudo) to see the whole table")
    rows: dict[tuple, ConnRow] = {}
    for c, pid in conns:
        row = _row(c, pid, names)
        rows.setdefault(row.key, row)  # one row per key (a socket shared by dup'ed fds shows once)
    ordered = tuple(sorted(rows.values(), key=_sort_key))
    return Snapshot(ordered, (time.perf_counter() - t0) * 1000, time.monotonic(), notice)


def _sort_key(r: ConnRow):
    return (r.proto, r.local, r.remote or ("", -1), r.pid if r.pid is not None else -1)


def diff(old: dict[tuple, ConnRow], new: dict[tuple, ConnRow]) -> tuple[list[ConnRow], list[tuple], list[ConnRow]]:
    """(rows added, keys removed, rows changed — same key, other state or process name)."""
    added: list[ConnRow] = []
    changed: list[ConnRow] = []
    get = old.get
    for key, row in new.items():
        was = get(key)
        if was is None:
            added.append(row)
        elif was.state != row.state or was.process != row.process or was.socktype != row.socktype:
            changed.append(row)
    removed = [key for key in old if key not in new]
    return added, removed, changed


def _norm(addr) -> tuple[str, int] | None:
    """One spelling per address: no IPv6 zone, IPv4-mapped IPv6 as IPv4, canonical text."""
    if not addr:
        return None
    host, port = addr[0], addr[1]
    if isinstance(host, bytes):
        host = host.decode("utf-8", "backslashreplace")
    text = host.strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return (host, int(port))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (str(ip), int(port))


def is_own(row: ConnRow, own: set[tuple[tuple[str, int], tuple[str, int]]]) -> bool:
    """True when ``row`` is one of our sockets: its (local, remote) is in ``own`` —
    ``Engine.own_sockets()``, plus the ``(connection.local, connection.remote)`` of any
    exchange the caller adds (which also finds a closed connection in TIME_WAIT)."""
    if row.remote is None or not own:
        return False
    pair = (_norm(row.local), _norm(row.remote))
    if pair in own:
        return True
    return any((_norm(local), _norm(remote)) == pair for local, remote in own)


_IP_VERSION: dict[str, int] = {}  # host text -> 4, 6, or 0 (not an IP: a Unix path)


def _ip_version(host: str) -> int:
    v = _IP_VERSION.get(host)
    if v is None:
        try:
            v = ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).version
        except ValueError:
            v = 0
        if len(_IP_VERSION) > 100_000:
            _IP_VERSION.clear()
        _IP_VERSION[host] = v
    return v


def format_addr(addr) -> str:
    """``127.0.0.1:80``, ``[::1]:80``, a Unix path, or ``*`` for no address."""
    if addr is None or addr == ():
        return "*"
    host, port = addr[0], addr[1]
    if isinstance(host, bytes):
        host = host.decode("utf-8", "backslashreplace")
    version = _ip_version(host)
    if not version:  # a Unix socket path (unnamed ones have none)
        return host if host else "(unnamed)"
    port_text = str(port) if port else "*"
    return f"[{host.strip('[]')}]:{port_text}" if version == 6 else f"{host}:{port_text}"


# ------------------------------------------------------------------------------ states

#: TCP states in the order a connection lives through them (psutil's names); NONE is
#: what psutil reports for UDP and Unix sockets.
STATES = ("LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT",
          "CLOSING", "LAST_ACK", "TIME_WAIT", "CLOSE", "NONE")
_OTHER_STATES = ("DELETE", "IDLE", "BOUND")  # psutil on the BSDs, Windows, Solaris
_STATE_RANK = {s: i for i, s in enumerate(STATES + _OTHER_STATES)}
_STATE_ALIASES = {  # ss, netstat and RFC 793 spellings
    "ESTAB": "ESTABLISHED", "SYN_RECEIVED": "SYN_RECV", "NEW_SYN_RECV": "SYN_RECV", "FIN_WAIT_1": "FIN_WAIT1",
    "FIN_WAIT_2": "FIN_WAIT2", "CLOSED": "CLOSE", "LISTENING": "LISTEN", "UNCONN": "NONE",
}
#: the states in which the socket is on its way out (the side that closed first, or the other)
CLOSING_STATES = frozenset({"FIN_WAIT1", "FIN_WAIT2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK", "CLOSE"})
GONE = "CLOSED"  # a followed connection that is no longer in the kernel's table


def normalize_state(text: str) -> str:
    """psutil's name for a TCP state written as psutil, ss or netstat write it:
    ``time-wait`` → TIME_WAIT, ``estab`` → ESTABLISHED, ``FIN-WAIT-2`` → FIN_WAIT2.
    Raises ValueError for a name that is none of them."""
    s = text.strip().upper().replace("-", "_")
    s = _STATE_ALIASES.get(s, s)
    if s not in _STATE_RANK:
        raise ValueError(f"unknown TCP state {text!r} (one of: {', '.join(STATES)})")
    return s


def state_counts(rows) -> dict[str, int]:
    """``{state: count}`` in STATES order (states with no rows left out)."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.state] = counts.get(r.state, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: _STATE_RANK.get(kv[0], len(_STATE_RANK))))


# ----------------------------------------------------------------------- own sockets


def own_keys(rows, own: set[tuple[tuple[str, int], tuple[str, int]]]) -> frozenset[tuple]:
    """The keys of the rows that are ours (as ``is_own``), for a whole table at once:
    the ``own`` pairs are normalised once and only rows whose two ports match one of
    them are looked at closely, so 20,000 rows cost a few milliseconds."""
    if not own:
        return frozenset()
    pairs = {(_norm(local), _norm(remote)) for local, remote in own}
    ports = {(lp[1], rp[1]) for lp, rp in pairs if lp and rp}
    found = []
    for r in rows:
        rem = r.remote
        if rem is None or (r.local[1], rem[1]) not in ports:
            continue
        if (_norm(r.local), _norm(rem)) in pairs:
            found.append(r.key)
    return frozenset(found)


# -------------------------------------------------------------------- filter and sort

COLUMNS = ("proto", "local", "remote", "state", "pid", "process", "age")

#: psutil's ``kind`` names → the ``ConnRow.proto`` values they cover
KINDS: dict[str, frozenset[str]] = {
    "inet": frozenset({"tcp", "tcp6", "udp", "udp6"}),
    "inet4": frozenset({"tcp", "udp"}),
    "inet6": frozenset({"tcp6", "udp6"}),
    "tcp": frozenset({"tcp", "tcp6"}),
    "tcp4": frozenset({"tcp"}),
    "tcp6": frozenset({"tcp6"}),
    "udp": frozenset({"udp", "udp6"}),
    "udp4": frozenset({"udp"}),
    "udp6": frozenset({"udp6"}),
    "unix": frozenset({"unix"}),
    "all": frozenset({"tcp", "tcp6", "udp", "udp6", "unix"}),
}


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """What the table shows and in which order.  Empty sets mean "any".

    ``text``: every whitespace-separated word must occur (case-insensitively) in the
    row's protocol, addresses (as ``format_addr`` writes them), state, pid or process
    name — as htop's filter.  ``listening``: TCP sockets in LISTEN and bound UDP
    sockets with no peer, as ``ss -l`` / ``netstat -l``.  ``own``: netlab's own sockets
    (the ``own`` key set given to ``matches``/``ConnTable.order``)."""

    text: str = ""
    states: frozenset[str] = frozenset()
    protos: frozenset[str] = frozenset()  # ConnRow.proto values; KINDS["tcp"] is tcp and tcp6
    listening: bool = False
    own: bool = False
    port: int | None = None  # local or remote port
    pid: int | None = None
    sort: str = "proto"  # one of COLUMNS
    reverse: bool = False

    def __post_init__(self) -> None:
        if self.sort not in COLUMNS:
            raise ValueError(f"cannot sort by {self.sort!r} (one of: {', '.join(COLUMNS)})")

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.lower().split())

    @property
    def filtering(self) -> bool:
        return bool(self.text.strip() or self.states or self.protos or self.listening or self.own
                    or self.port is not None or self.pid is not None)

    def matches(self, row: ConnRow, own: frozenset | set = frozenset(), haystack: str | None = None) -> bool:
        """True when the table shows ``row``.  ``own``: the keys of netlab's own rows;
        ``haystack``: the row's ``search_text`` when the caller has it cached."""
        if not self.matches_fields(row, own):
            return False
        words = self.words
        if words:
            hay = haystack if haystack is not None else search_text(row)
            return all(w in hay for w in words)
        return True

    def matches_fields(self, row: ConnRow, own: frozenset | set = frozenset()) -> bool:
        """``matches`` without the text filter."""
        if self.protos and row.proto not in self.protos:
            return False
        if self.states and row.state not in self.states:
            return False
        if self.listening and not is_listening(row):
            return False
        if self.own and row.key not in own:
            return False
        if self.pid is not None and row.pid != self.pid:
            return False
        if self.port is not None and row.local[1] != self.port and (row.remote is None or row.remote[1] != self.port):
            return False
        return True


def is_listening(row: ConnRow) -> bool:
    """A TCP listener, or a bound UDP socket with no peer (``ss -l`` shows both)."""
    return row.state == "LISTEN" or (row.proto in ("udp", "udp6") and row.remote is None)


def search_text(row: ConnRow) -> str:
    """What the text filter searches: the row as shown, lower-cased."""
    return " ".join((row.proto, format_addr(row.local), format_addr(row.remote), row.state,
                     "-" if row.pid is None else str(row.pid), row.process or "")).lower()


_ADDR_KEYS: dict[str, tuple] = {}


def addr_sort_key(addr) -> tuple:
    """Addresses in numeric order (``127.0.0.2`` before ``127.0.0.10``; IPv4, then IPv6,
    then Unix paths), port as a number; no address first."""
    if addr is None:
        return (0, b"", 0)
    host, port = addr[0], addr[1]
    k = _ADDR_KEYS.get(host)
    if k is None:
        text = host.strip("[]").split("%", 1)[0] if isinstance(host, str) else ""
        try:
            k = (1, socket.inet_pton(socket.AF_INET, text))
        except (OSError, ValueError):
            try:
                k = (2, socket.inet_pton(socket.AF_INET6, text))
            except (OSError, ValueError):
                raw = host.encode("utf-8", "surrogateescape") if isinstance(host, str) else bytes(host)
                k = (3, raw)
        if len(_ADDR_KEYS) > 100_000:
            _ADDR_KEYS.clear()
        _ADDR_KEYS[host] = k
    return (k[0], k[1], port or 0)


def natural_key(row: ConnRow) -> tuple:
    """The default order: protocol, local address, remote address, pid (no pid last).
    A flat tuple, so that comparing two is quick."""
    lk, lb, lp = addr_sort_key(row.local)
    rk, rb, rp = addr_sort_key(row.remote)
    pid = row.pid
    return (row.proto, lk, lb, lp, rk, rb, rp, pid is None, pid or 0)


def primary_key(column: str, row: ConnRow, first_seen: float = 0.0) -> tuple:
    """What ``column`` sorts by, before the natural order breaks ties.  Rows with no
    pid or process sort after the others; ``age`` puts the youngest first."""
    if column == "proto":
        return ()
    if column == "local":
        return addr_sort_key(row.local)
    if column == "remote":
        return addr_sort_key(row.remote)
    if column == "state":
        return (_STATE_RANK.get(row.state, len(_STATE_RANK)), row.state)
    if column == "pid":
        return (row.pid is None, row.pid or 0)
    if column == "process":
        return (row.process is None, (row.process or "").lower())
    if column == "age":
        return (-first_seen,)
    raise ValueError(f"cannot sort by {column!r} (one of: {', '.join(COLUMNS)})")


def sort_key(column: str, row: ConnRow, first_seen: float = 0.0, natural: tuple | None = None) -> tuple:
    """The key that sorts rows by ``column``, ties in the natural order."""
    return primary_key(column, row, first_seen) + (natural if natural is not None else natural_key(row))


def filter_sort(rows, spec: ViewSpec, own: frozenset | set = frozenset(),
                first_seen: dict[tuple, float] | None = None) -> list[ConnRow]:
    """``rows`` that match ``spec``, in its order: the pure form of ``ConnTable.order``."""
    first_seen = first_seen or {}
    kept = [r for r in rows if spec.matches(r, own)]
    kept.sort(key=lambda r: sort_key(spec.sort, r, first_seen.get(r.key, 0.0)), reverse=spec.reverse)
    return kept


class ConnTable:
    """The rows a live table shows, kept by key between snapshots, and the filtered,
    sorted view of them kept up to date as diffs arrive.

    Every row has an entry ``(sort key, seq, row key, search text)`` in one sorted list, the
    *base*; the *view* is the base itself, or — while a filter is on — the entries of
    the base that the filter keeps, in the same order.  ``apply(added, removed,
    changed)`` updates the rows in place (a diff, never a refill) and moves only the
    entries it names — a few by bisection, many by one filtering pass and one merge —
    so a refresh costs in proportion to what changed, not to the 20,000 rows.
    ``set_view(spec, own)``: another sort column re-sorts the base; another filter only
    filters it again (no sort), and typing more of a text filter filters the view.
    ``first_seen`` remembers when each socket (protocol, local, remote) was first seen,
    so a connection keeps its age when its pid goes away at close.  Read the view with
    ``len(table.view)``, ``key_at(i)``, ``keys(start, stop)`` and ``index(key)``.
    ``ConnTable(view=False)`` keeps rows and ages only, and ``copy(spec, own)`` makes a
    full table from it: a worker thread's mirror, for changes too big for the UI
    thread.  Not thread-safe: one owner at a time."""

    BIG_CHANGES = 300  # a diff of more rows than this is "big": see big()
    # Up to this many entries leave / enter a list one bisection each (a memmove of the
    # list each); more, and one filtering pass / one merge of sorted runs is cheaper.
    BISECT_DROPS = 200
    BISECT_INSERTS = 400

    def __init__(self, spec: ViewSpec | None = None, *, view: bool = True) -> None:
        self.rows: dict[tuple, ConnRow] = {}
        self.keeps_view = view  # False: rows and ages only (a mirror in a worker thread, see copy())
        self.first_seen: dict[tuple, float] = {}  # (proto, local, remote) -> time.monotonic()
        self.spec = spec or ViewSpec()
        self.own: frozenset = frozenset()
        self.view: list[tuple] = []  # ascending entries of the rows the spec keeps (the base when no filter)
        self.version = 0  # bumped by every apply()/set_view() that changed something
        self._base: list[tuple] = []  # ascending entries of every row
        self._entry: dict[tuple, tuple] = {}  # row key -> its entry
        self._sockets: dict[tuple, int] = {}  # (proto, local, remote) -> rows with it
        self._hay: dict[tuple, str] = {}  # row key -> search_text (filled as needed, or by the worker)
        self._nat: dict[tuple, tuple] = {}  # row key -> natural_key (fixed: it is made of the key)
        self._keys: dict[str, dict[tuple, tuple]] = {}  # column -> row key -> sort key
        self._seq = 0

    # -- rows ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key) -> bool:
        return key in self.rows

    def get(self, key) -> ConnRow | None:
        return self.rows.get(key)

    def age(self, key: tuple, now: float | None = None) -> float:
        """Seconds since the row's socket was first seen (0 when unknown)."""
        t = self.first_seen.get(key[:3])
        return 0.0 if t is None else max(0.0, (time.monotonic() if now is None else now) - t)

    def counts(self) -> dict[str, int]:
        return state_counts(self.rows.values())

    def search_text(self, key: tuple) -> str:
        hay = self._hay.get(key)
        if hay is None:
            hay = self._hay[key] = search_text(self.rows[key])
        return hay

    def apply(self, added=(), removed=(), changed=(), now: float | None = None,
              natural: dict[tuple, tuple] | None = None, search: dict[tuple, str] | None = None) -> bool:
        """Apply one ``diff`` (added rows, removed keys, changed rows); added and changed
        are both upserts, unknown removed keys are ignored.  ``natural`` and ``search``:
        the rows' ``natural_key``s and ``search_text``s when the caller worked them out
        already (in a worker thread).  True when anything changed."""
        now = time.monotonic() if now is None else now
        added, removed, changed = list(added), list(removed), list(changed)
        if not (added or removed or changed):
            return False
        if natural:
            self._nat.update(natural)
        dropped: list[tuple] = []  # entries to take out
        upserts = added + changed
        ukeys = [row.key for row in upserts]
        # rows first, so that a socket whose pid went away keeps its age
        self._upsert_rows(ukeys, upserts, now, dropped)
        self._remove_rows(removed, dropped)
        if search:
            self._hay.update(search)
        if self.keeps_view:
            self._update_view(ukeys, upserts, dropped)
        self.version += 1
        return True

    def _upsert_rows(self, ukeys: list[tuple], upserts: list[ConnRow], now: float, dropped: list[tuple]) -> None:
        """Store ``upserts`` (keyed ``ukeys``): a new socket is counted and aged from ``now``;
        a replaced row's view entry goes to ``dropped`` and its cached sort/search keys go."""
        rows, seen, sockets = self.rows, self.first_seen, self._sockets
        keep_view = self.keeps_view
        entry = self._entry
        forget = self._forget
        hay = self._hay
        for key, row in zip(ukeys, upserts):
            if key not in rows:
                sock = key[:3]
                sockets[sock] = sockets.get(sock, 0) + 1
                seen.setdefault(sock, now)
            else:
                if keep_view:
                    e = entry.pop(key, None)
                    if e is not None:
                        dropped.append(e)
                    forget(key)
                elif hay:
                    hay.pop(key, None)
            rows[key] = row

    def _remove_rows(self, removed: list[tuple], dropped: list[tuple]) -> None:
        """Take out the rows keyed ``removed`` (unknown keys ignored): their view entries go to
        ``dropped``, their cached keys go, and a socket with no row left loses its age."""
        rows, seen, sockets = self.rows, self.first_seen, self._sockets
        keep_view = self.keeps_view
        entry = self._entry
        forget = self._forget
        hay = self._hay
        nat = self._nat
        for key in removed:
            if rows.pop(key, None) is None:
                continue
            if keep_view:
                e = entry.pop(key, None)
                if e is not None:
                    dropped.append(e)
                forget(key)
            elif hay:
                hay.pop(key, None)
            nat.pop(key, None)
            sock = key[:3]
            left = sockets.get(sock, 1) - 1
            if left <= 0:
                sockets.pop(sock, None)
                seen.pop(sock, None)
            else:
                sockets[sock] = left

    def _update_view(self, ukeys: list[tuple], upserts: list[ConnRow], dropped: list[tuple]) -> None:
        """Merge the upserted rows that are still there into the sorted base (and the filtered
        view, if any) and take the ``dropped`` entries out."""
        rows, entry = self.rows, self._entry
        fresh = [k for k, row in zip(ukeys, upserts) if rows.get(k) is row and k not in entry]
        if len(fresh) != len(set(fresh)):
            fresh = list(dict.fromkeys(fresh))  # a key both added and changed: once
        new = self._entries(fresh)
        for e in new:
            entry[e[2]] = e
        filtered = self.view is not self._base
        self._base = _merge(self._base, dropped, new, self.BISECT_DROPS, self.BISECT_INSERTS)
        if filtered:
            kept = self._filter(new)
            self.view = _merge(self.view, dropped, kept, self.BISECT_DROPS, self.BISECT_INSERTS, strict=False)
        else:
            self.view = self._base

    def copy(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> "ConnTable":
        """A new table with the same rows and ages and its own view of them (``spec``,
        ``own``), sorted from scratch.  A worker thread keeps a ``view=False`` mirror of
        what the UI's table holds and, when a diff is too big to apply by key without
        re-sorting everything on the UI thread (the first snapshot, thousands of new
        sockets), hands the UI a copy to adopt instead."""
        t = ConnTable(spec or self.spec)
        t.rows = dict(self.rows)
        t.first_seen = dict(self.first_seen)
        t._sockets = dict(self._sockets)
        t._nat = dict(self._nat)
        t._hay = dict(self._hay)
        t.own = frozenset(self.own if own is None else own)
        t._rebuild()
        return t

    def big(self, changes: int) -> bool:
        """True when a diff of ``changes`` rows is better sorted into a ``copy`` off the UI
        thread than applied by key on it (each changed row costs the UI thread tens of
        microseconds on a slow machine; BIG_CHANGES of them stay within a few ms)."""
        return changes > self.BIG_CHANGES

    def replace(self, rows, now: float | None = None) -> tuple[list[ConnRow], list[tuple], list[ConnRow]]:
        """Make the table hold exactly ``rows`` (by key); returns the diff applied."""
        added, removed, changed = diff(self.rows, by_key(rows))
        self.apply(added, removed, changed, now)
        return added, removed, changed

    # -- the view --------------------------------------------------------------------------
    def set_view(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> bool:
        """Show what ``spec`` keeps, with ``own`` as netlab's own row keys.  True when the
        view may have changed."""
        spec = self.spec if spec is None else spec
        own = self.own if own is None else frozenset(own)
        if spec == self.spec and own == self.own:
            return False
        old_spec, old_own = self.spec, self.own
        self.spec, self.own = spec, own
        if spec.sort != old_spec.sort:
            self._rebuild()  # other sort keys (reverse alone needs nothing: the view is read backwards)
        elif _same_filter(spec, old_spec):
            if spec.own and own != old_own:  # only the set of our own sockets changed
                view, entry = self.view, self._entry
                gone = [entry[k] for k in old_own - own if k in entry]
                come = [entry[k] for k in own - old_own if k in entry]
                self.view = _merge(view, gone, sorted(self._filter(come)), self.BISECT_DROPS,
                                   self.BISECT_INSERTS, strict=False)
        elif not spec.filtering:
            self.view = self._base
        elif old_spec.filtering and _narrows(old_spec, spec) and (own == old_own or not spec.own):
            self.view = self._filter(self.view)  # e.g. one more letter typed: filter what shows
        else:
            self.view = self._filter(self._base)  # filter again: the base is sorted already
        self.version += 1
        return True

    def key_at(self, i: int) -> tuple:
        """The row key shown at position ``i`` of the view (0 is the top)."""
        view = self.view
        return view[len(view) - 1 - i][2] if self.spec.reverse else view[i][2]

    def keys(self, start: int = 0, stop: int | None = None) -> list[tuple]:
        """Row keys of view positions ``start``..``stop``: what a screenful shows."""
        view = self.view
        n = len(view)
        stop = n if stop is None else max(0, min(stop, n))
        start = max(0, min(start, stop))
        if self.spec.reverse:
            return [view[n - 1 - i][2] for i in range(start, stop)]
        return [e[2] for e in view[start:stop]]

    def index(self, key: tuple) -> int | None:
        """The view position of row ``key`` (None when the view does not show it)."""
        entry = self._entry.get(key)
        if entry is None:
            return None
        view = self.view
        i = bisect.bisect_left(view, entry)
        if i >= len(view) or view[i] is not entry:
            return None
        return len(view) - 1 - i if self.spec.reverse else i

    def order(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> list[tuple]:
        """Every row key the view shows, top to bottom (after ``set_view(spec, own)``)."""
        if spec is not None or own is not None:
            self.set_view(spec, own)
        return self.keys()

    # -- internals -------------------------------------------------------------------------
    def _keeps(self, key, row, spec: ViewSpec, own, words: tuple[str, ...] | None = None) -> bool:
        if words is None:
            words = spec.words
        if not spec.matches_fields(row, own):
            return False
        if words:
            hay = self._hay.get(key)
            if hay is None:
                hay = self._hay[key] = search_text(row)
            for w in words:
                if w not in hay:
                    return False
        return True

    def _filter(self, entries: list[tuple]) -> list[tuple]:
        """The entries the spec keeps, in their order."""
        spec, own = self.spec, self.own
        if not spec.filtering:
            return list(entries)
        words = spec.words
        only_words = words and not (spec.states or spec.protos or spec.listening or spec.own
                                    or spec.port is not None or spec.pid is not None)
        if only_words:  # typing into the filter: one substring test per row, on the entry itself
            if len(words) == 1:
                w = words[0]
                return [e for e in entries if w in e[3]]
            return [e for e in entries if all(w in e[3] for w in words)]
        rows, keeps = self.rows, self._keeps
        return [e for e in entries if keeps(e[2], rows[e[2]], spec, own, words)]

    def _sort_keys(self, keys) -> dict[tuple, tuple]:
        """The current column's sort-key cache, filled for ``keys``."""
        column = self.spec.sort
        cache = self._keys.get(column)
        if cache is None:
            cache = self._keys[column] = {}
        missing = [k for k in keys if k not in cache]
        if missing:
            nat, rows = self._nat, self.rows
            for key in missing:
                n = nat.get(key)
                if n is None:
                    n = nat[key] = natural_key(rows[key])
                if column == "proto":
                    cache[key] = n
                elif column == "age":
                    cache[key] = (-self.first_seen.get(key[:3], 0.0),) + n
                else:
                    cache[key] = primary_key(column, rows[key]) + n
        return cache

    def _forget(self, key) -> None:
        """Drop the cached sort keys and search text of a row that changed or went."""
        if self._hay:
            self._hay.pop(key, None)
        for cache in self._keys.values():
            cache.pop(key, None)

    def _entries(self, keys: list) -> list[tuple]:
        """New entries ``(sort key, seq, row key, search text)`` for these rows: ordered by
        the sort key, ties by seq (unique), so the key and text are never compared."""
        cache = self._sort_keys(keys)
        hay, rows = self._hay, self.rows
        missing = [k for k in keys if k not in hay]
        for k in missing:
            hay[k] = search_text(rows[k])
        seq = self._seq
        self._seq += len(keys)
        return [(cache[k], seq + i, k, hay[k]) for i, k in enumerate(keys)]

    def _rebuild(self) -> None:
        """Sort every row again (another sort column, or a copy), then filter."""
        base = self._entries(list(self.rows))
        base.sort()
        self._base = base
        self._entry = {e[2]: e for e in base}
        self.view = self._filter(base) if self.spec.filtering else base


def _merge(entries: list, drop: list, add: list, bisect_drops: int, bisect_inserts: int,
           strict: bool = True) -> list:
    """``entries`` (sorted) without the ``drop`` entries (by identity) and with the ``add``
    ones, still sorted: few by bisection in place, many by one pass and one merge.
    ``strict``: every dropped entry is there (else, one that is not is skipped)."""
    if drop:
        if len(drop) <= bisect_drops:
            for e in drop:
                i = bisect.bisect_left(entries, e)
                if i < len(entries) and entries[i] is e:
                    del entries[i]
                elif strict:  # cannot happen while entries are unique; stay correct anyway
                    entries.remove(e)
        else:
            gone = set(map(id, drop))
            entries = [e for e in entries if id(e) not in gone]
    if add:
        if len(add) <= bisect_inserts:
            for e in add:
                bisect.insort(entries, e)
        else:
            entries.extend(add)
            entries.sort()  # two sorted runs (the new ones after sorting themselves): a merge
    return entries


def _same_filter(a: ViewSpec, b: ViewSpec) -> bool:
    return (a.text.lower().split(), a.states, a.protos, a.listening, a.own, a.port, a.pid) == \
        (b.text.lower().split(), b.states, b.protos, b.listening, b.own, b.port, b.pid)


def _narrows(old: ViewSpec, new: ViewSpec) -> bool:
    """True when every row ``new`` keeps, ``old`` kept too (so the view can be filtered
    in place): the same settings, and a text filter that only grew words or letters."""
    if (old.states, old.protos, old.listening, old.own, old.port, old.pid) != \
            (new.states, new.protos, new.listening, new.own, new.port, new.pid):
        return False
    ow, nw = old.words, new.words
    if not ow:
        return True
    # every old word must be contained in some new word (then the new words demand more)
    return all(any(o in n for n in nw) for o in ow)


# ------------------------------------------------------------------------ scan pacing


class ScanPacer:
    """When to take the next snapshot.  One scan at a time (``begin`` refuses while one
    runs); the next starts ``interval`` seconds after the last one *ended*; the interval
    grows when scans are slow, so that scanning takes at most ``duty`` of the time
    (a 600 ms scan with duty 0.25 waits 1.8 s), up to ``max_interval``, and it comes
    back towards ``base`` as scans get faster again.  Pure bookkeeping: no threads, no
    timers — the caller runs the scan and arms its own timer with the returned delay."""

    def __init__(self, base: float = 1.0, *, duty: float = 0.25, max_interval: float = 10.0) -> None:
        if not (0 < duty <= 1) or base <= 0 or max_interval < base:
            raise ValueError("ScanPacer needs base > 0, 0 < duty <= 1 and max_interval >= base")
        self.base = base
        self.duty = duty
        self.max_interval = max_interval
        self.interval = base
        self.busy = False
        self.last_ms: float | None = None  # how long the last scan took
        self.scans = 0
        self.skipped = 0  # begin() calls refused because a scan was running
        self._slow_ms = 0.0  # the scan time the interval is based on: up at once, down slowly

    def begin(self) -> bool:
        """True: go ahead and scan (then call ``end``).  False: a scan is running."""
        if self.busy:
            self.skipped += 1
            return False
        self.busy = True
        return True

    def end(self, elapsed_ms: float | None) -> float:
        """The scan is over (``elapsed_ms`` None when it failed): the delay in seconds
        before the next one should begin."""
        self.busy = False
        if elapsed_ms is not None:
            self.scans += 1
            self.last_ms = elapsed_ms
            if elapsed_ms >= self._slow_ms:
                self._slow_ms = elapsed_ms
            else:
                self._slow_ms = 0.5 * self._slow_ms + 0.5 * elapsed_ms
        wait = self._slow_ms / 1000 * (1 - self.duty) / self.duty
        self.interval = min(self.max_interval, max(self.base, wait))
        return self.interval

    @property
    def backed_off(self) -> bool:
        return self.interval > self.base + 1e-9

    def describe(self) -> str:
        """``scan 162 ms · every 1.0 s`` (``backed off`` when slower than the base)."""
        scan = "scan …" if self.last_ms is None else f"scan {self.last_ms:.0f} ms"
        every = f"every {self.interval:.1f} s"
        return f"{scan} · {every}" + (" (backed off: slow scans)" if self.backed_off else "")


# ---------------------------------------------------------------- following a connection

_TCP_STATE_NUMBERS = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
                      6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
                      11: "CLOSING", 12: "SYN_RECV"}
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR = 2


class ProbeUnavailable(Exception):
    """This system cannot look up one socket's state directly (not Linux, or no
    sock_diag): the follower relies on the periodic snapshots."""


def tcp_state(local: tuple[str, int], remote: tuple[str, int], timeout: float = 1.0) -> str | None:
    """The kernel's state of the one TCP socket ``local`` → ``remote`` (psutil's name),
    or None when there is no such socket.  Linux: one sock_diag netlink query for
    exactly that 4-tuple (what ``ss`` uses; tens of microseconds however many sockets
    there are, where reading /proc/net/tcp costs ~60 ms at 20,000).  Raises
    ProbeUnavailable where the kernel cannot answer such a query."""
    af_netlink = getattr(socket, "AF_NETLINK", None)
    if af_netlink is None:
        raise ProbeUnavailable("no AF_NETLINK on this system")
    local_n, remote_n = _norm(local), _norm(remote)
    if local_n is None or remote_n is None:
        return None
    family = socket.AF_INET6 if ":" in local_n[0] or ":" in remote_n[0] else socket.AF_INET
    try:
        src = socket.inet_pton(family, local_n[0])
        dst = socket.inet_pton(family, remote_n[0])
    except (OSError, ValueError):
        return None
    import struct

    req = (struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF)
           + struct.pack(">HH", local_n[1], remote_n[1]) + src.ljust(16, b"\0") + dst.ljust(16, b"\0")
           + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))  # any interface, no cookie check
    msg = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req  # NLM_F_REQUEST
    try:
        s = socket.socket(af_netlink, socket.SOCK_RAW, _NETLINK_SOCK_DIAG)
    except OSError as exc:
        raise ProbeUnavailable(f"sock_diag: {exc}") from None
    try:
        s.settimeout(timeout)
        s.sendto(msg, (0, 0))
        data = s.recv(65536)
    except OSError as exc:
        raise ProbeUnavailable(f"sock_diag: {exc}") from None
    finally:
        s.close()
    if len(data) < 18:
        raise ProbeUnavailable("sock_diag: short reply")
    _length, kind = struct.unpack_from("=IH", data)
    if kind == _NLMSG_ERROR:
        (err,) = struct.unpack_from("=i", data, 16)
        if -err in (2,):  # ENOENT: no such socket
            return None
        raise ProbeUnavailable(f"sock_diag: {os.strerror(-err)}")
    if kind != _SOCK_DIAG_BY_FAMILY:
        raise ProbeUnavailable(f"sock_diag: unexpected reply type {kind}")
    # The kernel answers a lookup for a gone connection with the listener on its local
    # port, if there is one: only an answer for exactly this 4-tuple counts.
    sport, dport = struct.unpack_from(">HH", data, 20)
    size = 4 if family == socket.AF_INET else 16
    if (sport, dport, data[24:24 + size], data[40:40 + size]) != (local_n[1], remote_n[1], src, dst):
        return None
    return _TCP_STATE_NUMBERS.get(data[17], f"STATE{data[17]}")


def probe_states(pairs) -> dict[tuple, str | None]:
    """``{(local, remote): state or None}`` for each pair, straight from the kernel
    (``tcp_state``).  Raises ProbeUnavailable where that is not possible."""
    return {pair: tcp_state(pair[0], pair[1]) for pair in pairs}


def states_of(rows, pairs) -> dict[tuple, str | None]:
    """``{(local, remote): state or None}`` for each pair, from a snapshot's rows
    (matched by TCP 4-tuple whatever the pid; None: not in the snapshot)."""
    wanted = {(_norm(a), _norm(b)): (a, b) for a, b in pairs}
    found: dict[tuple, str | None] = {pair: None for pair in pairs}
    if not wanted:
        return found
    ports = {(a[1], b[1]) for a, b in wanted if a and b}
    for r in rows:
        rem = r.remote
        if rem is None or (r.local[1], rem[1]) not in ports or r.proto not in ("tcp", "tcp6"):
            continue
        pair = wanted.get((_norm(r.local), _norm(rem)))
        if pair is not None:
            found[pair] = r.state
    return found


@dataclass(frozen=True, slots=True)
class StateStep:
    """One entry of a followed connection's history."""

    t: float  # time.monotonic()
    state: str  # psutil's state name, or GONE
    source: str  # "connect()" (the engine's own step), "probe" (sock_diag), "scan" (a snapshot)
    note: str = ""


#: what each state means for the end that is in it (shown with a followed connection's steps)
STATE_NOTES = {
    "SYN_SENT": "SYN sent, waiting for the SYN-ACK",
    "SYN_RECV": "SYN received, SYN-ACK sent, waiting for the ACK",
    "ESTABLISHED": "open: data flows both ways",
    "FIN_WAIT1": "this end closed first: FIN sent, not yet acknowledged",
    "FIN_WAIT2": "our FIN acknowledged: waiting for the other end to close",
    "CLOSE_WAIT": "the other end closed: waiting for this end's close()",
    "CLOSING": "both ends closed at once: waiting for the last ACK",
    "LAST_ACK": "closed after the other end: waiting for the ACK of our FIN",
    "TIME_WAIT": "this end closed first: the kernel keeps the 4-tuple 60 s (2 MSL)",
    "CLOSE": "closed",
    GONE: "no longer in the kernel's table",
}

_LIFE = {s: i for i, s in enumerate(("SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT",
                                     "CLOSING", "LAST_ACK", "TIME_WAIT", "CLOSE", GONE))}


class Follow:
    """The TCP state history of one connection (its 4-tuple), with timestamps.

    Started when the engine connects: a new connection begins with SYN_SENT (when
    connect() was called) and ESTABLISHED (when it returned), from the engine's own
    event times; a reused keep-alive connection begins ESTABLISHED with no handshake.
    Then every ``observe`` of a state it was not already in adds a step (from a direct
    probe or a snapshot); its disappearance from the kernel's table adds GONE
    (``CLOSED``) and ends it.  States only move forward along a connection's life, so
    a late observation of an earlier state (a snapshot read before a probe) is
    ignored.  The pid does not matter: after close the kernel owns the socket
    (TIME_WAIT shows no pid).  ``peer`` follows the other end of the same connection,
    which is in our table too when the server is on this machine (who ends up holding
    TIME_WAIT is the side that closed first)."""

    def __init__(self, local: tuple[str, int], remote: tuple[str, int], *, reused: bool = False,
                 started: float | None = None, proto: str | None = None, _peer: bool = True) -> None:
        self.local = _norm(local) or ("", 0)
        self.remote = _norm(remote) or ("", 0)
        self.proto = proto or ("tcp6" if ":" in self.local[0] else "tcp")
        self.reused = reused  # the first use followed found it open in the keep-alive pool
        self.started = time.monotonic() if started is None else started
        self.steps: list[StateStep] = []
        self.exchanges = 0  # requests sent on it while followed
        self.version = 0  # bumped by every new step
        self.peer: Follow | None = (Follow(remote, local, reused=reused, started=self.started, proto=self.proto,
                                           _peer=False) if _peer else None)

    @classmethod
    def from_exchange(cls, exchange, *, connecting_t: float | None = None,
                      connected_t: float | None = None, now: float | None = None) -> "Follow | None":
        """A follow for ``exchange``'s TCP connection (None for none, or a Unix socket).
        ``connecting_t``/``connected_t``: the ``t`` of the engine's Connecting and
        Connected events when the caller has them; otherwise they are worked out from
        the exchange's start and timings."""
        conn = getattr(exchange, "connection", None)
        if conn is None or conn.family not in ("AF_INET", "AF_INET6"):
            return None
        connecting_t, connected_t = _connect_times(exchange, connecting_t, connected_t, now)
        f = cls(conn.local, conn.remote, reused=conn.reused, started=connecting_t,
                proto="tcp6" if conn.family == "AF_INET6" else "tcp")
        f.add_use(conn.reused, connecting_t, connected_t)
        return f

    def add_use(self, reused: bool, connecting_t: float, connected_t: float) -> None:
        """Record a request sent on this connection: a new connection's handshake, or
        a reuse from the keep-alive pool."""
        self.exchanges += 1
        if reused:
            note = (f"reused from the keep-alive pool: request {self.exchanges} on it, no handshake"
                    if self.steps else "reused from the keep-alive pool: opened before it was followed, no handshake")
            self._add(StateStep(max(connected_t, self.steps[-1].t if self.steps else connected_t), "ESTABLISHED",
                                "connect()", note))
        else:
            self._add(StateStep(connecting_t, "SYN_SENT", "connect()", "connect() called: SYN sent"))
            self._add(StateStep(connected_t, "ESTABLISHED", "connect()",
                                "connect() returned: SYN-ACK received, ACK sent"))

    def _add(self, step: StateStep) -> None:
        self.steps.append(step)
        self.version += 1

    @property
    def pair(self) -> tuple[tuple[str, int], tuple[str, int]]:
        return (self.local, self.remote)

    @property
    def state(self) -> str | None:
        return self.steps[-1].state if self.steps else None

    @property
    def done(self) -> bool:
        return self.state == GONE

    @property
    def live(self) -> bool:
        """Worth watching: our end is not gone, or the peer's end is seen and not gone."""
        peer = self.peer
        return not self.done or (peer is not None and bool(peer.steps) and not peer.done)

    def wanted(self) -> list[tuple]:
        """The 4-tuples to look up now: ours until it is gone, the peer's while it may show."""
        out = [] if self.done else [self.pair]
        peer = self.peer
        if peer is not None and not peer.done and (peer.steps or not self.done):
            out.append(peer.pair)
        return out

    def observe(self, state: str | None, t: float, source: str) -> bool:
        """What the kernel says now (None: no such socket).  True when a step was added."""
        if self.done or (self.steps and t < self.steps[-1].t):
            return False  # ended, or an observation older than what we know
        if state is None:
            if not self.steps:
                return False  # never seen (a remote peer's end is not in our table)
            self._add(StateStep(t, GONE, source, STATE_NOTES[GONE]))
            return True
        if state == self.state:
            return False
        if self.state is not None and _LIFE.get(state, -1) < _LIFE.get(self.state, -1):
            return False  # an earlier state: a stale reading
        self._add(StateStep(t, state, source, STATE_NOTES.get(state, "")))
        return True

    def observe_states(self, states, t: float, source: str) -> bool:
        """Feed ``{pair: state}`` (for us and the peer); True when either end changed."""
        changed = False
        if self.pair in states:
            changed |= self.observe(states[self.pair], t, source)
        peer = self.peer
        if peer is not None and peer.pair in states:
            changed |= peer.observe(states[peer.pair], t, source)
        return changed

    def matches(self, row: ConnRow) -> bool:
        return row.remote is not None and row.proto in ("tcp", "tcp6") and \
            (_norm(row.local), _norm(row.remote)) == (self.local, self.remote)

    def lines(self) -> list[str]:
        """The history as text: ``+0.000 ms  SYN_SENT  connect()  connect() called: SYN sent``."""
        return [f"{when:>14}  {s.state:<11}  {s.source:<9}  {s.note}".rstrip() for when, s in self.timeline()]

    def timeline(self) -> list[tuple[str, StateStep]]:
        """(time since the follow started, step) for each step."""
        out = []
        for s in self.steps:
            dt = (s.t - self.started) * 1000
            out.append((f"+{dt:,.3f} ms" if dt < 10_000 else f"+{dt / 1000:,.1f} s", s))
        return out


def _connect_times(exchange, connecting_t, connected_t, now=None) -> tuple[float, float]:
    t = exchange.timings
    handshake = 0.0 if exchange.connection.reused else t.connect / 1000
    if connecting_t is None and connected_t is None:
        # Exchange.started is wall-clock time; carry it over to the monotonic clock
        now = time.monotonic() if now is None else now
        connecting_t = now - max(0.0, time.time() - exchange.started) + t.dns / 1000
    if connecting_t is None:
        connecting_t = connected_t - handshake
    if connected_t is None:
        connected_t = connecting_t + handshake
    return connecting_t, connected_t


class StateTracker:
    """The connections being followed (the latest ``keep``), fed by snapshots and by
    cheap direct probes in between.

    ``start(local, remote, reused=..., ...)`` (or ``follow(exchange)``) begins a Follow
    when the engine connects — or, for a reused connection already followed, records
    one more use of it.  ``observe_states(states, t, source)`` feeds what a probe or a
    snapshot saw (``wanted()`` says which 4-tuples to look up; ``probe_states`` and
    ``states_of`` look them up); ``next_probe_in()`` says when to probe again: quickly
    right after a change, then backing off while nothing happens.  ``probe()`` does
    the probe itself, for callers without a worker thread.  Pure bookkeeping; not
    thread-safe (one owner, e.g. the UI thread, with the lookups in a worker)."""

    def __init__(self, keep: int = 16, *, probe_min: float = 0.05, probe_max: float = 2.0) -> None:
        self.keep = keep
        self.follows: list[Follow] = []  # oldest first
        self.probe_min = probe_min
        self.probe_max = probe_max
        self._probe_every = probe_min
        self.can_probe = True
        self.probe_notice: str | None = None

    @property
    def current(self) -> Follow | None:
        return self.follows[-1] if self.follows else None

    def find(self, local, remote) -> Follow | None:
        pair = (_norm(local), _norm(remote))
        for f in reversed(self.follows):
            if f.pair == pair:
                return f
        return None

    def start(self, local, remote, *, reused: bool, connected_t: float, connecting_t: float | None = None,
              proto: str | None = None) -> Follow:
        """The engine connected (or took ``local``→``remote`` from its pool)."""
        known = self.find(local, remote)
        if known is not None and reused and not known.done:
            known.add_use(True, connected_t, connected_t)
            self.follows.remove(known)
            self.follows.append(known)
            f = known
        else:
            connecting_t = connected_t if connecting_t is None else connecting_t
            f = Follow(local, remote, reused=reused, started=connecting_t, proto=proto)
            f.add_use(reused, connecting_t, connected_t)
            self.follows.append(f)
            del self.follows[:-self.keep]
        self._probe_every = self.probe_min
        return f

    def follow(self, exchange, *, connecting_t: float | None = None, connected_t: float | None = None,
               now: float | None = None) -> Follow | None:
        """``start`` for a finished exchange (its connection and timings)."""
        conn = getattr(exchange, "connection", None)
        if conn is None or conn.family not in ("AF_INET", "AF_INET6"):
            return None
        connecting_t, connected_t = _connect_times(exchange, connecting_t, connected_t, now)
        return self.start(conn.local, conn.remote, reused=conn.reused, connecting_t=connecting_t,
                          connected_t=connected_t, proto="tcp6" if conn.family == "AF_INET6" else "tcp")

    def live(self) -> list[Follow]:
        return [f for f in self.follows if f.live]

    def wanted(self) -> tuple[tuple, ...]:
        """Every 4-tuple worth looking up now."""
        return tuple(pair for f in self.live() for pair in f.wanted())

    def observe_states(self, states, t: float, source: str) -> list[Follow]:
        """Feed ``{pair: state or None}`` seen at monotonic ``t`` by ``source`` ("probe"
        or "scan"): the follows that changed.  A probe with no change backs the probing off."""
        changed = [f for f in self.live() if f.observe_states(states, t, source)]
        if changed:
            self._probe_every = self.probe_min
        elif source == "probe":
            self._probe_every = min(self.probe_max, self._probe_every * 2)
        return changed

    def observe_rows(self, rows, t: float) -> list[Follow]:
        """Feed a snapshot's rows (taken at monotonic ``t``): the follows that changed."""
        wanted = self.wanted()
        if not wanted:
            return []
        return self.observe_states(states_of(rows, wanted), t, "scan")

    def probe_failed(self, exc: Exception) -> None:
        """Probing is not possible here: say so once, and let the snapshots carry on."""
        self.can_probe = False
        self.probe_notice = f"direct state probes unavailable ({exc}); following by snapshots only"

    def probe(self, now: float | None = None) -> list[Follow]:
        """Ask the kernel for each wanted 4-tuple's state (one sock_diag query each):
        the follows that changed."""
        wanted = self.wanted()
        if not wanted or not self.can_probe:
            return []
        try:
            states = probe_states(wanted)
        except ProbeUnavailable as exc:
            self.probe_failed(exc)
            return []
        return self.observe_states(states, time.monotonic() if now is None else now, "probe")

    def next_probe_in(self) -> float | None:
        """Seconds until the next probe; None when there is nothing to probe."""
        if not self.can_probe or not self.live():
            return None
        return self._probe_every
