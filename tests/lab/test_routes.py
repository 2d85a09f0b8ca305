"""The lab server's endpoints (netlab/lab/routes.py) against real clients on loopback:
raw sockets and curl."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib

import pytest

from netlab.lab import BLOCK_SIZE, SERVER_SOFTWARE, iter_lab_bytes, lab_bytes
from tests.lab.client import RawClient, curl, exchange, get, needs_curl, split_response

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


# ------------------------------------------------------------------ redirects and cookies (httpbin's shapes)


def test_redirect_to_any_3xx(server):
    data = exchange(server, get("/redirect-to?url=/ip&status_code=307", "Connection: close\r\n"))
    status_line, headers, _body = split_response(data)
    assert status_line == "HTTP/1.1 307 Temporary Redirect" and headers["location"] == "/ip"
    status_line, headers, _body = split_response(
        exchange(server, get("/redirect-to?url=http%3A%2F%2F127.0.0.2%2Fx", "Connection: close\r\n")))
    assert status_line.startswith("HTTP/1.1 302") and headers["location"] == "http://127.0.0.2/x"


@pytest.mark.parametrize("query, why", [
    ("", "url is required"),
    ("?url=a%0d%0aSet-Cookie:%20x=1", "CR, LF or NUL"),
    ("?url=/ip&status_code=200", "must be a 3xx"),
    ("?url=/ip&status_code=x", "status_code must be a whole number"),
])
def test_redirect_to_refuses_bad_input(server, query, why):
    status_line, headers, body = split_response(exchange(server, get("/redirect-to" + query, "Connection: close\r\n")))
    assert status_line.startswith("HTTP/1.1 400") and why in body.decode() and "set-cookie" not in headers


def test_cookies_set_then_echoed(server):
    data = exchange(server, get("/cookies/set?a=1&b=two", "Connection: close\r\n"))
    head = data.partition(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 302") and "Location: /cookies" in head
    assert "Set-Cookie: a=1; Path=/" in head and "Set-Cookie: b=two; Path=/" in head
    _s, _h, body = split_response(exchange(server, get("/cookies", "Cookie: a=1; b=two\r\nConnection: close\r\n")))
    assert json.loads(body) == {"cookies": {"a": "1", "b": "two"}}
    status_line, _h, _b = split_response(exchange(server, get("/cookies/set?a%3Bb=1", "Connection: close\r\n")))
    assert status_line.startswith("HTTP/1.1 400")


@needs_curl
def test_cookie_round_trip_matches_curl(server, tmp_path, run_cli):
    """curl -L -c and netlab send -L -c against the same endpoints keep the same cookies."""
    curl_jar, netlab_jar = tmp_path / "curl.txt", tmp_path / "netlab.txt"
    out = curl("-L", "-c", str(curl_jar), server.url + "/cookies/set?k=v&n=2").stdout
    r = run_cli("send", "-L", "--json", "-c", str(netlab_jar), "--no-history", server.url + "/cookies/set?k=v&n=2")
    assert r.code == 0, r.err
    assert json.loads(out) == json.loads(json.loads(r.out)["response"]["body"]) == {"cookies": {"k": "v", "n": "2"}}

    def rows(path):
        return sorted(tuple(line.split("\t")[-2:]) for line in path.read_text().splitlines()
                      if line and not line.startswith("#"))
    assert rows(curl_jar) == rows(netlab_jar) == [("k", "v"), ("n", "2")]
