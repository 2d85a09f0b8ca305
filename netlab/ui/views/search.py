"""The response viewer's search (/, n, N) reads what a view shows without rendering it: a
text view's lines' plain strings, a hex view's bytes.  Matches are listed in a worker
thread (``Search.find``); each line is highlighted as it is drawn (``Search.spans``).
The query is plain text (no regular expressions: Python's ``re`` holds the GIL while it
backtracks, so one bad pattern over a 16 MiB body would freeze the UI), case-insensitive
unless ``match_case``."""

from __future__ import annotations

import re
from typing import Callable

from netlab.ui.views.hexdump import hex_cell
from netlab.ui.views.lines import Lines, width_of
from netlab.ui.views.text import safe

SEARCH_CAP = 100_000  # matches listed at most; n/N move among these
HIT = "#000000 on #d7af00"  # every match: yellow
HIT_NOW = "bold #000000 on #5fd7ff"  # the current match: light blue
_HEX_PAIRS = re.compile(r"(?:0[xX])?(?:[0-9a-fA-F]{2})+(?:\s+(?:[0-9a-fA-F]{2})+)*")


def hex_query(query: str) -> bytes | None:
    """The bytes a query written in hex stands for (``48 54``, ``4854``, ``0x0d0a``: pairs
    of hex digits, spaces between pairs allowed), or None when it is not written so."""
    q = query.strip()
    if not _HEX_PAIRS.fullmatch(q):
        return None
    if q[:2] in ("0x", "0X"):
        q = q[2:]
    return bytes.fromhex("".join(q.split()))


SEARCH_WINDOW = 1 << 20


def _find_all(data: bytes, needle: bytes, fold: bool, stop: Callable[[], bool]) -> list[int] | None:
    """Start offsets of ``needle`` in ``data``, not overlapping (``fold``: ASCII letters in
    any case; ``needle`` is lowercase then), at most SEARCH_CAP + 1; None when ``stop()``."""
    out: list[int] = []
    n, size = len(data), len(needle)
    pos = 0
    while pos < n:
        if stop():
            return None
        hi = min(n, pos + SEARCH_WINDOW)
        window = data[pos : min(n, hi + size - 1)]
        if fold:
            window = window.lower()
        i = window.find(needle)
        nxt = hi
        while 0 <= i and pos + i < hi:
            out.append(pos + i)
            if len(out) > SEARCH_CAP:
                return out
            nxt = max(hi, pos + i + size)
            i = window.find(needle, i + size)
        pos = nxt
    return out


