"""Failures: each exchange ends with the right ``error.phase``, a helpful message, no
exception out of ``send``, and whatever was received kept.  Then the same through
``netlab send``: exit codes, stderr wording, --json, -o, -v, and escaping of hostile bytes.

Every peer is real and on loopback: the lab server, nginx, dnsmasq, or a raw TCP
server written here (``tcp_peer``) for replies no proper server sends.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import threading

import pytest

from netlab.engine import Engine, Options, Request
from netlab.engine import events as ev
from netlab.engine.errors import headline
from netlab.lab import lab_bytes

TRUNCATED = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789"
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
BIG_HEADER = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"
HOSTILE_BODY = b"\x1b[2Jcleared \x1b]0;pwned\x07 and \xc2\x9b31m (C1 CSI)\n"
HOSTILE = (b"HTTP/1.1 200 OK\r\nX-Title: \x1b]0;pwned\x07\r\nX-Clear: \x1b[2J\x9b1m\r\n"
           b"Content-Length: %d\r\n\r\n" % len(HOSTILE_BODY)) + HOSTILE_BODY


def closed_port() -> int:
    """A loopback port nothing listens on (the kernel gave it out and took it back)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(request: Request, options: Options | None = None):
    """engine.send on a fresh engine; returns (exchange, events)."""
    events: list = []
    with Engine() as engine:
        ex = engine.send(request, events.append, options=options)
        if ex.error is not None:
            assert engine.own_sockets() == set(), "a failed exchange left a socket open"
    return ex, events


def assert_failed(ex, events, phase: str, *words: str):
    assert ex.error is not None, "the exchange should have failed"
    assert ex.error.phase == phase, (ex.error.phase, ex.error.message)
    for w in words:
        assert w.lower() in ex.error.message.lower(), (w, ex.error.message)
    assert ex.error.message and ex.error.hint is not None
    assert not ex.ok
    assert events and isinstance(events[-1], ev.Failed)
    assert events[-1].phase == phase and events[-1].message == ex.error.message
    assert not any(isinstance(e, ev.Complete) for e in events)
    assert ex.to_dict()["error"] == {"phase": phase, "message": ex.error.message, "hint": ex.error.hint}
    assert ex.timings.total >= 0


def reply(data: bytes):
    """A tcp_peer handler: read the request (done by tcp_peer), send ``data``, close."""

    def handler(conn, peer):
        conn.sendall(data)

    return handler


def silent(conn, peer):
    peer.stop.wait(30)  # accept, read the request, never answer


# -------------------------------------------------------------------------------- connect


def test_connection_refused():
    port = closed_port()
    ex, events = send(Request.from_url(f"http://127.0.0.1:{port}/"))
    assert_failed(ex, events, "connect", "refused", f"127.0.0.1:{port}")
    assert ex.dns is not None and ex.dns.source == "literal"  # what worked stays visible
    assert ex.connection is None and ex.response is None
    assert [a for a, _ in ex.attempts] == ["127.0.0.1"]
    assert "netlab serve" in ex.error.hint or "listen" in ex.error.hint


def test_every_address_refused_names_them_all():
    port = closed_port()
    ex, events = send(Request.from_url(f"http://two.test:{port}/"),
                      Options().with_pins(f"two.test:{port}:127.0.0.1,127.0.0.2"))
    assert_failed(ex, events, "connect", "refused", "127.0.0.1", "127.0.0.2")
    assert [a for a, _ in ex.attempts] == ["127.0.0.1", "127.0.0.2"]
    assert sum(isinstance(e, ev.ConnectFailed) for e in events) == 2


def test_unix_socket_that_does_not_exist(tmp_path):
    path = str(tmp_path / "nothing-here.sock")
    ex, events = send(Request.from_url("http://localhost/"), Options(unix_socket=path))
    assert_failed(ex, events, "connect", path)
    assert "no such" in ex.error.message.lower()
    assert ex.connection is None


# ------------------------------------------------------------------------------------ DNS


def test_nxdomain_under_invalid_via_dnsmasq(dnsmasq):
    ex, events = send(Request.from_url("http://no-such-host.invalid/"), Options(dns_server=dnsmasq.server))
    assert_failed(ex, events, "dns", "NXDOMAIN", "no-such-host.invalid")
    assert ex.connection is None and ex.response is None


