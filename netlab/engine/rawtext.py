"""The raw notation: request bytes as editable text, and back, losslessly.

Line endings are written out (``\\r\\n`` followed by a real line break, a bare ``\\n``
likewise), a tab is ``\\t``, a backslash ``\\\\``, and every byte a terminal or an editor
could misread — C0 controls, DEL, C1 controls, bytes that are not UTF-8, and invisible
or direction-changing characters (zero-width, bidi embeddings/overrides/isolates, line
and paragraph separators, BOM, tag characters) — is ``\\xNN`` per UTF-8 byte.  The
composer's Raw view and .http files (``#|`` lines) use it, and, a line at a time
(``raw_lines``), the response viewer's Raw tab, ``netlab send -v`` and raw exports shown
on a terminal: one notation everywhere bytes are shown as text, so byte 0xf6 (``\\xf6``)
and the four characters ``\\xf6`` (``\\\\xf6``) never look the same.  Light (re and
engine/text.py only): it is imported before the TUI's first frame."""

from __future__ import annotations

import re

from netlab.engine.text import FORMAT_CHARS, compiled

__all__ = ["to_raw_text", "from_raw_text", "raw_lines", "split_pieces"]

_HEX2 = re.compile(r"[0-9a-fA-F]{2}")
# what is written out: the backslash, C0 controls (LF, CR, tab among them), DEL, C1
# controls, invisible or direction-changing characters, and bytes that were not UTF-8
# (kept by surrogateescape as U+DC80-U+DCFF); found in runs, each run translated at once
# (as text, compiled on first use: the class takes milliseconds to compile)
_RUN = f"[\\\\\x00-\x1f\x7f-\x9f{FORMAT_CHARS}\udc80-\udcff]+"
_LF_CR = re.compile(rb"(\r?)\n")


def _code_points(ranges: str) -> list[int]:
    """The code points of a character-class body such as ``a-cx`` (FORMAT_CHARS)."""
    out: list[int] = []
    i = 0
    while i < len(ranges):
        if i + 2 < len(ranges) and ranges[i + 1] == "-":
            out += range(ord(ranges[i]), ord(ranges[i + 2]) + 1)
            i += 3
        else:
            out.append(ord(ranges[i]))
            i += 1
    return out


_TABLE = {o: f"\\x{o:02x}" for o in [*range(0x20), 0x7F]}
_TABLE.update({0x0D: "\\r", 0x0A: "\\n\n", 0x09: "\\t", 0x5C: "\\\\"})  # LF: written out, then a line break
_TABLE.update({o: "".join(f"\\x{b:02x}" for b in chr(o).encode("utf-8"))  # C1, hidden: their UTF-8 bytes
               for o in [*range(0x80, 0xA0), *_code_points(FORMAT_CHARS)]})
_TABLE.update({o: f"\\x{o - 0xDC00:02x}" for o in range(0xDC80, 0xDD00)})  # a byte that is not UTF-8


def to_raw_text(data: bytes) -> str:
    """Bytes → raw text (see the module's docstring)."""
    return compiled(_RUN).sub(lambda m: m.group().translate(_TABLE), bytes(data).decode("utf-8", "surrogateescape"))


def raw_lines(data: bytes) -> list[tuple[str, str]]:
    """Bytes → display lines in the same notation, each as (text, ending): the ending is
    ``\\r\\n``, ``\\n``, or "" for a last line without LF.  The Raw tab, ``send -v``
    and raw exports show these; ``text + ending`` (with a line break after each ending)
    is exactly ``to_raw_text(data)``.  The ending is known from the bytes, never guessed
    from the text (``\\\\n``, an escaped backslash and an n, is no line ending)."""
    data = bytes(data)
    texts = to_raw_text(data).split("\n")  # a line break follows each written-out \n
    out: list[tuple[str, str]] = []
    for text, cr in zip(texts, _LF_CR.findall(data)):  # one per LF: was a CR before it?
        out.append((text[:-4], "\\r\\n") if cr else (text[:-2], "\\n"))
    if texts[-1]:
        out.append((texts[-1], ""))
    return out


def split_pieces(text: str, width: int) -> list[str]:
    """Cut one line of raw notation into pieces of at most ``width`` characters (at
    least 4) without cutting an escape such as ``\\x1b`` or ``\\\\`` in two, so each piece
    reads on its own.  ``"".join(pieces) == text``."""
    n = len(text)
    if n <= width:
        return [text]
    width = max(width, 4)
    out: list[str] = []
    i = 0
    while i < n:
        j = i + width
        if j >= n:
            out.append(text[i:])
            break
        # every backslash the notation writes starts an escape or is the second one of
        # ``\\``: in a run of backslashes from a piece's start, the even ones start escapes
        for k in range(max(i, j - 3), j):
            if text[k] != "\\":
                continue
            run = 0
            while k - run - 1 >= i and text[k - run - 1] == "\\":
                run += 1
            if run % 2:
                continue
            size = 4 if text.startswith("x", k + 1) and _HEX2.fullmatch(text, k + 2, k + 4) else 2
            if k + size > j:
                j = k
                break
        out.append(text[i:j])
        i = j
    return out


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


def visible_line_endings(data: bytes, *, pairs: bool = False) -> list:
    """Split raw bytes into display lines with their line ending written out:
    ``GET / HTTP/1.1\\r\\n`` or a bare ``\\n`` — what is really on the wire.  The text is
    the raw notation of netlab/engine/rawtext.py (a backslash is ``\\\\``, a byte that is
    not text ``\\xNN``), so the bytes can be read back exactly.  ``pairs=True`` gives
    (text, ending) tuples instead, the ending ("" on a last line without LF) taken from
    the bytes."""
    lines = raw_lines(data)
    return lines if pairs else [text + ending for text, ending in lines]
