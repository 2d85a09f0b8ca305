"""The built-in loopback lab server: the other side of the lab.

The rest of netlab shows what a client does under ``requests.get()``. This module is
the peer it talks to when there is no network, and what ``netlab serve`` runs. It is
written against the plain socket API so each server-side step shows in the code:

    socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen(128)
    accept() -> recv() until the blank line that ends the head -> recv() the body
    sendall() the response -> wait for the next request on the same connection, or close

It speaks HTTP/1.1 with keep-alive. It parses requests itself, strictly as RFC 9112
asks of a server (bare LF line endings and HTTP/1.0 are accepted; what sections 2.2, 3,
5, 6 and 7 say to reject - a folded or space-before-colon header, a bare CR, a NUL, an
ambiguous body length, no Host - gets 400 and the connection is closed), and keeps the
exact bytes it received so that ``/echo`` can return them. Its endpoints cover every
way a response body can be framed: Content-Length, chunked (with a trailer), and ended
by closing the connection.

    /                 a plain-text hello listing the endpoints
    /ip               the client's IP address and "\\n" (like icanhazip.com)
    /echo             the request exactly as received (head and body), any method
    /headers          the request headers as JSON, in order, duplicates kept
    /status/CODE      that status (100-599); 3xx adds ``Location: /``
    /bytes/N          N deterministic bytes, streamed; ?chunked=1 or ?close=1
    /stream/N         N JSON lines, one chunk each, trailer X-Lines; ?delay_ms=M
    /slow/MS          waits MS milliseconds (at most 60000), then answers
    /redirect/N       302 to /redirect/N-1 ... /redirect/0 answers 200 "done"
    /gzip, /deflate   a JSON body compressed with gzip or zlib deflate

One thread serves each connection, up to ``max_connections``. When they are all taken,
a new connection takes the place of one that is only waiting (nginx reuses its idle
connections the same way): an idle keep-alive connection first (closed quietly), else
the new or head-reading one with the lowest byte rate (it gets 503); only when every
slot is busy (a body arriving, a response being sent) does the new connection get
``503``. So clients trickling bytes, or sending none, cannot lock a prompt client out.
A request head or body larger than
``max_request_bytes`` gets 431 or 413; a connection idle between requests for
``idle_timeout`` seconds is closed; a request head not complete ``header_timeout``
seconds after its first byte, or a whole request ``request_timeout`` seconds after it,
gets 408.

It uses only the standard library and binds 127.0.0.1 by default. It binds a loopback
address (127.0.0.0/8, ::1, "localhost") unless it is given another *IP address* and
``public=True``: anything else raises ``BindRefused`` before a socket is made. Usage::

    with LabServer() as server:
        urllib.request.urlopen(server.url + "/ip")
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import heapq
import http
import ipaddress
import json
import re
import selectors
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO, cast
from urllib.parse import parse_qsl, urlsplit

try:  # POSIX: the count of bytes waiting on a socket (LabServer's eviction choice)
    import fcntl
    import termios
except ImportError:  # pragma: no cover - elsewhere the count is taken as 0
    pass

__all__ = [
    "BLOCK_SIZE",
    "BindRefused",
    "LabRequest",
    "LabServer",
    "MAX_BYTES",
    "SERVER_SOFTWARE",
    "bind_address",
    "is_loopback",
    "iter_lab_bytes",
    "lab_bytes",
    "run",
]

SERVER_SOFTWARE = "netlab-lab/0.1"
MAX_BYTES = 8 << 30  # /bytes/N: at most 8 GiB
MAX_STREAM_LINES = 100_000
MAX_DELAY_MS = 60_000  # /slow/MS and /stream?delay_ms=M are capped here
MAX_REDIRECTS = 1_000
BLOCK_SIZE = 64 * 1024  # /bytes repeats one block of this size; chunk size
SEND_SIZE = 256 * 1024  # bodies go to sendall() in pieces of about this size
RECV_SIZE = 64 * 1024
MAX_LINE = 64 * 1024  # a chunk-size or trailer line
LINGER_SECONDS = 2.0  # after the last response: how long to read what the client sends
HEADER_TIMEOUT = 10.0  # a request head, from its first byte (nginx: client_header_timeout)

# SHA-256 of b"netlab-lab 0", b"netlab-lab 1", ...: easy to reproduce anywhere.
_BLOCK = b"".join(hashlib.sha256(b"netlab-lab %d" % i).digest() for i in range(BLOCK_SIZE // 32))
_SEND_BLOCK = _BLOCK * (SEND_SIZE // BLOCK_SIZE)

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(r"\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(r"([^ ]+) ([^ ]+) ([^ ]+)")  # exactly one SP between (RFC 9112 3)
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters other than HTAB
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.%~_\-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")
_HEAD_TAIL = re.compile(r"\r?\n\r?\n\Z")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;[^\x00-\x08\x0a-\x1f\x7f]*)?\r?\n")
_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
_DIGITS = re.compile(r"[0-9]{1,20}")
_TRUE = {"", "1", "true", "yes", "on"}


def is_loopback(host: str) -> bool:
    """True for "localhost", 127.0.0.0/8 and ::1 (brackets and an IPv6 zone allowed)."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class BindRefused(ValueError):
    """The lab server will not bind this host: ``reason`` is "not-loopback" (an address
    other machines can reach, without ``public=True``) or "not-an-address" (a host name
    other than localhost: the server does not ask a resolver what to bind)."""

    def __init__(self, host: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.host = host
        self.reason = reason


def bind_address(host: str, public: bool = False) -> str:
    """The address the lab server binds for ``host``; raises BindRefused.

    "localhost" is 127.0.0.1 (as curl treats it, without asking a resolver). Any other
    host must be an IP address; one that is not loopback needs ``public=True``."""
    text = host.strip()
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if bare.rstrip(".").lower() == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        raise BindRefused(host, "not-an-address",
                          f"{host!r} is not an IP address (give an address such as 127.0.0.1, ::1, "
                          "0.0.0.0, or localhost)") from None
    if not public and not is_loopback(bare):
        raise BindRefused(host, "not-loopback",
                          f"{bare} is not a loopback address: other machines could reach the lab "
                          "server there")
    return bare


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


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True, kw_only=True)
class LabRequest:
    """One request as the lab server received it."""

    method: str
    target: str  # as in the request line
    path: str  # the target's path ("/bytes/10")
    query: tuple[tuple[str, str], ...]  # the target's query, decoded, in order
    version: str  # "HTTP/1.1", "HTTP/1.0"
    headers: tuple[tuple[str, str], ...]  # as received: order, case and duplicates kept
    body: bytes  # decoded (chunked framing removed)
    raw: bytes  # head and body exactly as on the wire
    client: tuple  # the peer address from accept()
    force_close: bool = False  # close after the response whatever the headers say

    def header(self, name: str) -> str | None:
        """The values of header ``name`` joined by ", ", or None."""
        return _header(self.headers, name)

    def params(self, name: str) -> list[str]:
        """The values of query parameter ``name``."""
        return [value for key, value in self.query if key == name]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("Connection") or "").split(",")}
        if self.force_close or "close" in tokens:
            return False
        return self.version != "HTTP/1.0" or "keep-alive" in tokens


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name.lower()]
    return ", ".join(values) if values else None