def test_nxdomain_via_dnsmasq(dnsmasq, curl):
    ex, events = send(Request.from_url("http://unknown.test/"), Options(dns_server=dnsmasq.server))
    assert_failed(ex, events, "dns", "NXDOMAIN", "unknown.test")
    dig = "/usr/bin/dig"
    if os.path.exists(dig):  # cross-check: dig asks the same server and gets the same verdict
        import subprocess

        out = subprocess.run([dig, "@127.0.0.1", "-p", str(dnsmasq.port), "unknown.test", "A", "+tries=1",
                              "+time=5"], capture_output=True, timeout=30).stdout
        assert b"status: NXDOMAIN" in out


def test_known_name_via_dnsmasq(dnsmasq, lab_server):
    ex, events = send(Request.from_url(f"http://known.test:{lab_server.port}/ip"),
                      Options(dns_server=dnsmasq.server))
    assert ex.ok, ex.error
    assert ex.dns.source == "dns"
    assert ex.dns.addresses == ["127.0.0.1"] and ex.dns.used == "127.0.0.1"
    assert ex.dns.server == f"127.0.0.1:{dnsmasq.port}"
    assert ex.response.body == b"127.0.0.1\n"
    resolved = next(e for e in events if isinstance(e, ev.Resolved))
    assert resolved.source == "dns" and resolved.server == ex.dns.server


def test_dns_server_that_never_answers():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:  # bound, never replies
        udp.bind(("127.0.0.1", 0))
        ex, events = send(Request.from_url("http://quiet.test/"),
                          Options(dns_server=udp.getsockname(), timeout=0.5))
    assert_failed(ex, events, "timeout", "quiet.test")


# -------------------------------------------------------------------- timeouts and limits


def test_server_that_never_answers(tcp_peer):
    peer = tcp_peer(silent)
    ex, events = send(Request.from_url(peer.url + "/"), Options(timeout=0.5))
    assert_failed(ex, events, "timeout", "response head")
    assert ex.connection is not None  # connected and sent: shown
    assert any(isinstance(e, ev.RequestSent) for e in events)
    assert peer.received and peer.received[0].startswith(b"GET / HTTP/1.1\r\n")


def test_server_that_stalls_mid_body(tcp_peer):
    peer = tcp_peer(lambda conn, p: (conn.sendall(TRUNCATED), p.stop.wait(30)))
    ex, events = send(Request.from_url(peer.url + "/"), Options(timeout=0.5))
    assert_failed(ex, events, "timeout", "body")
    assert ex.response.status == 200 and ex.response.body == b"0123456789"


def test_overall_deadline(lab_server):
    ex, events = send(Request.from_url(lab_server.url + "/slow/5000"), Options(deadline=0.3))
    assert_failed(ex, events, "timeout")
    assert ex.connection is not None


def test_deadline_across_a_slow_stream(lab_server):
    """Each read makes progress, yet the whole exchange must stop at the deadline."""
    ex, events = send(Request.from_url(lab_server.url + "/stream/50?delay_ms=200"),
                      Options(timeout=5, deadline=1.0))
    assert_failed(ex, events, "timeout")
    assert ex.response is not None
    assert ex.response.body.count(b"\n") < 50
    if ex.response.status:  # the lines that arrived are kept, as sent
        full = b"".join(b'{"id": %d, "line": "line %d of 50"}\n' % (i, i + 1) for i in range(50))
        assert full.startswith(ex.response.body)


@pytest.mark.parametrize("path", ["/bytes/5000", "/bytes/5000?chunked=1", "/bytes/5000?close=1"])
def test_max_body(lab_server, path):
    ex, events = send(Request.from_url(lab_server.url + path), Options(max_body_bytes=1000))
    assert_failed(ex, events, "limit", "1000")
    assert ex.response.status == 200
    body = ex.response.body
    assert body and lab_bytes(5000).startswith(body)  # what arrived is kept, unaltered


def test_header_limit(tcp_peer):
    peer = tcp_peer(reply(BIG_HEADER))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "limit", "header")
    assert ex.bytes_received > 0


def test_header_limit_is_configurable(tcp_peer):
    peer = tcp_peer(reply(BIG_HEADER))
    ex, _ = send(Request.from_url(peer.url + "/"), Options(max_header_bytes=1 << 20))
    assert ex.ok, ex.error
    assert len(ex.response.header("x-big")) == 200 * 1024


# ------------------------------------------------------------------------- bad replies


