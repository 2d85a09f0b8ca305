"""ConnDetail: the line(s) under the connection table about its selected row: the owning
process's ancestry as htop's tree view shows it (``systemd → login → zsh → python``, cut
from the left to fit, every name escaped) and, for a TCP connection, the kernel's
``tcp_info`` numbers (``ss -ti``: rtt, cwnd, retransmits, segments, bytes), refreshed with
every scan while the row stays selected.  Mounted by the connection pane with its first
detail (not in the first frame)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from netlab.ui.views.text import NOTE, safe

OWN = "bold cyan"


def _fits(parts: list[str], room: int, sep: str) -> list[str]:
    """The last parts joined by ``sep`` that fit ``room``, "…" first when some were left out."""
    kept: list[str] = []
    used = 0
    for part in reversed(parts):
        need = len(part) + (len(sep) if kept else 0)
        if used + need > room - (len("…" + sep) if len(kept) + 1 < len(parts) else 0):
            break
        kept.insert(0, part)
        used += need
    if len(kept) < len(parts):
        kept.insert(0, "…")
    return kept


def detail_text(row, detail, own: bool, width: int) -> Text:
    """The detail of ``row`` (a netstat ConnRow) from ``detail`` (a netstat.detail.RowDetail), ``width`` cells."""
    width = max(20, width)
    t = Text(no_wrap=True, overflow="ellipsis")
    mark = "● netlab · " if own else ""
    t.append(mark, OWN)
    head = f"pid {row.pid} · " if row.pid else ""
    t.append(head, "bold")
    if detail.chain:
        names = [safe(name, 40) for _pid, name in detail.chain]
        room = width - len(mark) - len(head)
        kept = _fits(names, room, " → ")
        for i, name in enumerate(kept):
            if i:
                t.append(" → ", "dim")
            t.append(name, "bold" if i == len(kept) - 1 else "")
    else:
        t.append(safe(detail.chain_error or "no process"), NOTE)
    lines = [t]
    info = detail.tcp_info
    line = Text(no_wrap=True, overflow="ellipsis")
    if info:
        facts = [("rtt", f"{info['rtt_ms']:.3f} ms ±{info.get('rttvar_ms', 0):.3f}")]
        for label, key in (("cwnd", "snd_cwnd"), ("retrans", "total_retrans")):
            if key in info:
                facts.append((label, str(info[key])))
        if "segs_out" in info:
            facts.append(("segs", f"{info['segs_out']} out/{info.get('segs_in', '?')} in"))
        if "bytes_acked" in info:
            facts.append(("bytes", f"{info['bytes_acked']} acked/{info.get('bytes_received', '?')} recv"))
        if "snd_mss" in info:
            facts.append(("mss", f"{info['snd_mss']}/{info.get('rcv_mss', '?')}"))
        line.append("tcp_info ", "dim")
        used = len("tcp_info ")
        for i, (label, value) in enumerate(facts):
            piece = ("" if not i else " · ") + f"{label} {value}"
            if used + len(piece) > width:
                break
            if i:
                line.append(" · ", "dim")
            line.append(f"{label} ", "dim")
            style = "bold red" if label == "retrans" and value != "0" else "bold"
            line.append(value, style)
            used += len(piece)
        if detail.state and detail.state != row.state:
            line.append(f" · now {detail.state}", "yellow")
        lines.append(line)
    elif row.proto.startswith("tcp") and row.remote and detail.info_error:
        line.append(f"tcp_info: {safe(detail.info_error)}", NOTE)
        lines.append(line)
    out = Text("\n").join(lines)
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


class ConnDetail(Static):
    """The selected row's process ancestry and tcp_info."""

    DEFAULT_CSS = """
    ConnDetail { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple | None = None  # (row, detail, own)

    def show(self, row, detail, own: bool) -> None:
        self._shown = (row, detail, own)
        self._draw()

    def clear(self) -> None:
        self._shown = None
        self.update("")

    def _draw(self) -> None:
        if self._shown is None:
            return
        row, detail, own = self._shown
        self.update(detail_text(row, detail, own, (self.size.width or 80) - 2))

    def on_resize(self, event) -> None:
        self._draw()

    @property
    def plain(self) -> str:
        if self._shown is None:
            return ""
        row, detail, own = self._shown
        return detail_text(row, detail, own, 10_000).plain

