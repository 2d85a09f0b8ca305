"""The Timing tab: the phases of one exchange as horizontal bars on a shared time axis, and
the phases' times while a send runs, from its events' timestamps."""

from __future__ import annotations

import time

from rich.text import Text

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


class LiveTimings:
    """Phase durations from event timestamps, for the waterfall while a send runs: the
    phase in progress (``running``) counts up; after a failure or a cancel the phase it
    stopped in is ``cut``; a phase never reached stays 0 (shown as ``-``)."""

    __slots__ = ("dns", "connect", "tls", "send", "ttfb", "download", "total", "running", "cut", "note")

    def __init__(self) -> None:
        for k in ("dns", "connect", "tls", "send", "ttfb", "download", "total"):
            setattr(self, k, 0.0)
        self.running: str | None = None
        self.cut: str | None = None
        self.note = ""


def live_timings(times: dict[str, float], tls: bool, failed_phase: str) -> LiveTimings:
    """The waterfall from the events so far (``times``: each event's name → its time): each
    phase runs from the event that starts it to the one that ends it; the one with a start
    and no end yet is in progress (its time counts up to now), or, after ``Failed``, the one
    the send stopped in (``failed_phase``: the Failed event's phase)."""
    t = times
    failed = t.get("Failed")
    end = t.get("Complete") or failed
    now = end or time.monotonic()
    live = LiveTimings()
    new = "Connecting" in t  # a reused connection has no connect and no TLS handshake
    tls = tls and new
    first = t.get("InformationalHead") or t.get("ResponseHead")
    spans = (("dns", t.get("Resolving"), t.get("Resolved")),
             ("connect", t.get("Connecting"), t.get("Connected")),
             ("tls", t.get("Connected") if tls else None, t.get("TLSDone")),
             ("send", t.get("TLSDone") if tls else t.get("Connected"), t.get("RequestSent")),
             ("ttfb", t.get("RequestSent"), first),
             ("download", first, t.get("Complete")))
    open_phase = None
    for key, began, ended in spans:
        if began is None:
            continue
        if ended is None:
            open_phase = key
        setattr(live, key, ((ended or now) - began) * 1000)
    live.total = (now - t["start"]) * 1000
    what = dict((k, w) for k, w, _ in PHASES)
    if failed is not None:
        live.cut = open_phase
        verb = "cancelled" if failed_phase == "cancelled" else f"failed ({failed_phase})"
        live.note = f"{verb} during {what[open_phase]}" if open_phase else verb
    elif end is None:
        live.running = open_phase
        live.note = f"in flight: {what[open_phase]} …" if open_phase else "in flight …"
    return live


def final_timings(prepared, stopped: LiveTimings | None):
    """What the Timing tab shows for a finished exchange: the engine's timings; for one
    that failed while we watched it (``stopped``: its live timings when it failed), with
    the phase it stopped in (cut, its time until then) and the note, so no phase it never
    reached shows a time."""
    timings = prepared.exchange.timings
    if stopped is None or prepared.exchange.error is None or prepared.history_id is not None:
        return timings  # a stored exchange (history) has no live picture
    final = LiveTimings()
    for key in ("dns", "connect", "tls", "send", "ttfb", "download", "total"):
        setattr(final, key, getattr(timings, key))
    if stopped.cut is not None and not getattr(final, stopped.cut):
        setattr(final, stopped.cut, getattr(stopped, stopped.cut))
    final.cut, final.note = stopped.cut, stopped.note
    return final
