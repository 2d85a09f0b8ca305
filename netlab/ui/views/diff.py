"""The comparison of two stored exchanges as lines of text ("replay and see what
changed"), for the DiffScreen: one column per exchange (history id, when, request line,
status, sizes, connection, each timing with the change), then the response headers added
(green), removed (red) and changed (yellow), and the body diff
(``netlab.engine.diff.diff_lines``).  Pure: built in a worker; every peer byte escaped.
"""

from __future__ import annotations

import time

from rich.text import Text

LABEL = 11  # cells of the label column
COLUMN = 40  # most cells of each exchange's column (longer values end in …, and show whole below)

KIND_STYLE = {"added": "green", "removed": "red", "changed": "yellow", "heading": "bold underline",
              "same": "dim", "plain": ""}


def _safe(value) -> str:
    from netlab.ui.views.text import safe

    return safe(value)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _status(ex) -> str:
    r = ex.response
    text = f"{r.status} {_safe(r.reason)}".rstrip() if r is not None and r.status else "no response"
    if ex.error is not None:
        text += f" ({_safe(ex.error.phase)} error)"
    return text


def _size(ex) -> str:
    from netlab.ui.views.text import fmt_bytes

    r = ex.response
    if r is None:
        return f"{fmt_bytes(ex.bytes_received)} received"
    store = r.body_store
    full = getattr(store, "full_size", r.body_bytes)
    text = f"body {fmt_bytes(full)} · {fmt_bytes(ex.bytes_received)} received"
    if getattr(store, "truncated", False):
        text += f" (history kept {fmt_bytes(r.body_bytes)})"
    return text


def _connection(ex) -> str:
    c = ex.connection
    if c is None:
        return "-"
    if c.family == "AF_UNIX":
        return _safe(f"unix {ex.options.unix_socket or ''}") + (" · reused" if c.reused else "")
    host, port = c.remote
    remote = f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return _safe(f"port {c.local[1]} → {remote}") + (" · reused" if c.reused else " · new")


def _when(ex) -> str:
    if not ex.started:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ex.started)) + f".{int(ex.started * 1000) % 1000:03d}"


def _line(text: str, style: str = "") -> Text:
    """One plain line; the style is a span (LineView puts the widget's style under the
    text, over a Text's base style)."""
    t = Text(no_wrap=True)
    t.append(text, style)
    return t


class _Rows:
    """Label, two value columns as wide as the widest value (at most COLUMN), a note."""

    def __init__(self, values: list[str]) -> None:
        self.width = max(12, min(COLUMN, max(len(v) for v in values)))

    def text(self, label: str, a: str, b: str, note: str = "", style_b: str = "", note_style: str = "dim") -> Text:
        w = self.width
        t = Text(no_wrap=True)
        t.append(f"{label:<{LABEL}}", "bold")
        t.append(f"{_fit(a, w):<{w}}  ")
        t.append(f"{_fit(b, w):<{w}}", style_b)
        if note:
            t.append(f"  {note}", note_style)
        return t


def diff_texts(a, b, a_id: int, b_id: int, d=None) -> list[Text]:
    """The screen's lines comparing exchange ``a`` (history ``a_id``) with ``b``.
    ``d``: their ``ExchangeDiff`` (computed here when not given)."""
    from netlab.engine.diff import body_lines, compare
    from netlab.ui.views.text import fmt_ms

    if d is None:
        d = compare(a, b)
    ra, rb = (f"{_safe(ex.request.method)} {_safe(ex.request.url)}" for ex in (a, b))
    sa, sb = _status(a), _status(b)
    za, zb = _size(a), _size(b)
    wa, wb, ca, cb = _when(a), _when(b), _connection(a), _connection(b)
    table = _Rows([ra, rb, sa, sb, za, zb, wa, wb, ca, cb])
    row = table.text
    out: list[Text] = []
    out.append(row("", f"#{a_id}", f"#{b_id}"))
    out.append(row("sent", wa, wb))
    same_request = "same request bytes" if d.request_same else "request bytes differ"
    out.append(row("request", ra, rb, same_request, "" if ra == rb else "yellow",
                   "dim" if d.request_same else "yellow"))
    out.append(row("status", sa, sb, "" if sa == sb else "changed", "" if sa == sb else "yellow", "yellow"))
    out.append(row("size", za, zb, "" if d.body_sizes[0] == d.body_sizes[1] else
                   f"{d.body_sizes[1] - d.body_sizes[0]:+d} B", "" if za == zb else "yellow"))
    out.append(row("connection", ca, cb))
    out.append(Text(""))
    out.append(row("timings", "", "", "Δ ms"))
    for phase, ta, tb in d.timings:
        delta = tb - ta
        style = "dim" if abs(delta) < 0.005 else ("green" if delta < 0 else "red")
        out.append(row(f"  {phase}", fmt_ms(ta), fmt_ms(tb), f"{delta:+.2f}", note_style=style))
    out.append(Text(""))
    if max(len(ra), len(rb)) > table.width:  # the whole request lines, cut short above
        out.append(_line(f"#{a_id} {ra}"))
        out.append(_line(f"#{b_id} {rb}", "" if ra == rb else "yellow"))
        out.append(Text(""))
    out.append(_line("response headers" + ("" if d.headers else ": no change (Date is not compared)"),
                     KIND_STYLE["heading"] if d.headers else "dim"))
    for h in d.headers:
        name = _safe(h.name)
        if h.kind == "added":
            out += [_line(f"+ {name}: {_safe(v)}", "green") for v in h.after]
        elif h.kind == "removed":
            out += [_line(f"- {name}: {_safe(v)}", "red") for v in h.before]
        else:
            before = " | ".join(_safe(v) for v in h.before)
            after = " | ".join(_safe(v) for v in h.after)
            out.append(_line(f"~ {name}: {before} → {after}", "yellow"))
    out.append(Text(""))
    out.append(_line("response body", KIND_STYLE["heading"]))
    for kind, text in body_lines(d):  # already escaped by safe_text
        style = "cyan" if text.startswith("@@") else KIND_STYLE.get(kind, "")
        out.append(_line(text, style))
    return out
