"""What a connection table shows and in which order: ``ViewSpec`` (filter and sort),
the sort keys and ``filter_sort``, shared by ``netlab conns`` and the TUI's table
(whose live, incrementally sorted form is ``table.ConnTable``)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from netlab.engine.netstat.snapshot import STATE_RANK, ConnRow, format_addr

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
        return (STATE_RANK.get(row.state, len(STATE_RANK)), row.state)
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
