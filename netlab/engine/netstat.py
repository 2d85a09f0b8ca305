"""The connection table, like ``netstat``/``ss``: a psutil snapshot as rows, the
difference between two snapshots, and which rows are netlab's own sockets.

One ``snapshot()`` makes one ``psutil.net_connections`` call and one
``psutil.process_iter(["name"])`` pass for the process names (never one call per
row).  Where the system does not let us list every process's sockets
(``psutil.AccessDenied``, e.g. macOS without root) it falls back to this process's
own sockets and says so in ``Snapshot.notice``.

Rows are keyed by ``(proto, local, remote, pid)``: a socket that moves from
ESTABLISHED to CLOSE_WAIT keeps its key (a *changed* row); one that the process closes
and that lingers in TIME_WAIT loses its pid (the kernel owns it now), so it shows as
removed plus added.  Unix paths and process names are untrusted text: show them
escaped (netlab.engine.text.safe_text).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from dataclasses import dataclass

import psutil

__all__ = ["ConnRow", "Snapshot", "snapshot", "diff", "is_own", "format_addr", "by_key"]

_PROTO = {
    (socket.AF_INET, socket.SOCK_STREAM): "tcp",
    (socket.AF_INET6, socket.SOCK_STREAM): "tcp6",
    (socket.AF_INET, socket.SOCK_DGRAM): "udp",
    (socket.AF_INET6, socket.SOCK_DGRAM): "udp6",
}


@dataclass(frozen=True, slots=True)
class ConnRow:
    proto: str  # tcp | tcp6 | udp | udp6 | unix
    local: tuple[str, int]  # unix: (path, 0)
    remote: tuple[str, int] | None
    state: str  # psutil status: ESTABLISHED, LISTEN, TIME_WAIT, ... NONE
    pid: int | None
    process: str | None

    @property
    def key(self) -> tuple:
        return (self.proto, self.local, self.remote, self.pid)


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
                   names.get(pid) if pid is not None else None)


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
    added = [row for key, row in new.items() if key not in old]
    removed = [key for key in old if key not in new]
    changed = [row for key, row in new.items() if key in old and old[key] != row]
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


def format_addr(addr) -> str:
    """``127.0.0.1:80``, ``[::1]:80``, a Unix path, or ``*`` for no address."""
    if addr is None or addr == ():
        return "*"
    host, port = addr[0], addr[1]
    if isinstance(host, bytes):
        host = host.decode("utf-8", "backslashreplace")
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:  # a Unix socket path (unnamed ones have none)
        return host if host else "(unnamed)"
    port_text = str(port) if port else "*"
    return f"[{host.strip('[]')}]:{port_text}" if ip.version == 6 else f"{host}:{port_text}"
