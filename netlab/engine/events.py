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

_dc = dataclass(frozen=True, slots=True, kw_only=True)


@_dc
class Event:
    t: float


@_dc
class Resolving(Event):
    name: str
    port: int


@_dc
class Resolved(Event):
    name: str
    addresses: tuple[str, ...]
    source: str  # literal | pin | hosts | dns | unix
    server: str | None
    elapsed_ms: float


@_dc
class Connecting(Event):
    address: str
    port: int
    family: str  # AF_INET | AF_INET6 | AF_UNIX


@_dc
class ConnectFailed(Event):
    address: str
    port: int
    message: str


@_dc
class Connected(Event):
    family: str
    local: tuple[str, int]
    remote: tuple[str, int]
    reused: bool
    rtt_ms: float | None


@_dc
class TLSDone(Event):
    version: str
    cipher: str
    alpn: str | None
    verified: bool


@_dc
class RequestSent(Event):
    nbytes: int


@_dc
class InformationalHead(Event):
    status: int
    reason: str


@_dc
class ResponseHead(Event):
    http_version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    framing: str


@_dc
class BodyChunk(Event):
    size: int
    total: int
    expected: int | None  # Content-Length when known


@_dc
class Complete(Event):
    status: int
    body_bytes: int
    total_ms: float


@_dc
class Failed(Event):
    phase: str
    message: str
