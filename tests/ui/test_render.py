"""What the response viewer draws, from real framing of fixed response bytes."""

from __future__ import annotations

import gzip

from netlab.ui import render
from tests.ui import fakes


def test_hex_lines_have_offset_hex_and_ascii_columns():
    lines = render.hex_lines(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert lines.count == 2
    assert lines.line(0).plain == "00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|"
    assert lines.line(1).plain.startswith("00000010  48 6f 73 74 3a 20 78 0d  0a 0d 0a")
    assert lines.line(1).plain.endswith("|Host: x....|")
    cut = render.hex_lines(b"x" * 32, total=1000)
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
    from netlab.ui.panes.waterfall import waterfall_text

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
