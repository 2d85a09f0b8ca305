"""ConnTableView: the connection table as a Line-API widget that draws only what is on
screen.

Its rows are a ``netstat.ConnTable`` (kept by key, with a sorted, filtered view that
the pane updates by diff); this widget only reads it.  Each repaint builds the strips
of the visible lines — the header and one screenful of rows — straight from segments,
so its cost does not depend on how many rows there are: 20,000 sockets page as fast
as 100.  (Textual's DataTable holds a renderable per cell and takes seconds to refill
at that size.)  The cursor stays on its row (by key) while rows come, go and move.
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
FIXED = {"proto": 6, "state": 11, "pid": 7, "age": 5}
ADDR_MIN, ADDR_MAX = 15, 47  # "127.0.0.1:65535" .. a full IPv6 address in brackets with a port
PROCESS_MIN, PROCESS_MAX = 8, 24
MARK = 2  # "● " own, "◆ " followed

#: state → colour, as ss/htop users read them: green up, yellow opening, magenta closing,
#: red where a pile-up means a bug (CLOSE_WAIT: the application did not close), dim done
STATE_STYLES = {
    "ESTABLISHED": "green", "LISTEN": "bold blue", "SYN_SENT": "yellow", "SYN_RECV": "yellow",
    "FIN_WAIT1": "magenta", "FIN_WAIT2": "magenta", "CLOSING": "magenta", "LAST_ACK": "magenta",
    "CLOSE_WAIT": "bold red", "TIME_WAIT": "dim", "CLOSE": "dim", "CLOSED": "dim", "NONE": "dim",
}
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
    """Untrusted text made visible: ``render.safe``, imported when first needed."""
    from netlab.ui.render import safe

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
        self.virtual_size = Size(self.size.width, n + 1)
        self._keep_cursor_visible()
        self.refresh()

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

    def selected_key(self) -> tuple | None:
        return self.cursor_key if self.count else None

    @property
    def page_size(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def first_visible(self) -> int:
        return int(self.scroll_offset.y)

    def row_text(self, index: int) -> str:
        """The plain text of view row ``index`` as drawn (tests)."""
        key = self.table.key_at(index)
        widths = self._widths(self.size.width or 120)
        return "".join(seg.text for seg in self._row_segments(key, self.table.rows[key], widths, Style()))

    def header_text(self) -> str:
        return "".join(seg.text for seg in self._header_segments(self._widths(self.size.width or 120)))

    # -- keys and mouse ----------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def action_page(self, direction: int) -> None:
        page = self.page_size
        target = self.cursor + direction * page
        self.scroll_to(y=max(0, self.first_visible + direction * page), animate=False, immediate=True)
        self.move_cursor(target)

    def action_edge(self, end: int) -> None:
        self.move_cursor(self.count - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(ConnSortClicked(column))
            return
        self.move_cursor(self.first_visible + event.y - 1)

    def _column_at(self, x: int) -> str | None:
        widths = self._widths(self.size.width)
        pos = MARK
        for name in COLUMNS:
            if name not in widths:
                continue
            if pos <= x < pos + widths[name] + 1:
                return name
            pos += widths[name] + 1
        return None

    def _keep_cursor_visible(self) -> None:
        top, page = self.first_visible, self.page_size
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    # -- drawing -----------------------------------------------------------------------------
    def _widths(self, width: int) -> dict[str, int]:
        """Column widths for ``width`` cells; a column that does not fit is left out
        (age first, then process, then pid) rather than cut in the middle."""
        w = dict(FIXED)
        w["local"], w["remote"] = self._addr_w["local"], self._addr_w["remote"]
        w["process"] = PROCESS_MIN

        def total() -> int:
            return MARK + sum(w.values()) + len(w) - 1

        for name in ("remote", "local"):  # narrow: the addresses give way first ...
            w[name] -= max(0, min(total() - width, w[name] - ADDR_MIN))
        for name in ("age", "process", "pid"):  # ... then the columns on the right
            if total() > width:
                del w[name]
        if "process" in w:
            w["process"] = min(PROCESS_MAX, PROCESS_MIN + max(0, width - total()))
        return w

    def _grow_addresses(self, start: int, stop: int) -> None:
        """Widen the address columns to what the rows about to be drawn need (never narrower)."""
        if not self.count:
            return
        from netlab.engine.netstat import format_addr

        rows, grown = self.table.rows, False
        for key in self.table.keys(start, stop):
            row = rows[key]
            for name, addr in (("local", row.local), ("remote", row.remote)):
                text = format_addr(addr)
                need = min(ADDR_MAX, len(_safe(text) if row.proto == "unix" else text))  # a path shows escaped
                if need > self._addr_w[name]:
                    self._addr_w[name] = need
                    grown = True
        if grown:
            self._styles.clear()

    def render_lines(self, crop):
        top = self.first_visible
        self._grow_addresses(top, top + self.page_size)
        # the styles of this pass, worked out once (rich_style walks the CSS: too slow per line)
        base = self.rich_style
        self._pass = (base, base + self.get_component_rich_style("conntable--header"),
                      base + self.get_component_rich_style("conntable--cursor"),
                      base + self.get_component_rich_style("conntable--followed"), self._widths(self.size.width))
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
                base + self.get_component_rich_style("conntable--followed"), self._widths(self.size.width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, header, cursor, followed, widths = self._styles_now()
        if y == 0:
            return Strip(self._header_segments(widths, header)).crop_extend(0, width, header)
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
        return Strip(self._row_segments(key, row, widths, line)).crop_extend(0, width, line)

    def _style(self, line: Style, cell: str) -> Style:
        k = (line, cell)
        style = self._styles.get(k)
        if style is None:
            if len(self._styles) > 512:
                self._styles.clear()
            style = self._styles[k] = line + Style.parse(cell) if cell else line
        return style

    def _header_segments(self, widths, style: Style | None = None) -> list[Segment]:
        sort, reverse = ("proto", False) if self.table is None else (self.table.spec.sort, self.table.spec.reverse)
        out = [Segment(" " * MARK, style)]
        for name in COLUMNS:
            if name not in widths:
                continue
            title = TITLES[name]
            if name == sort:
                title += "▼" if reverse else "▲"
            out.append(Segment(_fit(title, widths[name], name in RIGHT) + " ", style))
        return out

    def _row_segments(self, key, row, widths, line: Style) -> list[Segment]:
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
        cells = [
            (mark, tint),
            (_fit(row.proto, widths["proto"]) + " ", tint),
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
