"""The connection table now, like ``netstat``/``ss``: a psutil snapshot as rows, the
difference between two snapshots, which rows are netlab's own sockets, the TCP state
names, and when to take the next snapshot.

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

``ScanPacer``: one scan at a time, the next one an interval after the last ended,
backing off when scans are slow (pure bookkeeping, no threads).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from dataclasses import dataclass

import psutil

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


def norm_addr(addr) -> tuple[str, int] | None:
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
    pair = (norm_addr(row.local), norm_addr(row.remote))
    if pair in own:
        return True
    return any((norm_addr(local), norm_addr(remote)) == pair for local, remote in own)


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
STATE_RANK = {s: i for i, s in enumerate(STATES + _OTHER_STATES)}
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
    if s not in STATE_RANK:
        raise ValueError(f"unknown TCP state {text!r} (one of: {', '.join(STATES)})")
    return s


def state_counts(rows) -> dict[str, int]:
    """``{state: count}`` in STATES order (states with no rows left out)."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.state] = counts.get(r.state, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: STATE_RANK.get(kv[0], len(STATE_RANK))))


# ----------------------------------------------------------------------- own sockets


def own_keys(rows, own: set[tuple[tuple[str, int], tuple[str, int]]]) -> frozenset[tuple]:
    """The keys of the rows that are ours (as ``is_own``), for a whole table at once:
    the ``own`` pairs are normalised once and only rows whose two ports match one of
    them are looked at closely, so 20,000 rows cost a few milliseconds."""
    if not own:
        return frozenset()
    pairs = {(norm_addr(local), norm_addr(remote)) for local, remote in own}
    ports = {(lp[1], rp[1]) for lp, rp in pairs if lp and rp}
    found = []
    for r in rows:
        rem = r.remote
        if rem is None or (r.local[1], rem[1]) not in ports:
            continue
        if (norm_addr(r.local), norm_addr(rem)) in pairs:
            found.append(r.key)
    return frozenset(found)




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
