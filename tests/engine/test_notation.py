"""One raw notation wherever bytes are shown as text (netlab/engine/rawtext.py): the
composer's Raw view, .http ``#|`` lines, and a line at a time the Raw tab and ``send -v``.

It is lossless (``from_raw_text(to_raw_text(b)) == b`` for all bytes), so no two byte
strings look the same: byte 0xf6 is ``\\xf6``, the four characters ``\\xf6`` are
``\\\\xf6``.  Its lines carry their endings from the bytes, and a long line is cut into
pieces without cutting an escape in two."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from netlab.engine.rawtext import from_raw_text, raw_lines, split_pieces, to_raw_text, visible_line_endings
from netlab.engine.text import safe_text

# pieces that meet every rule of the notation: backslashes and text that looks like its
# escapes, line endings, C0/DEL/C1 controls, bytes that are not UTF-8, a cut UTF-8
# sequence, invisible and bidi characters, and plain text
_PIECES = [b"\\", b"\\x", b"\\xf6", b"\\\\", b"\\r\\n", b"\\n", b"\\t", b"\r", b"\n", b"\r\n", b"\t", b"\x00",
           b"\x1b", b"\x7f", b"\xf6", b"\xff", b"\xc2\x9b", b"\xc2\x85", "\u202e".encode(), "\u200b".encode(),
           "\ufeff".encode(), "\u2028".encode(), "\U000e0041".encode(), b"\xe2\x80", "é".encode(), "日".encode(),
           b"x", b"1b", b" ", b"GET / HTTP/1.1"]
notation_bytes = st.lists(st.sampled_from(_PIECES) | st.binary(max_size=3), max_size=40).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=300), notation_bytes,
                      st.text(max_size=60).map(lambda t: t.encode("utf-8")))


@given(any_bytes)
@example(b"\xf6 \\xf6")
@example(b"a\\\nb\\r\\n\r\n")
def test_round_trip_for_all_bytes(data):
    text = to_raw_text(data)
    assert from_raw_text(text) == data
    # already safe for a terminal: nothing for the escaper to do, only real line breaks
    assert safe_text(text) == text and "\t" not in text and "\r" not in text


@given(any_bytes, any_bytes)
def test_no_two_byte_strings_look_the_same(a, b):
    if a != b:
        assert to_raw_text(a) != to_raw_text(b)
        assert visible_line_endings(a) != visible_line_endings(b)


def test_a_byte_and_its_escape_look_different():
    assert to_raw_text(b"\xf6") == "\\xf6"
    assert to_raw_text(b"\\xf6") == "\\\\xf6"
    assert visible_line_endings(b"\xf6 \\xf6\r\n") == ["\\xf6 \\\\xf6\\r\\n"]
    assert to_raw_text("\u009b".encode()) == "\\xc2\\x9b"  # U+009B, two bytes: not the byte 0x9b
    assert to_raw_text(b"\x9b") == "\\x9b"


@given(any_bytes)
def test_lines_are_the_notation_with_endings_from_the_bytes(data):
    lines = raw_lines(data)
    assert "".join(t + e + ("\n" if e else "") for t, e in lines) == to_raw_text(data)
    assert from_raw_text("".join(t + e for t, e in lines)) == data  # the lines alone give the bytes back
    assert visible_line_endings(data) == [t + e for t, e in lines]
    assert visible_line_endings(data, pairs=True) == lines
    assert sum(1 for _, e in lines if e) == data.count(b"\n")
    assert [e for _, e in lines if e] == ["\\r\\n" if seg.endswith(b"\r") else "\\n"
                                          for seg in data.split(b"\n")[:-1]]
    assert all("\n" not in t for t, _ in lines)


def test_an_escaped_backslash_before_n_is_no_line_ending():
    # the bytes '\', 'n' and no LF: the text ends in "\\n" but the line has no ending
    assert raw_lines(b"a\\n") == [("a\\\\n", "")]
    assert raw_lines(b"a\\r\\n\n") == [("a\\\\r\\\\n", "\\n")]
    assert raw_lines(b"") == [] and raw_lines(b"\n") == [("", "\\n")] and raw_lines(b"\r\n") == [("", "\\r\\n")]


@given(any_bytes, st.integers(4, 24))
@example(b"\\" * 9 + b"\x1b" * 5, 5)
def test_pieces_never_cut_an_escape(data, width):
    for text, _ in raw_lines(data):
        pieces = split_pieces(text, width)
        assert "".join(pieces) == text
        assert all(0 < len(p) <= width for p in pieces) or pieces == [""]
        # each piece reads on its own: decoded one by one, the same bytes as the whole line
        assert b"".join(from_raw_text(p) for p in pieces) == from_raw_text(text)


def test_pieces_cut_before_an_escape_that_would_not_fit():
    assert split_pieces("abc\\x1bdef", 5) == ["abc", "\\x1bd", "ef"]
    assert split_pieces("ab\\\\\\x1bcd", 4) == ["ab\\\\", "\\x1b", "cd"]
    assert split_pieces("abcd", 4) == ["abcd"]