class _HTTPError(Exception):
    """A request the server answers with an error status (a bad request, or bad input)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _PeerClosed(Exception):
    """The client closed its side of the connection."""


class _Evicted(Exception):
    """The server took this connection's slot for a new connection (see LabServer)."""


# What a connection is doing, as the accept thread sees it when every slot is taken.
# The first three can give up their slot; "busy" (reading a body, answering) cannot.
_CLOSING, _IDLE, _NEW, _HEAD, _BUSY = "closing", "idle", "new", "head", "busy"
_EVICTION_ORDER = {_CLOSING: 0, _IDLE: 1, _NEW: 2, _HEAD: 2}
RATE_FLOOR = 1.0  # seconds: a head's byte rate is bytes / max(its age, this)


class _Reader:
    """Reads requests from one connection; keeps the exact bytes of the current one.

    It also says what the connection is doing (``phase``, since ``since``) so that a
    full server can pick which connection to evict; ``evict()`` (under ``lock``) ends
    the wait of one that is only waiting, and the phase changes check for it under the
    same lock, so a connection is never evicted once its head is in."""

    def __init__(
        self, sock: socket.socket, limit: int, idle_timeout: float = 15.0,
        request_timeout: float | None = None, header_timeout: float | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.sock = sock
        self.limit = limit
        self.idle_timeout = idle_timeout  # what the socket's timeout is between requests
        self.request_timeout = request_timeout  # a whole request, from its first byte
        self.header_timeout = header_timeout  # a request head, from its first byte
        self.deadline: float | None = None  # while a request is arriving (monotonic)
        self.head_deadline: float | None = None  # while its head is arriving
        self.shortened = False  # the socket's timeout was cut down to meet the deadline
        self.buf = bytearray()  # received, not yet consumed (may hold pipelined requests)
        self.raw = bytearray()  # consumed bytes of the current request
        self.lock = lock if lock is not None else threading.Lock()
        self.phase = _NEW
        self.since = time.monotonic()  # when the current phase began (for _NEW: accept)
        self.evicted = False
        self.received = 0  # bytes of the current head read so far (for _NEW: since accept)
        self.unread = 0  # bytes the accept thread last saw waiting in the kernel, not yet read

    def progress(self, now: float) -> float:
        """Bytes per second of the head arriving now (the slowest is evicted first)."""
        return (self.received + self.unread) / max(now - self.since, RATE_FLOOR)

    def peek_unread(self) -> int:
        """How many bytes the client sent that this thread has not read yet (it may be
        waiting for the CPU); remembered for progress(). The kernel's count (FIONREAD):
        it never blocks and never takes the bytes (recv(MSG_PEEK) on a socket with a
        timeout would wait for data first)."""
        try:
            count = fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
            self.unread = struct.unpack("i", count)[0]
        except (OSError, NameError):  # closed, or no fcntl/termios here (not POSIX)
            self.unread = 0
        return self.unread

    # -- eviction

    def set_phase(self, phase: str) -> None:
        """Enter ``phase``; raises _Evicted if the server has taken this slot."""
        with self.lock:
            if self.evicted:
                raise _Evicted
            if not (self.phase == _NEW and phase == _HEAD):  # a new connection ranks by accept
                self.since = time.monotonic()
                self.received, self.unread = len(self.buf), 0
            self.phase = phase

    def closing(self) -> None:
        """The response that ends the connection is sent: the slot can go at any time."""
        with self.lock:
            self.phase, self.since = _CLOSING, time.monotonic()

    def evict(self) -> None:
        """Called with ``lock`` held: wake the owning thread's recv() and make it give up."""
        self.evicted = True
        try:
            self.sock.shutdown(socket.SHUT_RD)  # a blocked recv() returns b"" at once
        except OSError:
            pass

    # -- reading

    def _limit(self) -> tuple[float, str] | None:
        """The deadline in force now, and the reason a 408 gives when it passes."""
        limits = []
        if self.deadline is not None:
            limits.append((self.deadline,
                           f"the request did not arrive within {self.request_timeout:g} s"))
        if self.head_deadline is not None:
            limits.append((self.head_deadline,
                           f"the request head did not arrive within {self.header_timeout:g} s"))
        return min(limits) if limits else None

    def _fill(self) -> None:
        limit = self._limit()
        if limit is not None:
            left = limit[0] - time.monotonic()
            if left <= 0:
                raise _HTTPError(408, limit[1])
            if left < self.idle_timeout:
                self.sock.settimeout(left)
                self.shortened = True
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            if self.shortened and limit is not None and time.monotonic() >= limit[0]:
                raise _HTTPError(408, limit[1]) from None
            raise
        if self.evicted:
            raise _Evicted
        if not data:
            raise _PeerClosed
        self.buf += data
        self.received += len(data)
        self.unread = 0

    def _take(self, n: int) -> bytes:
        data = bytes(self.buf[:n])
        del self.buf[:n]
        self.raw += data
        return data

    def _unshorten(self) -> None:
        if self.shortened:
            self.sock.settimeout(self.idle_timeout)
            self.shortened = False

    def wait_for_request(self) -> bool:
        """Wait for the first byte of a request; False if the client closed or went idle.

        Empty lines before a request line are skipped (RFC 9112 section 2.2). From the
        first byte on, the head must arrive within ``header_timeout`` and the whole
        request within ``request_timeout``.
        """
        self.raw = bytearray()
        self.deadline = self.head_deadline = None
        self._unshorten()
        if self.phase != _NEW:
            self.set_phase(_IDLE)
        while True:
            while self.buf[:1] in (b"\r", b"\n"):
                del self.buf[:1]
            if self.buf:
                self.set_phase(_HEAD)
                now = time.monotonic()
                if self.request_timeout is not None:
                    self.deadline = now + self.request_timeout
                if self.header_timeout is not None:
                    self.head_deadline = now + self.header_timeout
                return True
            try:
                self._fill()
            except (_PeerClosed, TimeoutError):
                return False

    def read_request(self, client: tuple) -> LabRequest:
        """Read one whole request (head and body); raises _HTTPError if it is bad."""
        head = self._read_head()
        self.set_phase(_BUSY)  # the head is in: from here on the slot is not taken away
        self.head_deadline = None
        method, target, version, headers = _parse_head(head)
        path, query = _split_target(target)
        body, force_close = self._read_body(version, headers)
        self.deadline = None  # the request is in: the response is written under idle_timeout
        self._unshorten()
        return LabRequest(
            method=method, target=target, path=path, query=query, version=version,
            headers=headers, body=body, raw=bytes(self.raw), client=client,
            force_close=force_close,
        )

    def _read_head(self) -> bytes:
        searched = 0
        while True:
            match = _HEAD_END.search(self.buf, max(0, searched - 3))
            if match:
                if match.end() > self.limit:
                    break
                return self._take(match.end())
            if len(self.buf) > self.limit:
                break
            searched = len(self.buf)
            try:
                self._fill()
            except _PeerClosed:
                raise _HTTPError(400, "connection closed before the end of the request head") from None
        raise _HTTPError(431, f"request head larger than {self.limit} bytes")

    def _read_body(
        self, version: str, headers: tuple[tuple[str, str], ...]
    ) -> tuple[bytes, bool]:
        """The body, and whether the connection must close after the response.

        RFC 9112 section 6: a Transfer-Encoding with a Content-Length, in an HTTP/1.0
        request, or whose last coding is not chunked, and Content-Length values that
        differ or are not a number, make the body's length uncertain: 400 (nginx does
        the same). Codings other than chunked get 501, as in nginx."""
        transfer_encoding = _header(headers, "Transfer-Encoding")
        content_length = _header(headers, "Content-Length")
        expect_continue = "100-continue" in (_header(headers, "Expect") or "").lower()
        if transfer_encoding is not None:
            if content_length is not None:
                raise _HTTPError(400, "both Transfer-Encoding and Content-Length: the body's "
                                      "length is ambiguous (RFC 9112 section 6.3)")
            if version == "HTTP/1.0":
                raise _HTTPError(400, "Transfer-Encoding in an HTTP/1.0 request")
            codings = [c.strip(" \t").lower() for c in transfer_encoding.split(",")]
            codings = [c for c in codings if c]
            if not codings or codings[-1] != "chunked":
                raise _HTTPError(400, f"Transfer-Encoding does not end with chunked: "
                                      f"{transfer_encoding[:200]}")
            if codings.count("chunked") > 1:
                raise _HTTPError(400, f"chunked applied more than once: {transfer_encoding[:200]}")
            if len(codings) > 1:
                raise _HTTPError(501, f"unsupported transfer coding: {transfer_encoding[:200]}")
            if expect_continue:
                self._send_continue()
            return self._read_chunked(), False
        if content_length is None:
            return b"", False
        values = {v.strip(" \t") for v in content_length.split(",")}
        if len(values) != 1 or not _DIGITS.fullmatch(value := values.pop()):
            raise _HTTPError(400, f"bad Content-Length: {content_length[:200]}")
        length = int(value)
        if length > self.limit:
            raise _HTTPError(413, f"request body larger than {self.limit} bytes")
        if length and expect_continue and version != "HTTP/1.0":
            self._send_continue()
        return self._read_exact(length), False

    def _send_continue(self) -> None:
        """Tell a client waiting on "Expect: 100-continue" to send the body."""
        if not self.buf:
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            try:
                self._fill()
            except _PeerClosed:
                raise _HTTPError(400, "connection closed before the end of the request body") from None
        return self._take(n)

    def _read_line(self) -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > MAX_LINE:
                raise _HTTPError(400, f"chunk or trailer line longer than {MAX_LINE} bytes")
            try:
                self._fill()
            except _PeerClosed:
                raise _HTTPError(400, "connection closed inside a chunked request body") from None
        return self._take(end + 1)

    def _read_chunked(self) -> bytes:
        """A chunked body (RFC 9112 section 7.1), strictly: a chunk-size line is hex digits
        and optional extensions (no leading space, no bare CR or other control
        character), chunk data ends with CRLF (or LF), trailer lines are field lines."""
        start = len(self.raw)
        body = bytearray()
        while True:
            line = self._read_line()
            if not (match := _CHUNK_LINE.fullmatch(line)):
                raise _HTTPError(400, f"bad chunk-size line: {line[:40]!r}")
            size = int(match.group(1), 16)
            if size == 0:
                break
            if len(body) + size > self.limit:
                raise _HTTPError(413, f"request body larger than {self.limit} bytes")
            body += self._read_exact(size)
            if self._read_line() not in (b"\r\n", b"\n"):
                raise _HTTPError(400, "chunk data not followed by a line end")
        while (line := self._read_line()) not in (b"\r\n", b"\n"):  # trailer fields: kept in raw
            if len(self.raw) - start > 2 * self.limit:
                raise _HTTPError(413, "chunked request body too large on the wire")
            _parse_field_line(line.decode("latin-1").removesuffix("\n").removesuffix("\r"))
        return bytes(body)


def _split_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and query of a request target (origin-form "/a?b" or absolute-form)."""
    try:
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as error:
        raise _HTTPError(400, f"malformed request target: {error}") from None
    path = parts.path or ("/" if parts.scheme else target)
    return path, tuple(query)


def _parse_field_line(line: str) -> tuple[str, str]:
    """One header (or trailer) field line, as RFC 9110 5 and RFC 9112 5 allow it."""
    if line[:1] in (" ", "\t"):  # obs-fold, or whitespace before the first field
        raise _HTTPError(400, f"folded header line (obsolete line folding is not accepted): "
                              f"{line[:200]!r}")
    name, colon, value = line.partition(":")
    if not colon:
        raise _HTTPError(400, f"header line without a colon: {line[:200]!r}")
    if not _TOKEN.fullmatch(name):
        what = "whitespace before the colon" if name.rstrip(" \t") != name else "invalid field name"
        raise _HTTPError(400, f"{what}: {name[:200]!r}")
    value = value.strip(" \t")
    if bad := _CTL.search(value):
        char = {"\x00": "NUL", "\r": "a bare CR"}.get(bad.group(), repr(bad.group()))
        raise _HTTPError(400, f"{char} in the value of header {name[:100]!r}")
    return name, value


def _parse_head(head: bytes) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    """Request line and header fields from a head; strict (RFC 9112 sections 2-5),
    raises _HTTPError(400/505). Lines may end in CRLF or a bare LF (section 2.2)."""
    text = _HEAD_TAIL.sub("", head.decode("latin-1"), count=1)
    lines = _LINE_END.split(text)
    if any("\r" in line for line in lines):
        raise _HTTPError(400, "a bare CR (not followed by LF) in the request head")
    if not (match := _REQUEST_LINE.fullmatch(lines[0])):
        raise _HTTPError(400, f"malformed request line (METHOD SP TARGET SP VERSION): "
                              f"{lines[0][:200]!r}")
    method, target, version = match.groups()
    if not _TOKEN.fullmatch(method):
        raise _HTTPError(400, f"malformed method: {method[:40]!r}")
    if not (version_match := _VERSION.fullmatch(version)):
        raise _HTTPError(400, f"malformed HTTP version: {version[:40]!r}")
    if _CTL.search(target) or "\t" in target:
        raise _HTTPError(400, f"control character in the request target: {target[:200]!r}")
    if not (target.startswith("/") or _ABSOLUTE.match(target)
            or (method == "OPTIONS" and target == "*") or method == "CONNECT"):
        raise _HTTPError(400, f"request target is not a path (/...) or an absolute URL: "
                              f"{target[:200]!r}")
    if version_match.group(1) != "1":
        raise _HTTPError(505, f"HTTP version not supported: {version}")
    headers = tuple(_parse_field_line(line) for line in lines[1:])
    hosts = [value for name, value in headers if name.lower() == "host"]
    if len(hosts) > 1:
        raise _HTTPError(400, "more than one Host header (RFC 9112 section 3.2)")
    if not hosts and version != "HTTP/1.0":
        raise _HTTPError(400, "no Host header: HTTP/1.1 requires one (RFC 9112 section 3.2)")
    if hosts and not _HOST.fullmatch(hosts[0]):
        raise _HTTPError(400, f"invalid Host header: {hosts[0][:200]!r}")
    return method, target, version, headers


# -------------------------------------------------------------------------- responses


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes | Iterable[bytes | memoryview] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None  # Content-Length when body is an iterable
    framing: str = "length"  # "length", "chunked" or "close"
    trailers: list[tuple[str, str]] = field(default_factory=list)  # chunked only
    flush_each: bool = False  # send every piece of the body as soon as it is made


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Status"


def _error_text(status: int, reason: str) -> str:
    return f"{status} {_reason(status)}: {reason}\n"


def _text(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    return _Response(
        status, text.encode(), [("Content-Type", "text/plain; charset=utf-8"), *headers]
    )


def _json(data: object) -> bytes:
    return (json.dumps(data) + "\n").encode()


def _has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


# --------------------------------------------------------------------------- handlers
# Each handler takes (request, path argument, stop event) and returns a _Response.
# Bad input raises _HTTPError; the server answers it and keeps the connection.

_HELLO = """\
netlab lab server ({software}) - the other side of the lab.

  /               this text
  /ip             your IP address
  /echo           your request, byte for byte (any method)
  /headers        your request headers as JSON
  /status/CODE    a response with that status code
  /bytes/N        N deterministic bytes (?chunked=1, ?close=1)
  /stream/N       N JSON lines, chunked, with a trailer (?delay_ms=M)
  /slow/MS        answers after MS milliseconds
  /redirect/N     N redirects, then "done"
  /gzip           a gzip-compressed JSON body
  /deflate        a deflate-compressed JSON body
"""


def _int_arg(text: str, what: str, maximum: int) -> int:
    if not _DIGITS.fullmatch(text):
        raise _HTTPError(400, f"{what} must be a whole number, got {text[:40]!r}")
    value = int(text)
    if value > maximum:
        raise _HTTPError(400, f"{what} must be at most {maximum}, got {value}")
    return value


def _flag(request: LabRequest, name: str) -> bool:
    return any(value.lower() in _TRUE for value in request.params(name))


def _wait(stop: threading.Event, milliseconds: int) -> None:
    """Sleep, but give up the response if the server is stopping meanwhile."""
    if milliseconds and stop.wait(milliseconds / 1000):
        raise ConnectionAbortedError("lab server stopping")


def _hello(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    return _text(200, _HELLO.format(software=SERVER_SOFTWARE))


def _ip(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    return _text(200, f"{request.client[0]}\n")


def _echo(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    return _Response(200, request.raw, [("Content-Type", "application/octet-stream")])


def _headers(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    body = _json({"headers": [list(pair) for pair in request.headers]})
    return _Response(200, body, [("Content-Type", "application/json")])


def _status(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    if not _DIGITS.fullmatch(arg) or not 100 <= int(arg) <= 599:
        raise _HTTPError(400, f"status code must be 100-599, got {arg[:40]!r}")
    status = int(arg)
    headers = [("Location", "/")] if 300 <= status < 400 else []
    if not _has_body(status):
        return _Response(status, b"", headers)
    return _text(status, f"{status} {_reason(status)}\n", headers)


def _bytes(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    n = _int_arg(arg, "N", MAX_BYTES)
    chunked, close = _flag(request, "chunked"), _flag(request, "close")
    if chunked and close:
        raise _HTTPError(400, "choose one of chunked=1 and close=1")
    framing = "chunked" if chunked else "close" if close else "length"
    piece = BLOCK_SIZE if chunked else SEND_SIZE
    return _Response(
        200, iter_lab_bytes(n, piece), [("Content-Type", "application/octet-stream")],
        length=n, framing=framing,
    )


def _stream(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    n = _int_arg(arg, "N", MAX_STREAM_LINES)
    delay = min(_int_arg((request.params("delay_ms") or ["0"])[-1], "delay_ms", 10**9),
                MAX_DELAY_MS)

    def lines() -> Iterator[bytes]:
        for i in range(n):
            if i:
                _wait(stop, delay)
            yield _json({"id": i, "line": f"line {i + 1} of {n}"})

    return _Response(
        200, lines(), [("Content-Type", "application/x-ndjson")],
        framing="chunked", trailers=[("X-Lines", str(n))], flush_each=True,
    )


def _slow(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    milliseconds = min(_int_arg(arg, "MS", 10**9), MAX_DELAY_MS)
    _wait(stop, milliseconds)
    return _text(200, f"slept {milliseconds} ms\n")


def _redirect(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    n = _int_arg(arg, "N", MAX_REDIRECTS)
    if n == 0:
        return _text(200, "done\n")
    location = f"/redirect/{n - 1}"
    return _text(302, f"redirecting to {location}\n", [("Location", location)])


def _compressed(request: LabRequest, flag: str, encoding: str) -> _Response:
    data = _json({flag: True, "method": request.method,
                  "headers": [list(pair) for pair in request.headers]})
    body = gzip.compress(data, mtime=0) if encoding == "gzip" else zlib.compress(data)
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    return _Response(200, body, headers)


def _gzip(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    return _compressed(request, "gzipped", "gzip")


def _deflate(request: LabRequest, arg: str, stop: threading.Event) -> _Response:
    return _compressed(request, "deflated", "deflate")


_Handler = Callable[[LabRequest, str, threading.Event], _Response]

# Path pattern (whole path) -> handler; the first group, if any, is the handler's arg.
_ROUTES: list[tuple[re.Pattern[str], _Handler]] = [
    (re.compile(r"/"), _hello),
    (re.compile(r"/ip"), _ip),
    (re.compile(r"/echo"), _echo),
    (re.compile(r"/headers"), _headers),
    (re.compile(r"/status/([^/]*)"), _status),
    (re.compile(r"/bytes/([^/]*)"), _bytes),
    (re.compile(r"/stream/([^/]*)"), _stream),
    (re.compile(r"/slow/([^/]*)"), _slow),
    (re.compile(r"/redirect/([^/]*)"), _redirect),
    (re.compile(r"/gzip"), _gzip),
    (re.compile(r"/deflate"), _deflate),
]


def _dispatch(request: LabRequest, stop: threading.Event) -> _Response:
    path = request.path
    for pattern, handler in _ROUTES:
        if match := pattern.fullmatch(path):
            try:
                return handler(request, match.group(1) if match.groups() else "", stop)
            except _HTTPError as error:
                return _text(error.status, _error_text(error.status, error.reason))
            except OSError:
                raise  # the connection failed, or the server is stopping
            except Exception as error:  # a bug in a handler: say so, keep serving
                return _text(500, _error_text(500, f"{type(error).__name__}: {error}"))
    return _text(404, _error_text(404, f"no such endpoint {path[:200]!r} (try / for the list)"))


# ----------------------------------------------------------------------------- server


class LabServer:
    """A small threaded HTTP/1.1 server with keep-alive, for loopback use.

    ``host`` must be a loopback address or "localhost" unless ``public=True`` (then any
    IP address); see ``bind_address``. Limits: ``max_connections`` served at once (when
    all are taken, a new connection evicts an idle one or the new or head-reading one with
    the lowest byte rate, see ``_evict_one``; only when none is waiting does it get 503),
    ``max_request_bytes`` for a request head and for its body (431 / 413),
    ``idle_timeout`` seconds between requests on a keep-alive connection (then it is
    closed) and for each read or write, ``header_timeout`` seconds for a request head and
    ``request_timeout`` seconds for one whole request, both from its first byte (408;
    None: no limit)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        idle_timeout: float = 15.0,
        max_request_bytes: int = 1 << 20,
        max_connections: int = 256,
        request_timeout: float | None = 60.0,
        header_timeout: float | None = HEADER_TIMEOUT,
        public: bool = False,
    ) -> None:
        self.host = bind_address(host, public)  # raises BindRefused: nothing is bound
        self.public = public
        self.port = port
        self.idle_timeout = idle_timeout
        self.max_request_bytes = max_request_bytes
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.header_timeout = header_timeout
        self.evictions = 0  # connections that gave up their slot to a new one
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, _Reader] = {}  # each holds a slot
        self._evicted: set[socket.socket] = set()  # gave up their slot, thread still ending
        self._threads: set[threading.Thread] = set()
        self._rejected: dict[socket.socket, float] = {}  # 503'd sockets -> close deadline

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connection_count(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._connections)

    def connection_phases(self) -> dict[str, int]:
        """How many connections hold a slot in each phase: "new" (no request yet), "head"
        (a request head arriving), "busy" (its body being read, or being answered), "idle"
        (keep-alive, between requests), "closing" (after the last response)."""
        with self._lock:
            phases: dict[str, int] = {}
            for reader in self._connections.values():
                phases[reader.phase] = phases.get(reader.phase, 0) + 1
            return phases

    # -- lifecycle

    def start(self) -> LabServer:
        """Bind, listen and serve in a daemon thread; returns self."""
        if self._listener is not None:
            raise RuntimeError("LabServer already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"netlab-lab-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the listening socket and live connections, join threads."""
        listener, wake_r, wake_w, accept_thread = self._listener, self._wake_r, self._wake_w, self._accept_thread
        if listener is None or self._stopping.is_set():
            return
        assert wake_r is not None and wake_w is not None and accept_thread is not None  # start() made them
        self._stopping.set()
        try:
            wake_w.send(b"x")
        except OSError:
            pass
        if accept_thread is not threading.current_thread():
            accept_thread.join()
        listener.close()
        with self._lock:
            for conn in [*self._connections, *self._evicted]:  # the owner closes it; wake it
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5.0)
        wake_r.close()
        wake_w.close()

    def serve_forever(self) -> None:
        """Serve until stop() is called or KeyboardInterrupt; starts the server if needed."""
        if self._listener is None:
            self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- accepting

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None  # start() made them before this thread
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ, "listen")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            try:
                while not self._stopping.is_set():
                    timeout = None
                    if self._rejected:
                        timeout = max(0.0, min(self._rejected.values()) - time.monotonic())
                    for key, _ in selector.select(timeout):
                        if key.data == "listen":
                            self._accept(selector)
                        elif key.data == "rejected":
                            # "rejected" keys hold the socket itself (see _reject)
                            self._drain_rejected(selector, cast(socket.socket, key.fileobj))
                    now = time.monotonic()
                    for conn, deadline in list(self._rejected.items()):
                        if deadline <= now:
                            self._close_rejected(selector, conn)
            finally:
                for conn in list(self._rejected):
                    self._close_rejected(selector, conn)

    def _accept(self, selector: selectors.BaseSelector) -> None:
        assert self._listener is not None  # only the accept loop calls this, after start()
        try:
            conn, address = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError:  # e.g. out of file descriptors: back off a little
            self._stopping.wait(0.05)
            return
        with self._lock:
            admitted = len(self._connections) < self.max_connections or self._evict_one()
            if admitted:
                reader = _Reader(conn, self.max_request_bytes, self.idle_timeout,
                                 self.request_timeout, self.header_timeout, self._lock)
                reader.peek_unread()  # what it sent before accept(): a prompt client's head
                thread = threading.Thread(
                    target=self._serve_connection, args=(conn, address, reader),
                    name=f"netlab-lab-conn-{self.port}-{address[1]}", daemon=True,
                )
                self._connections[conn] = reader
                self._threads.add(thread)
        if admitted:
            thread.start()
        else:
            self._reject(selector, conn)

    def _evict_one(self) -> bool:
        """With the lock held and every slot taken: free the slot of the connection that
        is making the least progress. A connection answering an error goes first, then
        an idle keep-alive one (the longest idle), then the new or head-reading one with
        the lowest byte rate (bytes of its head so far, counting those already waiting
        when it was accepted, per second since its head began or since accept, at least
        RATE_FLOOR s), the oldest among equals: a dripping client loses to a prompt one,
        whose whole head arrives at once, even before its thread has read it. One reading
        a body or being answered is never chosen. False if every connection is busy."""
        waiting = [r for r in self._connections.values() if r.phase in _EVICTION_ORDER]
        if not waiting:
            return False
        now = time.monotonic()
        ranked = heapq.nsmallest(
            8, waiting, key=lambda r: (_EVICTION_ORDER[r.phase], r.progress(now), r.since)
        )
        # The ranking counts what each thread has read; one whose client has sent more
        # that its thread has not read yet (the thread is waiting for the CPU, not the
        # client) is passed over for the next.
        victim = next((r for r in ranked if r.phase not in (_NEW, _HEAD) or not r.peek_unread()),
                      ranked[0])
        victim.evict()
        del self._connections[victim.sock]
        self._evicted.add(victim.sock)
        self.evictions += 1
        return True

    def _reject(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        """Answer 503 without a thread; read and drop what the client sends for a while,
        so closing does not reset the connection before the client reads the answer."""
        body = b"too many connections, try again later\n"
        head = _head(503, [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Retry-After", "1"), ("Connection", "close"),
        ])
        try:
            conn.setblocking(False)
            conn.send(head + body)  # a fresh socket's send buffer takes this at once
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        if len(self._rejected) >= self.max_connections:
            conn.close()
            return
        self._rejected[conn] = time.monotonic() + LINGER_SECONDS
        selector.register(conn, selectors.EVENT_READ, "rejected")

    def _drain_rejected(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        try:
            if conn.recv(RECV_SIZE):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close_rejected(selector, conn)

    def _close_rejected(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        self._rejected.pop(conn, None)
        try:
            selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    # -- one connection

    def _serve_connection(self, conn: socket.socket, address: tuple, reader: _Reader) -> None:
        linger = False
        try:
            conn.settimeout(self.idle_timeout)
            while not self._stopping.is_set():
                if not reader.wait_for_request():
                    break  # client closed, or idle for idle_timeout
                try:
                    request = reader.read_request(address)
                except _HTTPError as error:
                    self._send_error(conn, error.status, error.reason)
                    linger = True
                    break
                except TimeoutError:
                    self._send_error(conn, 408, "timed out waiting for the rest of the request")
                    linger = True
                    break
                if not self._respond(conn, request, _dispatch(request, self._stopping)):
                    linger = True
                    break
        except _Evicted:  # another connection has this slot now
            if reader.phase == _HEAD:
                self._send_evicted(conn)
        except (OSError, _PeerClosed):
            pass  # reset by the client, or shut down by stop()
        finally:
            if linger:
                reader.closing()
                _linger_close(conn)
            with self._lock:
                self._connections.pop(conn, None)
                self._evicted.discard(conn)
                self._threads.discard(threading.current_thread())
            conn.close()

    def _send_evicted(self, conn: socket.socket) -> None:
        """A 503 for a request head cut off to make room (never waits: the client may not
        be reading), then the connection is closed without lingering."""
        body = _error_text(503, "the server is full and this request head was the slowest "
                                "to arrive; another connection took its place").encode()
        try:
            conn.setblocking(False)
            conn.send(_head(503, [
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                ("Retry-After", "1"), ("Connection", "close"),
            ]) + body)
        except OSError:
            pass

    def _send_error(self, conn: socket.socket, status: int, reason: str) -> None:
        body = _error_text(status, reason).encode()
        conn.sendall(_head(status, [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Connection", "close"),
        ]) + body)

    def _respond(self, conn: socket.socket, request: LabRequest, response: _Response) -> bool:
        """Send the response; True if the connection stays open for another request."""
        status = response.status
        framing = response.framing if _has_body(status) else "none"
        if framing == "chunked" and request.version == "HTTP/1.0":
            framing = "close"  # HTTP/1.0 clients do not know chunked
        keep_alive = (
            request.keep_alive and framing != "close" and status >= 200
            and not self._stopping.is_set()
        )
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
        out = bytearray(_head(status, headers))
        if framing != "none" and request.method != "HEAD":
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
        if out:
            conn.sendall(out)
        return keep_alive


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_reason(status)}",
        f"Server: {SERVER_SOFTWARE}",
        f"Date: {email.utils.formatdate(usegmt=True)}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _linger_close(conn: socket.socket) -> None:
    """Half-close, then read what the client still sends (for up to LINGER_SECONDS),
    so that closing with unread data does not reset the connection (RST) before the
    client has read our last response."""
    deadline = time.monotonic() + LINGER_SECONDS
    try:
        conn.shutdown(socket.SHUT_WR)
        while (remaining := deadline - time.monotonic()) > 0:
            conn.settimeout(remaining)
            if not conn.recv(RECV_SIZE):
                break
    except OSError:
        pass


def run(
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    *,
    err: TextIO | None = None,
    public: bool = False,
    idle_timeout: float = 15.0,
    max_request_bytes: int = 1 << 20,
    max_connections: int = 256,
    request_timeout: float | None = 60.0,
    header_timeout: float | None = HEADER_TIMEOUT,
) -> int:
    """Serve until KeyboardInterrupt (for `netlab serve`); first prints
    ``listening on http://HOST:PORT``, then the limits in force. ``out`` and ``err``
    default to the current sys.stdout and sys.stderr.

    Returns 0 after KeyboardInterrupt, 2 when ``host`` is refused (BindRefused: nothing
    is bound), 1 when the address cannot be bound (in use, not on this machine)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        server = LabServer(
            host, port, public=public, idle_timeout=idle_timeout,
            max_request_bytes=max_request_bytes, max_connections=max_connections,
            request_timeout=request_timeout, header_timeout=header_timeout,
        )
    except BindRefused as refused:
        print(f"netlab: serve: {_refusal(refused, port)}", file=err, flush=True)
        return 2
    try:
        try:
            server.start()
        except OSError as error:
            where = f"[{server.host}]:{port}" if ":" in server.host else f"{server.host}:{port}"
            print(f"netlab: serve: cannot listen on {where}: {error.strerror or error}",
                  file=err, flush=True)
            return 1
        print(f"listening on {server.url}", file=out)
        deadline = "none" if request_timeout is None else f"{request_timeout:g} s"
        head_deadline = "none" if header_timeout is None else f"{header_timeout:g} s"
        print(f"limits: --max-connections {max_connections} (when full, a new connection takes "
              f"the slot of an idle or slowest one; 503 if all are busy), "
              f"--max-request-bytes {max_request_bytes} (head or body; 431/413), "
              f"--idle-timeout {idle_timeout:g} s (idle keep-alive connections are closed), "
              f"--header-timeout {head_deadline} (a request head; 408), "
              f"--request-timeout {deadline} (one whole request; 408)", file=out, flush=True)
        if not is_loopback(server.host):
            here = "[::1]" if ":" in server.host else "127.0.0.1"
            print(f"netlab: serve: warning: listening on {server.host}, not loopback (--public): "
                  "other machines that can reach this one can use the lab server; "
                  f"from this machine use http://{here}:{server.port}", file=err, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _refusal(refused: BindRefused, port: int) -> str:
    """Why `netlab serve` will not bind a host, and what to type instead."""
    if refused.reason == "not-an-address":
        return (f"--host {refused.host!r} is not an IP address; netlab does not resolve names to "
                "pick an address to listen on. Give the address itself (127.0.0.1, ::1, or "
                "0.0.0.0 with --public), or localhost.")
    ports = f" --port {port}" if port else ""
    return (f"refusing to listen on {refused.host}: it is not a loopback address, so other "
            "machines could reach the lab server (it echoes requests back and serves large "
            "bodies to anyone who asks). If you mean it, confirm with --public: "
            f"netlab serve --host {refused.host}{ports} --public")
