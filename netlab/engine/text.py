"""Bytes from the network are data: make them safe to show in a terminal.

Every control character (C0 but newline and tab, DEL, C1) becomes a visible escape
such as ``\\x1b``, so ANSI CSI/OSC sequences are shown, never interpreted.  So do the
Unicode format characters that reorder or hide text (bidi embeddings, overrides and
isolates such as U+202E, zero-width characters, the BOM, line and paragraph separators,
tag characters): ``\\u202e``; and lone surrogates (a byte that was not UTF-8, kept by
``surrogateescape``, shows as ``\\xNN``; any other as ``\\udXXX``), which no terminal
encoding can carry.  Rich markup is not a concern here (the engine knows nothing of
Rich): the UI renders these strings as plain Text, never as markup.

``safe_text`` is for text shown as text (a header value, a body, a DNS name): a
backslash stays a backslash there, so a JSON body reads as JSON.  Where bytes are shown
as bytes (the Raw tab, ``send -v``), ``rawtext.visible_line_endings`` writes them in the raw
notation of netlab/engine/rawtext.py, where a backslash is ``\\\\`` and every escape can
be read back to the exact bytes."""

from __future__ import annotations

import re
from functools import cache

__all__ = ["safe_text", "decode_bytes", "FORMAT_CHARS"]

# Unicode format characters that change how the text around them is shown: the soft
# hyphen, the Arabic letter mark, the Mongolian vowel separator, zero-width space /
# non-joiner / joiner, LRM and RLM, line and paragraph separators, the bidi embeddings
# and overrides (U+202A-U+202E), word joiner and invisible operators, the bidi isolates
# (U+2066-U+2069) and the deprecated format characters after them, the BOM (zero-width
# no-break space), the interlinear annotation marks and the tag characters.
FORMAT_CHARS = ("\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
           "\ufff9-\ufffb\U000e0000-\U000e007f")
_SURROGATES = "\ud800-\udfff"  # lone surrogates: no terminal encoding can carry them
# As text, compiled on first use (compiled()): these character classes take milliseconds
# to compile, and the TUI's first frame needs none of them.
_CONTROL = f"[\x00-\x08\x0b-\x1f\x7f-\x9f{FORMAT_CHARS}{_SURROGATES}]"
_CONTROL_NO_NL = f"[\x00-\x1f\x7f-\x9f{FORMAT_CHARS}{_SURROGATES}]"
_CONTROL_NO_CRLF = f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{FORMAT_CHARS}{_SURROGATES}]"
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


@cache
def compiled(pattern: str) -> re.Pattern:
    """``re.compile(pattern)``, once per pattern (kept for good, unlike re's own cache)."""
    return re.compile(pattern)


def _esc(m: re.Match) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named:
        return named
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{n - 0xDC00:02x}"
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def decode_bytes(data: bytes) -> str:
    """UTF-8 where valid; other bytes as \\xNN escapes."""
    return data.decode("utf-8", "backslashreplace")


def safe_text(data: bytes | str, *, keep_newlines: bool = True, keep_cr: bool = False) -> str:
    """A string with every terminal control character (and every Unicode format
    character that reorders or hides text) made visible; ``keep_newlines`` keeps newline
    and tab as they are, else they show as ``\\n`` and ``\\t``; ``keep_cr`` (with
    ``keep_newlines``) keeps carriage returns too, for text an editor box shows."""
    s = decode_bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    pattern = (_CONTROL_NO_CRLF if keep_cr else _CONTROL) if keep_newlines else _CONTROL_NO_NL
    return compiled(pattern).sub(_esc, s)
