"""ConnTableView: the connection table as a Line-API widget that draws only what is on
screen.

Its rows are a ``netstat.ConnTable`` (kept by key, with a sorted, filtered view that
the pane updates by diff); this widget only reads it.  Each repaint builds the strips
of the visible lines — the header and one screenful of rows — straight from segments,
so its cost does not depend on how many rows there are: 20,000 sockets page as fast
as 100.  (Textual's DataTable holds a renderable per cell and takes seconds to refill
at that size.)  The cursor stays on its row (by key) while rows come, go and move.

Narrow, columns give way in this order: age, process, proto, then ESTABLISHED is written
ESTAB (as ss does); state, pid and both whole addresses stay.  When even those do not fit on
one line, each socket takes two lines ("stacked"): its addresses, then its state, pid,
process and age.
Process names and Unix paths are untrusted: they are escaped and drawn as plain
segments, never parsed as markup.
"""

from __future__ import annotations

import time

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from netlab.ui.messages import ConnSortClicked

# The engine is imported when the first rows come, not before the first frame.
COLUMNS = ("proto", "local", "remote", "state", "pid", "process", "age")  # = netstat.COLUMNS

TITLES = {"proto": "proto", "local": "local address", "remote": "remote address", "state": "state",
          "pid": "pid", "process": "process", "age": "age"}
RIGHT = {"pid", "age"}
FIXED = {"proto": 6, "state": 11, "pid": 3, "age": 5}  # pid: 3 to 7, as the pids drawn need
ADDR_MIN, ADDR_MAX = 15, 47  # "127.0.0.1:65535" .. a full IPv6 address in brackets with a port
PROCESS_MIN, PROCESS_MAX = 8, 24
MARK = 2  # "● " own, "◆ " followed
DROP = ("age", "process", "proto")  # the columns that give way when the table is narrow, in order
SHORT_STATE = {"ESTABLISHED": "ESTAB"}  # narrow: the state column is 10 wide (CLOSE_WAIT)
ARROW = " → "  # between the addresses of a stacked row

#: state → colour, as ss/htop users read them: green up, yellow opening, magenta closing,
#: red where a pile-up means a bug (CLOSE_WAIT: the application did not close), dim done
from netlab.ui.styles import STATE_STYLES  # noqa: E402 - one colour per TCP state (the Connection tab draws them too)

OWN = "bold cyan"
FOLLOWED = "bold yellow"
NO_PID = "dim italic"


