"""What the lab server sends: a response's head and its body, framed one of three ways.

A body is framed by Content-Length, by chunked encoding (with a trailer), or by closing
the connection; ``send_response`` picks the framing a request allows (an HTTP/1.0
client gets close instead of chunked) and writes it with ``sendall()``. The body of
``/bytes/N`` is deterministic, so a client can check every byte it received:
``lab_bytes(n)``.
"""

from __future__ import annotations

import email.utils
import hashlib
import http
import json
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .request import LabRequest

SERVER_SOFTWARE = "netlab-lab/0.1"
BLOCK_SIZE = 64 * 1024  # /bytes repeats one block of this size; chunk size
SEND_SIZE = 256 * 1024  # bodies go to sendall() in pieces of about this size

# SHA-256 of b"netlab-lab 0", b"netlab-lab 1", ...: easy to reproduce anywhere.
_BLOCK = b"".join(hashlib.sha256(b"netlab-lab %d" % i).digest() for i in range(BLOCK_SIZE // 32))
_SEND_BLOCK = _BLOCK * (SEND_SIZE // BLOCK_SIZE)


def iter_lab_bytes(n: int, piece: int = SEND_SIZE) -> Iterator[memoryview]:
    """The first n bytes /bytes/N sends, in pieces of at most ``piece`` bytes.

    Byte i is ``_BLOCK[i % BLOCK_SIZE]``; ``piece`` must be a multiple of BLOCK_SIZE
    (or at most BLOCK_SIZE) so that every piece starts at a block boundary.
    """
    source = memoryview(_SEND_BLOCK if piece > BLOCK_SIZE else _BLOCK)
    piece = min(piece, len(source))
    while n > 0:
        size = min(n, piece)
        yield source[:size]
        n -= size


def lab_bytes(n: int) -> bytes:
    """The body of /bytes/N as one bytes object (for tests and small N)."""
    return b"".join(iter_lab_bytes(n))


@dataclass(slots=True)
class Response:
    status: int
    body: bytes | Iterable[bytes | memoryview] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None  # Content-Length when body is an iterable
    framing: str = "length"  # "length", "chunked" or "close"
    trailers: list[tuple[str, str]] = field(default_factory=list)  # chunked only
    flush_each: bool = False  # send every piece of the body as soon as it is made


def reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Status"


def error_text(status: int, why: str) -> str:
    return f"{status} {reason(status)}: {why}\n"


def text(status: int, body: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(
        status, body.encode(), [("Content-Type", "text/plain; charset=utf-8"), *headers]
    )


def json_body(data: object) -> bytes:
    return (json.dumps(data) + "\n").encode()


def has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


def response_head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {reason(status)}",
        f"Server: {SERVER_SOFTWARE}",
        f"Date: {email.utils.formatdate(usegmt=True)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send_response(
    conn: socket.socket, request: LabRequest, response: Response, stopping: threading.Event
) -> bool:
    """Send the response; True if the connection stays open for another request."""
    status = response.status
    framing = response.framing if has_body(status) else "none"
    if framing == "chunked" and request.version == "HTTP/1.0":
        framing = "close"  # HTTP/1.0 clients do not know chunked
    keep_alive = (
        request.keep_alive and framing != "close" and status >= 200
        and not stopping.is_set()
    )
    out = bytearray(response_head(status, _framed_headers(request, response, framing, keep_alive)))
    if framing != "none" and request.method != "HEAD":
        _write_body(conn, out, response, framing)
    if out:
        conn.sendall(out)
    return keep_alive


def _framed_headers(
    request: LabRequest, response: Response, framing: str, keep_alive: bool
) -> list[tuple[str, str]]:
    """The response's headers plus those its framing and the connection's fate call for."""
    headers = list(response.headers)
    body = response.body
    if framing == "length":
        length = len(body) if isinstance(body, bytes) else response.length
        headers.append(("Content-Length", str(length)))
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        if response.trailers:
            headers.append(("Trailer", ", ".join(name for name, _ in response.trailers)))
    if not keep_alive:
        headers.append(("Connection", "close"))
    elif request.version == "HTTP/1.0":
        headers.append(("Connection", "keep-alive"))
    return headers


def _write_body(conn: socket.socket, out: bytearray, response: Response, framing: str) -> None:
    """Append the framed body to ``out`` (which holds the head), sending whenever it has
    grown to SEND_SIZE (or after every piece, with ``flush_each``); a large piece with
    nothing before it goes to sendall() as it is, uncopied. Leaves the rest in ``out``."""
    body = response.body
    pieces = [body] if isinstance(body, bytes) else body
    for piece in pieces:
        if not piece:
            continue
        if framing == "chunked":
            out += b"%x\r\n" % len(piece)
            out += piece
            out += b"\r\n"
        elif not out and len(piece) >= SEND_SIZE:
            conn.sendall(piece)
            continue
        else:
            out += piece
        if response.flush_each or len(out) >= SEND_SIZE:
            conn.sendall(out)
            out.clear()
    if framing == "chunked":
        out += b"0\r\n"
        out += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in response.trailers)
        out += b"\r\n"
