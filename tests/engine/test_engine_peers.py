"""End to end: the engine against real loopback peers, cross-checked with curl.

Every comparison sends byte-identical requests from netlab and from curl (same
User-Agent, same headers in the same order — checked by ``test_request_bytes_equal_curls``),
so the only fair differences between the two responses are volatile headers (Date).
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import re
import socket
import ssl
import zlib

import pytest

from netlab.engine import Options, Request
from netlab.engine import events as ev
from netlab.engine.request import USER_AGENT
from netlab.lab import lab_bytes

VOLATILE = {"date"}  # headers that may legitimately differ between two identical requests
DATE_LINE = re.compile(rb"(?im)^date:[^\r\n]*")


def stable(headers) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n.lower() not in VOLATILE]


def without_date(raw: bytes) -> bytes:
    return DATE_LINE.sub(b"Date: *", raw)


def status_line(r) -> str:
    return f"{r.http_version} {r.status} {r.reason}"


def peer_url(request, name: str) -> str:
    return request.getfixturevalue(name).url


def recv_all(host: str, port: int, data: bytes, family=socket.AF_INET) -> bytes:
    """What a plain socket receives for ``data`` (the request must make the server close)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect((host, port))
        s.sendall(data)
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
        return bytes(out)


# --------------------------------------------------------------------------- the request


def test_request_bytes_equal_curls(lab_server, curl, engine):
    """The baseline for every curl comparison below: both send the very same bytes."""
    url = lab_server.url + "/echo"
    req = Request.from_url(url)
    rc, curl_sent, _ = curl("-A", USER_AGENT, url)
    assert rc == 0
    ex = engine.send(req)
    assert ex.error is None
    assert ex.response.body == req.data == curl_sent


def test_from_url_data_is_exactly_what_arrives(lab_server, engine):
    req = Request.from_url(lab_server.url + "/echo?q=1", "POST",
                           ["Content-Type: text/plain", "X-Case: MiXeD  spaces"], b"a=1&b=\x00\xff")
    ex = engine.send(req)
    assert ex.ok, ex.error
    assert ex.response.body == req.data  # nothing added behind the user's back
    assert req.data.startswith(b"POST /echo?q=1 HTTP/1.1\r\n")
    assert req.data.endswith(b"\r\n\r\na=1&b=\x00\xff")
    assert b"Content-Length: 8\r\n" in req.data


def test_raw_bare_lf_request_arrives_byte_for_byte(lab_server, engine):
    data = b"GET /echo HTTP/1.1\nHost: x\n\n"
    req = Request.raw(data, lab_server.url)
    assert req.data == data and req.is_raw
    ex = engine.send(req)
    assert ex.ok, ex.error
    assert ex.response.status == 200
    assert ex.response.body == data


def test_raw_request_odd_header_layout_is_kept(lab_server, engine):
    data = b"GET /echo HTTP/1.1\r\nhost:   x  \r\nX-A:1\r\nx-a: 2\r\nContent-Length: 3\r\n\r\nabc"
    ex = engine.send(Request.raw(data, lab_server.url))
    assert ex.ok, ex.error
    assert ex.response.body == data


# ---------------------------------------------------------------- framing, against curl

FRAMING_CASES = [
    # peer fixture, path, extra request headers, expected framing
    ("lab_server", "/bytes/5000", [], "content-length"),
    ("lab_server", "/bytes/300000?chunked=1", [], "chunked"),
    ("lab_server", "/stream/5", [], "chunked"),  # with a trailer
    ("lab_server", "/bytes/70000?close=1", [], "close"),
    ("lab_server", "/headers", [("X-Extra", "1")], "content-length"),
    ("lab_server", "/status/404", [], "content-length"),
    ("lab_server", "/status/204", [], "none"),
    ("lab_server", "/status/304", [], "none"),
    ("nginx", "/hello.txt", [], "content-length"),
    ("nginx", "/big.bin", [], "content-length"),
    ("nginx", "/empty.txt", [], "content-length"),
    ("nginx", "/nocontent", [], "none"),
    ("nginx", "/hello.txt", [("Accept-Encoding", "gzip")], "chunked"),  # nginx gzips on the fly
    ("nginx", "/missing", [], "content-length"),
    ("http_server", "/hello.txt", [], "content-length"),
    ("http_server", "/binary.bin", [], "content-length"),
    ("http_server", "/empty.txt", [], "content-length"),
    ("http_server", "/close-delimited", [], "close"),
    ("http_server", "/", [], "content-length"),  # directory listing
    ("http_server", "/missing", [], "content-length"),
]


