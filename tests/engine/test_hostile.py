"""Hostile networks (issue 6, "Failures"): every failure ends the same way everywhere.

For each case in ``CASES`` a real peer on loopback misbehaves, and the exchange must end
- in the engine: ``exchange.error`` with the right phase, a message naming what failed,
  a next step (``hint``), one ``Failed`` event, no exception out of ``send``, no socket
  left open, what arrived kept, and — for the timeouts — only after the configured time;
- in ``netlab send --json``: exit 1, one JSON object whose ``error`` has phase, message
  and hint, the partial bytes in ``response``, nothing on stderr;
- in ``netlab send`` (human output): exit 1, exactly one ``netlab: HEADLINE: ...`` line
  (``headline(phase)``: "connect failed", "timed out", ...) and one ``  next: ...``
  line, the partial response on stdout, the partial head under ``-v``, no traceback,
  no raw escape byte.

tests/engine/test_bad_input.py checks many of the same peers in more detail; the TUI side
is tests/ui/test_failures.py.  Bounds on elapsed time here are hang guards only.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Callable

import pytest

from netlab.engine import Engine, NetlabError, Options, Request
from netlab.engine import events as ev
from netlab.engine.errors import headline
from netlab.engine.http1 import MAX_HEADERS
from netlab.engine.rawtext import visible_line_endings
from netlab.engine.session import RECV_SIZE
from tests.conftest import HANG_GUARD

MARGIN = 15.0  # seconds past the configured timeout before a case counts as hung

TRUNCATED = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789"
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
HTTP09 = b"<html>hello from 1991, no status line</html>\n"
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"  # a TLS alert record (protocol_version), what some TLS ports answer
BAD_NAME = b"HTTP/1.1 200 OK\r\nX-\xe9t\xe9: v\r\nContent-Length: 2\r\n\r\nok"
BAD_VALUES = b"HTTP/1.1 200 OK\r\nX-Latin1: caf\xe9 \xff\xfe\r\nX-Utf8: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok"
# 10,000 short headers: 60 kB, under the byte limit, over the count limit
MANY_HEADERS = b"HTTP/1.1 200 OK\r\n" + b"h: v\r\n" * 10_000 + b"Content-Length: 0\r\n\r\n"
LONG_HEADERS = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Header-%05d: value\r\n" % i for i in range(10_000)) + b"\r\n"


# ----------------------------------------------------------------------------- the peers


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reply(data: bytes, *, then_wait: bool = False):
    def handler(conn, peer):
        conn.sendall(data)
        if then_wait:  # a server that keeps the connection open after its reply
            peer.stop.wait(HANG_GUARD)

    return handler


def silent(conn, peer):
    peer.stop.wait(HANG_GUARD)


def trickle(conn, peer):
    """One byte per second of a valid response: every read makes progress."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
        conn.sendall(bytes([byte]))
        if peer.stop.wait(1.0):
            return


def endless(first: bytes, more: bytes):
    """``first``, then ``more`` forever: until the client goes away (EPIPE/ECONNRESET)."""

    def handler(conn, peer):
        conn.sendall(first)
        while not peer.stop.is_set():
            conn.sendall(more)

    return handler


def reset_mid_body(conn, peer):
    conn.sendall(TRUNCATED)
    peer.stop.wait(0.3)  # let the client read what was sent
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends RST


