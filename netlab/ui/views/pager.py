"""The body for a pager or an editor: what the Body tab shows, whole, as plain text."""

from __future__ import annotations

import json
from typing import Callable

from netlab.engine.text import safe_text
from netlab.ui.views.body import JSON_LIMIT, iter_body
from netlab.ui.views.hexdump import HEX_LIMIT, hex_plain
from netlab.ui.views.text import fmt_bytes, safe

OPEN_DECODE_LIMIT = 256 << 20  # a pager's or editor's decoded body at most (a small gzip can hold GiBs)


def pager_text(prepared, write: Callable[[str], object]) -> None:
    """The body as text for a pager, through ``write``: what the Body tab shows, whole —
    JSON pretty-printed, text decoded (Content-Encoding undone, UTF-8 where valid, other
    bytes as ``\\xNN``) with every control character but newline and tab made a visible
    escape, a binary body as a hex dump (up to HEX_LIMIT)."""
    from netlab.engine.errors import NetlabError

    r = prepared.exchange.response
    kind = prepared.body_kind
    try:
        if kind == "binary":
            _pager_hex(r, write)
        elif kind == "json" and r.body_bytes <= JSON_LIMIT:
            text = b"".join(iter_body(r, limit=JSON_LIMIT * 4)).decode("utf-8", "backslashreplace")
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
            except ValueError:
                pass
            write(safe_text(text))
        else:
            _pager_lines(iter_body(r, limit=OPEN_DECODE_LIMIT), write)
    except NetlabError as exc:
        write(f"({safe(exc.message)}; the body as received follows)\n")
        if kind == "binary":
            _pager_hex(r, write, decode=False)
        else:
            _pager_lines(r.body_store.iter_chunks(), write)


def _pager_lines(chunks, write: Callable[[str], object]) -> None:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
    held = ""  # a CR at the end of a piece: CR LF may straddle two chunks
    for chunk in chunks:
        text = held + decoder.decode(chunk)
        held = "\r" if text.endswith("\r") else ""
        if held:
            text = text[:-1]
        write(safe_text(text.replace("\r\n", "\n")))
    write(safe_text(held + decoder.decode(b"", final=True)))


def _pager_hex(response, write: Callable[[str], object], decode: bool = True) -> None:
    buf, offset = b"", 0
    for chunk in iter_body(response, decode, limit=OPEN_DECODE_LIMIT):
        buf += chunk
        whole = len(buf) & ~15
        rows = range(0, min(whole, HEX_LIMIT - offset), 16)
        write("".join(hex_plain(buf[k : k + 16], offset + k) + "\n" for k in rows))
        offset += whole
        buf = buf[whole:]
        if offset >= HEX_LIMIT:
            write(f"… the hex dump stops at {fmt_bytes(HEX_LIMIT)}\n")
            return
    if buf:
        write(hex_plain(buf, offset) + "\n")
