"""The lab server against real clients on loopback: raw sockets and curl."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from netlab.engine.labserver import (
    BLOCK_SIZE,
    SERVER_SOFTWARE,
    BindRefused,
    LabServer,
    bind_address,
    is_loopback,
    iter_lab_bytes,
    lab_bytes,
)

CURL = "/usr/bin/curl"
TIMEOUT = 10.0  # generous socket timeout: a hang fails the test, nothing is timed
REPO = Path(__file__).resolve().parents[2]

needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="curl is not installed")


@pytest.fixture
def server():
    with LabServer("127.0.0.1", 0) as lab:
        yield lab


# ---------------------------------------------------------------------------- helpers


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


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CURL, "-s", "--max-time", "20", *args], capture_output=True, timeout=30, check=True
    )


def get(path: str, *extra: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: lab\r\n{''.join(extra)}\r\n".encode()


# ------------------------------------------------------------------ basic endpoints


def test_ip_over_a_raw_socket(server):
    data = exchange(server, get("/ip", "Connection: close\r\n"))
    status_line, headers, body = split_response(data)
    assert status_line == "HTTP/1.1 200 OK"
    assert body == b"127.0.0.1\n"
    assert headers["server"] == SERVER_SOFTWARE
    assert headers["date"].endswith(" GMT")
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-length"] == "10"
    assert headers["connection"] == "close"


@needs_curl
def test_ip_with_curl(server):
    assert curl(server.url + "/ip").stdout == b"127.0.0.1\n"


@needs_curl
def test_hello_lists_the_endpoints(server):
    text = curl(server.url + "/").stdout.decode()
    for path in ("/ip", "/echo", "/headers", "/status/", "/bytes/", "/stream/", "/gzip"):
        assert path in text


def test_unknown_path_is_404(server):
    status_line, headers, body = split_response(
        exchange(server, get("/nowhere", "Connection: close\r\n"))
    )
    assert status_line == "HTTP/1.1 404 Not Found"
    assert b"/nowhere" in body
    assert headers["content-type"].startswith("text/plain")


# ----------------------------------------------------------------------- /echo


def test_echo_returns_the_exact_request_bytes(server):
    request = (
        b"POST /echo?x=1 HTTP/1.1\r\nHost: lab\r\nX-Odd:   spaced  \r\n"
        b"Content-Length: 11\r\nConnection: close\r\n\r\nhello\x00world"
    )
    status_line, headers, body = split_response(exchange(server, request))
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/octet-stream"
    assert body == request


def test_echo_accepts_bare_lf_line_endings(server):
    request = b"GET /echo HTTP/1.1\nHost: lab\nConnection: close\n\n"
    status_line, _, body = split_response(exchange(server, request))
    assert status_line == "HTTP/1.1 200 OK"
    assert body == request


def test_echo_keeps_a_chunked_request_body_as_sent(server):
    request = (
        b"PUT /echo HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    assert split_response(exchange(server, request))[2] == request


def test_echo_of_pipelined_requests_keeps_them_apart(server):
    first = get("/echo")
    second = b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 3\r\n\r\nabc"
    client = RawClient(server)
    try:
        client.send(first + second)
        assert client.read_response()[2] == first
        assert client.read_response()[2] == second
    finally:
        client.close()


@needs_curl
def test_echo_with_curl_post(server):
    out = curl("--data-binary", "payload", server.url + "/echo").stdout
    assert out.startswith(b"POST /echo HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 7\r\n" in out
    assert out.endswith(b"\r\n\r\npayload")


# -------------------------------------------------------------------- /headers


def test_headers_in_order_with_duplicates(server):
    request = get("/headers", "X-B: 2\r\nx-a: 1\r\nX-B: 3\r\nConnection: close\r\n")
    _, headers, body = split_response(exchange(server, request))
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "headers": [["Host", "lab"], ["X-B", "2"], ["x-a", "1"], ["X-B", "3"],
                    ["Connection", "close"]]
    }


# ------------------------------------------------------------------- keep-alive


def test_two_requests_on_one_socket(server):
    client = RawClient(server)
    try:
        for _ in range(2):
            client.send(get("/ip"))
            status, headers, body = client.read_response()
            assert (status, body) == (200, b"127.0.0.1\n")
            assert "connection" not in headers
        client.send(get("/ip", "Connection: close\r\n"))
        status, headers, body = client.read_response()
        assert headers["connection"] == "close"
        assert client.read_until_close() == b""
    finally:
        client.close()


def test_http10_closes_unless_keep_alive(server):
    data = exchange(server, b"GET /ip HTTP/1.0\r\n\r\n")
    status_line, headers, body = split_response(data)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert body == b"127.0.0.1\n"

    client = RawClient(server)
    try:
        client.send(b"GET /ip HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, body = client.read_response()
        assert headers["connection"] == "keep-alive"
        client.send(b"GET /ip HTTP/1.0\r\n\r\n")
        assert client.read_response()[2] == b"127.0.0.1\n"
        assert client.read_until_close() == b""
    finally:
        client.close()


@needs_curl
def test_curl_reuses_the_connection(server):
    result = curl(
        "-w", "%{num_connects} %{local_port}\\n", "-o", "/dev/null", "-o", "/dev/null",
        server.url + "/ip", server.url + "/headers",
    )
    (first_connects, first_port), (second_connects, second_port) = (
        line.split() for line in result.stdout.decode().splitlines()
    )
    assert (first_connects, second_connects) == ("1", "0")
    assert first_port == second_port


def test_idle_connection_is_closed():
    with LabServer(idle_timeout=0.2) as lab:
        client = RawClient(lab)
        try:
            client.send(get("/ip"))
            assert client.read_response()[0] == 200
            assert client.read_until_close() == b""  # closed by the server, not by TIMEOUT
        finally:
            client.close()


def test_partial_request_times_out_with_408():
    with LabServer(idle_timeout=0.2) as lab:
        client = RawClient(lab)
        try:
            client.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\n")
            status, headers, _ = client.read_response()
            assert status == 408
            assert headers["connection"] == "close"
        finally:
            client.close()


# ----------------------------------------------------------------------- /bytes


def test_lab_bytes_are_deterministic_and_block_aligned():
    data = lab_bytes(3 * BLOCK_SIZE + 5)
    assert data[:32] == hashlib.sha256(b"netlab-lab 0").digest()
    assert data[BLOCK_SIZE:2 * BLOCK_SIZE] == data[:BLOCK_SIZE]
    assert data[-5:] == data[:5]
    assert b"".join(iter_lab_bytes(len(data), BLOCK_SIZE)) == data
    assert len(set(data[:BLOCK_SIZE])) == 256


@needs_curl
@pytest.mark.parametrize("n", [0, 1, 100_000, 3 * 256 * 1024 + 7])
def test_bytes_content_length(server, n):
    result = curl("-D", "-", server.url + f"/bytes/{n}")
    _, headers, body = split_response(result.stdout)
    assert headers["content-length"] == str(n)
    assert "transfer-encoding" not in headers
    assert headers["content-type"] == "application/octet-stream"
    assert body == lab_bytes(n)


@needs_curl
def test_bytes_chunked(server):
    n = 200_000
    raw = curl("--raw", "-D", "-", server.url + f"/bytes/{n}?chunked=1").stdout
    _, headers, body = split_response(raw)
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert body.startswith(b"10000\r\n")  # chunks of 64 KiB
    assert body.endswith(b"\r\n0\r\n\r\n")
    assert curl(server.url + f"/bytes/{n}?chunked=1").stdout == lab_bytes(n)


@needs_curl
def test_bytes_delimited_by_close(server):
    n = 300_001
    _, headers, body = split_response(
        curl("-D", "-", server.url + f"/bytes/{n}?close=1").stdout
    )
    assert "content-length" not in headers
    assert "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    assert body == lab_bytes(n)


def test_large_bytes_are_streamed(server):
    n = 40 * 1024 * 1024 + 3
    client = RawClient(server)
    try:
        client.send(get(f"/bytes/{n}", "Connection: close\r\n"))
        status, headers = client.read_head()
        assert dict(headers)["Content-Length"] == str(n)
        digest, expected, received = hashlib.sha256(client.buf), hashlib.sha256(), len(client.buf)
        while data := client.sock.recv(1 << 20):
            digest.update(data)
            received += len(data)
        for piece in iter_lab_bytes(n):
            expected.update(piece)
        assert received == n
        assert digest.digest() == expected.digest()
    finally:
        client.close()


@pytest.mark.parametrize(
    "path", ["/bytes/abc", "/bytes/-1", f"/bytes/{(8 << 30) + 1}", "/bytes/1?chunked=1&close=1"]
)
def test_bad_bytes_argument_is_400_and_keeps_the_connection(server, path):
    client = RawClient(server)
    try:
        client.send(get(path))
        status, headers, body = client.read_response()
        assert status == 400
        assert body.startswith(b"400 Bad Request: ")
        client.send(get("/ip"))
        assert client.read_response()[2] == b"127.0.0.1\n"
    finally:
        client.close()


# ----------------------------------------------------------------- HEAD, /status


def test_head_has_content_length_but_no_body(server):
    client = RawClient(server)
    try:
        client.send(b"HEAD /bytes/1000 HTTP/1.1\r\nHost: lab\r\n\r\n")
        status, headers, _ = client.read_response("HEAD")
        assert status == 200
        assert headers["content-length"] == "1000"
        client.send(get("/ip"))  # had a body been sent, it would be read as this head
        status, _, body = client.read_response()
        assert (status, body) == (200, b"127.0.0.1\n")
    finally:
        client.close()


@needs_curl
def test_head_with_curl(server):
    result = curl("-I", server.url + "/stream/2")
    status_line, headers, body = split_response(result.stdout)
    assert status_line.startswith("HTTP/1.1 200")
    assert headers["transfer-encoding"] == "chunked"
    assert body == b""


def test_status_204_has_no_body_and_no_length(server):
    client = RawClient(server)
    try:
        client.send(get("/status/204"))
        status, headers, _ = client.read_response()
        assert status == 204
        assert "content-length" not in headers
        assert "transfer-encoding" not in headers
        client.send(get("/ip"))
        assert client.read_response()[2] == b"127.0.0.1\n"
    finally:
        client.close()


@pytest.mark.parametrize(
    ("code", "reason"), [(200, "OK"), (418, "I'm a Teapot"), (503, "Service Unavailable"),
                         (599, "Unknown Status")]
)
def test_status_codes(server, code, reason):
    status_line, headers, body = split_response(
        exchange(server, get(f"/status/{code}", "Connection: close\r\n"))
    )
    assert status_line == f"HTTP/1.1 {code} {reason}"
    assert body == f"{code} {reason}\n".encode()
    assert headers["content-length"] == str(len(body))


def test_status_3xx_has_location(server):
    _, headers, _ = split_response(exchange(server, get("/status/301", "Connection: close\r\n")))
    assert headers["location"] == "/"


def test_status_1xx_is_sent_alone_then_closed(server):
    data = exchange(server, get("/status/103"))
    status_line, headers, body = split_response(data)
    assert status_line == "HTTP/1.1 103 Early Hints"
    assert "content-length" not in headers
    assert body == b""


@pytest.mark.parametrize("code", ["99", "600", "abc", ""])
def test_invalid_status_is_400(server, code):
    data = exchange(server, get(f"/status/{code}", "Connection: close\r\n"))
    status_line = split_response(data)[0]
    assert status_line == "HTTP/1.1 400 Bad Request"


# ---------------------------------------------------------------------- /stream


def test_stream_is_chunked_with_a_trailer(server):
    data = exchange(server, get("/stream/3", "Connection: close\r\n"))
    head, _, framed = data.partition(b"\r\n\r\n")
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head + b"\r\n"
    assert b"\r\nTrailer: X-Lines" in head
    assert framed.endswith(b"\r\n0\r\nX-Lines: 3\r\n\r\n")
    lines, rest = [], framed
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        lines.append(rest[:size])
        assert rest[size:size + 2] == b"\r\n"
        rest = rest[size + 2:]
    assert [json.loads(line) for line in lines] == [
        {"id": i, "line": f"line {i + 1} of 3"} for i in range(3)
    ]
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)


@needs_curl
def test_stream_with_delay_through_curl(server):
    out = curl(server.url + "/stream/4?delay_ms=5").stdout
    assert [json.loads(line)["id"] for line in out.splitlines()] == [0, 1, 2, 3]


def test_stream_to_http10_client_is_close_delimited(server):
    _, headers, body = split_response(exchange(server, b"GET /stream/2 HTTP/1.0\r\n\r\n"))
    assert "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    assert len(body.splitlines()) == 2


# ---------------------------------------------------- /slow, /redirect, /gzip, /deflate


def test_slow(server):
    client = RawClient(server)
    try:
        client.send(get("/slow/20"))
        assert client.read_response()[:1] == (200,)
    finally:
        client.close()


def test_redirect_chain(server):
    client = RawClient(server)
    try:
        path, locations = "/redirect/2", []
        while True:
            client.send(get(path))
            status, headers, body = client.read_response()
            if status != 302:
                break
            path = headers["location"]
            locations.append(path)
        assert locations == ["/redirect/1", "/redirect/0"]
        assert (status, body) == (200, b"done\n")
    finally:
        client.close()


@needs_curl
def test_redirect_with_curl_follow(server):
    result = curl("-L", "-w", "\\n%{num_redirects} %{num_connects}", server.url + "/redirect/3")
    body, counts = result.stdout.rsplit(b"\n", 1)
    assert body == b"done\n"
    assert counts == b"3 1"


def test_gzip(server):
    _, headers, body = split_response(exchange(server, get("/gzip", "Connection: close\r\n")))
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body))
    data = json.loads(gzip.decompress(body))
    assert data["gzipped"] is True
    assert data["method"] == "GET"
    assert ["Host", "lab"] in data["headers"]


def test_deflate(server):
    _, headers, body = split_response(exchange(server, get("/deflate", "Connection: close\r\n")))
    assert headers["content-encoding"] == "deflate"
    assert json.loads(zlib.decompress(body))["deflated"] is True


@needs_curl
def test_gzip_with_curl_compressed(server):
    assert json.loads(curl("--compressed", server.url + "/gzip").stdout)["gzipped"] is True


# ------------------------------------------------------------- malformed requests


H = b"Host: lab\r\n"


def _post(*lines: bytes, body: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    return b"POST /echo " + version + b"\r\nHost: lab\r\n" + b"".join(lines) + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"

# (id, request, what the 400's body names). Each request is valid but for one defect, so
# each case fails for its own reason. RFC 9112 sections: 2.2 (bare CR, whitespace before
# the first field), 3 (request line), 3.2 (Host), 5.1 (field line), 5.2 (obs-fold), 6.1 and
# 6.3 (body length), 7.1 (chunked); RFC 9110 5.1 and 5.5 (field names and values).
MALFORMED = [
    ("garbage", b"GARBAGE\r\n\r\n", "malformed request line"),
    ("extra word", b"GET /ip HTTP/1.1 extra\r\n" + H + b"\r\n", "malformed request line"),
    ("no version", b"GET /ip\r\n" + H + b"\r\n", "malformed request line"),
    ("two spaces", b"GET  /ip HTTP/1.1\r\n" + H + b"\r\n", "malformed request line"),
    ("tab separator", b"GET\t/ip HTTP/1.1\r\n" + H + b"\r\n", "malformed request line"),
    ("leading space", b" GET /ip HTTP/1.1\r\n" + H + b"\r\n", "malformed request line"),
    ("trailing space", b"GET /ip HTTP/1.1 \r\n" + H + b"\r\n", "malformed request line"),
    ("bad version", b"GET /ip HTTP/x\r\n" + H + b"\r\n", "malformed HTTP version"),
    ("lowercase version", b"GET /ip http/1.1\r\n" + H + b"\r\n", "malformed HTTP version"),
    ("bad method", b"G(T /ip HTTP/1.1\r\n" + H + b"\r\n", "malformed method"),
    ("target not a path", b"GET ip HTTP/1.1\r\n" + H + b"\r\n", "not a path"),
    ("CTL in target", b"GET /i\x01p HTTP/1.1\r\n" + H + b"\r\n", "control character"),
    ("no colon", b"GET /ip HTTP/1.1\r\n" + H + b"no colon here\r\n\r\n", "without a colon"),
    ("empty field name", b"GET /ip HTTP/1.1\r\n" + H + b": 1\r\n\r\n", "invalid field name"),
    ("space before colon", _post(b"Content-Length : 5\r\n", body=b"hello"),
     "whitespace before the colon"),
    ("tab before colon", b"GET /ip HTTP/1.1\r\n" + H + b"X-A\t: 1\r\n\r\n",
     "whitespace before the colon"),
    ("space in field name", b"GET /ip HTTP/1.1\r\n" + H + b"X A: 1\r\n\r\n", "invalid field name"),
    ("separator in field name", b"GET /ip HTTP/1.1\r\n" + H + b"X(A): 1\r\n\r\n",
     "invalid field name"),
    ("non-ASCII field name", b"GET /ip HTTP/1.1\r\n" + H + b"X-\xdc: 1\r\n\r\n",
     "invalid field name"),
    ("NUL in field name", b"GET /ip HTTP/1.1\r\n" + H + b"X\x00A: 1\r\n\r\n", "invalid field name"),
    ("NUL in value", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", "NUL in the value"),
    ("CTL in value", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n", "in the value"),
    ("DEL in value", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\x7fb\r\n\r\n", "in the value"),
    ("bare CR in value", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", "bare CR"),
    ("bare CR line end", b"GET /ip HTTP/1.1\r" + H + b"\r\n", "bare CR"),
    ("CR CR LF line end", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\r\r\n\r\n", "bare CR"),
    ("obs-fold", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", "folded header"),
    ("obs-fold with tab", b"GET /ip HTTP/1.1\r\n" + H + b"X-A: a\r\n\tb\r\n\r\n", "folded header"),
    ("space before first field", b"GET /ip HTTP/1.1\r\n " + H + b"\r\n", "folded header"),
    ("no Host", b"GET /ip HTTP/1.1\r\n\r\n", "no Host header"),
    ("two Hosts", b"GET /ip HTTP/1.1\r\n" + H + b"Host: other\r\n\r\n", "more than one Host"),
    ("Host with a space", b"GET /ip HTTP/1.1\r\nHost: a b\r\n\r\n", "invalid Host"),
    ("Host with a path", b"GET /ip HTTP/1.1\r\nHost: a/b\r\n\r\n", "invalid Host"),
    ("Host with userinfo", b"GET /ip HTTP/1.1\r\nHost: u@a\r\n\r\n", "invalid Host"),
    ("Content-Length not a number", _post(b"Content-Length: abc\r\n"), "bad Content-Length"),
    ("Content-Length signed", _post(b"Content-Length: +5\r\n", body=b"hello"),
     "bad Content-Length"),
    ("Content-Length hex", _post(b"Content-Length: 0x5\r\n", body=b"hello"), "bad Content-Length"),
    ("Content-Length two lines", _post(b"Content-Length: 1\r\nContent-Length: 2\r\n", body=b"ab"),
     "bad Content-Length"),
    ("Content-Length list", _post(b"Content-Length: 1, 2\r\n", body=b"ab"), "bad Content-Length"),
    ("Content-Length and Transfer-Encoding",
     _post(b"Content-Length: 5\r\n" + CHUNKED, body=b"5\r\nhello\r\n0\r\n\r\n"),
     "both Transfer-Encoding and Content-Length"),
    ("Transfer-Encoding and Content-Length",
     _post(CHUNKED + b"Content-Length: 5\r\n", body=b"5\r\nhello\r\n0\r\n\r\n"),
     "both Transfer-Encoding and Content-Length"),
    ("Transfer-Encoding gzip", _post(b"Transfer-Encoding: gzip\r\n"), "does not end with chunked"),
    ("Transfer-Encoding chunked, gzip", _post(b"Transfer-Encoding: chunked, gzip\r\n"),
     "does not end with chunked"),
    ("Transfer-Encoding chunked then gzip line",
     _post(CHUNKED + b"Transfer-Encoding: gzip\r\n"), "does not end with chunked"),
    ("Transfer-Encoding empty", _post(b"Transfer-Encoding: \r\n"), "does not end with chunked"),
    ("chunked twice", _post(b"Transfer-Encoding: chunked, chunked\r\n", body=b"0\r\n\r\n"),
     "more than once"),
    ("Transfer-Encoding in HTTP/1.0", _post(CHUNKED, body=b"0\r\n\r\n", version=b"HTTP/1.0"),
     "HTTP/1.0 request"),
    ("bad chunk size", _post(CHUNKED, body=b"zz\r\n"), "bad chunk-size line"),
    ("space before chunk size", _post(CHUNKED, body=b" 5\r\nhello\r\n0\r\n\r\n"),
     "bad chunk-size line"),
    ("bare CR in chunk size line", _post(CHUNKED, body=b"5\r\r\nhello\r\n0\r\n\r\n"),
     "bad chunk-size line"),
    ("NUL in chunk extension", _post(CHUNKED, body=b"5;a=\x00\r\nhello\r\n0\r\n\r\n"),
     "bad chunk-size line"),
    ("chunk data too long", _post(CHUNKED, body=b"5\r\nhello!\r\n0\r\n\r\n"),
     "not followed by a line end"),
    ("folded trailer", _post(CHUNKED, body=b"0\r\nX-T: a\r\n b\r\n\r\n"), "folded header"),
    ("trailer without colon", _post(CHUNKED, body=b"0\r\nnot a field\r\n\r\n"), "without a colon"),
]


@pytest.mark.parametrize(("request_bytes", "reason"), [case[1:] for case in MALFORMED],
                         ids=[case[0] for case in MALFORMED])
def test_malformed_request_is_400_then_closed(server, request_bytes, reason):
    """What RFC 9112 says a server must (or, for the lab, does) reject gets 400 and the
    connection closes: no request with a doubtful meaning or body length is answered."""
    status_line, headers, body = split_response(exchange(server, request_bytes))
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert headers["server"] == SERVER_SOFTWARE
    assert body.startswith(b"400 Bad Request: ")
    assert reason.encode() in body


@pytest.mark.parametrize("request_bytes", [
    b"GET /ip HTTP/1.0\r\n\r\n",  # no Host: fine in HTTP/1.0
    b"GET /ip HTTP/1.1\nHost: lab\n\n",  # bare LF line ends (RFC 9112 2.2 allows them)
    b"GET /ip HTTP/1.1\r\nHost:\r\n\r\n",  # an empty Host
    b"GET /ip HTTP/1.1\r\nhost:   lab  \r\nX-A:\t1\t\r\n\r\n",  # OWS around values
    b"GET /ip HTTP/1.1\r\nHost: [::1]:8080\r\nX-Obs: caf\xe9\r\n\r\n",  # obs-text in a value
    b"GET http://lab/ip HTTP/1.1\r\nHost: lab\r\n\r\n",  # absolute-form
    b"\r\nGET /ip HTTP/1.1\r\nHost: lab\r\n\r\n",  # an empty line before the request
    b"GET /ip HTTP/1.1\r\nHost: lab\r\nContent-Length: 0, 0\r\n\r\n",  # equal values
])
def test_well_formed_edges_are_still_served(server, request_bytes):
    client = RawClient(server)
    try:
        client.send(request_bytes)
        status, _, body = client.read_response()
        assert (status, body) == (200, b"127.0.0.1\n")
    finally:
        client.close()


def test_chunked_request_with_extension_and_trailer_is_served(server):
    data = _post(CHUNKED, b"Connection: close\r\n",
                 body=b"5 ;a=1;b=\"x y\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
    status_line, _, body = split_response(exchange(server, data))
    assert status_line == "HTTP/1.1 200 OK" and body == data


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"x-custom, chunked"])
def test_a_transfer_coding_before_chunked_is_501(server, coding):
    """RFC 9112 6.1: a coding the server does not know gets 501 (as nginx answers)."""
    status_line, headers, _ = split_response(
        exchange(server, _post(b"Transfer-Encoding: " + coding + b"\r\n", body=b"0\r\n\r\n")))
    assert status_line == "HTTP/1.1 501 Not Implemented"
    assert headers["connection"] == "close"


def test_half_closed_partial_request_is_400(server):
    client = RawClient(server)
    try:
        client.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\n")
        client.sock.shutdown(socket.SHUT_WR)
        assert split_response(client.read_until_close())[0] == "HTTP/1.1 400 Bad Request"
    finally:
        client.close()


def test_http2_version_is_505(server):
    assert split_response(exchange(server, b"GET / HTTP/2.0\r\n\r\n"))[0].startswith(
        "HTTP/1.1 505 "
    )


def test_oversized_head_is_431_and_body_is_413():
    with LabServer(max_request_bytes=1000) as lab:
        big_head = get("/ip", f"X-Big: {'a' * 2000}\r\n")
        assert split_response(exchange(lab, big_head))[0].startswith("HTTP/1.1 431 ")
        big_body = b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 5000\r\n\r\n" + b"b" * 5000
        assert split_response(exchange(lab, big_body))[0].startswith("HTTP/1.1 413 ")


def test_expect_100_continue(server):
    client = RawClient(server)
    try:
        client.send(b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 2\r\n"
                    b"Expect: 100-continue\r\n\r\n")
        assert client.read_response()[0] == 100
        client.send(b"ok")
        status, _, body = client.read_response()
        assert status == 200
        assert body.endswith(b"\r\n\r\nok")
    finally:
        client.close()


# ------------------------------------------------------------- limits and lifecycle


def test_connections_beyond_the_cap_get_503_when_every_slot_is_busy():
    with LabServer(max_connections=1) as lab:
        first = RawClient(lab)
        try:
            first.send(get("/stream/2?delay_ms=60000"))
            assert first.read_head()[0] == 200  # its thread is answering it (until stop)
            status_line, headers, body = split_response(exchange(lab, get("/ip")))
            assert status_line == "HTTP/1.1 503 Service Unavailable"
            assert headers["connection"] == "close"
            assert lab.connection_count == 1 and lab.evictions == 0
            assert first.read_line() == b"%x" % len(b'{"id": 0, "line": "line 1 of 2"}\n')
        finally:
            first.close()


def wait_for(condition, what: str) -> None:
    """Wait (generously bounded) until condition() is true: a hang fails, nothing is timed."""
    for _ in range(int(TIMEOUT / 0.01)):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"still not {what} after {TIMEOUT} s")


def test_a_new_connection_takes_the_slot_of_an_idle_keep_alive_one():
    """As nginx reuses idle keep-alive connections when it runs out: the idle one is closed
    quietly (a keep-alive client retries on a new connection) instead of a 503."""
    with LabServer(max_connections=1) as lab:
        first = RawClient(lab)
        try:
            first.send(get("/ip"))
            assert first.read_response()[0] == 200
            wait_for(lambda: lab.connection_phases() == {"idle": 1}, "idle")
            response = split_response(exchange(lab, get("/ip", "Connection: close\r\n")))
            assert (response[0], response[2]) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
            assert first.read_until_close() == b""  # closed, without a response
            assert lab.evictions == 1
        finally:
            first.close()


def test_many_concurrent_clients(server):
    results = []

    def fetch():
        results.append(split_response(exchange(server, get("/ip", "Connection: close\r\n")))[2])

    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [b"127.0.0.1\n"] * 20


def test_stop_closes_live_connections_and_ends_waiting_handlers():
    lab = LabServer().start()
    idle, waiting = RawClient(lab), RawClient(lab)
    try:
        idle.send(get("/ip"))
        assert idle.read_response()[0] == 200
        waiting.send(get("/stream/2?delay_ms=60000"))
        assert waiting.read_head()[0] == 200
        first_chunk = waiting.read_exact(int(waiting.read_line(), 16) + 2)
        assert json.loads(first_chunk)["id"] == 0  # its handler now waits 60 s
        lab.stop()
        assert idle.read_until_close() == b""
        assert waiting.read_until_close() == b""  # the stream was cut, not finished
        prefix = f"netlab-lab-conn-{lab.port}-"
        assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]
        assert lab.connection_count == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", lab.port), timeout=TIMEOUT)
    finally:
        idle.close()
        waiting.close()
    lab.stop()  # idempotent


def test_stop_without_start_is_harmless():
    LabServer().stop()


def test_url_and_port():
    with LabServer() as lab:
        assert lab.port > 0
        assert lab.url == f"http://127.0.0.1:{lab.port}"


def test_ipv6_loopback():
    try:
        lab = LabServer("::1").start()
    except OSError as error:
        pytest.skip(f"cannot bind ::1 on this machine: {error}")
    try:
        assert lab.url == f"http://[::1]:{lab.port}"
        status_line, _, body = split_response(exchange(lab, get("/ip", "Connection: close\r\n")))
        assert status_line == "HTTP/1.1 200 OK"
        assert body == b"::1\n"
        if os.path.exists(CURL):
            assert curl("-g", lab.url + "/ip").stdout == b"::1\n"
    finally:
        lab.stop()


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST.", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.1", False), ("0.0.0.0", False), ("::", False), ("example.com", False),
     ("", False)],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


# --------------------------------------------------------------------------- run()


def test_run_prints_the_listening_line_and_serves():
    code = "import sys; from netlab.engine.labserver import run; sys.exit(run())"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=REPO, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        address = SimpleNamespace(host="127.0.0.1", port=port)
        data = exchange(address, get("/ip", "Connection: close\r\n"))
        assert split_response(data)[2] == b"127.0.0.1\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_standard_library_only():
    code = (
        "import sys, netlab.engine.labserver; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich', 'h11'}))"
    )
    # netlab.engine's __init__ may pull in h11 for other modules; check the file itself too
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=30, check=True)
    assert "textual" not in result.stdout and "rich" not in result.stdout
    source = (REPO / "netlab" / "engine" / "labserver.py").read_text()
    imported = {line.split()[1].split(".")[0] for line in source.splitlines()
                if line.startswith(("import ", "from "))}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# ------------------------------------------- loopback unless --public; limits as options


@pytest.mark.parametrize(
    ("host", "public", "expected"),
    [("127.0.0.1", False, "127.0.0.1"), ("127.0.0.2", False, "127.0.0.2"), ("::1", False, "::1"),
     ("[::1]", False, "::1"), ("localhost", False, "127.0.0.1"), ("LocalHost.", False, "127.0.0.1"),
     ("0.0.0.0", True, "0.0.0.0"), ("::", True, "::"), ("192.0.2.7", True, "192.0.2.7")],
)
def test_bind_address(host, public, expected):
    assert bind_address(host, public) == expected


@pytest.mark.parametrize(
    ("host", "public", "reason"),
    [("0.0.0.0", False, "not-loopback"), ("::", False, "not-loopback"), ("10.1.2.3", False, "not-loopback"),
     ("192.0.2.7", False, "not-loopback"), ("example.com", False, "not-an-address"),
     ("example.com", True, "not-an-address"), ("", True, "not-an-address")],
)
def test_bind_address_refusals(host, public, reason):
    with pytest.raises(BindRefused) as info:
        bind_address(host, public)
    assert info.value.reason == reason
    with pytest.raises(BindRefused):  # the server refuses in its constructor: no socket is made
        LabServer(host, public=public)


def test_localhost_binds_loopback_without_a_resolver():
    with LabServer("localhost") as lab:
        assert lab.host == "127.0.0.1"
        assert split_response(exchange(lab, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"


def test_request_trickled_past_the_request_timeout_gets_408():
    """Bytes arrive faster than the idle timeout, but the request never ends."""
    with LabServer(idle_timeout=2.0, request_timeout=0.5) as lab:
        client = RawClient(lab)
        stop = threading.Event()

        def trickle():
            client.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\n")
            while not stop.wait(0.1):
                try:
                    client.send(b"X-Slow: 1\r\n")
                except OSError:
                    return

        thread = threading.Thread(target=trickle)
        thread.start()
        try:
            status, headers, body = client.read_response()
            assert status == 408
            assert headers["connection"] == "close"
            assert b"did not arrive within 0.5 s" in body
        finally:
            stop.set()
            thread.join(TIMEOUT)
            client.close()


def test_request_timeout_does_not_bound_writing_the_response():
    """A request that arrived in pieces (the read timeout was cut to the request deadline)
    is answered under the idle timeout: a client slow to read still gets the whole body."""
    n = 32 << 20  # more than the loopback socket buffers hold
    with LabServer(idle_timeout=10.0, request_timeout=1.0) as lab:
        client = RawClient(lab)
        try:
            client.send(f"GET /bytes/{n} HTTP/1.1\r\n".encode())
            threading.Event().wait(0.05)
            client.send(b"Host: lab\r\nConnection: close\r\n\r\n")
            threading.Event().wait(2.5)  # not reading: the server's sendall waits meanwhile
            status, headers = client.read_head()
            received = len(client.buf)
            while data := client.sock.recv(1 << 20):
                received += len(data)
            assert (status, received) == (200, n)
        finally:
            client.close()


def test_request_timeout_does_not_cut_an_idle_keep_alive_wait_short():
    """The request deadline runs from a request's first byte, not across the idle wait."""
    with LabServer(idle_timeout=5.0, request_timeout=0.3) as lab:
        client = RawClient(lab)
        try:
            client.send(get("/ip"))
            assert client.read_response()[0] == 200
            threading.Event().wait(0.6)  # idle longer than request_timeout, shorter than idle_timeout
            client.send(get("/ip"))
            assert client.read_response()[2] == b"127.0.0.1\n"
        finally:
            client.close()


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "netlab", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, text=True)