@pytest.mark.parametrize("peer,path,extra,framing", FRAMING_CASES,
                         ids=[f"{p}{u}{'+' + h[0][0] if h else ''}" for p, u, h, _ in FRAMING_CASES])
def test_response_equals_curls(request, curl_fetch, engine, peer, path, extra, framing):
    url = peer_url(request, peer) + path
    ex = engine.send(Request.from_url(url, headers=extra))
    assert ex.error is None, ex.error
    assert ex.ok
    got = curl_fetch(url, *[a for n, v in extra for a in ("-H", f"{n}: {v}")])
    r = ex.response
    assert r.framing == framing
    assert status_line(r) == got.status_line
    assert stable(r.headers) == stable(got.headers)
    assert r.trailers == got.trailers
    assert r.body == got.body
    assert r.body_bytes == len(got.body)
    assert r.body_store.sha256() == hashlib.sha256(got.body).hexdigest()
    assert without_date(r.raw_head) == without_date(got.raw_head)


def test_chunked_trailers(lab_server, engine):
    ex = engine.send(Request.from_url(lab_server.url + "/stream/3"))
    assert ex.ok, ex.error
    r = ex.response
    assert r.framing == "chunked"
    assert r.trailers == [("X-Lines", "3")]
    assert r.body.count(b"\n") == 3
    # the wire body keeps the chunk-size lines and the trailer; the body does not
    assert r.raw_body.endswith(b"0\r\nX-Lines: 3\r\n\r\n")
    assert r.raw_body != r.body


def test_known_lab_bytes(lab_server, engine):
    for path in ("/bytes/200000", "/bytes/200000?chunked=1", "/bytes/200000?close=1"):
        ex = engine.send(Request.from_url(lab_server.url + path))
        assert ex.ok, (path, ex.error)
        assert ex.response.body == lab_bytes(200000), path


def test_static_files_arrive_intact(nginx, http_server, engine):
    for server in (nginx, http_server):
        for name, data in server.files.items():
            ex = engine.send(Request.from_url(f"{server.url}/{name}"))
            assert ex.ok, (server.url, name, ex.error)
            assert ex.response.body == data, (server.url, name)


# ---------------------------------------------------------------------------- HEAD

HEAD_CASES = [("lab_server", "/bytes/5000"), ("lab_server", "/stream/3"),
              ("nginx", "/hello.txt"), ("nginx", "/big.bin"), ("http_server", "/hello.txt")]


@pytest.mark.parametrize("peer,path", HEAD_CASES, ids=[p + u for p, u in HEAD_CASES])
def test_head_has_no_body(request, curl_fetch, engine, peer, path):
    url = peer_url(request, peer) + path
    ex = engine.send(Request.from_url(url, "HEAD"))
    assert ex.ok, ex.error
    got = curl_fetch(url, "-I")
    r = ex.response
    assert r.framing == "none"
    assert r.body == b"" and r.body_bytes == 0
    assert status_line(r) == got.status_line
    assert stable(r.headers) == stable(got.headers)


@pytest.mark.parametrize("peer", ["lab_server", "nginx"])
def test_head_then_get_reuses_the_connection(request, engine, peer):
    """A HEAD answer's Content-Length announces a body that is not sent: the connection
    must be back in the pool, ready for the next request."""
    url = peer_url(request, peer)
    path = "/bytes/5000" if peer == "lab_server" else "/big.bin"
    head = engine.send(Request.from_url(url + path, "HEAD"))
    assert head.ok, head.error
    assert head.keep_alive
    get = engine.send(Request.from_url(url + path))
    assert get.ok, get.error
    assert get.connection.reused is True
    assert get.connection.local == head.connection.local
    assert get.response.body_bytes == int(head.response.header("content-length"))


# ----------------------------------------------------------------------- keep-alive


