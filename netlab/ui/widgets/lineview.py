"""LineView: a scrollable view of many lines that renders only the visible ones.

Its source is a count and a function giving line *i* as ``rich.text.Text`` (see
``views.lines.Lines``): a hex dump of 16 MiB is 1M lines, computed as they scroll into view.
Text is drawn as-is (no markup); the source escapes untrusted bytes.  A source that can
lay itself out for a width (``Lines.fit``: a hex view's bytes a row, wrapped text) is
fitted to the view's width when shown and again when the view is resized.

It can search itself (``search``, ``next_match``): the matches are listed by a worker
thread from the lines' plain text or a hex view's bytes (``views.search.Search``), each line's
matches are highlighted as it is drawn (styles on the already escaped Text, so the
escaping stays), and it reports where it stands with ``SearchReport`` messages.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from functools import partial
from typing import Callable

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineView(ScrollView, can_focus=True):
    """Lines on demand; arrow keys, page keys, home/end scroll."""

    DEFAULT_CSS = """
    LineView {
        background: $surface;
        overflow: auto;
        padding: 0 0 0 1;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None,
                 source: Callable[[], object] | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._count = 0
        self._line: Callable[[int], Text] = lambda i: Text("")
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self._source = source  # gives the views.lines.Lines to show (or None): see pull()
        self.lines = None  # the views.lines.Lines shown (fitted to the width)
        self._given = None  # ... as given, before fitting
        self._fitted_for = -1  # the width it was fitted for
        self._search = None  # a views.search.Search: its matches are highlighted
        self._search_id = 0
        self._stop: threading.Event | None = None  # stops the running search's worker
        self.matches: list | None = None  # the current search's matches (None: still being listed)
        self._capped = False
        self._at = -1  # index of the current match in ``matches``
        self._origin = 0  # the search jumps to the first match at or after this line

    def on_mount(self) -> None:
        if self._source is not None:
            self.pull()

    def pull(self) -> None:
        """Show what ``source`` gives now (empty when it gives None)."""
        lines = self._source() if self._source is not None else None
        if lines is None:
            self.set_lines(0, lambda i: Text(""), 0)
        else:
            self.show(lines)

    def set_lines(self, count: int, line: Callable[[int], Text], width: int, lines=None) -> None:
        """Show a new source from the top (any search is dropped)."""
        self.clear_search()
        self._given = None
        if lines is None and count:  # (an empty view needs no Lines: the views load after the first frame)
            from netlab.ui.views.lines import Lines

            lines = Lines(count, line, width)
        self.lines = lines
        self._count = count
        self._line = line
        self._cache.clear()
        self.virtual_size = Size(width + 1, count)
        if self.scroll_offset != (0, 0):
            self.scroll_to(0, 0, animate=False)
        self.refresh()

    def show(self, lines) -> None:
        """Show a ``views.lines.Lines`` (fitted to the view's width when it can be)."""
        given = lines if lines.fit is not None else None
        if given is not None and self.size.width > 0:
            lines = self._fitted(given)
        self.set_lines(lines.count, lines.line, lines.width, lines)
        self._given = given  # (after set_lines, which forgets it)

    def _fitted(self, lines):
        """``lines`` laid out for this view's width: the whole width, or the width beside the
        vertical scrollbar when the lines are more than the view's height."""
        width = self.size.width
        self._fitted_for = width
        fitted = lines.fit(width - 1)  # (the virtual width is one more than the lines')
        bar = self.styles.scrollbar_size_vertical
        if fitted.count > self.size.height and bar and self.styles.overflow_y != "hidden":
            fitted = lines.fit(max(1, width - 1 - bar))
        return fitted

    def on_resize(self, event) -> None:
        """A new width: lay the lines out again, keeping the top line's place and the search."""
        given = self._given
        if given is None or self.size.width <= 0 or self.size.width == self._fitted_for:
            return
        old = self.lines
        top = int(self.scroll_y)
        fitted = self._fitted(given)
        if fitted is old:
            return
        query = self._search.query if self._search is not None else ""
        match_case = self._search.match_case if self._search is not None else False
        self.set_lines(fitted.count, fitted.line, fitted.width, fitted)
        self._given = given
        if old is not None and old.count and top:
            if old.data is not None and fitted.data is not None:  # a hex view: the same byte on top
                top = top * old.row // fitted.row
            else:
                top = top * fitted.count // old.count
            self.scroll_to(0, top, animate=False)
        if query:
            self.search(query, match_case, origin=top)

    def show_texts(self, texts: list[Text]) -> None:
        from rich.cells import cell_len

        self.set_lines(len(texts), texts.__getitem__, max((cell_len(t.plain) for t in texts), default=0))

    # What is shown, for tests and copying: ``line_count``, ``text_of`` and ``plain`` read the
    # content as given (unwrapped lines, a hex view's 16-byte rows); the ``shown_`` ones read
    # the lines as laid out for the view's width.
    @property
    def line_count(self) -> int:
        return self._given.count if self._given is not None else self._count

    def text_of(self, index: int) -> str:
        """The plain text of one line of the content."""
        if self._given is not None:
            return self._given.line(index).plain if 0 <= index < self._given.count else ""
        return self.shown_text(index)

    def plain(self, limit: int = 10_000) -> str:
        return "\n".join(self.text_of(i) for i in range(min(self.line_count, limit)))

    @property
    def shown_count(self) -> int:
        return self._count

    def shown_text(self, index: int) -> str:
        """The plain text of line ``index`` as laid out for the view's width."""
        return self._line(index).plain if 0 <= index < self._count else ""

    def shown_plain(self, limit: int = 10_000) -> str:
        return "\n".join(self.shown_text(i) for i in range(min(self._count, limit)))

    def notify_style_update(self) -> None:
        self._cache.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= self._count:
            return Strip.blank(width, style)
        strip = self._cache.get(index)
        if strip is None:
            text = self._line(index).copy()
            text.no_wrap = True
            text.end = ""
            text.stylize_before(style)
            if self._search is not None:
                current = self.matches[self._at] if self.matches and self._at >= 0 else None
                for start, end, hit in self._search.spans(index, text.plain, current):
                    text.stylize(hit, start, end)
            strip = Strip(list(text.render(self.app.console)), text.cell_len)
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    # -- search ------------------------------------------------------------------------------
    @property
    def query(self) -> str:
        return self._search.query if self._search is not None else ""

    @property
    def current_match(self) -> tuple | None:
        return self.matches[self._at] if self.matches and self._at >= 0 else None

    def search(self, query: str, match_case: bool = False, origin: int | None = None) -> None:
        """Highlight ``query`` now and list its matches in a worker; then go to the first
        match at or after line ``origin`` (default: where the last search started)."""
        from netlab.ui.views.search import Search

        self._stop_search()
        if origin is not None:
            self._origin = origin
        self._search = Search(self.lines, query, match_case) if query and self.lines is not None else None
        self.matches, self._capped, self._at = None, False, -1
        self._repaint()
        if self._search is None:
            return
        self._search_id += 1
        self._stop = stop = threading.Event()
        self._report(f"searching for {self._search.describe()} …")
        from netlab.ui import workers

        self.run_worker(partial(workers.find_matches, self._search, self._search_id, stop.is_set,
                                post=self.post_message), thread=True, group="search", exit_on_error=False)

    def clear_search(self) -> None:
        self._stop_search()
        if self._search is not None:
            self._search = None
            self._repaint()
        self.matches, self._capped, self._at = None, False, -1

    def _stop_search(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None

    def on_search_found(self, msg) -> None:
        msg.stop()
        if self._search is None or msg.search_id != self._search_id:
            return  # a newer search replaced that one
        self._stop = None
        self.matches, self._capped = msg.matches, msg.capped
        if not self.matches:
            self._report(f"no match for {self._search.describe()}")
            self._repaint()
            return
        i = bisect_left(self.matches, (self._origin,))
        self._go(i if i < len(self.matches) else 0, "" if i < len(self.matches) else "wrapped to the top")

    def next_match(self, step: int) -> None:
        """The next (``step`` 1) or previous (-1) match, wrapping around with a note.  When
        the current match has been scrolled out of sight, from the screen instead."""
        if self._search is None:
            self._report("no search: / starts one")
            return
        if self.matches is None:
            self._report(f"still searching for {self._search.describe()} …")
            return
        n = len(self.matches)
        if not n:
            self._report(f"no match for {self._search.describe()}")
            return
        top, height = int(self.scroll_y), max(1, self.scrollable_content_region.height)
        current = self.current_match
        if current is None or not top <= current[0] < top + height:
            i = bisect_left(self.matches, (top,)) if step > 0 else bisect_left(self.matches, (top + height,)) - 1
        else:
            i = self._at + step
        note = ""
        if i >= n:
            i, note = 0, "wrapped to the top"
        elif i < 0:
            i, note = n - 1, "wrapped to the bottom"
        self._go(i, note)

    def _go(self, i: int, note: str = "") -> None:
        """Make match ``i`` the current one and scroll it into view."""
        self._at = i
        line, first, end = self._search.where(self.matches[i])
        region = self.scrollable_content_region
        height, width = max(1, region.height), max(1, region.width)
        y = int(self.scroll_y)
        if not y <= line < y + height:
            y = max(0, line - height // 3)
        x = int(self.scroll_x)
        if first < x or end > x + width:
            x = max(0, first - 4) if end - first < width - 4 else first
        self.scroll_to(x, y, animate=False, immediate=True)
        self._repaint()
        total = f"{len(self.matches)}+" if self._capped else str(len(self.matches))
        text = f"match {i + 1} of {total}"
        if self._capped:
            text += f" (the first {len(self.matches)} are listed)"
        if note:
            text += f" · {note}"
        self._report(text)

    def _repaint(self) -> None:
        self._cache.clear()
        self.refresh()

    def _report(self, text: str) -> None:
        from netlab.ui.messages import SearchReport

        self.post_message(SearchReport(self, Text(text)))
