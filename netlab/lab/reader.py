"""Reading requests from one connection: the head, then the body, under the deadlines.

    recv() until the blank line that ends the head -> recv() the body (Content-Length,
    or chunked with trailers) -> the next request may already be in the buffer (pipelined)

A ``Reader`` keeps the exact bytes of the current request (for ``/echo``) and says what
its connection is doing (``phase``), so that a full server can choose a connection to
evict (see ``LabServer._evict_one``).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from typing import Any

from .request import DIGITS, Headers, LabRequest, RequestError, header_value, parse_field_line, parse_head, split_target

try:  # POSIX: the count of bytes waiting on a socket (LabServer's eviction choice)
    import fcntl
    import termios
except ImportError:  # pragma: no cover - elsewhere the count is taken as 0
    pass

RECV_SIZE = 64 * 1024
MAX_LINE = 64 * 1024  # a chunk-size or trailer line

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;[^\x00-\x08\x0a-\x1f\x7f]*)?\r?\n")


class PeerClosed(Exception):
    """The client closed its side of the connection."""


class Evicted(Exception):
    """The server took this connection's slot for a new connection (see LabServer)."""


# What a connection is doing, as the accept thread sees it when every slot is taken.
# The first three can give up their slot; "busy" (reading a body, answering) cannot.
CLOSING, IDLE, NEW, HEAD, BUSY = "closing", "idle", "new", "head", "busy"
EVICTION_ORDER = {CLOSING: 0, IDLE: 1, NEW: 2, HEAD: 2}
RATE_FLOOR = 1.0  # seconds: a head's byte rate is bytes / max(its age, this)


class Reader:
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
        self.phase = NEW
        self.since = time.monotonic()  # when the current phase began (for NEW: accept)
        self.evicted = False
        self.received = 0  # bytes of the current head read so far (for NEW: since accept)
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
        """Enter ``phase``; raises Evicted if the server has taken this slot."""
        with self.lock:
            if self.evicted:
                raise Evicted
            if not (self.phase == NEW and phase == HEAD):  # a new connection ranks by accept
                self.since = time.monotonic()
                self.received, self.unread = len(self.buf), 0
            self.phase = phase

    def closing(self) -> None:
        """The response that ends the connection is sent: the slot can go at any time."""
        with self.lock:
            self.phase, self.since = CLOSING, time.monotonic()

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
                raise RequestError(408, limit[1])
            if left < self.idle_timeout:
                self.sock.settimeout(left)
                self.shortened = True
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            if self.shortened and limit is not None and time.monotonic() >= limit[0]:
                raise RequestError(408, limit[1]) from None
            raise
        if self.evicted:
            raise Evicted
        if not data:
            raise PeerClosed
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
        if self.phase != NEW:
            self.set_phase(IDLE)
        while True:
            while self.buf.startswith((b"\r", b"\n")):
                del self.buf[:1]
            if self.buf:
                self.set_phase(HEAD)
                now = time.monotonic()
                if self.request_timeout is not None:
                    self.deadline = now + self.request_timeout
                if self.header_timeout is not None:
                    self.head_deadline = now + self.header_timeout
                return True
            try:
                self._fill()
            except (PeerClosed, TimeoutError):
                return False

    def read_request(self, client: tuple[Any, ...]) -> LabRequest:
        """Read one whole request (head and body); raises RequestError if it is bad."""
        head = self._read_head()
        self.set_phase(BUSY)  # the head is in: from here on the slot is not taken away
        self.head_deadline = None
        method, target, version, headers = parse_head(head)
        path, query = split_target(target)
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
            except PeerClosed:
                raise RequestError(400, "connection closed before the end of the request head") from None
        raise RequestError(431, f"request head larger than {self.limit} bytes")

    def _read_body(self, version: str, headers: Headers) -> tuple[bytes, bool]:
        """The body, and whether the connection must close after the response.

        RFC 9112 section 6: a Transfer-Encoding with a Content-Length, in an HTTP/1.0
        request, or whose last coding is not chunked, and Content-Length values that
        differ or are not a number, make the body's length uncertain: 400 (nginx does
        the same). Codings other than chunked get 501, as in nginx."""
        transfer_encoding = header_value(headers, "Transfer-Encoding")
        content_length = header_value(headers, "Content-Length")
        expect_continue = "100-continue" in (header_value(headers, "Expect") or "").lower()
        if transfer_encoding is not None:
            if content_length is not None:
                raise RequestError(400, "both Transfer-Encoding and Content-Length: the body's "
                                        "length is ambiguous (RFC 9112 section 6.3)")
            _check_transfer_coding(version, transfer_encoding)
            if expect_continue:
                self._send_continue()
            return self._read_chunked(), False
        if content_length is None:
            return b"", False
        values = {v.strip(" \t") for v in content_length.split(",")}
        if len(values) != 1 or not DIGITS.fullmatch(value := values.pop()):
            raise RequestError(400, f"bad Content-Length: {content_length[:200]}")
        length = int(value)
        if length > self.limit:
            raise RequestError(413, f"request body larger than {self.limit} bytes")
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
            except PeerClosed:
                raise RequestError(400, "connection closed before the end of the request body") from None
        return self._take(n)

    def _read_line(self) -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            if len(self.buf) > MAX_LINE:
                raise RequestError(400, f"chunk or trailer line longer than {MAX_LINE} bytes")
            try:
                self._fill()
            except PeerClosed:
                raise RequestError(400, "connection closed inside a chunked request body") from None
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
                raise RequestError(400, f"bad chunk-size line: {line[:40]!r}")
            size = int(match.group(1), 16)
            if size == 0:
                break
            if len(body) + size > self.limit:
                raise RequestError(413, f"request body larger than {self.limit} bytes")
            body += self._read_exact(size)
            if self._read_line() not in (b"\r\n", b"\n"):
                raise RequestError(400, "chunk data not followed by a line end")
        while (line := self._read_line()) not in (b"\r\n", b"\n"):  # trailer fields: kept in raw
            if len(self.raw) - start > 2 * self.limit:
                raise RequestError(413, "chunked request body too large on the wire")
            parse_field_line(line.decode("latin-1").removesuffix("\n").removesuffix("\r"))
        return bytes(body)


def _check_transfer_coding(version: str, transfer_encoding: str) -> None:
    """A request's Transfer-Encoding must be chunked alone, and not in HTTP/1.0 (400);
    a coding before chunked is understood but not supported (501)."""
    if version == "HTTP/1.0":
        raise RequestError(400, "Transfer-Encoding in an HTTP/1.0 request")
    codings = [c.strip(" \t").lower() for c in transfer_encoding.split(",")]
    codings = [c for c in codings if c]
    if not codings or codings[-1] != "chunked":
        raise RequestError(400, f"Transfer-Encoding does not end with chunked: "
                                f"{transfer_encoding[:200]}")
    if codings.count("chunked") > 1:
        raise RequestError(400, f"chunked applied more than once: {transfer_encoding[:200]}")
    if len(codings) > 1:
        raise RequestError(501, f"unsupported transfer coding: {transfer_encoding[:200]}")