@pytest.mark.parametrize("peer,path", [("lab_server", "/bytes/100"), ("lab_server", "/stream/2"),
                                       ("nginx", "/hello.txt"), ("nginx", "/nocontent")])
def test_keep_alive_reuses_the_connection(request, engine, peer, path):
    url = peer_url(request, peer) + path
    first = engine.send(Request.from_url(url))
    assert first.ok, first.error
    assert first.connection.reused is False
    assert first.keep_alive is True
    assert (first.connection.local, first.connection.remote) in engine.own_sockets()
    second = engine.send(Request.from_url(url))
    assert second.ok, second.error
    assert second.connection.reused is True
    assert second.connection.local == first.connection.local
    assert second.connection.remote == first.connection.remote
    assert second.response.body == first.response.body


def test_keep_alive_over_tls(nginx, engine):
    opts = Options(cafile=nginx.ca_path)
    first = engine.send(Request.from_url(nginx.tls_url + "/hello.txt"), options=opts)
    assert first.ok, first.error
    second = engine.send(Request.from_url(nginx.tls_url + "/hello.txt"), options=opts)
    assert second.ok, second.error
    assert second.connection.reused is True
    assert second.connection.local == first.connection.local
    assert second.tls is not None and second.tls.version == first.tls.version


def test_keep_alive_over_unix_socket(nginx, engine):
    opts = Options(unix_socket=nginx.unix_path)
    first = engine.send(Request.from_url("http://localhost/hello.txt"), options=opts)
    assert first.ok, first.error
    second = engine.send(Request.from_url("http://localhost/hello.txt"), options=opts)
    assert second.ok, second.error
    assert second.connection.reused is True
    assert second.connection.family == "AF_UNIX"


@pytest.mark.parametrize("peer", ["lab_server", "nginx"])
def test_request_connection_close_prevents_reuse(request, engine, peer):
    url = peer_url(request, peer) + ("/bytes/100" if peer == "lab_server" else "/hello.txt")
    first = engine.send(Request.from_url(url, headers=["Connection: close"]))
    assert first.ok, first.error
    assert first.keep_alive is False
    assert first.response.header("connection") == "close"
    assert engine.own_sockets() == set()
    second = engine.send(Request.from_url(url))
    assert second.ok, second.error
    assert second.connection.reused is False


@pytest.mark.parametrize("peer,path", [("lab_server", "/bytes/100?close=1"), ("nginx", "/close.txt"),
                                       ("http_server", "/hello.txt"), ("http_server", "/close-delimited")])
def test_server_close_prevents_reuse(request, engine, peer, path):
    url = peer_url(request, peer) + path
    first = engine.send(Request.from_url(url))
    assert first.ok, first.error
    assert first.keep_alive is False
    assert engine.own_sockets() == set()
    second = engine.send(Request.from_url(url))
    assert second.ok, second.error
    assert second.connection.reused is False
    assert second.response.body == first.response.body


