"""Following one connection through its TCP states: ``Follow``/``StateTracker`` record
a connection's states with timestamps, from the engine's own connect() times, from
snapshots (``states_of``), and from ``sockdiag.tcp_state`` probes in between."""

from __future__ import annotations

import time
from dataclasses import dataclass

from netlab.engine.netstat.snapshot import GONE, ConnRow, norm_addr
from netlab.engine.netstat.sockdiag import ProbeUnavailable, probe_states


def states_of(rows, pairs) -> dict[tuple, str | None]:
    """``{(local, remote): state or None}`` for each pair, from a snapshot's rows
    (matched by TCP 4-tuple whatever the pid; None: not in the snapshot)."""
    wanted = {(norm_addr(a), norm_addr(b)): (a, b) for a, b in pairs}
    found: dict[tuple, str | None] = {pair: None for pair in pairs}
    if not wanted:
        return found
    ports = {(a[1], b[1]) for a, b in wanted if a and b}
    for r in rows:
        rem = r.remote
        if rem is None or (r.local[1], rem[1]) not in ports or r.proto not in ("tcp", "tcp6"):
            continue
        pair = wanted.get((norm_addr(r.local), norm_addr(rem)))
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
        self.local = norm_addr(local) or ("", 0)
        self.remote = norm_addr(remote) or ("", 0)
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
            (norm_addr(row.local), norm_addr(row.remote)) == (self.local, self.remote)

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
        pair = (norm_addr(local), norm_addr(remote))
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
