"""The raw notation: request bytes as editable text, and back, losslessly.

Line endings are written out (``\\r\\n`` followed by a real line break, a bare ``\\n``
likewise), a tab is ``\\t``, a backslash ``\\\\``, and every byte a terminal or an editor
could misread — C0 controls, DEL, C1 controls, bytes that are not UTF-8, and invisible
or direction-changing characters (zero-width, bidi embeddings/overrides/isolates, line
and paragraph separators, BOM, tag characters) — is ``\\xNN`` per UTF-8 byte.  The
composer's Raw view and .http files (``#|`` lines) both use it.  Light (re and
engine/text.py only): it is imported before the TUI's first frame."""

from __future__ import annotations

import re

from netlab.engine.text import FORMAT_CHARS

__all__ = ["to_raw_text", "from_raw_text"]

_HEX2 = re.compile(r"[0-9a-fA-F]{2}")
# shown as their UTF-8 bytes: invisible or direction-changing characters
_HIDDEN = re.compile(f"[{FORMAT_CHARS}]")


def to_raw_text(data: bytes) -> str:
    """Bytes → raw text (see the module's docstring)."""
    s = bytes(data).decode("utf-8", "surrogateescape")
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "\r" and i + 1 < n and s[i + 1] == "\n":
            out.append("\\r\\n\n")
            i += 1
        elif c == "\n":
            out.append("\\n\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 0xDC80 <= o <= 0xDCFF:  # a byte that is not valid UTF-8
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0x80 <= o <= 0x9F or (o > 0xAC and _HIDDEN.match(c)):
            out.append("".join(f"\\x{b:02x}" for b in c.encode("utf-8")))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def from_raw_text(text: str) -> bytes:
    """Raw text → the exact bytes it stands for.  A real line break right after a
    written-out ``\\n`` is layout; any other real line break is CR LF (Enter)."""
    out = bytearray()
    after_lf = False  # the last thing decoded was a written-out \n
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            e = text[i + 1]
            if e in "\\rnt":
                out += {"\\": b"\\", "r": b"\r", "n": b"\n", "t": b"\t"}[e]
                after_lf = e == "n"
                i += 2
                continue
            if e == "x" and _HEX2.fullmatch(text, i + 2, i + 4):
                out.append(int(text[i + 2: i + 4], 16))
                after_lf = False
                i += 4
                continue
        if c == "\n":
            if not after_lf:
                out += b"\r\n"
            after_lf = False
        else:
            out += c.encode("utf-8", "surrogateescape")
            after_lf = False
        i += 1
    return bytes(out)
