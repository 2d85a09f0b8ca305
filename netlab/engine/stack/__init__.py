"""The stack above the socket: the same GET through each layer of the seed's stack.

    from netlab.engine.stack import run_stack
    for result in run_stack("http://127.0.0.1:8080/echo"):
        result.client, result.requests, result.statuses, result.connections

``requests → urllib3 → urllib/http.client → socket``: each client that is installed
sends one GET its own default way, and what it really writes and reads at its sockets
is recorded in-process (netlab/engine/stack/record.py): the exact request bytes of each
request (redirects followed included), each response head, the connections opened.
For https the bytes are the plaintext at the TLS layer, with the TLS version and cipher
beside them.  urllib3 and requests are the optional extra ``netlab[stack]``; a missing
one is a result with an error saying how to install it.  No UI here."""

from __future__ import annotations

import time
from dataclasses import dataclass

from netlab.engine.request import Target, parse_target, with_scheme

from .record import Recorder
from .wire import WireResponse, header_marks, header_value, request_method, split_requests, split_responses

__all__ = ["CLIENT_NAMES", "MISSING_HINT", "REDIRECT_CODES", "StackResult", "header_marks", "run_client",
           "run_stack", "seed_request"]

CLIENT_NAMES = ("socket", "http.client", "urllib", "urllib3", "requests")  # bottom of the stack first
MISSING_HINT = "not installed: pip install 'netlab[stack]'"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_ENCODINGS = ("gzip", "x-gzip", "deflate", "br", "zstd", "compress")


@dataclass(frozen=True, slots=True, kw_only=True)
class StackResult:
    """One client's GET as it went over the wire."""

    client: str
    version: str | None  # None: not installed
    requests: tuple[bytes, ...]  # each request as written on the wire, in the order sent
    responses: tuple[bytes, ...]  # each response head (status line and headers) as read
    statuses: tuple[int, ...]
    connections: int
    redirects: int  # redirect responses the client followed with another request
    decompressed: bool  # the body handed back is not the content-coded body that came
    elapsed_ms: float
    error: str | None = None
    tls: tuple[tuple[str, str], ...] = ()  # (version, cipher) of each TLS connection
    unrecorded: int = 0  # connections on a socket object we could not watch

    def to_json(self) -> dict:
        tls = [{"version": v, "cipher": c} for v, c in self.tls]
        return {"client": self.client, "version": self.version,
                "requests": [r.decode("latin-1") for r in self.requests],
                "responses": [r.decode("latin-1") for r in self.responses],
                "statuses": list(self.statuses), "connections": self.connections, "redirects": self.redirects,
                "decompressed": self.decompressed, "elapsed_ms": round(self.elapsed_ms, 3), "error": self.error,
                "tls": tls or None}


def seed_request(target: Target) -> bytes:
    """The raw socket's request: what every other client's headers are marked against."""
    from .clients import seed_request as seed

    return seed(target)


def _exchanges(rec: Recorder) -> list[tuple[bytes, WireResponse | None]]:
    """Every (request, response) of every connection, in the order the requests were sent."""
    ordered: list[tuple[int, bytes, WireResponse | None]] = []
    for conn in rec.connections:
        written = conn.written
        starts = []  # (offset in the stream, order) of each write
        offset = 0
        for order, data in conn.writes:
            starts.append((offset, order))
            offset += len(data)
        requests = split_requests(written)
        responses = split_responses(conn.read, [request_method(r) for _, r in requests])
        for i, (at, request) in enumerate(requests):
            order = max(o for start, o in starts if start <= at)
            ordered.append((order, request, responses[i] if i < len(responses) else None))
    ordered.sort(key=lambda item: item[0])
    return [(request, response) for _, request, response in ordered]


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"


def run_client(name: str, url: str, target: Target, timeout: float) -> StackResult:
    """One client's GET of ``url`` (already parsed as ``target``)."""
    from .clients import CLIENTS

    version_of, runner = CLIENTS[name]
    try:
        version = version_of()
    except ImportError:
        return StackResult(client=name, version=None, requests=(), responses=(), statuses=(), connections=0,
                           redirects=0, decompressed=False, elapsed_ms=0.0, error=MISSING_HINT)
    rec = Recorder()
    body: bytes | None = None
    error = None
    start = time.perf_counter()
    try:
        body = runner(url, target, timeout, rec)
    except Exception as exc:  # any library's failure is this client's result, the others still run
        error = _error_text(exc)
    elapsed = (time.perf_counter() - start) * 1000
    pairs = _exchanges(rec)
    responses = [resp for _, resp in pairs if resp is not None]
    redirects = sum(1 for resp in responses[:-1] if resp.status in REDIRECT_CODES)
    decompressed = False
    if body is not None and responses:
        last = responses[-1]
        coding = (header_value(last.head, "Content-Encoding") or "").lower()
        decompressed = any(e in coding for e in _ENCODINGS) and body not in (last.body, last.framed)
    return StackResult(client=name, version=version, requests=tuple(req for req, _ in pairs),
                       responses=tuple(resp.head for resp in responses),
                       statuses=tuple(resp.status for resp in responses if resp.status is not None),
                       connections=len(rec.connections), redirects=redirects, decompressed=decompressed,
                       elapsed_ms=elapsed, error=error, tls=tuple(c.tls for c in rec.connections if c.tls),
                       unrecorded=sum(1 for c in rec.connections if not c.recorded))


def run_stack(url: str, timeout: float = 10.0, clients: tuple[str, ...] = CLIENT_NAMES) -> list[StackResult]:
    """The GET of ``url`` through each client, bottom of the stack first.  A bad URL is a
    NetlabError('usage') before anything is sent."""
    target = parse_target(url)
    full = with_scheme(url.strip())
    return [run_client(name, full, target, timeout) for name in clients]
