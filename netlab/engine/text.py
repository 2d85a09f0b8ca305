"""Bytes from the network are data: make them safe to show in a terminal.

Every control character (C0 but newline and tab, DEL, C1) becomes a visible escape
such as ``\\x1b``, so ANSI CSI/OSC sequences are shown, never interpreted.  Rich markup
is not a concern here (the engine knows nothing of Rich): the UI renders these strings
as plain Text, never as markup."""

from __future__ import annotations

import re

__all__ = ["safe_text", "visible_line_endings", "decode_bytes"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _esc(m: re.Match) -> str:
    c = m.group()
    return {"\r": "\\r", "\n": "\\n", "\t": "\\t"}.get(c) or f"\\x{ord(c):02x}"


def decode_bytes(data: bytes) -> str:
    """UTF-8 where valid; other bytes as \\xNN escapes."""
    return data.decode("utf-8", "backslashreplace")


def safe_text(data: bytes | str, *, keep_newlines: bool = True) -> str:
    """A string with every terminal control character made visible."""
    s = decode_bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    return (_CONTROL if keep_newlines else _CONTROL_NO_NL).sub(_esc, s)


def visible_line_endings(data: bytes) -> list[str]:
    """Split raw bytes into display lines with their line ending written out:
    ``GET / HTTP/1.1\\r\\n`` or a bare ``\\n`` — what is really on the wire."""
    out = []
    for line in re.findall(rb"[^\n]*\n|[^\n]+$", bytes(data)):
        if line.endswith(b"\r\n"):
            body, end = line[:-2], "\\r\\n"
        elif line.endswith(b"\n"):
            body, end = line[:-1], "\\n"
        else:
            body, end = line, ""
        out.append(safe_text(body, keep_newlines=False) + end)
    return out