def answer_400(conn, peer):
    """A plain-HTTP port answering whatever arrives (a TLS ClientHello) as a bad request."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


# ------------------------------------------------------------------------------ the table


@dataclass
class Target:
    url: str
    options: Options = field(default_factory=Options)
    argv: tuple[str, ...] = ()  # the same options as `netlab send` flags


class Lab:
    """Fixtures on demand, so that each case only starts the peers it needs."""

    def __init__(self, request) -> None:
        self._request = request

    def __getattr__(self, name: str):
        return self._request.getfixturevalue(name)


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Lab], Target]
    phase: str
    words: tuple[str, ...]  # in the message
    hint: tuple[str, ...]  # in the next step
    waits: float = 0.0  # the configured timeout/deadline this failure has to wait out, in s
    head: bytes = b""  # the start of what arrived (a head, maybe partial) that must stay viewable
    body: bytes = b""  # the start of the body that must stay
    status: int = 0  # the status, when a complete head arrived

    @property
    def budget(self) -> float:
        return (self.waits or 10.0) + MARGIN


def _peer(lab: Lab, handler, read_request: bool = True, **opts) -> Target:
    peer = lab.tcp_peer(handler, read_request)
    return Target(peer.url + "/", Options(**opts), _flags(**opts))


def _flags(timeout: float | None = None, deadline: float | None = None, max_body_bytes: int | None = None,
           **_) -> tuple[str, ...]:
    out: list[str] = []
    if timeout is not None:
        out += ["--timeout", f"{timeout:g}"]
    if deadline is not None:
        out += ["--max-time", f"{deadline:g}"]
    if max_body_bytes is not None:
        out += ["--max-body", str(max_body_bytes)]
    return tuple(out)


def _refused(lab):
    return Target(f"http://127.0.0.1:{closed_port()}/")


def _nxdomain(lab):
    server = lab.dnsmasq.server
    return Target("http://unknown.test/", Options(dns_server=server), ("--dns-server", f"{server[0]}:{server[1]}"))


def _dns_silent(lab):
    dns = lab.silent_dns
    return Target("http://quiet.test/", Options(dns_server=(dns.host, dns.port), timeout=0.5),
                  ("--dns-server", f"{dns.host}:{dns.port}", "--timeout", "0.5"))


def _backlog(lab):
    return Target(lab.full_backlog.url + "/", Options(timeout=0.5), ("--timeout", "0.5"))


def _tls(lab, port_name: str, host: str = "localhost", trust: bool = True):
    tls = lab.tls_lab
    port = getattr(tls, port_name)
    pin = f"{host}:{port}:127.0.0.1"
    opts = Options(cafile=tls.ca_path if trust else None).with_pins(pin)
    argv = ("--resolve", pin) + (("--cacert", tls.ca_path) if trust else ())
    return Target(f"https://{host}:{port}/", opts, argv)


def _tls_to_plain(lab):
    peer = lab.tcp_peer(answer_400, False)
    return Target(f"https://127.0.0.1:{peer.port}/")


def _tls_to_waiting_http(lab):
    return Target(f"https://127.0.0.1:{lab.lab_server.port}/", Options(timeout=0.5), ("--timeout", "0.5"))


def _plain_to_tls(lab):
    return Target(f"http://127.0.0.1:{lab.tls_lab.good_port}/")


def _unix_missing(lab):
    path = os.path.join(tempfile.gettempdir(), f"netlab-{os.getpid()}-nothing-here.sock")  # AF_UNIX paths are short
    return Target("http://localhost/", Options(unix_socket=path), ("--unix-socket", path))


CASES = [
    Case("refused", _refused, "connect", ("connection refused", "127.0.0.1"), ("listens",)),
    Case("nxdomain", _nxdomain, "dns", ("NXDOMAIN", "unknown.test"), ("--resolve",)),
    Case("dns-server-silent", _dns_silent, "timeout", ("quiet.test",), ("DNS server",), waits=0.5),
    Case("connect-never-completes", _backlog, "timeout", ("connect to 127.0.0.1", "did not complete"),
         ("backlog", "--timeout"), waits=0.5),
    Case("accepts-never-answers", lambda lab: _peer(lab, silent, timeout=0.5), "timeout",
         ("no data for 0.5 s", "response head"), ("--timeout",), waits=0.5),
    Case("one-byte-per-second", lambda lab: _peer(lab, trickle, timeout=3, deadline=1.5), "timeout",
         ("overall deadline of 1.5 s (--max-time) passed",), ("--max-time",), waits=1.5, head=b"H"),
    Case("endless-body", lambda lab: _peer(lab, endless(b"HTTP/1.1 200 OK\r\n\r\n", b"x" * 65536),
                                           max_body_bytes=300_000), "limit",
         ("body exceeds the limit of 300000 bytes",), ("--max-body",), status=200, body=b"x" * 1000,
         head=b"HTTP/1.1 200 OK\r\n\r\n"),
    Case("endless-chunked-body", lambda lab: _peer(
        lab, endless(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"10000\r\n" + b"y" * 65536 + b"\r\n"),
        max_body_bytes=300_000), "limit", ("body exceeds the limit of 300000 bytes",), ("--max-body",),
         status=200, body=b"y" * 1000),
    Case("endless-header-block", lambda lab: _peer(lab, endless(b"HTTP/1.1 200 OK\r\n", b"X-More: yes\r\n" * 500)),
         "limit", ("response head exceeds the header limit of 65536 bytes",), ("misbehaving",),
         head=b"HTTP/1.1 200 OK\r\nX-More: yes\r\nX-More: yes\r\n"),
    Case("10000-headers", lambda lab: _peer(lab, reply(MANY_HEADERS, then_wait=True)), "limit",
         ("10001 header lines", f"limit of {MAX_HEADERS}"), ("misbehaving",), head=MANY_HEADERS[:64]),
    Case("10000-long-headers", lambda lab: _peer(lab, reply(LONG_HEADERS, then_wait=True)), "limit",
         ("header limit of 65536 bytes",), ("misbehaving",), head=LONG_HEADERS[:64]),
    Case("non-http-reply", lambda lab: _peer(lab, reply(SSH_BANNER, then_wait=True), False), "parse",
         ("no HTTP status line", "SSH-2.0"), ("HTTP/1.1",), head=SSH_BANNER),
    Case("http09-reply", lambda lab: _peer(lab, reply(HTTP09)), "parse",
         ("no HTTP status line", "HTTP/0.9", "<html>hello"), ("kept",), head=HTTP09),
    Case("invalid-chunk-size", lambda lab: _peer(lab, reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")), "parse",
         ("chunk",), ("Raw tab",), status=200, head=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    Case("body-shorter-than-content-length", lambda lab: _peer(lab, reply(TRUNCATED)), "receive",
         ("10 of 100 body bytes",), ("kept",), status=200, head=TRUNCATED[:40], body=b"0123456789"),
    Case("reset-mid-body", lambda lab: _peer(lab, reset_mid_body), "receive", ("reset by peer",), ("kept",),
         status=200, head=TRUNCATED[:40], body=b"0123456789"),
    Case("tls-self-signed", lambda lab: _tls(lab, "self_signed_port", trust=False), "tls",
         ("certificate verification failed", "self-signed"), ("--cacert", "--insecure")),
    Case("tls-expired", lambda lab: _tls(lab, "expired_port"), "tls", ("certificate has expired",),
         ("renew", "--insecure")),
    Case("tls-wrong-host-name", lambda lab: _tls(lab, "good_port", host="wrong.test"), "tls",
         ("Hostname mismatch", "wrong.test"), ("does not name this host",)),
    Case("tls-to-plain-http-port", _tls_to_plain, "tls", ("WRONG_VERSION_NUMBER", "plain HTTP"), ("http://",)),
    Case("tls-to-http-port-that-waits", _tls_to_waiting_http, "timeout",
         ("TLS handshake", "did not complete within 0.5 s"), ("http://",), waits=0.5),
    Case("plain-http-to-tls-port", _plain_to_tls, "receive", ("reset by peer",), ("https://",)),
    Case("tls-alert-to-plain-http", lambda lab: _peer(lab, reply(TLS_ALERT)), "parse", ("TLS record",),
         ("https://",), head=TLS_ALERT),
    Case("non-utf8-header-name", lambda lab: _peer(lab, reply(BAD_NAME)), "parse",
         ("invalid response head", r"X-\xe9t\xe9"), ("Raw tab",), head=BAD_NAME[:20]),
    Case("unix-socket-missing", _unix_missing, "connect", ("no such file", "nothing-here.sock"), ("path",)),
]


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request) -> tuple[Case, Target]:
    c = request.param
    return c, c.setup(Lab(request))


# --------------------------------------------------------------------------------- engine


def _contains(text: str, words) -> None:
    for w in words:
        assert w.lower() in text.lower(), (w, text)


def test_engine(case):
    c, target = case
    events: list = []
    with Engine() as engine:
        ex = engine.send(Request.from_url(target.url), events.append, options=target.options)
        assert engine.own_sockets() == set(), "a failed exchange left a socket open"
    err = ex.error
    assert err is not None and not ex.ok
    assert err.phase == c.phase, (err.phase, err.message)
    _contains(err.message, c.words)
    assert err.hint, "every failure says what to do next"
    _contains(err.hint, c.hint)
    assert "\n" not in err.message and "\n" not in err.hint  # one line each
    failed = [e for e in events if isinstance(e, ev.Failed)]
    assert len(failed) == 1 and failed[0] is events[-1]
    assert (failed[0].phase, failed[0].message) == (err.phase, err.message)
    assert not any(isinstance(e, ev.Complete) for e in events)
    assert ex.to_dict()["error"] == {"phase": err.phase, "message": err.message, "hint": err.hint}
    # it ended, and not before the configured time it had to wait out
    assert ex.timings.total < c.budget * 1000
    if c.waits:
        assert ex.timings.total >= c.waits * 1000, ex.timings
    # what arrived is kept
    r = ex.response
    if c.head or c.body or c.status:
        assert r is not None
        assert r.status == c.status, r
        assert r.raw.startswith(c.head), r.raw[:80]
        assert r.body.startswith(c.body), r.body[:80]
        assert ex.bytes_received >= len(c.head) + len(c.body)


# ------------------------------------------------------------------------------------ CLI


def test_cli_json(case, run_cli):
    c, target = case
    res = run_cli("send", "--json", *target.argv, target.url)
    assert res.code == 1, (res.code, res.err)
    assert res.err == "", res.err  # the JSON is the whole report
    doc = json.loads(res.out)
    err = doc["error"]
    assert set(err) == {"phase", "message", "hint"}
    assert err["phase"] == c.phase, err
    _contains(err["message"], c.words)
    assert err["hint"]
    _contains(err["hint"], c.hint)
    total = doc["timings_ms"]["total"]
    assert total < c.budget * 1000
    if c.waits:
        assert total >= c.waits * 1000, doc["timings_ms"]
    if c.head or c.body or c.status:
        resp = doc["response"]
        assert resp is not None and resp["status"] == c.status
        assert resp["raw_head"].encode("latin-1").startswith(c.head)  # one character per byte: lossless
        assert (resp["body"] or "").encode().startswith(c.body)
        assert resp["body_bytes"] >= len(c.body)


def _one_failure_line(err: str, phase: str) -> str:
    lines = err.splitlines()
    failed = [line for line in lines if line.startswith("netlab: ")]
    nexts = [line for line in lines if line.startswith("  next: ")]
    assert len(failed) == 1 and failed[0].startswith(f"netlab: {headline(phase)}: "), err
    assert len(nexts) == 1 and nexts[0] == lines[-1], err
    return failed[0] + "\n" + nexts[0]


def test_cli_human(case, run_cli):
    c, target = case
    code, out, err = run_cli("send", *target.argv, target.url)
    assert code == 1, (code, err)
    for stream in (out, err):
        assert "Traceback" not in stream and "\x1b" not in stream and "\x07" not in stream
    message = _one_failure_line(err, c.phase)
    assert err.splitlines() == message.splitlines(), err  # nothing else on stderr
    _contains(message, c.words)
    _contains(message, c.hint)
    if c.status:  # the partial response is shown as received so far
        assert out.startswith(f"HTTP/1.1 {c.status} "), out[:200]
        assert c.body.decode() in out
    else:
        assert out == ""


def test_cli_verbose_shows_the_partial_bytes(case, run_cli):
    c, target = case
    code, out, err = run_cli("send", "-v", *target.argv, target.url)
    assert code == 1, (code, err)
    assert "Traceback" not in out + err and "\x1b" not in out + err
    _one_failure_line(err, c.phase)
    if c.head:
        first = visible_line_endings(c.head)[0]
        assert f"< {first}" in err, err[:2000]


# ------------------------------------------------------------------- beyond the table


def test_endless_body_spills_to_disk_up_to_the_limit_then_stops(tcp_peer):
    """Memory stays bounded: past ``spill_bytes`` the body is in a temporary file, the
    reading stops one receive after the limit, and the server sees the connection go."""
    done = threading.Event()
    sent = []

    def flood(conn, peer):
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            chunk = b"z" * 65536
            while not peer.stop.is_set():
                conn.sendall(chunk)
                sent.append(len(chunk))
        finally:
            done.set()

    peer = tcp_peer(flood)
    limit, spill = 3_000_000, 512 * 1024
    with Engine() as engine:
        ex = engine.send(Request.from_url(peer.url + "/"), options=Options(max_body_bytes=limit, spill_bytes=spill))
    assert ex.error is not None and ex.error.phase == "limit", ex.error
    store = ex.response.body_store
    assert store.spilled and store._mem is None  # on disk, not in memory
    assert limit < store.size <= limit + RECV_SIZE
    assert ex.response.body.startswith(b"z" * 1000) and len(ex.response.body) == store.size
    assert done.wait(HANG_GUARD), "the server kept sending: the client never let go of the connection"
    assert sum(sent) > limit


@pytest.mark.parametrize("count,ok", [(MAX_HEADERS - 1, True), (MAX_HEADERS, False)])
def test_header_count_limit_boundary(tcp_peer, count, ok):
    """MAX_HEADERS header lines pass (curl's limit); one more is refused.  (The head
    below has ``count`` ``h: v`` lines plus Content-Length.)"""
    head = b"HTTP/1.1 200 OK\r\n" + b"h: v\r\n" * count + b"Content-Length: 2\r\n\r\nok"
    peer = tcp_peer(reply(head))
    with Engine() as engine:
        ex = engine.send(Request.from_url(peer.url + "/"))
    if ok:
        assert ex.ok, ex.error
        assert len(ex.response.headers) == MAX_HEADERS
    else:
        assert ex.error.phase == "limit" and f"{MAX_HEADERS + 1} header lines" in ex.error.message
        assert ex.response.raw_head == head[: len(ex.response.raw_head)] and len(ex.response.raw_head) >= 1000


def test_the_deadline_during_connect_is_named(full_backlog):
    """With a long per-step timeout, a connect that hangs ends at --max-time, and says so."""
    with Engine() as engine:
        ex = engine.send(Request.from_url(full_backlog.url + "/"), options=Options(timeout=30, deadline=0.7))
    assert ex.error.phase == "timeout"
    _contains(ex.error.message, ("overall deadline of 0.7 s", "connecting to 127.0.0.1"))
    assert "--max-time" in ex.error.hint
    assert 700 <= ex.timings.total < (0.7 + MARGIN) * 1000


def test_non_utf8_header_values_do_not_fail_and_show_escaped(tcp_peer, run_cli):
    peer = tcp_peer(reply(BAD_VALUES))
    with Engine() as engine:
        ex = engine.send(Request.from_url(peer.url + "/"))
    assert ex.ok, ex.error
    assert ex.response.header("x-latin1").encode("latin-1") == b"caf\xe9 \xff\xfe"  # the bytes, kept exactly
    code, out, err = run_cli("send", peer.url + "/")
    assert code == 0, err
    assert "X-Latin1: caf\\xe9 \\xff\\xfe\n" in out  # not UTF-8: every byte shown as \xNN
    assert "X-Utf8: café\n" in out  # valid UTF-8 shows as the text it is
    res = run_cli("send", "--json", peer.url + "/")
    headers = dict(json.loads(res.out)["response"]["headers"])
    assert headers["X-Latin1"].encode("latin-1") == b"caf\xe9 \xff\xfe"  # Latin-1 text: lossless


def test_plain_http_to_nginx_tls_port_is_nginx_400(run_cli, nginx):
    """nginx answers plain HTTP on its TLS port with its own 400 page: that is a response
    (exit 0, as curl shows it), and the page says what happened."""
    code, out, err = run_cli("send", f"http://127.0.0.1:{nginx.tls_port}/")
    assert code == 0, err
    assert out.startswith("HTTP/1.1 400 Bad Request\n")
    assert "plain HTTP request was sent to HTTPS port" in out


def test_unix_socket_file_with_no_server():
    """A stale socket file (its server is gone): refused, and said so."""
    folder = tempfile.mkdtemp(prefix="netlab-stale-", dir="/tmp")  # AF_UNIX paths are short
    path = os.path.join(folder, "stale.sock")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)
            s.listen(1)
        with Engine() as engine:
            ex = engine.send(Request.from_url("http://localhost/"), options=Options(unix_socket=path))
        assert ex.error.phase == "connect"
        _contains(ex.error.message, ("connection refused", path))
        assert "server" in ex.error.hint
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(folder)


def test_unwritable_output_path_fails_before_sending_and_frees_the_connection(lab_server, tmp_path):
    from netlab.engine import Engine, Request

    with Engine() as e:
        ex = e.send(Request.from_url(lab_server.url + "/echo"), body_path=str(tmp_path / "missing" / "x"))
        assert ex.error is not None and ex.error.phase == "receive"
        assert "cannot write the body to" in ex.error.message and "missing" in ex.error.message
        assert ex.error.__traceback__ is None  # no frames kept alive through the exchange
        assert e.own_sockets() == set()  # the connection was not left checked out
        again = e.send(Request.from_url(lab_server.url + "/ip"))
        assert again.ok


def test_a_gzip_bomb_is_not_decoded_past_the_limit(tcp_peer, run_cli):
    """64 KB of gzip that would decode to 64 MiB: the decoder stops at its limit, the
    body is shown as received, and the exchange itself is fine."""
    import gzip

    from netlab.engine.http1 import decode_content

    bomb = gzip.compress(bytes(64 << 20))
    assert len(bomb) < 100_000
    with pytest.raises(NetlabError) as info:
        decode_content(bomb, "gzip", limit=1 << 20)
    assert info.value.phase == "limit" and "more than 1048576 bytes" in info.value.message
    assert decode_content(gzip.compress(b"a") + gzip.compress(b"b"), "gzip") == b"ab"  # several members
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    peer = tcp_peer(lambda conn, p: conn.sendall(head + bomb))
    import netlab.engine.http1.decode as http1

    old = http1.DECODE_LIMIT
    http1.DECODE_LIMIT = 1 << 20  # the CLI's --compressed path, with a small limit
    try:
        r = run_cli("send", "--compressed", peer.url + "/")
    finally:
        http1.DECODE_LIMIT = old
    assert r.code == 0
    assert "decodes to more than 1048576 bytes" in r.err and "showing the body as received" in r.err
