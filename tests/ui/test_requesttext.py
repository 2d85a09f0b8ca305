"""The composer's text forms of a request: the raw view codec and the fields view."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netlab.ui import requesttext as rt


@given(st.binary(max_size=512))
def test_raw_text_round_trips_every_byte_string(data):
    assert rt.from_raw_text(rt.to_raw_text(data)) == data


@given(st.binary(max_size=256))
def test_raw_text_has_no_control_characters_but_newline(data):
    text = rt.to_raw_text(data)
    assert all(c == "\n" or (ord(c) >= 0x20 and not 0x7F <= ord(c) <= 0x9F) for c in text)


def test_line_endings_are_written_out():
    data = b"GET / HTTP/1.1\r\nHost: x\nX: a\tb\\r\r\n\r\nbody\x00\xff"
    assert rt.to_raw_text(data) == "GET / HTTP/1.1\\r\\n\nHost: x\\n\nX: a\\tb\\\\r\\r\\n\n\\r\\n\nbody\\x00\\xff"


def test_enter_in_the_raw_view_is_crlf():
    assert rt.from_raw_text("GET / HTTP/1.1\nHost: x\n\n") == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    # a line ending already written out is not doubled by the real line break after it
    assert rt.from_raw_text("a\\n\nb") == b"a\nb"
    # a lone backslash stays a backslash
    assert rt.from_raw_text("a\\qb\\") == b"a\\qb\\"


def test_fields_round_trip_the_classic_request():
    data = rt.classic_request("http://127.0.0.1:8080/ip")
    assert data == b"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"
    fields = rt.split_request(data, "http://127.0.0.1:8080/whatever")
    assert fields == rt.Fields("GET", "http://127.0.0.1:8080/ip", "Host: 127.0.0.1:8080\nConnection: close", "",
                               "HTTP/1.1")
    assert rt.build_request(fields) == data


def test_host_header_follows_the_default_port_rule():
    assert rt.host_header("http://example.com/") == "example.com"
    assert rt.host_header("https://example.com:443/x") == "example.com"
    assert rt.host_header("http://example.com:8080") == "example.com:8080"
    assert rt.host_header("http://[::1]:8080/") == "[::1]:8080"
    assert rt.host_header("example.com/x") == "example.com"


def test_set_and_get_header():
    h = "Host: a\nContent-Length: 1"
    assert rt.get_header(h, "content-length") == "1"
    assert rt.set_header(h, "Content-Length", "5") == "Host: a\nContent-Length: 5"
    assert rt.set_header("Host: a\n", "X-New", "1") == "Host: a\nX-New: 1"


def test_lint_names_what_a_server_would_trip_over():
    assert rt.lint(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n") == []
    assert "no Host header (HTTP/1.1 requires one)" in rt.lint(b"GET / HTTP/1.1\r\n\r\n")
    assert "bare LF line endings" in rt.lint(b"GET / HTTP/1.1\nHost: a\n\n")
    assert any("Content-Length 5 but the body has 2" in w for w in rt.lint(b"POST / HTTP/1.1\r\nHost: a\r\n"
                                                                            b"Content-Length: 5\r\n\r\nhi"))
    assert any("the server will wait" in w for w in rt.lint(b"GET / HTTP/1.1\r\nHost: a\r\n"))


def test_fields_show_control_and_bidi_characters_as_escapes():
    data = "GE\x1bT /a\u202eb HTTP/1.1\r\nX-T: a\x1b]0;t\x07\U000e0041\r\n\r\nbody\x1b[2J\x9b".encode()
    f = rt.split_request(data, "http://127.0.0.1/")
    shown = f.method + f.url + f.headers + f.body + f.version
    assert not any(c in shown for c in "\x1b\x07\u202e\x9b\U000e0041")
    assert f.method == "GE\\x1bT" and f.url.endswith("/a\\u202eb")
    assert f.headers == "X-T: a\\x1b]0;t\\x07\\U000e0041" and f.body == "body\\x1b[2J\\x9b"
    # the raw view stays the lossless form of the same bytes
    assert rt.from_raw_text(rt.to_raw_text(data)) == data


def test_raw_view_writes_out_invisible_and_bidi_characters_and_round_trips():
    data = "GET /\u202eevil\u200b HTTP/1.1\r\nX: \u2028\ufeff\U000e0041\r\n\r\n".encode()
    text = rt.to_raw_text(data)
    assert not any(c in text for c in "\u202e\u200b\u2028\ufeff\U000e0041")
    assert "\\xe2\\x80\\xae" in text  # U+202E as its UTF-8 bytes
    assert rt.from_raw_text(text) == data
    # the .http writer's raw lines use the very same notation
    from netlab.engine import httpfile

    assert httpfile.encode_raw(data) == text and httpfile.decode_raw(text) == data


_LOOKALIKES = [b"\\", b"\\x", b"\\xf6", b"\\\\", b"\\r\\n", b"\\n", b"\\t", b"\r\n", b"\n", b"\r", b"\t", b"\xf6",
               b"\x1b", "\u202e".encode(), b"\xc2\x9b", b"a", b" "]


@given(st.lists(st.sampled_from(_LOOKALIKES) | st.binary(max_size=3), max_size=40).map(b"".join))
def test_raw_text_round_trips_backslashes_and_escape_lookalikes(data):
    text = rt.to_raw_text(data)
    assert rt.from_raw_text(text) == data
    # the raw view after a blur (normalize_raw) holds the same text: the notation is a fixed point
    assert rt.to_raw_text(rt.from_raw_text(text)) == text


def test_raw_text_writes_a_byte_and_its_escape_differently():
    assert rt.to_raw_text(b"\xf6") == "\\xf6" and rt.to_raw_text(b"\\xf6") == "\\\\xf6"
    assert rt.from_raw_text("\\xf6") == b"\xf6" and rt.from_raw_text("\\\\xf6") == b"\\xf6"
