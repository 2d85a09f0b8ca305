"""``Lines``: a long view as a count and a function that renders line *i* on demand, so a
viewer only draws what is visible; and wrapping at spaces for the views that wrap to their
viewer's width (``Hanging`` lines)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Callable

from rich.cells import cell_len
from rich.text import Text

LINE_PIECE = 512  # long lines are cut into pieces of this many characters


@dataclass(frozen=True, slots=True)
class Lines:
    """A long view: ``count`` lines, line ``i`` rendered by ``line(i)``, ``width`` cells wide.

    ``fit(cells)``, when set, gives the same view laid out for a viewer ``cells`` wide (a
    hex view picks 8 or 16 bytes a row, wrapped text breaks at spaces); a viewer calls it
    when it knows its width, and again when that changes."""

    count: int
    line: Callable[[int], Text]
    width: int
    data: bytes | None = None  # a hex view: the bytes it shows, ``row`` a line (what a search reads)
    row: int = 16  # a hex view's bytes a line
    columns: tuple[int, int] = (10, 61)  # a hex view's first hex cell and first ASCII cell
    fit: Callable[[int], "Lines"] | None = None

    @classmethod
    def of(cls, texts: list[Text]) -> "Lines":
        """Lines of fixed texts; when any is a ``Hanging`` text, the view wraps to its
        viewer's width (see ``wrap_text``)."""
        width = max((width_of(t.plain) for t in texts), default=0)
        fit = None
        if any(isinstance(t, Hanging) for t in texts):
            fit = partial(_fit_wrapped, tuple(texts))
        return cls(len(texts), texts.__getitem__, width, fit=fit)

    @classmethod
    def empty(cls) -> "Lines":
        return cls.of([])

    def plain(self, limit: int = 10_000) -> str:
        """The text of the first ``limit`` lines (for tests and copying)."""
        return "\n".join(self.line(i).plain for i in range(min(self.count, limit)))


def width_of(s: str) -> int:
    return len(s) if s.isascii() else cell_len(s)


def pieces(s: str) -> list[str]:
    """A long line of raw notation in pieces of LINE_PIECE characters, no escape cut in two."""
    from netlab.engine.rawtext import split_pieces

    return split_pieces(s, LINE_PIECE)


# -- wrapping ----------------------------------------------------------------------------------

class Hanging(Text):
    """A line that wraps to its viewer's width at spaces, its continuation lines indented
    by ``hang`` cells (``key   value`` lines: under the value)."""

    __slots__ = ("hang",)

    def __init__(self, *args, hang: int = 0, **kw) -> None:
        super().__init__(*args, **kw)
        self.hang = hang


def _fits(s: str, cells: int) -> int:
    """How many characters of ``s`` fit in ``cells`` cells (at least one)."""
    if s.isascii():
        return max(1, min(len(s), cells))
    used = 0
    for i, ch in enumerate(s):
        used += cell_len(ch)
        if used > cells:
            return max(1, i)
    return len(s)


def _breaks(plain: str, first: int, rest: int) -> list[int]:
    """Where to break ``plain`` into lines of at most ``first`` cells, then ``rest`` cells:
    before a word that does not fit; inside a word only when it is longer than a line."""
    out: list[int] = []
    start, avail = 0, first
    for m in re.finditer(r"\S+", plain):
        w_start, w_end = m.span()
        if width_of(plain[start:w_end]) <= avail:
            continue
        if plain[start:w_start].strip() and width_of(m.group()) <= rest:  # the next line takes it whole
            out.append(w_start)
            start, avail = w_start, rest
        while width_of(plain[start:w_end]) > avail:  # longer than a line: fold it
            start += _fits(plain[start:w_end], avail)
            while start < w_start and plain[start].isspace():  # (a line starts with the word, not a space)
                start += 1
            out.append(start)
            avail = rest
    return out


def wrap_text(text: Text, width: int, hang: int = 0) -> list[Text]:
    """``text`` as lines at most ``width`` cells wide (words whole when they fit a line),
    continuation lines indented by ``hang`` cells (less when that would leave a narrow column)."""
    if width <= 0 or width_of(text.plain) <= width:
        return [text]
    if width - hang < 20:  # too little room beside the indent: indent less
        hang = min(hang, max(0, width // 3))
    cuts = _breaks(text.plain, width, width - hang)
    pieces = text.divide(cuts)
    out = [pieces[0]]
    out[0].rstrip()
    for piece in pieces[1:]:
        piece.rstrip()
        line = Text(" " * hang, no_wrap=True)
        line.append_text(piece)
        out.append(line)
    for line in out:
        line.no_wrap = True
    return out


def _fit_wrapped(texts: tuple, width: int) -> "Lines":
    out: list[Text] = []
    for t in texts:
        out.extend(wrap_text(t, width, getattr(t, "hang", 0)) if isinstance(t, Hanging) else (t,))
    width_now = max((width_of(t.plain) for t in out), default=0)
    return Lines(len(out), out.__getitem__, width_now, fit=partial(_fit_wrapped, texts))
