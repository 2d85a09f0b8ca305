"""Limits per exchange, not per item (issue 12, points 1, 2, 3, 5 and 6): every peer is a
real one on loopback (``tcp_peer`` scripts the bytes no proper server sends).

* interim (1xx) responses are bounded as a whole: at most MAX_INFORMATIONAL of them, and
  all head bytes of one exchange (1xx heads, final head, trailer) at most HEAD_BYTES_TOTAL;
* the response head has its own deadline (Options.head_timeout) that a trickling peer
  cannot stretch, while --max-time still bounds the whole exchange;
* a Content-Length or a chunk-size line over --max-body fails at once, not after a read
  timeout;
* a trailer holding fields RFC 9110 6.5.1 forbids is metadata: the body is kept, the
  fields are marked (``Response.trailers_forbidden``), the connection stays usable;
* decoding for display streams into a store: the decoded bytes never exceed the limit,
  and a subprocess's peak RSS stays near the limit, not at twice it.

Sleeps below pace the peers; no assertion is on elapsed time (HANG_GUARD only bounds).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from netlab.engine import Engine, Options, Request
from netlab.engine import events as ev
from netlab.engine.errors import NetlabError
from netlab.engine.http1 import (
    FORBIDDEN_TRAILERS,
    HEAD_BYTES_TOTAL,
    MAX_INFORMATIONAL,
    BodyStore,
    ResponseReader,
    decode_content,
    decode_into,
)
from netlab.engine.session import HEAD_TIMEOUT
from tests.conftest import HANG_GUARD, read_request_head

ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20


def send(url: str, options: Options | None = None, method: str = "GET"):
    events: list = []
    with Engine() as engine:
        ex = engine.send(Request.from_url(url, method=method), events.append, options=options)
        if ex.error is not None:
            assert engine.own_sockets() == set(), "a failed exchange left a socket open"
    return ex, events


def failed(ex, events, phase: str) -> NetlabError:
    assert ex.error is not None, "the exchange should have failed"
    assert ex.error.phase == phase, (ex.error.phase, ex.error.message)
    assert ex.error.hint
    assert isinstance(events[-1], ev.Failed) and events[-1].phase == phase
    return ex.error


def wait_for_stop(conn, peer) -> None:
    peer.stop.wait(HANG_GUARD)


# ------------------------------------------------------------ 1. interim responses, as a whole


def test_an_endless_run_of_100_continue_stops_at_the_interim_cap(tcp_peer):
    """Before: every 100 Continue was kept, head by head, until --max-time (here a hang
    guard) ended the exchange as a timeout."""
    def endless(conn, peer):
        while not peer.stop.is_set():
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 50)

    peer = tcp_peer(endless)
    ex, events = send(peer.url + "/", Options(timeout=5, deadline=HANG_GUARD))
    err = failed(ex, events, "limit")
    assert f"more than {MAX_INFORMATIONAL} interim (1xx) responses" in err.message
    assert len(ex.response.informational) == MAX_INFORMATIONAL  # the heads before the cap stay viewable
    assert ex.response.raw_head.startswith(b"HTTP/1.1 100 Continue")  # the refused one too, as bytes
    assert sum(isinstance(e, ev.InformationalHead) for e in events) <= MAX_INFORMATIONAL


def test_interim_heads_count_against_one_total_for_the_exchange(tcp_peer):
    """Each 103 head is well under the per-head limit (64 KiB); forty of them are not
    under the exchange's total.  Before: all forty were kept and the 200 accepted."""
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </" + b"a" * (10 * 1024) + b">; rel=preload\r\n\r\n"
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    def hints(conn, peer):
        conn.sendall(hint * 40 + final)
        wait_for_stop(conn, peer)

    peer = tcp_peer(hints)
    ex, events = send(peer.url + "/", Options(timeout=5, deadline=HANG_GUARD))
    err = failed(ex, events, "limit")
    assert f"exceed {HEAD_BYTES_TOTAL} bytes in all" in err.message
    kept = sum(len(i.raw) for i in ex.response.informational)
    assert kept <= HEAD_BYTES_TOTAL and len(ex.response.informational) == HEAD_BYTES_TOTAL // len(hint)
    assert not ex.response.status  # the final head was never reached


def test_a_few_interim_heads_then_the_response_are_fine(tcp_peer):
    def three(conn, peer):
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" + b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" * 2
                     + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    peer = tcp_peer(three)
    ex, _ = send(peer.url + "/")
    assert ex.ok, ex.error
    assert [i.status for i in ex.response.informational] == [100, 103, 103] and ex.response.body == b"ok"