def _stop(process: subprocess.Popen) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err


def test_serve_non_loopback_without_public_is_refused(run_cli, monkeypatch):
    started = []
    monkeypatch.setattr(LabServer, "start", lambda self: started.append(self) or self)
    code, out, err = run_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2
    assert started == [] and out == ""  # nothing was bound, nothing announced
    assert "0.0.0.0" in err and "not a loopback address" in err
    assert "--public" in err and "netlab serve --host 0.0.0.0 --public" in err
    code, out, err = run_cli("serve", "--host", "example.com", "--public")
    assert code == 2 and started == []
    assert "not an IP address" in err


def test_serve_non_loopback_refused_in_a_real_process():
    process = _serve("--host", "0.0.0.0")
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 2
    assert "listening" not in out
    assert "not a loopback address" in err and "--public" in err and "Traceback" not in err


def test_serve_public_starts_and_is_reached_over_loopback():
    process = _serve("--host", "0.0.0.0", "--public")
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://0.0.0.0:")
        port = int(line.rsplit(":", 1)[1])
        assert process.stdout.readline().startswith("limits: ")
        here = SimpleNamespace(host="127.0.0.1", port=port)  # only ever connect over loopback
        assert split_response(exchange(here, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"
    finally:
        code, err = _stop(process)
    assert code == 0
    assert "not loopback (--public)" in err and f"http://127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_serve_localhost_needs_no_public():
    process = _serve("--host", "localhost")
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        here = SimpleNamespace(host="127.0.0.1", port=int(line.rsplit(":", 1)[1]))
        assert split_response(exchange(here, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"
    finally:
        code, err = _stop(process)
    assert code == 0 and "warning" not in err


def test_serve_limit_options_are_printed_and_applied():
    process = _serve("--max-connections", "1", "--max-request-bytes", "1000", "--idle-timeout", "0.5",
                     "--request-timeout", "7", "--header-timeout", "3")
    try:
        port = int(process.stdout.readline().rsplit(":", 1)[1])
        limits = process.stdout.readline()
        for text in ("--max-connections 1 ", "--max-request-bytes 1000 ", "--idle-timeout 0.5 s",
                     "--header-timeout 3 s", "--request-timeout 7 s"):
            assert text in limits
        here = SimpleNamespace(host="127.0.0.1", port=port)
        big_head = get("/ip", f"X-Big: {'a' * 2000}\r\n")
        assert split_response(exchange(here, big_head))[0].startswith("HTTP/1.1 431 ")
        first = RawClient(here)  # takes the slot the 431'd connection lingers in, if it still does
        try:
            first.send(get("/ip"))
            assert first.read_response()[0] == 200
            assert first.read_until_close() == b""  # idle for 0.5 s: the server closed it
        finally:
            first.close()
        busy = RawClient(here)
        try:
            busy.send(get("/stream/2?delay_ms=60000"))
            assert busy.read_head()[0] == 200  # answering it until the server stops
            assert split_response(exchange(here, get("/ip")))[0] == "HTTP/1.1 503 Service Unavailable"
        finally:
            busy.close()
    finally:
        code, err = _stop(process)
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    "args", [["--port", "70000"], ["--max-connections", "0"], ["--idle-timeout", "-1"],
             ["--max-request-bytes", "x"], ["--request-timeout", "nan"], ["--header-timeout", "inf"],
             ["--header-timeout", "0"]],
)
def test_serve_bad_option_values_are_usage_errors(run_cli, args):
    code, out, err = run_cli("serve", *args)
    assert code == 2
    assert args[0] in err and "Traceback" not in err


def test_serve_port_in_use_fails_with_a_message(run_cli):
    with LabServer() as lab:
        code, out, err = run_cli("serve", "--port", str(lab.port))
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{lab.port}" in err and out == ""
