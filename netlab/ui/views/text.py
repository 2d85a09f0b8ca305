"""Untrusted text made visible, and the small formats every view shares (sizes, times, addresses).

Untrusted bytes (body, header names and values, reason phrase, certificate fields,
DNS data, process names, error messages that quote a peer) go through ``safe`` (every
control character and bidi/zero-width format character made a visible escape) and into
``rich.text.Text`` objects (``untrusted``): never into markup, never into a plain ``str``
that a Textual widget would parse as markup.  The panes and views use these two functions.
"""

from __future__ import annotations

from rich.text import Text

from netlab.engine.text import safe_text

MARK = "bold magenta"
NOTE = "dim italic"
ERROR = "bold red"


def safe(value, limit: int | None = None) -> str:
    """One line of untrusted text (str, bytes, or anything ``str()`` takes), every control
    character and every bidi/zero-width format character made a visible escape, newline
    and tab included: ``\\x1b[2J``, ``\\u202e``.  Markup such as ``[bold]`` stays as it
    is; show the result as plain Text (``untrusted``), never as markup."""
    if value is None:
        value = ""
    elif not isinstance(value, (str, bytes, bytearray, memoryview)):
        value = str(value)
    s = safe_text(value, keep_newlines=False)
    return s if limit is None or len(s) <= limit else s[: limit - 1] + "…"


def untrusted(value, style: str = "", limit: int | None = None) -> Text:
    """Untrusted text as a one-line ``Text`` that no widget parses as markup: for
    DataTable cells, Static.update and the like."""
    return Text(safe(value, limit), style, no_wrap=True)


def fmt_bytes(n: int | float) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.2f} ms"


def fmt_addr(addr) -> str:
    if not addr:
        return "-"
    host, port = addr[0], addr[1]
    if not port:
        return safe(host) or "(unnamed)"
    host = safe(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def header_bytes(value: str) -> bytes | str:
    """A header value back as the bytes received (the engine keeps them as Latin-1 text),
    so that it shows like a body: UTF-8 where valid, any other byte as ``\\xNN``."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value
