"""The test side of the lab server's wire: a raw HTTP/1.1 client over a plain socket
(independent of netlab), a client that drips a request head that never ends, and the
small helpers the lab server's tests share."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from netlab.lab import LabServer

CURL = "/usr/bin/curl"
TIMEOUT = 10.0  # generous socket timeout: a hang fails the test, nothing is timed

needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="curl is not installed")


class RawClient:
    """A test-side HTTP/1.1 reader over a plain socket (independent of netlab)."""

    def __init__(self, lab: LabServer | SimpleNamespace) -> None:
        self.sock = socket.create_connection((lab.host, lab.port), timeout=TIMEOUT)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def read_until_close(self) -> bytes:
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            assert self._fill(), f"closed after {len(self.buf)} of {n} bytes"
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buf:
            assert self._fill(), "closed inside a line"
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_head(self) -> tuple[int, list[tuple[str, str]]]:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"closed inside the head: {self.buf!r}"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status, _reason = status_line.split(" ", 2)
        assert version == "HTTP/1.1"
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines]
        return int(status), headers

    def read_response(self, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """One response; body framed by Content-Length, chunked, or close."""
        status, header_list = self.read_head()
        headers = {name.lower(): value for name, value in header_list}
        if method == "HEAD" or status < 200 or status in (204, 304):
            return status, headers, b""
        if "content-length" in headers:
            return status, headers, self.read_exact(int(headers["content-length"]))
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self.read_line(), 16):
                body += self.read_exact(size)
                assert self.read_line() == b""
            while self.read_line():  # trailers
                pass
            return status, headers, body
        return status, headers, self.read_until_close()


@contextlib.contextmanager
def dripping(client: RawClient, every: float = 0.1) -> Iterator[None]:
    """Inside the block, ``client`` sends the start of a request head, then one more
    header line every ``every`` seconds (from a thread, until the server closes): bytes
    keep arriving well within any idle timeout, but the head never ends."""
    stop = threading.Event()

    def drip() -> None:
        client.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\n")
        while not stop.wait(every):
            try:
                client.send(b"X-Slow: 1\r\n")
            except OSError:
                return

    thread = threading.Thread(target=drip)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(TIMEOUT)


def exchange(lab: LabServer | SimpleNamespace, request: bytes) -> bytes:
    """Send raw request bytes, return every byte until the server closes."""
    client = RawClient(lab)
    try:
        client.send(request)
        return client.read_until_close()
    finally:
        client.close()


def split_response(data: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status_line, headers, body


def get(path: str, *extra: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: lab\r\n{''.join(extra)}\r\n".encode()


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CURL, "-s", "--max-time", "20", *args], capture_output=True, timeout=30, check=True
    )


def wait_for(condition, what: str) -> None:
    """Wait (generously bounded) until condition() is true: a hang fails, nothing is timed."""
    for _ in range(int(TIMEOUT / 0.01)):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"still not {what} after {TIMEOUT} s")
