"""Waterfall: the phases of one exchange as horizontal bars on a shared time axis."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

PHASES = (
    ("dns", "name → address", "cyan"),
    ("connect", "TCP handshake", "green"),
    ("tls", "TLS handshake", "magenta"),
    ("send", "request bytes out", "yellow"),
    ("ttfb", "waiting (first byte)", "blue"),
    ("download", "response bytes in", "bright_green"),
)
_EIGHTHS = " ▏▎▍▌▋▊▉"


def _ms(ms: float) -> str:
    return f"{ms / 1000:8.2f} s " if ms >= 10_000 else f"{ms:8.2f} ms"


def _bar(start: float, length: float) -> str:
    """Cells for a bar from ``start`` to ``start + length`` (in cells), eighth-cell precise."""
    lead = int(start)
    eighths = max(1, round(length * 8)) if length > 0 else 0
    full, part = divmod(eighths, 8)
    return " " * lead + "█" * full + (_EIGHTHS[part] if part else "")


def waterfall_text(timings, width: int) -> Text:
    """The waterfall as text for a ``width``-cell-wide area.

    ``timings`` may also say (as attributes) which phase is ``running`` (a send in flight:
    its time so far, marked ``…``), which one was ``cut`` (a failed or cancelled send: its
    time until then, marked ``✗``) and a ``note`` line; phases never reached show ``-``."""
    t = Text(no_wrap=True)
    if timings is None:
        t.append("No exchange yet: send a request (ctrl+j) to see where the time goes.", "dim italic")
        return t
    values = {key: max(0.0, float(getattr(timings, key, 0.0) or 0.0)) for key, _, _ in PHASES}
    total = max(float(getattr(timings, "total", 0.0) or 0.0), sum(values.values()), 1e-9)
    what_w = 22 if width >= 9 + 22 + 13 + 16 or width <= 0 else 0  # narrow: no "what" column, room for the bars
    label_w = 9 + what_w + 12
    bar_w = max(10, width - label_w - 1)
    scale = bar_w / total
    t.append(f"{'phase':<9}{'what' if what_w else '':<{what_w}}{'time':>11}  ", "bold")
    t.append("0", "dim")
    t.append(f"{_ms(total).strip():>{bar_w - 1}}\n", "dim")
    running, cut = getattr(timings, "running", None), getattr(timings, "cut", None)
    at = 0.0
    for key, what, colour in PHASES:
        ms = values[key]
        mark = "…" if key == running else "✗" if key == cut else " "
        t.append(f"{key:<9}", "bold")
        if what_w:
            t.append(f"{what:<{what_w}}", "dim")
        if ms or mark != " ":
            t.append(_ms(ms), "bold" if key == running else "")
            t.append(f"{mark} ", "bold red" if key == cut else "bold")
        else:
            t.append(f"{'-':>11}  ", "dim")
        if ms:
            t.append(_bar(at * scale, ms * scale), colour)
        t.append("\n")
        at += ms
    t.append(f"{'total':<9}{'':<{what_w}}", "bold")
    t.append(f"{_ms(total)}", "bold")
    note = getattr(timings, "note", "")
    if note:
        t.append(f"\n{note}", "dim italic")
    return t


class Waterfall(Widget):
    """Horizontal bars for dns, connect, tls, send, ttfb and download, with ms figures."""

    can_focus = True  # the Timing tab holds the focus like every tab, so the viewer's keys stay there

    DEFAULT_CSS = """
    Waterfall { height: auto; min-height: 9; padding: 1 1; }
    """

    timings = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None, source=None) -> None:
        super().__init__(id=id)
        self._source = source  # gives the timings to show: see pull()

    def on_mount(self) -> None:
        self.pull()

    def pull(self) -> None:
        if self._source is not None:
            self.timings = self._source()

    def render(self) -> Text:
        return waterfall_text(self.timings, self.size.width)