def test_truncated_body(tcp_peer):
    peer = tcp_peer(reply(TRUNCATED))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "receive", "10 of 100")
    r = ex.response
    assert r.status == 200 and r.framing == "content-length"
    assert r.body == b"0123456789" and not r.complete
    assert r.raw_head == TRUNCATED[: TRUNCATED.index(b"\r\n\r\n") + 4]
    assert any(isinstance(e, ev.ResponseHead) for e in events)
    assert ex.bytes_received == len(TRUNCATED)


def test_truncated_chunked_body(tcp_peer):
    peer = tcp_peer(reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "receive", "chunk")
    assert ex.response.body == b"hello"


def test_connection_reset_mid_body(tcp_peer):
    def reset(conn, peer):
        conn.sendall(TRUNCATED)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close -> RST

    peer = tcp_peer(reset)
    ex, events = send(Request.from_url(peer.url + "/"))
    assert ex.error is not None and ex.error.phase == "receive", ex.error
    assert ex.response is not None


def test_non_http_reply(tcp_peer):
    peer = tcp_peer(reply(SSH_BANNER))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "parse", "SSH-2.0")
    assert ex.response.status == 0
    assert ex.bytes_received == len(SSH_BANNER)


def test_invalid_chunk_size(tcp_peer):
    peer = tcp_peer(reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "parse", "chunk")
    assert ex.response.status == 200  # the head was fine and stays visible


def test_empty_reply(tcp_peer):
    """The server reads the request and closes without a byte (curl: "Empty reply from
    server").  The engine's own wording for this is a 'receive' failure."""
    peer = tcp_peer(reply(b""))
    ex, events = send(Request.from_url(peer.url + "/"))
    assert_failed(ex, events, "receive", "without sending a response")


