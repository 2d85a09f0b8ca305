"""The composer's Raw tab: the request bytes as text, line endings visible.  Imported with
the tab, after the first frame (TextArea is not needed before it).

A two-cell gutter on the left marks each header line netlab wrote by itself (Host,
User-Agent, Accept, Content-Length, Connection: the composer says which, ``added``) with
``+``; the user's own lines have none.  The gutter is drawn around TextArea's own line
rendering, so editing, selection and undo are the TextArea's as ever."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset
from textual.strip import Strip
from textual.widgets import TextArea

from netlab.ui import requesttext as rt

MARK = "+ "
MARK_STYLE = Style(color="cyan", bold=True)
GUTTER = 2
HEAD_ROWS = 500  # rows looked at for header lines: a head longer than this is not marked past it


def head_rows(line_count: int, get_line) -> dict[int, str]:
    """Row → lower-case header name, for the header rows of the raw text (the rows before
    the empty line that ends the head; row 0 is the request line).  Reads the head only."""
    rows = {}
    for i in range(1, min(line_count, HEAD_ROWS)):
        line = get_line(i)
        if line in ("", "\\r\\n", "\\n", "\\r"):
            break
        name, sep, _ = line.partition(":")
        if sep:
            rows[i] = name.strip().lower()
    return rows


class RawArea(TextArea):
    """The raw view; mounted after the first frame, it starts from the composer's bytes."""

    added: frozenset[str] = frozenset()  # lower-case names of the headers netlab wrote

    def on_mount(self) -> None:
        composer = self.query_ancestor("Composer")  # by name: the composer imports this module
        self.load_text(rt.to_raw_text(composer.data))  # type: ignore[attr-defined]

    def mark(self, names) -> None:
        """Mark the header lines named ``names`` (netlab's), and only those."""
        names = frozenset(n.lower() for n in names)
        if names != self.added:
            self.added = names
            self.refresh()

    def marked_rows(self) -> list[int]:
        """The rows that carry the mark now (for tests and the hint)."""
        document = self.document
        return [row for row, name in head_rows(document.line_count, document.get_line).items() if name in self.added]

    @property
    def gutter_width(self) -> int:
        return GUTTER

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)  # the text part: TextArea leaves the gutter's cells to us
        mark = "  "
        if self.added:
            absolute = y + self.scroll_offset.y
            if absolute < self.wrapped_document.height:
                row, column = self.wrapped_document.offset_to_location(Offset(0, absolute))
                if column == 0 and 0 < row < HEAD_ROWS and row in self.marked_rows():
                    mark = MARK
        style = MARK_STYLE if mark != "  " else None
        base = self.rich_style
        return Strip.join([Strip([Segment(mark, base + style if style else base)], GUTTER), strip])