def test_the_total_grows_with_a_larger_per_head_limit():
    """--max-header-bytes above the total raises the total with it: one head alone is
    never refused by the total before its own limit."""
    head = b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * (400 * 1024) + b"\r\nContent-Length: 0\r\n\r\n"
    bare = head.replace(b"\r\n", b"\n")  # through h11, where the total is counted
    reader = ResponseReader("GET", max_header_bytes=1 << 20)
    reader.feed(bare)
    assert reader.done and reader.response.status == 200


# ------------------------------------------------------------------- 2. the head's deadline


def trickle_head(conn, peer):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not peer.stop.wait(0.2):
        conn.sendall(b"a")  # every read succeeds: the read timeout never fires


def test_a_trickled_head_fails_at_the_head_deadline(tcp_peer):
    """Before: each byte reset the read timeout and only --max-time (here a hang guard)
    ended the exchange."""
    peer = tcp_peer(trickle_head)
    ex, events = send(peer.url + "/", Options(timeout=5, head_timeout=1.0, deadline=HANG_GUARD))
    err = failed(ex, events, "timeout")
    assert "head deadline of 1 s" in err.message
    assert "--head-timeout" in err.hint
    assert ex.response.raw_head.startswith(b"HTTP/1.1 200 OK\r\nX-Slow: a")  # what came stays viewable


def test_interim_heads_do_not_stop_the_head_clock(tcp_peer):
    def slow_continues(conn, peer):
        while not peer.stop.wait(0.25):
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    peer = tcp_peer(slow_continues)
    ex, events = send(peer.url + "/", Options(timeout=5, head_timeout=1.0, deadline=HANG_GUARD))
    err = failed(ex, events, "timeout")
    assert "head deadline" in err.message
    assert 0 < len(ex.response.informational) < MAX_INFORMATIONAL