def test_server_closing_an_idle_connection_is_survived(tcp_peer, engine):
    """A keep-alive answer, then the server closes: the next send must not fail."""

    def one_answer_then_close(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    peer = tcp_peer(one_answer_then_close)
    first = engine.send(Request.from_url(peer.url + "/a"))
    assert first.ok, first.error
    second = engine.send(Request.from_url(peer.url + "/b"))
    assert second.error is None, second.error
    assert second.response.body == b"ok"
    assert len(peer.received) == 2


def test_pool_is_per_origin(lab_server, nginx, engine):
    a = engine.send(Request.from_url(lab_server.url + "/ip"))
    b = engine.send(Request.from_url(nginx.url + "/hello.txt"))
    c = engine.send(Request.from_url(lab_server.url + "/ip"))
    assert a.ok and b.ok and c.ok
    assert b.connection.reused is False
    assert c.connection.reused is True and c.connection.local == a.connection.local


# ----------------------------------------------------------------------------- gzip


@pytest.fixture(scope="session")
def curls_accept_encoding(lab_server, curl):
    """The Accept-Encoding that `curl --compressed` sends (read back from /echo)."""
    rc, out, _ = curl("--compressed", lab_server.url + "/echo")
    assert rc == 0
    m = re.search(rb"\r\nAccept-Encoding: ([^\r\n]*)\r\n", out)
    assert m, out
    return m.group(1).decode()


@pytest.mark.parametrize("peer,path", [("lab_server", "/gzip"), ("lab_server", "/deflate"),
                                       ("nginx", "/hello.txt"), ("nginx", "/data.json")])
def test_compressed_body_stays_compressed(request, curl_fetch, curls_accept_encoding, engine, peer, path):
    url = peer_url(request, peer) + path
    ae = curls_accept_encoding
    ex = engine.send(Request.from_url(url, headers=[("Accept-Encoding", ae)]))
    assert ex.ok, ex.error
    r = ex.response
    as_sent = curl_fetch(url, "-H", f"Accept-Encoding: {ae}")  # curl does not decode without --compressed
    decoded = curl_fetch(url, "--compressed")  # sends the very same Accept-Encoding, and decodes
    assert r.header("content-encoding") in ("gzip", "deflate")
    assert r.body == as_sent.body
    assert r.body != decoded.body
    assert r.decoded_body() == decoded.body
    if r.header("content-encoding") == "gzip":
        assert r.body[:2] == b"\x1f\x8b"
        assert gzip.decompress(r.body) == decoded.body
    else:
        assert zlib.decompress(r.body) == decoded.body
    if peer == "nginx":
        assert r.decoded_body() == request.getfixturevalue("nginx").files[path.lstrip("/")]


# ---------------------------------------------------------- raw bytes as a socket sees them

RAW_CASES = [("lab_server", "/bytes/3000"), ("lab_server", "/stream/3"), ("lab_server", "/bytes/3000?close=1"),
             ("lab_server", "/status/204"), ("nginx", "/hello.txt"), ("http_server", "/hello.txt"),
             ("http_server", "/close-delimited")]


@pytest.mark.parametrize("peer,path", RAW_CASES, ids=[p + u for p, u in RAW_CASES])
def test_raw_head_and_body_equal_a_raw_socket(request, engine, peer, path):
    url = peer_url(request, peer) + path
    headers = [("Connection", "close"), ("Accept-Encoding", "gzip")]
    req = Request.from_url(url, headers=headers)
    ex = engine.send(req)
    assert ex.ok, ex.error
    server = request.getfixturevalue(peer)
    wire = recv_all("127.0.0.1", server.port, req.data)
    r = ex.response
    assert without_date(r.raw_head + r.raw_body) == without_date(wire)
    assert without_date(r.raw) == without_date(wire)
    assert ex.bytes_received == len(wire)


# ------------------------------------------------------------------- events and timings

EVENT_ORDER_NEW = re.compile(r"Resolving Resolved Connecting Connected (TLSDone )?RequestSent ResponseHead "
                             r"(BodyChunk )*Complete$")
EVENT_ORDER_REUSED = re.compile(r"Connected RequestSent ResponseHead (BodyChunk )*Complete$")


def _check_events(events, ex, *, reused=False):
    names = " ".join(type(e).__name__ for e in events)
    assert (EVENT_ORDER_REUSED if reused else EVENT_ORDER_NEW).match(names), names
    times = [e.t for e in events]
    assert times == sorted(times), "event timestamps go backwards"
    assert all(isinstance(e, ev.Event) for e in events)
    chunks = [e for e in events if isinstance(e, ev.BodyChunk)]
    totals = [c.total for c in chunks]
    assert totals == sorted(totals)
    assert sum(c.size for c in chunks) == ex.response.body_bytes
    if chunks:
        assert chunks[-1].total == ex.response.body_bytes
    head = next(e for e in events if isinstance(e, ev.ResponseHead))
    assert head.status == ex.response.status and head.framing == ex.response.framing
    assert list(head.headers) == ex.response.headers
    done = events[-1]
    assert done.status == ex.response.status and done.body_bytes == ex.response.body_bytes
    connected = next(e for e in events if isinstance(e, ev.Connected))
    assert connected.reused is reused
    assert connected.local == ex.connection.local and connected.remote == ex.connection.remote
    sent = next(e for e in events if isinstance(e, ev.RequestSent))
    assert sent.nbytes == len(ex.request.data)
    return chunks


@pytest.mark.parametrize("path,expected", [("/stream/4", None), ("/bytes/600000", 600000),
                                           ("/bytes/600000?chunked=1", None), ("/status/204", None)])
def test_events_arrive_in_order(lab_server, engine, path, expected):
    events = []
    ex = engine.send(Request.from_url(lab_server.url + path), events.append)
    assert ex.ok, ex.error
    chunks = _check_events(events, ex)
    assert all(c.expected == expected for c in chunks)
    resolved = next(e for e in events if isinstance(e, ev.Resolved))
    assert resolved.source == "literal" and resolved.addresses == ("127.0.0.1",)
    again = []
    ex2 = engine.send(Request.from_url(lab_server.url + path), again.append)
    assert ex2.ok, ex2.error
    _check_events(again, ex2, reused=True)
    assert again[0].t >= events[-1].t


def test_events_with_tls(nginx, engine):
    events = []
    ex = engine.send(Request.from_url(nginx.tls_url + "/hello.txt"), events.append,
                     options=Options(cafile=nginx.ca_path))
    assert ex.ok, ex.error
    _check_events(events, ex)
    tls = next(e for e in events if isinstance(e, ev.TLSDone))
    assert tls.verified is True and tls.version == ex.tls.version and tls.alpn == "http/1.1"


def _check_timings(t):
    parts = [t.dns, t.connect, t.tls, t.send, t.ttfb, t.download]
    assert all(p >= 0 for p in parts + [t.total]), t
    # the parts are disjoint intervals inside the total
    assert sum(parts) <= t.total + 1e-6, t
    d = t.to_dict()
    assert set(d) == {"dns", "connect", "tls", "send", "ttfb", "download", "total"}
    assert all(v >= 0 for v in d.values())


def test_timings(lab_server, nginx, engine):
    plain = engine.send(Request.from_url(lab_server.url + "/bytes/300000"))
    assert plain.ok, plain.error
    _check_timings(plain.timings)
    assert plain.timings.tls == 0
    assert plain.timings.total > 0
    secure = engine.send(Request.from_url(nginx.tls_url + "/big.bin"), options=Options(cafile=nginx.ca_path))
    assert secure.ok, secure.error
    _check_timings(secure.timings)
    assert secure.timings.tls > 0
    reused = engine.send(Request.from_url(lab_server.url + "/bytes/10"))
    assert reused.connection.reused
    _check_timings(reused.timings)
    assert reused.timings.dns == reused.timings.connect == reused.timings.tls == 0


def test_timings_of_a_failure_are_sane(engine):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    ex = engine.send(Request.from_url(f"http://127.0.0.1:{port}/"))
    assert ex.error is not None
    _check_timings(ex.timings)


# -------------------------------------------------------------------------- resolution


def _hosts_addresses(name: str) -> list[str]:
    found = []
    try:
        with open("/etc/hosts", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and name in (h.lower() for h in fields[1:]):
                    try:
                        addr = str(ipaddress.ip_address(fields[0].split("%")[0]))
                    except ValueError:
                        continue
                    if addr not in found:
                        found.append(addr)
    except OSError:
        pass
    return found


def test_literal_ip(lab_server, engine):
    ex = engine.send(Request.from_url(lab_server.url + "/ip"))
    assert ex.ok, ex.error
    assert ex.dns.source == "literal"
    assert ex.dns.addresses == ["127.0.0.1"] and ex.dns.used == "127.0.0.1"
    assert ex.connection.family == "AF_INET"
    assert ex.connection.remote == ("127.0.0.1", lab_server.port)
    assert ex.connection.local[0] == "127.0.0.1" and 0 < ex.connection.local[1] < 65536
    assert ex.response.body == f"{ex.connection.local[0]}\n".encode()


def test_localhost_via_hosts_file(lab_server, engine):
    addrs = _hosts_addresses("localhost")
    if "127.0.0.1" not in addrs:
        pytest.skip("/etc/hosts does not map localhost to 127.0.0.1")
    ex = engine.send(Request.from_url(f"http://localhost:{lab_server.port}/ip"))
    assert ex.ok, ex.error
    assert ex.dns.source == "hosts"
    assert ex.dns.addresses == addrs
    assert ex.dns.used == "127.0.0.1"
    assert ex.response.body == b"127.0.0.1\n"


def test_pin_like_curl_resolve(lab_server, curl, engine):
    port = lab_server.port
    opts = Options().with_pins(f"example.test:{port}:127.0.0.1")
    url = f"http://example.test:{port}/echo"
    req = Request.from_url(url)
    ex = engine.send(req, options=opts)
    assert ex.ok, ex.error
    assert ex.dns.source == "pin"
    assert ex.dns.addresses == ["127.0.0.1"] and ex.dns.used == "127.0.0.1"
    assert ex.response.body == req.data
    assert f"\r\nHost: example.test:{port}\r\n".encode() in ex.response.body
    rc, curl_sent, _ = curl("-A", USER_AGENT, "--resolve", f"example.test:{port}:127.0.0.1", url)
    assert rc == 0 and curl_sent == req.data


def test_pin_for_another_port_is_not_used(lab_server, engine):
    opts = Options().with_pins(f"localhost:{lab_server.port + 1 if lab_server.port < 65535 else 1}:127.0.0.9")
    if "127.0.0.1" not in _hosts_addresses("localhost"):
        pytest.skip("/etc/hosts does not map localhost to 127.0.0.1")
    ex = engine.send(Request.from_url(f"http://localhost:{lab_server.port}/ip"), options=opts)
    assert ex.ok, ex.error
    assert ex.dns.source == "hosts"


def test_connect_falls_back_to_the_next_address(lab_server, engine):
    # 127.0.0.2 is loopback too, but the lab server binds 127.0.0.1 only: refused there.
    with socket.socket() as probe:
        probe.settimeout(5)
        if probe.connect_ex(("127.0.0.2", lab_server.port)) == 0:
            pytest.skip("something accepts on 127.0.0.2 at the lab server's port")
    events = []
    opts = Options().with_pins(f"fallback.test:{lab_server.port}:127.0.0.2,127.0.0.1")
    ex = engine.send(Request.from_url(f"http://fallback.test:{lab_server.port}/ip"), events.append, options=opts)
    assert ex.ok, ex.error
    assert ex.dns.source == "pin"
    assert ex.dns.addresses == ["127.0.0.2", "127.0.0.1"]
    assert ex.dns.used == "127.0.0.1"
    assert [a for a, _ in ex.attempts] == ["127.0.0.2"]
    assert "refused" in ex.attempts[0][1]
    assert ex.response.body == b"127.0.0.1\n"
    names = [type(e).__name__ for e in events]
    assert names[:6] == ["Resolving", "Resolved", "Connecting", "ConnectFailed", "Connecting", "Connected"]
    assert events[2].address == "127.0.0.2" and events[4].address == "127.0.0.1"


def test_ipv6_loopback(lab_server_v6, curl_fetch, engine):
    url = lab_server_v6.url + "/ip"
    assert url.startswith("http://[::1]:")
    ex = engine.send(Request.from_url(url))
    assert ex.ok, ex.error
    assert ex.connection.family == "AF_INET6"
    assert ex.connection.remote == ("::1", lab_server_v6.port)
    assert ex.dns.source == "literal" and ex.dns.used == "::1"
    assert ex.response.body == b"::1\n"
    got = curl_fetch(url, "-g")
    assert ex.response.body == got.body
    assert stable(ex.response.headers) == stable(got.headers)
    echo = engine.send(Request.from_url(lab_server_v6.url + "/echo"))
    assert f"\r\nHost: [::1]:{lab_server_v6.port}\r\n".encode() in echo.response.body


def test_ipv6_pin(lab_server_v6, engine):
    port = lab_server_v6.port
    ex = engine.send(Request.from_url(f"http://six.test:{port}/ip"),
                     options=Options().with_pins(f"six.test:{port}:[::1]"))
    assert ex.ok, ex.error
    assert ex.dns.source == "pin" and ex.dns.used == "::1"
    assert ex.connection.family == "AF_INET6"


# ------------------------------------------------------------------------- Unix sockets


@pytest.mark.parametrize("path", ["/hello.txt", "/binary.bin", "/close-delimited", "/missing"])
def test_unix_socket_http_server(unix_http_server, curl_fetch, engine, path):
    url = unix_http_server.url + path
    events = []
    ex = engine.send(Request.from_url(url), events.append, options=Options(unix_socket=unix_http_server.path))
    assert ex.ok, ex.error
    assert ex.connection.family == "AF_UNIX"
    assert ex.dns.source == "unix"
    assert ex.timings.dns == 0
    assert "Resolving" not in [type(e).__name__ for e in events]
    got = curl_fetch(url, "--unix-socket", unix_http_server.path)
    assert status_line(ex.response) == got.status_line
    assert stable(ex.response.headers) == stable(got.headers)
    assert ex.response.body == got.body


def test_unix_socket_nginx(nginx, curl_fetch, engine):
    url = "http://localhost/hello.txt"
    ex = engine.send(Request.from_url(url), options=Options(unix_socket=nginx.unix_path))
    assert ex.ok, ex.error
    assert ex.connection.family == "AF_UNIX"
    got = curl_fetch(url, "--unix-socket", nginx.unix_path)
    assert stable(ex.response.headers) == stable(got.headers)
    assert ex.response.body == got.body == nginx.files["hello.txt"]


# -------------------------------------------------------------------------------- TLS


def _cert_times(pem: bytes) -> tuple[float, float]:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem)
    before = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=None)
    after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=None)
    if before.tzinfo is None:
        import calendar

        return calendar.timegm(before.timetuple()), calendar.timegm(after.timetuple())
    return before.timestamp(), after.timestamp()