def test_reused_connection_closed_by_the_server_is_retried(tcp_peer, engine):
    """A pooled connection passes the idle check, but the server closes it when the next
    request arrives (a keep-alive race): the engine retries once on a fresh connection."""

    def first_request_only(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        conn.recv(65536)  # the second request on this connection: dropped, then close

    peer = tcp_peer(first_request_only)
    first = engine.send(Request.from_url(peer.url + "/a"))
    assert first.ok and first.keep_alive, first.error
    second = engine.send(Request.from_url(peer.url + "/b"))
    assert second.error is None, second.error
    assert second.response.body == b"ok"
    assert second.connection.reused is False
    assert any("reused connection failed" in why for _, why in second.attempts)


def test_tls_to_a_plain_http_port(nginx):
    ex, events = send(Request.from_url(f"https://127.0.0.1:{nginx.port}/"), Options(cafile=nginx.ca_path))
    assert_failed(ex, events, "tls")
    assert ex.connection is not None and ex.tls is None


def test_tls_hostname_mismatch(nginx):
    port = nginx.tls_port
    ex, events = send(Request.from_url(f"https://wrong.test:{port}/"),
                      Options(cafile=nginx.ca_path).with_pins(f"wrong.test:{port}:127.0.0.1"))
    assert_failed(ex, events, "tls", "wrong.test")


def test_missing_ca_file(nginx, tmp_path):
    ex, events = send(Request.from_url(nginx.tls_url + "/"), Options(cafile=str(tmp_path / "nope.pem")))
    assert_failed(ex, events, "tls", "nope.pem")


def test_bad_usage_is_a_netlab_error_not_a_crash():
    from netlab.engine import NetlabError

    for url in ("ftp://x/", "http://", "http://host:99999/", ""):
        with pytest.raises(NetlabError) as info:
            Request.from_url(url)
        assert info.value.phase == "usage"
    for pin in ("bad", "host:port:127.0.0.1", "host:80:not-an-ip"):
        with pytest.raises(NetlabError) as info:
            Options().with_pins(pin)
        assert info.value.phase == "usage"


def test_send_never_raises_from_a_callback_free_failure_storm(tcp_peer):
    """Many failures through one engine, from several threads: none escapes send()."""
    peers = [tcp_peer(reply(d)) for d in (TRUNCATED, SSH_BANNER, b"")]
    urls = [p.url + "/" for p in peers] + [f"http://127.0.0.1:{closed_port()}/"]
    errors: list = []
    results: list = []

    def worker(url):
        try:
            results.append(engine.send(Request.from_url(url)))
        except BaseException as exc:  # noqa: BLE001 - the point of the test
            errors.append(exc)

    with Engine() as engine:
        threads = [threading.Thread(target=worker, args=(u,)) for u in urls * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert len(results) == len(urls) * 3 and all(r.error is not None for r in results)


# ------------------------------------------------------------------------------ the CLI


def _cli_failure(res, phase: str):
    code, out, err = res
    assert code == 1, (code, out, err)
    assert f"netlab: {headline(phase)}:" in err, err
    assert "Traceback" not in err and "Traceback" not in out
    assert "next:" in err or phase == "cancelled"


def test_cli_refused(run_cli):
    _cli_failure(run_cli("send", f"http://127.0.0.1:{closed_port()}/"), "connect")


def test_cli_timeout(run_cli, tcp_peer):
    peer = tcp_peer(silent)
    _cli_failure(run_cli("send", "--timeout", "0.5", peer.url + "/"), "timeout")


def test_cli_deadline(run_cli, lab_server):
    _cli_failure(run_cli("send", "--max-time", "0.3", lab_server.url + "/slow/5000"), "timeout")


def test_cli_truncated_keeps_what_arrived(run_cli, tcp_peer):
    peer = tcp_peer(reply(TRUNCATED))
    res = run_cli("send", peer.url + "/")
    _cli_failure(res, "receive")
    assert "HTTP/1.1 200 OK" in res.out and "0123456789" in res.out


def test_cli_parse(run_cli, tcp_peer):
    peer = tcp_peer(reply(SSH_BANNER))
    _cli_failure(run_cli("send", peer.url + "/"), "parse")


def test_cli_limit(run_cli, lab_server):
    _cli_failure(run_cli("send", "--max-body", "1000", lab_server.url + "/bytes/5000"), "limit")


def test_cli_unix_socket_missing(run_cli, tmp_path):
    _cli_failure(run_cli("send", "--unix-socket", str(tmp_path / "x.sock"), "http://localhost/"), "connect")


def test_cli_tls_unverified(run_cli, nginx):
    _cli_failure(run_cli("send", nginx.tls_url + "/hello.txt"), "tls")


def test_cli_tls_with_cacert_and_insecure(run_cli, nginx):
    for extra in (["--cacert", nginx.ca_path], ["-k"], ["--insecure"]):
        code, out, err = run_cli("send", *extra, nginx.tls_url + "/hello.txt")
        assert code == 0, (extra, err)
        assert out.startswith("HTTP/1.1 200 OK\n")


@pytest.mark.parametrize("argv,words", [
    (["send", "ftp://x/"], ["scheme"]),
    (["send", "--resolve", "bad", "http://127.0.0.1:1/"], ["--resolve", "bad"]),
    (["send", "--bogus-option", "http://127.0.0.1:1/"], ["--bogus-option"]),
    (["send"], ["url"]),
    (["send", "--timeout", "0", "http://127.0.0.1:1/"], ["--timeout"]),
    (["send", "--timeout", "soon", "http://127.0.0.1:1/"], ["--timeout"]),
    (["send", "-H", "no colon here", "http://127.0.0.1:1/"], ["no colon here"]),
    (["send", "--raw", "/nonexistent/request.bin", "http://127.0.0.1:1/"], ["/nonexistent/request.bin"]),
], ids=["ftp", "resolve", "unknown-option", "no-url", "timeout-0", "timeout-text", "bad-header", "raw-missing"])
def test_cli_usage_errors_exit_2(run_cli, argv, words):
    code, out, err = run_cli(*argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    for w in words:
        assert w.lower() in err.lower(), (w, err)


def test_cli_exit_codes_in_a_real_process(run_cli_subprocess, lab_server, tcp_peer):
    """The same exit codes when netlab runs as its own process (python -m netlab)."""
    code, out, err = run_cli_subprocess("send", lab_server.url + "/status/404")
    assert code == 0, err
    assert "HTTP/1.1 404 Not Found" in out
    code, out, err = run_cli_subprocess("send", f"http://127.0.0.1:{closed_port()}/")
    assert code == 1 and "netlab: connect failed:" in err and "Traceback" not in err
    peer = tcp_peer(reply(TRUNCATED))
    code, out, err = run_cli_subprocess("send", peer.url + "/")
    assert code == 1 and "netlab: receive failed:" in err and "Traceback" not in err
    code, out, err = run_cli_subprocess("send", "ftp://x/")
    assert code == 2 and "Traceback" not in err and "scheme" in err
    code, out, err = run_cli_subprocess("send", "--nope", lab_server.url)
    assert code == 2 and "Traceback" not in err


def test_cli_404_is_a_response(run_cli, lab_server):
    code, out, err = run_cli("send", lab_server.url + "/status/404")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 404 Not Found\n")
    assert "failed" not in err


# --------------------------------------------------------------------------------- --json

JSON_KEYS = {"request", "dns", "connection", "tls", "response", "timings_ms", "tcp_info", "error", "route"}
TCP_INFO_KEYS = {"rtt_ms", "rttvar_ms", "snd_cwnd", "snd_mss", "rcv_mss", "total_retrans", "segs_out", "segs_in",
                 "bytes_acked", "bytes_received"}
ROUTE_KEYS = {"interface", "source", "gateway", "next_hop_mac", "neighbour_state", "mtu"}
REQUEST_KEYS = {"method", "url", "host", "port", "scheme", "bytes", "raw"}
DNS_KEYS = {"name", "addresses", "used", "source", "elapsed_ms"}
CONNECTION_KEYS = {"family", "local", "remote", "reused", "rtt_ms"}
RESPONSE_KEYS = {"http_version", "status", "reason", "headers", "framing", "body_bytes", "body_sha256", "body",
                 "raw_head"}
TIMING_KEYS = {"dns", "connect", "tls", "send", "ttfb", "download", "total"}


def _json(res) -> dict:
    doc = json.loads(res.out)
    assert set(doc) == JSON_KEYS
    assert set(doc["request"]) == REQUEST_KEYS
    assert set(doc["timings_ms"]) == TIMING_KEYS
    assert all(isinstance(v, (int, float)) and v >= 0 for v in doc["timings_ms"].values())
    if doc["dns"] is not None:
        assert set(doc["dns"]) == DNS_KEYS
    if doc["connection"] is not None:
        assert set(doc["connection"]) == CONNECTION_KEYS
    if doc["response"] is not None:
        assert set(doc["response"]) == RESPONSE_KEYS
    if doc["error"] is not None:
        assert set(doc["error"]) == {"phase", "message", "hint"}
    if doc["tcp_info"] is not None:
        assert set(doc["tcp_info"]) == TCP_INFO_KEYS
    if doc["route"] is not None:
        assert set(doc["route"]) == ROUTE_KEYS
    assert "Traceback" not in res.err
    return doc


def test_json_success(run_cli, lab_server):
    res = run_cli("send", "--json", lab_server.url + "/bytes/1000")
    assert res.code == 0, res.err
    doc = _json(res)
    req = Request.from_url(lab_server.url + "/bytes/1000")
    assert doc["request"] == {"method": "GET", "url": lab_server.url + "/bytes/1000", "host": "127.0.0.1",
                              "port": lab_server.port, "scheme": "http", "bytes": len(req.data),
                              "raw": req.data.decode("latin-1")}
    assert doc["dns"]["source"] == "literal" and doc["dns"]["used"] == "127.0.0.1"
    assert doc["connection"]["family"] == "AF_INET" and doc["connection"]["reused"] is False
    assert doc["connection"]["remote"] == ["127.0.0.1", lab_server.port]
    r = doc["response"]
    assert (r["http_version"], r["status"], r["reason"], r["framing"]) == ("HTTP/1.1", 200, "OK", "content-length")
    assert r["body_bytes"] == 1000
    assert r["body_sha256"] == hashlib.sha256(lab_bytes(1000)).hexdigest()
    assert ["Content-Length", "1000"] in r["headers"]
    assert r["raw_head"].startswith("HTTP/1.1 200 OK\r\n") and r["raw_head"].endswith("\r\n\r\n")
    assert doc["tls"] is None and doc["error"] is None


def test_json_text_body_and_tls(run_cli, nginx):
    res = run_cli("send", "--json", "--cacert", nginx.ca_path, nginx.tls_url + "/hello.txt")
    assert res.code == 0, res.err
    doc = _json(res)
    assert doc["response"]["body"] == nginx.files["hello.txt"].decode()
    assert doc["tls"]["verified"] is True and doc["tls"]["alpn"] == "http/1.1"
    assert doc["tls"]["peer_cert"]["sha256"] == hashlib.sha256(
        __import__("ssl").PEM_cert_to_DER_cert(nginx.leaf_pem.decode())).hexdigest()


def test_json_with_a_failure_keeps_the_received_parts(run_cli, tcp_peer):
    peer = tcp_peer(reply(TRUNCATED))
    res = run_cli("send", "--json", peer.url + "/")
    assert res.code == 1
    doc = _json(res)
    assert doc["error"]["phase"] == "receive" and "10 of 100" in doc["error"]["message"]
    assert doc["response"]["status"] == 200
    assert doc["response"]["body_bytes"] == 10 and doc["response"]["body"] == "0123456789"
    assert doc["response"]["body_sha256"] == hashlib.sha256(b"0123456789").hexdigest()
    assert doc["connection"]["remote"] == ["127.0.0.1", peer.port]
    assert doc["dns"]["used"] == "127.0.0.1"


def test_json_refused(run_cli):
    port = closed_port()
    res = run_cli("send", "--json", f"http://127.0.0.1:{port}/")
    assert res.code == 1
    doc = _json(res)
    assert doc["error"]["phase"] == "connect"
    assert doc["dns"]["addresses"] == ["127.0.0.1"]
    assert doc["connection"] is None and doc["response"] is None


# -------------------------------------------------------------------------- -o and -v


@pytest.mark.parametrize("peer,path", [("lab_server", "/bytes/300000?chunked=1"), ("lab_server", "/bytes/70000"),
                                       ("nginx", "/big.bin"), ("nginx", "/empty.txt"),
                                       ("http_server", "/close-delimited")])
def test_output_file_equals_curls(request, run_cli, curl, tmp_path, peer, path):
    url = request.getfixturevalue(peer).url + path
    mine, theirs = tmp_path / "netlab.out", tmp_path / "curl.out"
    code, out, err = run_cli("send", "-o", str(mine), url)
    assert code == 0, err
    rc, _, _ = curl("-o", str(theirs), url)
    assert rc == 0
    assert mine.read_bytes() == theirs.read_bytes()
    assert out.startswith("HTTP/1.")  # the head is shown, the body went to the file
    if mine.stat().st_size:
        assert mine.read_bytes()[:64].decode("latin-1") not in out


def test_verbose_shows_line_endings(run_cli, lab_server, tmp_path):
    code, out, err = run_cli("send", "-v", lab_server.url + "/ip")
    assert code == 0, err
    assert "> GET /ip HTTP/1.1\\r\\n" in err
    assert f"> Host: 127.0.0.1:{lab_server.port}\\r\\n" in err
    assert "< HTTP/1.1 200 OK\\r\\n" in err
    assert "\r" not in err  # the line endings are shown, not sent to the terminal
    raw = tmp_path / "req.bin"
    raw.write_bytes(b"GET /echo HTTP/1.1\nHost: x\n\n")
    code, out, err = run_cli("send", "-v", "--raw", str(raw), lab_server.url)
    assert code == 0, err
    assert "> GET /echo HTTP/1.1\\n" in err and "> Host: x\\n" in err


def test_hostile_bytes_are_shown_escaped(run_cli, tcp_peer):
    peer = tcp_peer(reply(HOSTILE))
    for extra in ([], ["-v"], ["--json"]):
        code, out, err = run_cli("send", *extra, peer.url + "/")
        assert code == 0, err
        for stream in (out, err):
            assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream, (extra, stream)
        if not extra:
            assert "\\x1b]0;pwned" in out and "\\x1b[2J" in out


def test_hostile_bytes_in_an_error_message_are_escaped(run_cli, tcp_peer):
    peer = tcp_peer(reply(b"\x1b]0;pwned\x07\x1b[2J not http\r\n"))
    code, out, err = run_cli("send", "-v", peer.url + "/")
    assert code == 1
    assert "netlab: parse failed:" in err
    assert "\x1b" not in out + err and "\x07" not in out + err


def test_cli_compressed_shows_the_decoded_body_like_curl(run_cli, curl, nginx):
    url = nginx.url + "/hello.txt"
    code, out, err = run_cli("send", "--compressed", url)
    assert code == 0, err
    rc, curl_body, _ = curl("--compressed", url)
    assert rc == 0 and curl_body == nginx.files["hello.txt"]
    assert "Content-Encoding: gzip" in out
    assert out.endswith("\n\n" + curl_body.decode())


def test_cli_post_data_arrives_as_given(run_cli, lab_server):
    code, out, err = run_cli("send", "-v", "-d", "a=1&b=2", lab_server.url + "/echo")
    assert code == 0, err
    assert "> POST /echo HTTP/1.1\\r\\n" in err
    assert "> Content-Type: application/x-www-form-urlencoded\\r\\n" in err
    assert out.rstrip("\n").endswith("a=1&b=2")
