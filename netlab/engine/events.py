"""Engine events: one frozen value per step of an exchange, delivered in order.

Each event carries ``t``, a ``time.monotonic()`` timestamp taken when the step
happened, so a viewer can draw a waterfall from the events alone.  Events are
values (frozen, slotted, keyword-only), in the style of h11's ``_events.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Event",
    "Resolving",
    "Resolved",
    "Connecting",
    "ConnectFailed",
    "Connected",
    "TLSDone",
    "RequestSent",
    "InformationalHead",
    "ResponseHead",
    "BodyChunk",
    "Complete",
    "Failed",
]



@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    t: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolving(Event):
    name: str
    port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved(Event):
    name: str
    addresses: tuple[str, ...]
    source: str  # literal | pin | hosts | dns | unix
    server: str | None
    elapsed_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Connecting(Event):
    address: str
    port: int
    family: str  # AF_INET | AF_INET6 | AF_UNIX


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectFailed(Event):
    address: str
    port: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    family: str
    local: tuple[str, int]
    remote: tuple[str, int]
    reused: bool
    rtt_ms: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSDone(Event):
    version: str
    cipher: str
    alpn: str | None
    verified: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSent(Event):
    nbytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InformationalHead(Event):
    status: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseHead(Event):
    http_version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    framing: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyChunk(Event):
    size: int
    total: int
    expected: int | None  # Content-Length when known


@dataclass(frozen=True, slots=True, kw_only=True)
class Complete(Event):
    status: int
    body_bytes: int
    total_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(Event):
    phase: str
    message: str