def test_tls_verified(nginx, curl_fetch, engine):
    url = nginx.tls_url + "/hello.txt"
    ex = engine.send(Request.from_url(url), options=Options(cafile=nginx.ca_path))
    assert ex.ok, ex.error
    t = ex.tls
    assert t is not None and t.verified is True
    assert t.version in ("TLSv1.2", "TLSv1.3")
    assert t.cipher and t.cipher in {c["name"] for c in ssl.create_default_context().get_ciphers()} | {
        "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"}
    assert t.alpn == "http/1.1"
    assert t.sni == "localhost"
    cert = t.peer_cert
    assert "commonName=localhost" in cert["subject"]
    assert "netlab test CA" in cert["issuer"]
    assert sorted(cert["san"]) == sorted(["DNS:localhost", "IP Address:127.0.0.1"])
    before, after = _cert_times(nginx.leaf_pem)
    assert ssl.cert_time_to_seconds(cert["not_before"]) == int(before)
    assert ssl.cert_time_to_seconds(cert["not_after"]) == int(after)
    assert cert["sha256"] == hashlib.sha256(ssl.PEM_cert_to_DER_cert(nginx.leaf_pem.decode())).hexdigest()
    got = curl_fetch(url, "--cacert", nginx.ca_path)
    assert stable(ex.response.headers) == stable(got.headers)
    assert ex.response.body == got.body == nginx.files["hello.txt"]
    d = t.to_dict()
    assert set(d) >= {"version", "cipher", "alpn", "sni", "verified", "peer_cert"}