def test_the_head_deadline_does_not_bound_the_body(tcp_peer):
    def slow_body(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
        for byte in b"slowbody":
            if peer.stop.wait(0.25):
                return
            conn.sendall(bytes([byte]))

    peer = tcp_peer(slow_body)
    ex, _ = send(peer.url + "/", Options(timeout=5, head_timeout=0.5, deadline=HANG_GUARD))
    assert ex.ok, ex.error
    assert ex.response.body == b"slowbody"


@pytest.mark.parametrize("head_timeout", [None, 20.0])
def test_max_time_still_bounds_the_whole_exchange(tcp_peer, head_timeout):
    peer = tcp_peer(trickle_head)
    ex, events = send(peer.url + "/", Options(timeout=5, head_timeout=head_timeout, deadline=1.0))
    err = failed(ex, events, "timeout")
    assert "--max-time" in err.message and "head deadline" not in err.message


def test_the_head_deadline_is_on_by_default():
    assert Options().head_timeout == HEAD_TIMEOUT == 30.0


# ------------------------------------------------------------- 3. declared sizes over the limit


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])  # the fast path, and h11's
def test_a_content_length_over_max_body_fails_at_the_head(tcp_peer, eol):
    """Before: the engine waited for the body until the read timeout."""
    def huge(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK" + eol + b"Content-Length: 99999999999" + eol + eol + b"x" * 10)
        wait_for_stop(conn, peer)

    peer = tcp_peer(huge)
    ex, events = send(peer.url + "/", Options(timeout=5, max_body_bytes=1_000_000))
    err = failed(ex, events, "limit")
    assert "99999999999" in err.message and "1000000" in err.message
    assert ex.response.status == 200 and ex.response.body == b"x" * 10  # what came with the head is kept


def test_a_huge_content_length_on_a_head_request_is_no_body(tcp_peer):
    def huge(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")

    peer = tcp_peer(huge)
    ex, _ = send(peer.url + "/", Options(max_body_bytes=1_000_000), method="HEAD")
    assert ex.ok, ex.error


@pytest.mark.parametrize("size_line", [b"ffffffffffffffff", b"f4240"])  # 2^64-1; 1,000,000 after the 5 bytes
def test_a_chunk_size_over_max_body_fails_at_the_chunk_line(tcp_peer, size_line):
    def huge_chunk(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" + size_line + b"\r\nabc")
        wait_for_stop(conn, peer)

    peer = tcp_peer(huge_chunk)
    ex, events = send(peer.url + "/", Options(timeout=5, max_body_bytes=1_000_000))
    err = failed(ex, events, "limit")
    assert str(int(size_line, 16)) in err.message and "after 5" in err.message
    assert ex.response.body == b"helloabc"


def test_the_chunk_line_alone_is_enough():
    """No data after the size line need arrive: the line itself decides."""
    reader = ResponseReader("GET", max_body_bytes=1000)
    reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    with pytest.raises(NetlabError) as info:
        reader.feed(b"ffffffffffffffff\r\n")
    assert info.value.phase == "limit"


# --------------------------------------------------------------------------- 5. trailers

TRAILER = [("Transfer-Encoding", "gzip"), ("Content-Length", "abc"), ("Host", "evil.example"),
           ("X-Checksum", "sha256=1"), ("Authorization", "Bearer t"), ("Server-Timing", "db;dur=5")]
CHUNKED_WITH_TRAILER = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                        b"5\r\nhello\r\n6\r\n world\r\n0\r\n"
                        + b"".join(f"{n}: {v}\r\n".encode() for n, v in TRAILER) + b"\r\n")


def test_forbidden_trailer_fields_are_kept_marked_and_the_body_with_them(tcp_peer):
    """Before: h11 refused 'Transfer-Encoding: gzip' in the trailer: a parse failure.
    The connection is reused after it: the framing was never in doubt."""
    def two(conn, peer):
        conn.sendall(CHUNKED_WITH_TRAILER)
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        wait_for_stop(conn, peer)

    peer = tcp_peer(two)
    with Engine() as engine:
        ex = engine.send(Request.from_url(peer.url + "/"))
        assert ex.ok, ex.error
        r = ex.response
        assert r.body == b"hello world" and r.framing == "chunked"
        assert r.trailers == TRAILER  # as received, in order
        assert r.trailers_forbidden == [f for f in TRAILER if f[0] not in ("X-Checksum", "Server-Timing")]
        assert r.raw_body.endswith(b"Server-Timing: db;dur=5\r\n\r\n")
        assert ex.keep_alive
        again = engine.send(Request.from_url(peer.url + "/"))
        assert again.ok and again.connection.reused and again.response.body == b"ok"


def test_curl_accepts_the_same_trailer(tcp_peer, curl):
    peer = tcp_peer(lambda conn, peer: conn.sendall(CHUNKED_WITH_TRAILER))
    code, out, _ = curl(peer.url + "/")
    assert code == 0 and out == b"hello world"


def test_forbidden_trailer_names_follow_rfc_9110():
    for name in ("transfer-encoding", "content-length", "host", "authorization", "set-cookie", "cache-control",
                 "content-type", "content-encoding", "content-range", "trailer", "te", "expect", "range", "location"):
        assert name in FORBIDDEN_TRAILERS
    for name in ("x-checksum", "server-timing", "etag", "digest", "authentication-info"):
        assert name not in FORBIDDEN_TRAILERS


def test_the_cli_marks_forbidden_trailer_fields(tcp_peer, run_cli):
    peer = tcp_peer(lambda conn, peer: conn.sendall(CHUNKED_WITH_TRAILER))
    res = run_cli("send", "-v", "--no-history", peer.url + "/")
    assert res.code == 0, res.err
    lines = [line for line in res.err.splitlines() if line.startswith("* trailer: ")]
    assert len(lines) == len(TRAILER)
    marked = [line for line in lines if "not allowed in a trailer" in line]
    assert [line.split(": ")[1] for line in marked] == ["Transfer-Encoding", "Content-Length", "Host", "Authorization"]
    res = run_cli("send", "--no-history", peer.url + "/")  # as curl -i: stdout as received, marks on stderr
    assert res.code == 0 and res.out.splitlines()[-1] == "Server-Timing: db;dur=5"
    assert "* trailer Host:" in res.err and "X-Checksum" not in res.err


# ----------------------------------------------------------------- 6. decoding near its limit


def gzip_of(size: int, byte: bytes = b"\0") -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = byte * MiB
    return b"".join(c.compress(block) for _ in range(size // MiB)) + c.flush()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_of(256 * MiB)  # about 256 KiB on the wire


def serve_gzip(data: bytes):
    def handler(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(data) + data)
        wait_for_stop(conn, peer)
    return handler


def test_the_decoded_bytes_stop_at_the_limit(tcp_peer, bomb):
    peer = tcp_peer(serve_gzip(bomb))
    ex, _ = send(peer.url + "/")
    assert ex.ok, ex.error
    limit = 8 * MiB + 3
    out = BodyStore()
    try:
        with pytest.raises(NetlabError) as info:
            decode_into(ex.response.body_store.iter_chunks, "gzip", out, limit)
        assert info.value.phase == "limit"
        assert out.size == limit and out.spilled  # never more than the limit, and not in memory
    finally:
        out.close()
    with pytest.raises(NetlabError) as info:
        ex.response.decoded_body(limit)
    assert info.value.phase == "limit" and "a compression bomb" in info.value.message


_MEASURE = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from netlab.engine import Engine, NetlabError, Request

    def status(key):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

    url, limit = sys.argv[2], int(sys.argv[3])
    with Engine() as engine:
        ex = engine.send(Request.from_url(url))
    assert ex.ok, ex.error
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # the peak so far (the fetch) is forgotten: VmHWM starts again from VmRSS
    except OSError:
        pass
    before = status("VmRSS")
    try:
        size, error = len(ex.response.decoded_body(limit)), None
    except NetlabError as exc:
        size, error = None, exc.phase
    print(json.dumps({"growth": status("VmHWM") - before, "size": size, "error": error}))
""")


def peak_growth(url: str, limit: int) -> dict:
    """Peak RSS growth of a fresh interpreter while it decodes the body at ``url``: its
    VmHWM, not ru_maxrss, which Linux carries over exec() from the forking process
    (pytest, which made the bomb)."""
    p = subprocess.run([sys.executable, "-c", _MEASURE, str(ROOT), url, str(limit)], check=False, capture_output=True,
                       timeout=HANG_GUARD * 4, env={**os.environ, "NETLAB_HISTORY": os.devnull})
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return json.loads(p.stdout)


LIMIT = 64 * MiB
SLACK = 24 * MiB  # interpreter noise, zlib's window, the store's memory part (SPILL_BYTES)


def test_decoding_a_bomb_holds_no_copy_of_the_limit(tcp_peer, bomb):
    """Before: the decoder's buffer and zlib's output, each up to the limit, at once
    (about twice the limit; 546 MiB for the CLI's 256 MiB).  Now the decoded bytes go
    to a store that spills to a temporary file."""
    peer = tcp_peer(serve_gzip(bomb))
    got = peak_growth(peer.url + "/", LIMIT)
    assert got["error"] == "limit"
    assert got["growth"] < SLACK, got


def test_decoding_just_under_the_limit_holds_one_copy(tcp_peer):
    """A body that decodes to nearly the limit: the one copy returned, not three."""
    size = LIMIT - 4 * MiB
    peer = tcp_peer(serve_gzip(gzip_of(size, b"a")))
    got = peak_growth(peer.url + "/", LIMIT)
    assert got["error"] is None and got["size"] == size
    assert got["growth"] < LIMIT + SLACK, got


@pytest.mark.parametrize("encoding,data,want", [
    ("gzip", gzip.compress(b"one ") + gzip.compress(b"two"), b"one two"),  # two members
    ("gzip", gzip.compress(b"padded") + b"\0" * 9, b"padded"),  # NUL padding after the last member
    ("x-gzip", gzip.compress(bytes(range(256)) * 700), bytes(range(256)) * 700),
    ("deflate", zlib.compress(b"zlib-wrapped " * 5000), b"zlib-wrapped " * 5000),
    ("deflate", zlib.compress(b"raw deflate " * 5000)[2:-4], b"raw deflate " * 5000),  # no zlib wrapper
    ("gzip", b"", b""),  # an empty body decodes to nothing
], ids=["members", "padding", "x-gzip", "zlib", "raw-deflate", "empty"])
def test_streamed_decoding_reads_what_the_whole_decoding_read(encoding, data, want):
    assert decode_content(data, encoding) == want
    store = BodyStore(spill_at=64)  # spilled, and read back in odd pieces
    store.write(data)
    out = BodyStore(spill_at=1000)
    try:
        assert decode_into(lambda: store.iter_chunks(7), encoding, out)
        assert out.getvalue() == want
    finally:
        out.close()
        store.close()


@pytest.mark.parametrize("data", [gzip.compress(b"cut short")[:-6], b"not gzip at all", gzip.compress(b"x") + b"\0\1"],
                         ids=["truncated", "not-gzip", "bytes-after-padding"])
def test_bad_gzip_is_a_parse_failure(data):
    with pytest.raises(NetlabError) as info:
        decode_content(data, "gzip")
    assert info.value.phase == "parse"


def test_other_encodings_come_back_as_they_are():
    out = BodyStore()
    assert decode_content(b"br bytes", "br") == b"br bytes"
    assert not decode_into(lambda: [b"x"], "identity", out) and out.size == 0
