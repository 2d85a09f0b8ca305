"""What the response viewer draws, from real framing of fixed response bytes."""

from __future__ import annotations

import gzip

from netlab.ui.views.hexdump import hex_lines
from netlab.ui.views.lines import LINE_PIECE, Hanging, wrap_text
from netlab.ui.views.search import Search
from tests.ui import fakes


def test_hex_lines_have_offset_hex_and_ascii_columns():
    lines = hex_lines(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert lines.count == 2
    assert lines.line(0).plain == "00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|"
    assert lines.line(1).plain.startswith("00000010  48 6f 73 74 3a 20 78 0d  0a 0d 0a")
    assert lines.line(1).plain.endswith("|Host: x....|")
    cut = hex_lines(b"x" * 32, total=1000)
    assert cut.count == 3 and "more not shown" in cut.line(2).plain


def test_raw_marks_the_end_of_the_head_and_why_the_body_ends():
    p = fakes.prepared()
    raw = p.raw.plain()
    assert raw.startswith("HTTP/1.1 200 OK\\r\\n\nServer: netlab-lab/0.1\\r\\n")
    assert "Set-Cookie: a=1\\r\\n\nSet-Cookie: b=2\\r\\n" in raw  # duplicates kept, in order
    assert "── end of head (185 bytes) ──" in raw
    assert "framed by Content-Length: 77 bytes" in raw
    assert raw.endswith("── end of body: all 77 bytes of Content-Length received ──")


def test_raw_marks_chunk_size_lines_and_trailers():
    raw = fakes.prepared(fakes.CHUNKED_RESPONSE).raw.plain()
    assert "6\\r\\n  ← chunk size 0x6 = 6 bytes" in raw
    assert "0\\r\\n  ← last chunk (size 0), trailers follow" in raw
    assert "X-Lines: 3\\r\\n  ← trailer" in raw
    assert "end of body: the size-0 chunk (20 body bytes in 52 bytes on the wire)" in raw


def test_body_json_is_pretty_and_binary_is_hex():
    p = fakes.prepared()
    assert p.body_kind == "json" and p.body.line(1).plain == '  "kind": "json",'
    b = fakes.prepared(fakes.BINARY_RESPONSE)
    assert b.body_kind == "binary" and b.body.count == 4 and b.body.line(0).plain.startswith("00000000  00 01 02")


def test_gzip_body_is_decoded_and_both_sizes_shown():
    body = gzip.compress(b'{"a": 1}' * 50)
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    p = fakes.prepared(resp)
    assert f"gzip: {len(body)} B on the wire → 400 B decoded" in p.body_note.plain


def test_untrusted_text_is_escaped():
    evil = b"\x1b]0;pwned\x07 \x1b[2J [bold red]x[/]"
    resp = b"HTTP/1.1 200 OK\r\nX-Evil: " + evil + b"\r\nContent-Length: " + str(len(evil)).encode() + b"\r\n\r\n" + evil
    p = fakes.prepared(resp)
    shown = p.body.plain() + p.raw.plain()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;pwned\\x07 \\x1b[2J [bold red]x[/]" in p.body.plain()


def test_waterfall_bars_follow_the_phases():
    from netlab.ui.views.timing import waterfall_text

    text = waterfall_text(fakes.exchange().timings, 100).plain.splitlines()
    rows = {line.split()[0]: line for line in text[1:]}
    assert "1.30 ms" in rows["ttfb"] and "█" in rows["ttfb"]
    assert rows["tls"].rstrip().endswith("-")
    assert rows["ttfb"].index("█") > rows["connect"].index("█")  # later phases start further right
    assert "1.80 ms" in rows["total"]


def test_connection_lines_name_the_kernel_chosen_port():
    text = fakes.prepared().connection.plain()
    assert "127.0.0.1:54321   (the port the kernel chose)" in text
    assert "remote        127.0.0.1:8080" in text and "connection    new" in text


# -- the Raw tab writes bytes in the one raw notation ----------------------------------------------

def _raw_texts(response: bytes) -> list:
    lines = fakes.prepared(response).raw
    return [lines.line(i) for i in range(lines.count)]


def test_raw_tab_tells_a_byte_from_its_escape():
    body = b"\xf6 \\xf6 C:\\new"
    response = (b"HTTP/1.1 200 OK\r\nX-Both: \xf6 \\xf6\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\n\r\n" + body)
    raw = [t.plain for t in _raw_texts(response)]
    assert "X-Both: \\xf6 \\\\xf6\\r\\n" in raw  # byte 0xf6, then the four characters \xf6
    assert "\\xf6 \\\\xf6 C:\\\\new" in raw
    from netlab.engine.rawtext import from_raw_text

    assert from_raw_text("X-Both: \\xf6 \\\\xf6\\r\\n") == b"X-Both: \xf6 \\xf6\r\n"  # the shown text reads back


def test_raw_tab_marks_only_real_line_endings():
    body = b"ends in backslash n\\n"  # no LF: the text ends in \\n, which is no line ending
    response = b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    texts = _raw_texts(response)
    last = next(t for t in texts if t.plain.startswith("ends in"))
    assert last.plain == "ends in backslash n\\\\n"
    assert not any(span.style == "dim cyan" for span in last.spans)
    status = texts[0]
    assert status.plain == "HTTP/1.1 200 OK\\r\\n"
    assert [status.plain[s.start:s.end] for s in status.spans if s.style == "dim cyan"] == ["\\r\\n"]


def test_raw_tab_cuts_long_lines_between_escapes():
    body = b"\x1b" * (LINE_PIECE // 3) + b"\\" * LINE_PIECE
    response = b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    texts = [t.plain for t in _raw_texts(response)]
    start = next(i for i, t in enumerate(texts) if t.startswith("\\x1b"))
    pieces = [texts[start]] + [t[2:] for t in texts[start + 1:] if t.startswith("↪ ")]
    from netlab.engine.rawtext import from_raw_text

    assert len(pieces) > 2 and all(len(p) <= LINE_PIECE for p in pieces)
    assert b"".join(from_raw_text(p) for p in pieces) == body  # no piece starts or ends inside an escape


# -- layouts for a width (issue 11, part 4) ---------------------------------------------------------

def test_hex_fits_16_bytes_then_short_offsets_then_8_bytes_a_row():
    data = bytes(range(40))
    lines = hex_lines(data)
    for width, (row, offset) in ((200, (16, "00000010")), (78, (16, "00000010")), (77, (16, "0010")),
                                 (74, (16, "0010")), (73, (8, "00000008")), (45, (8, "00000008")),
                                 (44, (8, "0008")), (20, (8, "0008"))):
        fitted = lines.fit(width)
        assert fitted.row == row and fitted.line(1).plain.startswith(offset + "  ")
        assert fitted.width <= max(width, 41) and fitted.data == data
        assert fitted.count == -(-len(data) // row)
        for i in range(fitted.count):  # every row whole: its ASCII column between bars
            plain = fitted.line(i).plain
            chunk = data[i * row : i * row + row]
            assert plain.endswith("|" + "".join(chr(b) if 32 <= b < 127 else "." for b in chunk) + "|")
    assert lines.fit(78) is lines  # nothing to redo


def test_hex_search_follows_the_row_width():
    data = b"x" * 6 + b"NEEDLE" + b"y" * 20  # bytes 6-11: across the end of an 8-byte row
    for width in (78, 74, 45, 41):
        lines = hex_lines(data).fit(width)
        s = Search(lines, "needle")
        (match,), _ = s.find()
        row = lines.row
        assert match == (6 // row, 6, 12)
        first = lines.line(match[0]).plain
        spans = [first[a:b] for a, b, _ in s.spans(match[0], first, match)]
        if row == 16:
            assert spans == ["4e 45  45 44 4c 45", "NEEDLE"]  # (across the gap between the halves)
        else:  # NE on row 0, EDLE on row 1, both columns highlighted on each
            second = lines.line(1).plain
            assert spans == ["4e 45", "NE"]
            assert [second[a:b] for a, b, _ in s.spans(1, second, match)] == ["45 44 4c 45", "EDLE"]
        line, start, end = s.where(match)
        assert line == match[0] and first[start : start + 2] == "4e" and first[end - 1] == "E"


def test_wrap_text_breaks_at_spaces_and_hangs_under_the_value():
    t = Hanging("  local         127.0.0.1:54321   (the port the kernel chose)", hang=16)
    lines = [x.plain for x in wrap_text(t, 40, t.hang)]
    assert lines == ["  local         127.0.0.1:54321   (the", "                port the kernel chose)"]
    # a word longer than a line is folded, and nothing is lost
    long = Hanging("  sha256        " + "ab" * 40, hang=16)
    folded = [x.plain for x in wrap_text(long, 40, long.hang)]
    assert all(len(x) <= 40 for x in folded) and "".join(x.strip() for x in folded[1:]) in "ab" * 40
    assert "".join("".join(x.split()) for x in folded) == "sha256" + "ab" * 40
    # styles stay on their characters
    styled = Hanging(hang=2)
    styled.append("key ", "bold")
    styled.append("value " * 10, "green")
    out = wrap_text(styled, 20, 2)
    assert all(span.style == "green" for line in out[1:] for span in line.spans)


def test_the_connection_tab_wraps_to_its_width_and_keeps_every_word():
    p = fakes.prepared()
    given = p.connection.plain()
    for width in (30, 45, 56, 76):
        fitted = p.connection.fit(width)
        assert all(len(fitted.line(i).plain) <= width for i in range(fitted.count))
        assert "".join(fitted.plain().split()) == "".join(given.split())  # every character, in order
        if width >= 45:  # no word is longer than a line there: every word whole
            assert fitted.plain().split() == given.split()
    assert p.connection.fit(40).plain().count("\n") > given.count("\n")


def test_the_status_line_has_the_connection_on_its_own_line():
    p = fakes.prepared()
    first, second = p.status.plain.split("\n")
    assert "200 OK" in first and "77 B" in first and "1.80 ms" in first
    assert second.split() == ["new", "127.0.0.1:54321", "→", "127.0.0.1:8080"]
    assert not p.status.no_wrap  # the viewer may wrap it further, at spaces
