"""Byte-level framing of responses (mock byte streams are fine here; end-to-end claims
are in test_engine_peers.py against real servers)."""

from __future__ import annotations

import gzip

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.engine import NetlabError
from netlab.engine.http1 import (
    END,
    BodyBytes,
    BodyStore,
    Chunk,
    FinalHead,
    InterimHead,
    Response,
    ResponseReader,
    decode_content,
    parse_head_strict,
)


def read_all(data: bytes, method: str = "GET", cuts=(), eof: bool = True, **kw):
    """Feed ``data`` split at ``cuts``; return (reader, error)."""
    r = ResponseReader(method, **kw)
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0] + points, points + [len(data)])]
    try:
        for p in pieces:
            if p:
                r.feed(p)
        if eof and not r.done:
            r.feed_eof()
    except NetlabError as err:
        return r, err
    return r, None


def h11_head(head: bytes):
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    c.send(h11.EndOfMessage())
    c.receive_data(head)
    ev = c.next_event()
    assert isinstance(ev, h11.Response), ev
    return ("HTTP/" + ev.http_version.decode(), ev.status_code, ev.reason.decode("latin-1"),
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in ev.headers.raw_items()])


# -- the strict fast path agrees with h11 -------------------------------------------------

token = st.text(alphabet="-!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=12)
odd_name = st.sampled_from(["Bad Name", "", "Na:me", "Ü", "X\t"])
value_bytes = st.binary(max_size=20) | st.sampled_from([b"", b" a ", b"a\tb", b"\x1b[2J", b"a\r\n b", b"1, 1"])
name_bytes = token.map(str.encode) | odd_name.map(lambda s: s.encode("utf-8"))
special = st.sampled_from([b"Content-Length", b"content-length", b"Transfer-Encoding", b"Connection"])


@st.composite
def heads(draw):
    version = draw(st.sampled_from([b"1.1", b"1.0", b"2.0", b"1.x"]))
    status = draw(st.sampled_from([b"200", b"204", b"404", b"100", b"999", b"20", b"2000"]))
    reason = draw(st.sampled_from([b" OK", b"", b" ", b" Not Found", b" \x1b]0;t\x07", b" a\tb"]))
    lines = [b"HTTP/" + version + b" " + status + reason]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(special | name_bytes)
        value = draw(st.sampled_from([b"5", b"0", b"close", b"chunked", b"12345678901234567890"]) | value_bytes)
        sep = draw(st.sampled_from([b": ", b":", b":\t", b" : "]))
        lines.append(name + sep + value + draw(st.sampled_from([b"", b" ", b"\t"])))
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    return eol.join(lines) + eol + eol


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(heads())
def test_strict_parser_accepts_only_what_h11_parses_the_same(head):
    fast = parse_head_strict(head)
    if fast is None:
        return  # h11 decides these
    version, status, reason, headers, length = fast
    assert h11_head(head) == (version, status, reason, headers)


def test_strict_parser_takes_the_common_case():
    head = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n")
    assert parse_head_strict(head) == ("HTTP/1.1", 200, "OK",
                                       [("Server", "nginx"), ("Content-Length", "13"),
                                        ("Connection", "keep-alive")], 13)
    # and leaves to h11 what is unusual
    assert parse_head_strict(head.replace(b"\r\n", b"\n")) is None
    assert parse_head_strict(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") is None
    assert parse_head_strict(b"HTTP/1.1 100 Continue\r\n\r\n") is None


# -- framing does not depend on how the bytes arrive --------------------------------------

CASES = [
    ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", "content-length", True),
    ("GET", b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", b"hello", "content-length", True),
    ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
     b"hello world", "chunked", True),
    ("GET", b"HTTP/1.0 200 OK\r\n\r\nuntil close", b"until close", "close", False),
    ("GET", b"HTTP/1.1 200 OK\r\n\r\nuntil close", b"until close", "close", False),
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", b"", "none", True),
    ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", b"", "none", True),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", b"", "none", True),
    ("GET", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", "content-length", True),
    ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", b"ok", "content-length", False),
]


@pytest.mark.parametrize("method,data,body,framing,keep", CASES)
def test_framing(method, data, body, framing, keep):
    r, err = read_all(data, method)
    assert err is None
    assert r.done and r.response.body == body and r.response.framing == framing
    assert r.keep_alive is keep
    assert r.response.raw == data  # every byte kept, exactly as received


def test_chunked_keeps_wire_bytes_and_trailers():
    data = CASES[2][1]
    r, _ = read_all(data)
    assert r.response.trailers == [("X-T", "1")]
    assert r.response.raw_body == data[data.index(b"\r\n\r\n") + 4:]


def test_chunk_boundaries_are_carried_in_the_response():
    """Where each chunk sits in the wire body, as the reader framed it, however the
    bytes arrived; a response kept without them (the history's) is framed again."""
    data = CASES[2][1]
    wire = data[data.index(b"\r\n\r\n") + 4:]
    want = [Chunk(0, 3, 5), Chunk(10, 9, 6), Chunk(27, 3, 0)]
    assert wire[10:19] == b"6;ext=1\r\n" and wire[27:30] == b"0\r\n"
    for cut in range(len(data) + 1):
        r, err = read_all(data, cuts=(cut, cut + 7))
        assert err is None and list(r.response.chunks()) == want
    store = BodyStore()
    store.write(wire)
    assert list(Response(framing="chunked", raw_body_store=store).chunks()) == want
    assert list(read_all(CASES[0][1])[0].response.chunks()) == []  # Content-Length: no chunks
    r, err = read_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\nzz\r\n")
    assert err.phase == "parse" and list(r.response.chunks()) == [Chunk(0, 3, 2)]  # the bad line is not placed
    stored = BodyStore()
    stored.write(b"2\r\nhi\r\nzz\r\n")
    assert list(Response(framing="chunked", raw_body_store=stored).chunks()) == [Chunk(0, 3, 2)]


def test_reader_steps_are_typed_values():
    r = ResponseReader("GET")
    steps = r.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")
    assert [type(s) for s in steps] == [InterimHead, FinalHead, BodyBytes]
    assert steps[0].info.status == 100 and steps[1].response is r.response and steps[2] == BodyBytes(3)
    assert r.feed(b"lo") == [BodyBytes(2), END]


def test_informational_heads_are_recorded_and_skipped():
    r, _ = read_all(CASES[8][1])
    assert [(i.status, i.reason) for i in r.response.informational] == [(100, "Continue"), (103, "Early Hints")]
    assert r.response.status == 200


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_split_points_do_not_change_framing(case, cuts):
    method, data, body, framing, keep = case
    whole, e1 = read_all(data, method)
    split, e2 = read_all(data, method, cuts)
    assert (e1, e2) == (None, None)
    for r in (whole, split):
        assert r.response.body == body
    assert split.response.headers == whole.response.headers
    assert split.response.raw == whole.response.raw == data
    assert split.keep_alive == whole.keep_alive


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300) | heads().map(lambda h: h + b"body"), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_arbitrary_bytes_only_raise_netlab_errors(data, cuts):
    whole, e1 = read_all(data)
    split, e2 = read_all(data, "GET", cuts)
    assert (e1 is None) == (e2 is None)
    if e1:
        assert e1.phase in ("parse", "receive", "limit") and e1.phase == e2.phase
    else:
        assert whole.response.body == split.response.body


# -- errors keep what arrived ---------------------------------------------------------------

def test_truncated_body_keeps_partial():
    r, err = read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    assert err.phase == "receive" and "10 of 100" in err.message
    assert r.response.status == 200 and r.response.body == b"only ten b"


def test_bad_chunk_size_is_a_parse_error():
    r, err = read_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n")
    assert err.phase == "parse" and r.response.status == 200


def test_header_limit():
    r, err = read_all(b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n", max_header_bytes=16 * 1024)
    assert err.phase == "limit" and "header limit" in err.message


def test_body_limit_and_spill(tmp_path):
    body = bytes(range(256)) * 4096  # 1 MiB
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    r, err = read_all(data, cuts=range(0, len(data), 65536), spill_at=100_000)
    assert err is None and r.response.body_store.spilled and r.response.body == body
    r, err = read_all(data, max_body_bytes=1000)
    assert err.phase == "limit" and r.response.body_bytes <= len(body)


def test_not_http_names_what_arrived():
    r, err = read_all(b"SSH-2.0-OpenSSH_9.2\r\n")
    assert err.phase == "parse" and "SSH-2.0" in err.message


def test_gzip_is_decoded_for_display_only():
    payload = b'{"a": 1}' * 50
    gz = gzip.compress(payload)
    data = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz) + gz
    r, err = read_all(data)
    assert r.response.body == gz and r.response.decoded_body() == payload
    with pytest.raises(NetlabError) as exc:
        decode_content(b"not gzip", "gzip")
    assert exc.value.phase == "parse"