def fmt_age(seconds: float) -> str:
    """``7s``, ``4m05``, ``2h10``, ``3d04``: how long the socket has been seen."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}"
    return f"{s // 86400}d{s % 86400 // 3600:02d}"


def _safe(value) -> str:
    """Untrusted text made visible: ``views.text.safe``, imported when first needed."""
    from netlab.ui.views.text import safe

    return safe(value)


def _fit(text: str, width: int, right: bool = False) -> str:
    if text.isascii():
        if len(text) > width:
            return text[: max(0, width - 1)] + "…" if width else ""
        return text.rjust(width) if right else text.ljust(width)
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width else ""
    pad = " " * (width - cell_len(text))
    return pad + text if right else text + pad


class ConnTableView(ScrollView, can_focus=True):
    """The rows of ``table`` (a netstat.ConnTable) in its view order, one screenful at a time."""

    COMPONENT_CLASSES = {"conntable--header", "conntable--cursor", "conntable--followed"}
    DEFAULT_CSS = """
    ConnTableView {
        background: $surface;
        overflow-x: hidden;
        overflow-y: auto;
        & > .conntable--header { text-style: bold; color: $text-muted; background: $panel; }
        & > .conntable--cursor { background: $block-cursor-blurred-background; }
        &:focus > .conntable--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                       text-style: $block-cursor-text-style; }
        & > .conntable--followed { background: $warning 20%; }
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First row", show=False),
        Binding("end", "edge(1)", "Last row", show=False),
    ]

    def __init__(self, table=None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.table = table  # a netstat.ConnTable (None until the first rows)
        self.cursor = 0  # view position of the cursor
        self.cursor_key: tuple | None = None  # ... and its row, which it stays on
        self.own: frozenset = frozenset()
        self.followed: frozenset = frozenset()  # (local, remote) pairs, as the rows spell them
        self.now = time.monotonic()  # ages are shown as of this time (the last snapshot)
        self.rows_rendered = 0  # row lines drawn so far (tests: only visible rows are drawn)
        self._addr_w = {"local": ADDR_MIN, "remote": ADDR_MIN}  # grow-only: columns do not jump
        self._pid_w = FIXED["pid"]  # ... and the pid column
        self.stacked = False  # two lines a socket (too narrow for one): see _layout
        self.on_position = None  # called with (cursor, count) when either changes (the pane's "row N of M")
        self._position = (-1, -1)
        self._styles: dict[tuple, Style] = {}
        self._pass = None  # (base, header, cursor, followed styles, widths) during render_lines

    # -- what the pane calls ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return 0 if self.table is None else len(self.table.view)

    def rows_changed(self, now: float | None = None) -> None:
        """The table or its view changed: keep the cursor on its row and repaint."""
        if now is not None:
            self.now = now
        n = self.count
        if self.cursor_key is not None and n:
            index = self.table.index(self.cursor_key)
            if index is not None:
                self.cursor = index
        self.cursor = max(0, min(self.cursor, n - 1)) if n else 0
        self.cursor_key = self.table.key_at(self.cursor) if n else None
        self._relayout()
        self._keep_cursor_visible()
        self.refresh()
        self._tell_position()

    @property
    def lines_per_row(self) -> int:
        return 2 if self.stacked else 1

    def _relayout(self) -> None:
        """Stacked or not for this width, and the virtual size (the header line + the rows' lines)."""
        self.stacked = self._layout(self._room())[1]
        n = self.lines_per_row
        spare = (self.scrollable_content_region.height - 1) % n if self.count else 0  # the end: whole rows
        size = Size(self.size.width, self.count * n + 1 + spare)
        if self.virtual_size != size:
            self.virtual_size = size

    def on_resize(self, event) -> None:
        self._relayout()
        self.call_after_refresh(self._keep_cursor_visible)  # (once the new virtual size is in place)
        self.refresh()

    def _tell_position(self) -> None:
        position = (self.cursor, self.count)
        if position != self._position:
            self._position = position
            if self.on_position is not None:
                self.on_position(*position)

    def move_to_key(self, key: tuple) -> bool:
        """Put the cursor on row ``key`` (False when the view does not show it)."""
        index = self.table.index(key) if self.table is not None else None
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def move_cursor(self, index: int) -> None:
        n = self.count
        if not n:
            return
        self.cursor = max(0, min(index, n - 1))
        self.cursor_key = self.table.key_at(self.cursor)
        self._keep_cursor_visible()
        self.refresh()
        self._tell_position()

    def selected_key(self) -> tuple | None:
        return self.cursor_key if self.count else None

    @property
    def page_size(self) -> int:
        """Rows (not lines) a screen shows."""
        return max(1, (self.scrollable_content_region.height - 1) // self.lines_per_row)

    @property
    def first_visible(self) -> int:
        return int(self.scroll_offset.y) // self.lines_per_row

    def row_text(self, index: int) -> str:
        """The plain text of view row ``index`` as drawn (tests); a stacked row's two lines
        with a newline between them."""
        key = self.table.key_at(index)
        widths, stacked = self._layout(self._room())
        parts = (0, 1) if stacked else (None,)
        return "\n".join("".join(seg.text for seg in self._row_segments(key, self.table.rows[key], widths, Style(),
                                                                         part)) for part in parts)

    def header_text(self) -> str:
        widths, stacked = self._layout(self._room())
        return "".join(seg.text for seg in self._header_segments(widths, None, stacked))

    # -- keys and mouse ----------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        page = self.page_size
        target = self.cursor + direction * page
        self.scroll_to(y=max(0, self.first_visible + direction * page) * self.lines_per_row, animate=False,
                       immediate=True, force=True)
        self.move_cursor(target)

    def action_edge(self, end: int) -> None:
        self.move_cursor(self.count - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(ConnSortClicked(column))
            return
        self.move_cursor((int(self.scroll_offset.y) + event.y - 1) // self.lines_per_row)

    def _column_at(self, x: int) -> str | None:
        widths, stacked = self._layout(self._room())
        pos = MARK
        for name in COLUMNS:
            if name not in widths or (stacked and name not in ("local", "remote")):
                continue
            gap = len(ARROW) if stacked else 1
            if pos <= x < pos + widths[name] + gap:
                return name
            pos += widths[name] + gap
        return None

    def _keep_cursor_visible(self) -> None:
        n = self.lines_per_row
        top, page = -(-int(self.scroll_offset.y) // n), self.page_size  # the first row shown whole
        if self.cursor < top:
            self.scroll_to(y=self.cursor * n, animate=False, immediate=True, force=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=(self.cursor - page + 1) * n, animate=False, immediate=True, force=True)

    # -- drawing -----------------------------------------------------------------------------
    def _room(self) -> int:
        """Cells for the columns: the width less the vertical scrollbar's (kept free always,
        so that columns do not come and go as the scrollbar does)."""
        bar = self.styles.scrollbar_size_vertical if self.styles.overflow_y != "hidden" else 0
        return max(1, (self.size.width or 120) - bar)

    def _widths(self, width: int) -> dict[str, int]:
        return self._layout(width)[0]

    def _layout(self, width: int) -> tuple[dict[str, int], bool]:
        """(column widths, stacked) for ``width`` cells.  A column that does not fit is left
        out (age, then process, then proto) rather than cut; then the state column narrows
        (ESTAB); when state, pid and both addresses still do not fit on one line, each row
        takes two (stacked: every column is back, on the second line)."""
        w = dict(FIXED)
        w["pid"] = self._pid_w
        w["local"], w["remote"] = self._addr_w["local"], self._addr_w["remote"]
        w["process"] = PROCESS_MIN

        def total() -> int:
            return MARK + sum(w.values()) + len(w) - 1

        for name in DROP:
            if total() > width:
                del w[name]
        if total() > width:
            w["state"] = 10
        if total() <= width:
            if "process" in w:
                w["process"] = min(PROCESS_MAX, PROCESS_MIN + max(0, width - total()))
            return w, False
        # stacked: line 1 the addresses (cut only when even one line of them is too wide), line 2 the rest
        w = dict(FIXED, pid=self._pid_w, local=self._addr_w["local"], remote=self._addr_w["remote"])
        for name in ("remote", "local"):
            w[name] -= max(0, min(MARK + w["local"] + len(ARROW) + w["remote"] - width, w[name] - ADDR_MIN))
        rest = width - (MARK + 5) - (w["state"] + 1) - (len("pid ") + w["pid"] + 1) - (w["age"] + 1)
        w["process"] = max(0, min(PROCESS_MAX, rest))
        return w, True

    def _grow_addresses(self, start: int, stop: int) -> None:
        """Widen the address columns to what the rows about to be drawn need (never narrower)."""
        if not self.count:
            return
        from netlab.engine.netstat import format_addr

        rows, grown = self.table.rows, False
        for key in self.table.keys(start, stop):
            row = rows[key]
            if row.pid is not None and len(str(row.pid)) > self._pid_w:
                self._pid_w = min(7, len(str(row.pid)))
                grown = True
            for name, addr in (("local", row.local), ("remote", row.remote)):
                text = format_addr(addr)
                need = min(ADDR_MAX, len(_safe(text) if row.proto == "unix" else text))  # a path shows escaped
                if need > self._addr_w[name]:
                    self._addr_w[name] = need
                    grown = True
        if grown:
            self._styles.clear()
            if self._layout(self._room())[1] != self.stacked:  # wider columns: now two lines a row
                self.call_later(self.rows_changed)

    def render_lines(self, crop):
        top = self.first_visible
        self._grow_addresses(top, top + self.page_size + 1)
        # the styles of this pass, worked out once (rich_style walks the CSS: too slow per line)
        base = self.rich_style
        self._pass = (base, base + self.get_component_rich_style("conntable--header"),
                      base + self.get_component_rich_style("conntable--cursor"),
                      base + self.get_component_rich_style("conntable--followed"), self._layout(self._room()))
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _styles_now(self):
        if self._pass is not None:
            return self._pass
        base = self.rich_style
        return (base, base + self.get_component_rich_style("conntable--header"),
                base + self.get_component_rich_style("conntable--cursor"),
                base + self.get_component_rich_style("conntable--followed"), self._layout(self._room()))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, header, cursor, followed, (widths, stacked) = self._styles_now()
        if y == 0:
            return Strip(self._header_segments(widths, header, stacked)).crop_extend(0, width, header)
        part = None
        if stacked:
            index, part = divmod(int(self.scroll_offset.y) + y - 1, 2)
        else:
            index = self.first_visible + y - 1
        if index >= self.count:
            return Strip.blank(width, base)
        key = self.table.key_at(index)
        row = self.table.rows[key]
        self.rows_rendered += 1
        if index == self.cursor:
            line = cursor
        elif self.followed and (row.local, row.remote) in self.followed:
            line = followed
        else:
            line = base
        return Strip(self._row_segments(key, row, widths, line, part)).crop_extend(0, width, line)

    def _style(self, line: Style, cell: str) -> Style:
        k = (line, cell)
        style = self._styles.get(k)
        if style is None:
            if len(self._styles) > 512:
                self._styles.clear()
            style = self._styles[k] = line + Style.parse(cell) if cell else line
        return style

    def _header_segments(self, widths, style: Style | None = None, stacked: bool = False) -> list[Segment]:
        sort, reverse = ("proto", False) if self.table is None else (self.table.spec.sort, self.table.spec.reverse)
        arrow = "▼" if reverse else "▲"
        out = [Segment(" " * MARK, style)]
        if stacked:  # the addresses' titles; the second line of a row names its own fields
            for name, end in (("local", ARROW), ("remote", "")):
                title = TITLES[name] + (arrow if name == sort else "")
                out.append(Segment(_fit(title, widths[name]) + end, style))
            by = f"  by {sort}{arrow}"
            if sort not in ("local", "remote") and sum(len(seg.text) for seg in out) + len(by) <= self._room():
                out.append(Segment(by, style))
            return out
        for name in COLUMNS:
            if name not in widths:
                continue
            title = TITLES[name]
            if name == sort:
                title += arrow
            out.append(Segment(_fit(title, widths[name], name in RIGHT) + " ", style))
        by = f" by {sort}{arrow}"
        if sort not in widths and sum(len(seg.text) for seg in out) + len(by) <= self._room():
            out.append(Segment(by, style))  # sorted by a column that gave way: say which, when there is room
        return out

    def _row_segments(self, key, row, widths, line: Style, part: int | None = None) -> list[Segment]:
        """One row's cells; ``part`` 0 or 1: the first or second line of a stacked row."""
        from netlab.engine.netstat import format_addr

        followed = bool(self.followed) and (row.local, row.remote) in self.followed
        own = key in self.own
        tint = FOLLOWED if followed else OWN if own else ""
        mark = "◆ " if followed else "● " if own else "  "
        if row.pid is None:
            pid_text, pid_style = "-", NO_PID
            process, process_style = "(no pid)", NO_PID  # the kernel's (TIME_WAIT), or out of our sight
        else:
            pid_text, pid_style = str(row.pid), tint or "dim"
            process, process_style = (_safe(row.process) if row.process else "?"), tint
        local = format_addr(row.local)
        remote = format_addr(row.remote)
        if row.proto == "unix":
            local, remote = _safe(local), _safe(remote)
        state = "" if row.state == "NONE" else row.state
        if widths["state"] < len(state):
            state = SHORT_STATE.get(state, state)
        if part == 0:
            cells = [(mark, tint), (_fit(local, widths["local"]) + ARROW, tint), (_fit(remote, widths["remote"]), tint)]
            return [Segment(text, self._style(line, style)) for text, style in cells]
        if part == 1:
            cells = [(" " * MARK + _fit(row.proto, 4) + " ", tint),
                     (_fit(state, widths["state"]) + " ", STATE_STYLES.get(row.state, ""))]
            if row.pid is None:
                cells.append((_fit("no pid", 4 + widths["pid"]) + " ", NO_PID))
            else:
                cells.append(("pid " + _fit(pid_text, widths["pid"], True) + " ", pid_style))
            if widths["process"]:
                cells.append((_fit(process if row.pid is not None else "", widths["process"]) + " ", process_style))
            cells.append((_fit(fmt_age(self.table.age(key, self.now)), widths["age"], True), "dim"))
            return [Segment(text, self._style(line, style)) for text, style in cells]
        cells = [
            (mark, tint),
        ]
        if "proto" in widths:
            cells.append((_fit(row.proto, widths["proto"]) + " ", tint))
        cells += [
            (_fit(local, widths["local"]) + " ", tint),
            (_fit(remote, widths["remote"]) + " ", tint),
            (_fit(state, widths["state"]) + " ", STATE_STYLES.get(row.state, "")),
        ]
        if "pid" in widths:
            cells.append((_fit(pid_text, widths["pid"], True) + " ", pid_style))
        if "process" in widths:
            cells.append((_fit(process, widths["process"]) + " ", process_style))
        if "age" in widths:
            cells.append((_fit(fmt_age(self.table.age(key, self.now)), widths["age"], True), "dim"))
        return [Segment(text, self._style(line, style)) for text, style in cells]