class Search:
    """One query over one view (a ``Lines``).  A match is ``(line, start, end)``: character
    offsets in that line's plain text; in a hex view (``lines.data`` set) byte offsets in
    the data, so that one match may span lines.

    In a hex view a query matches bytes two ways: as text (its UTF-8 bytes, ASCII letters
    in either case unless ``match_case``) and, when it is written as hex bytes (``48 54``,
    ``0d0a``, ``0xff``), as those bytes; each match is highlighted in both columns."""

    def __init__(self, lines: Lines, query: str, match_case: bool = False) -> None:
        self.lines = lines
        self.query = query
        self.match_case = match_case
        self.hex = lines.data is not None
        self.as_bytes: bytes | None = None
        if self.hex:
            text = query.encode("utf-8", "surrogateescape")
            pattern = re.escape(text) if match_case else b"(?i:" + re.escape(text) + b")"
            self.as_bytes = hex_query(query)
            if self.as_bytes:
                pattern += b"|" + re.escape(self.as_bytes)
            self.longest = max(len(text), len(self.as_bytes or b""))
            self.pattern = re.compile(pattern)
        else:
            self.pattern = re.compile(re.escape(query), 0 if match_case else re.IGNORECASE)

    def describe(self) -> str:
        """What is searched for, for the status line (escaped, one line)."""
        how = "" if self.match_case else ", any case"
        if self.as_bytes:
            return f"'{safe(self.query, 60)}' (as text{how}, or as the bytes {self.as_bytes[:16].hex(' ')})"
        return f"'{safe(self.query, 60)}'" + (" (case as typed)" if self.match_case else "")

    def find(self, stop: Callable[[], bool] = lambda: False) -> tuple[list[tuple[int, int, int]], bool] | None:
        """(matches in order, capped: more than SEARCH_CAP exist); None when ``stop()``
        said so (a newer search replaced this one)."""
        out: list[tuple[int, int, int]] = []
        if self.hex:
            return self._find_bytes(stop)
        line, finditer = self.lines.line, self.pattern.finditer
        for i in range(self.lines.count):
            if i & 1023 == 0 and stop():
                return None
            for m in finditer(line(i).plain):
                if len(out) >= SEARCH_CAP:
                    return out, True
                out.append((i, m.start(), m.end()))
        return out, False

    def _find_bytes(self, stop: Callable[[], bool]) -> tuple[list[tuple[int, int, int]], bool] | None:
        """The hex view's matches: ``bytes.find`` over windows of SEARCH_WINDOW bytes
        (lowered for any case), never one long regex call (``re`` keeps the GIL while
        it scans, and the UI thread would wait for it)."""
        data = self.lines.data
        text = self.query.encode("utf-8", "surrogateescape")
        found: list[tuple[int, int]] = []
        capped = False
        for needle, fold in ((text.lower() if not self.match_case else text, not self.match_case),
                             (self.as_bytes, False)):
            if not needle:
                continue
            starts = _find_all(data, needle, fold, stop)
            if starts is None:
                return None
            capped = capped or len(starts) > SEARCH_CAP
            found += [(start, start + len(needle)) for start in starts[:SEARCH_CAP]]
        found.sort()
        out: list[tuple[int, int, int]] = []
        end = 0
        row = self.lines.row
        for start, stop_at in found:  # a text match and a bytes match may overlap: the first wins
            if start >= end:
                out.append((start // row, start, stop_at))
                end = stop_at
        if len(out) > SEARCH_CAP:
            out, capped = out[:SEARCH_CAP], True
        return out, capped

    def spans(self, index: int, plain: str, current: tuple | None = None) -> list[tuple[int, int, str]]:
        """(start, end, style) to highlight on line ``index`` (whose text is ``plain``);
        ``current`` (a match) gets HIT_NOW, every other match HIT."""
        if not self.hex:
            out = []
            for m in self.pattern.finditer(plain):
                now = current is not None and current[0] == index and current[1:] == m.span()
                out.append((m.start(), m.end(), HIT_NOW if now else HIT))
            return out
        data, row, (first_at, ascii_at) = self.lines.data, self.lines.row, self.lines.columns
        base = index * row
        if base >= len(data):
            return []
        top = min(len(data), base + row)
        out = []
        for m in self.pattern.finditer(data, max(0, base - self.longest + 1), min(len(data), top + self.longest - 1)):
            first, last = max(m.start(), base) - base, min(m.end(), top) - base - 1
            if first > last:
                continue
            style = HIT_NOW if current is not None and current[1:] == m.span() else HIT
            out.append((hex_cell(first, row, first_at), hex_cell(last, row, first_at) + 2, style))
            out.append((ascii_at + first, ascii_at + last + 1, style))
        return out

    def where(self, match: tuple[int, int, int]) -> tuple[int, int, int]:
        """(line, first cell, end cell) of a match: what to scroll into view."""
        line, start, end = match
        if self.hex:
            row = self.lines.row
            j = start % row
            first_at, ascii_at = self.lines.columns
            return line, hex_cell(j, row, first_at), ascii_at + min(row - 1, j + end - start - 1) + 1
        plain = self.lines.line(line).plain
        first = width_of(plain[:start])
        return line, first, first + width_of(plain[start:end])
