"""The hex view: offset, hex and ASCII columns, 16 bytes a row as ``hexdump -C``.

``hex_lines(...).fit(width)`` picks what fits: that, or 16 bytes with an offset of only the
digits it needs (an 80-column terminal), or 8 bytes a row (with the shorter offset when
even that is too wide)."""

from __future__ import annotations

from rich.text import Text

from netlab.ui.views.lines import Lines
from netlab.ui.views.text import NOTE, fmt_bytes

HEX_LIMIT = 16 << 20  # hex views cover at most this many bytes


def _hex_columns(row: int, digits: int = 8) -> tuple[int, int]:
    """(first hex cell, first ASCII cell) of a row of ``row`` bytes."""
    hex_w = 3 * row - 1 + (1 if row > 8 else 0)  # two spaces between the two halves of a 16-byte row
    return digits + 2, digits + 2 + hex_w + 3


def _hex_width(row: int, digits: int = 8) -> int:
    """Cells of a full row: offset, two spaces, hex, two spaces, |ASCII|."""
    return _hex_columns(row, digits)[1] + row + 1


def hex_cell(j: int, row: int = 16, first: int = 10) -> int:
    """The column of byte ``j`` of a row in the hex column (which starts at ``first``)."""
    return first + 3 * j + (1 if row > 8 and j >= 8 else 0)


def _hex_line(data: bytes, i: int, base: int = 0, row: int = 16, digits: int = 8) -> Text:
    chunk = data[i * row : i * row + row]
    hexes = " ".join(f"{b:02x}" for b in chunk[:8])
    if len(chunk) > 8:
        hexes += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
    ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
    first, ascii_at = _hex_columns(row, digits)
    t = Text(no_wrap=True)
    t.append(f"{base + i * row:0{digits}x}", "dim")
    t.append("  ")
    t.append(f"{hexes:<{ascii_at - first - 3}}")
    t.append("  |")
    t.append(ascii_, "cyan")
    t.append("|")
    return t


def hex_lines(data: bytes, total: int | None = None, row: int = 16, digits: int = 8) -> Lines:
    """offset / hex / ASCII columns, ``row`` (16 or 8) bytes a line, offsets ``digits`` hex
    digits; ``total`` > len(data) adds a note.  ``fit(width)`` gives the view that fits."""
    data = bytes(data)
    n = (len(data) + row - 1) // row
    cut = total is not None and total > len(data)

    def line(i: int) -> Text:
        if i == n:
            return Text(f"… {fmt_bytes(total - len(data))} more not shown (hex view is limited to "
                        f"{fmt_bytes(len(data))})", NOTE)
        return _hex_line(data, i, row=row, digits=digits)

    def fit(width: int) -> Lines:
        short = max(4, len(f"{max(0, len(data) - 1):x}"))  # the digits the last offset needs
        for want in ((16, 8), (16, short), (8, 8), (8, short)):
            if _hex_width(*want) <= width:
                break
        return lines if want == (row, digits) else hex_lines(data, total, *want)

    lines = Lines(n + (1 if cut else 0), line, _hex_width(row, digits), data, row, _hex_columns(row, digits), fit)
    return lines


def hex_plain(chunk: bytes, offset: int) -> str:
    """One row of a plain-text hex dump (a pager's), ``offset`` its first byte's."""
    hexes = chunk[:8].hex(" ")
    if len(chunk) > 8:
        hexes += "  " + chunk[8:].hex(" ")
    ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
    return f"{offset:08x}  {hexes:<48}  |{ascii_}|"
