"""What the lab server accepts as a request (netlab/lab/request.py, reader.py): strict
RFC 9112 parsing, malformed requests answered 400/413/431/501/505, then closed."""

from __future__ import annotations

import socket

import pytest

from netlab.lab import SERVER_SOFTWARE, LabServer
from tests.lab.client import RawClient, exchange, get, split_response

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