def test_tls_verified_by_ip_address(nginx, engine):
    ex = engine.send(Request.from_url(f"https://127.0.0.1:{nginx.tls_port}/nocontent"),
                     options=Options(cafile=nginx.ca_path))
    assert ex.ok, ex.error
    assert ex.tls.verified is True
    assert ex.response.status == 204 and ex.response.framing == "none"


def test_tls_without_the_ca_fails_in_phase_tls(nginx, engine):
    events = []
    ex = engine.send(Request.from_url(nginx.tls_url + "/hello.txt"), events.append)
    assert ex.error is not None
    assert ex.error.phase == "tls"
    assert "certificate" in ex.error.message.lower()
    assert ex.error.hint
    assert ex.response is None
    assert ex.connection is not None  # the TCP part worked and stays visible
    assert isinstance(events[-1], ev.Failed) and events[-1].phase == "tls"
    assert engine.own_sockets() == set()


def test_tls_insecure(nginx, engine):
    ex = engine.send(Request.from_url(nginx.tls_url + "/hello.txt"), options=Options(insecure=True))
    assert ex.ok, ex.error
    assert ex.tls.verified is False
    assert ex.tls.peer_cert["sha256"] == hashlib.sha256(
        ssl.PEM_cert_to_DER_cert(nginx.leaf_pem.decode())).hexdigest()
    assert "localhost" in ex.tls.peer_cert["subject"]
    assert ex.response.body == nginx.files["hello.txt"]
