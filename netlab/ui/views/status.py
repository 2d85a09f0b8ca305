"""The response viewer's status line: live while a send runs (each step, the body's progress),
then the finished exchange's status, connection and error."""

from __future__ import annotations

from rich.text import Text

from netlab.ui.views.text import NOTE, fmt_addr, fmt_bytes, fmt_ms, safe

HOPS_KEY = "ctrl+f"  # the redirect hops screen's key (keys.HOPS_KEY; here too, so views import no keys)


def status_style(status: int) -> str:
    if status >= 500:
        return "bold white on red"
    if status >= 400:
        return "bold black on yellow"
    if status >= 300:
        return "bold black on cyan"
    return "bold black on green"


def status_text(ex, hop: tuple[int, int] | None = None) -> Text:
    """The response viewer's status line: status, body size and total time on the first
    line (and the redirect hops, when the send followed some), the connection (new or
    reused, the whole local ip:port → remote) on the next, then any error.  It may wrap
    further, at spaces: the viewer never cuts an address.  ``hop``: (n, of) when ``ex`` is
    hop n (from 1) of a chain of ``of`` exchanges, shown from the hops screen."""
    t = Text()
    if hop is not None:
        t.append(f" hop {hop[0]} of {hop[1]} ", "bold black on magenta")
        t.append(" ")
    r = ex.response
    if r is not None and r.status:
        t.append(f" {safe(r.http_version, 20)} {r.status} {safe(r.reason, 60)} ", status_style(r.status))
        t.append(f"  {fmt_bytes(r.body_bytes)} · {fmt_ms(ex.timings.total)}")
    _hops_said(t, ex, hop)
    if ex.connection is not None:
        if t.plain:
            t.append("\n")
        t.append(" reused " if ex.connection.reused else " new ")
        t.append(fmt_addr(ex.connection.local), "bold")
        t.append(f" → {fmt_addr(ex.connection.remote)}", "dim")
    if ex.error is not None:
        if t.plain:
            t.append("\n")
        t.append(f" ✗ {safe(ex.error.phase)} ", "bold white on red")
        t.append(f" {safe(ex.error.message)}")
        if ex.error.hint:
            t.append(f"\n   next: {safe(ex.error.hint)}", NOTE)
    return t


def _hops_said(t: Text, ex, hop: tuple[int, int] | None) -> None:
    """"2 redirects (ctrl+f: hops)" after the status of an exchange that followed redirects;
    on a hop shown from the hops screen, the way back to the chain and the final."""
    hops = len(ex.redirects or ())
    if hop is None and not hops:
        return
    t.append(" · " if t.plain else " ")
    if hop is not None:
        t.append(f"{HOPS_KEY}: the other hops and the final", "magenta")
    else:
        t.append(f"{hops} redirect{'' if hops == 1 else 's'} ({HOPS_KEY}: hops)", "cyan")


STEP = "bold cyan"  # the dot before a step of a send in flight
BAR = 24  # cells of the progress bar


def live_status(event) -> Text | None:
    """The status line while a send runs, after engine event ``event`` (None: the event
    does not change it)."""
    from netlab.engine import events as ev

    match event:
        case ev.Resolving():
            return Text.assemble(("● ", STEP), f"resolving {safe(event.name)} …")
        case ev.Resolved():
            return Text.assemble(("● ", STEP), f"{safe(event.name)} → {safe(', '.join(event.addresses))} "
                                 f"({event.source}, {event.elapsed_ms:.2f} ms) · connecting …")
        case ev.Connecting():
            return Text.assemble(("● ", STEP), f"connecting to {safe(event.address)}"
                                 f"{f':{event.port}' if event.port else ''} ({event.family}) …")
        case ev.ConnectFailed():
            return Text.assemble(("● ", "bold yellow"), f"connect to {safe(event.address)} failed: "
                                 f"{safe(event.message)} · trying the next address …")
        case ev.Connected():
            how = "reusing" if event.reused else "connected"
            return Text.assemble(("● ", STEP), f"{how} {fmt_addr(event.local)} → {fmt_addr(event.remote)} …")
        case ev.TLSDone():
            return Text.assemble(("● ", STEP), f"TLS {safe(event.version)} {safe(event.cipher)} · sending …")
        case ev.RequestSent():
            return Text.assemble(("● ", STEP), f"sent {event.nbytes} bytes · waiting for the response …")
        case ev.InformationalHead():
            return Text.assemble(("● ", STEP), f"informational {event.status} {safe(event.reason)} · waiting …")
        case ev.ResponseHead():
            return Text.assemble((f" {safe(event.http_version)} {event.status} {safe(event.reason)} ",
                                  status_style(event.status)), ("  receiving the body …", "dim"))
        case ev.Complete():
            return Text.assemble(("● ", STEP), f"received {fmt_bytes(event.body_bytes)} body in "
                                 f"{event.total_ms:.1f} ms · preparing the views …")
    return None


def progress_text(event, body_started: float) -> Text:
    """The progress line under the status while the body comes in (a BodyChunk event;
    ``body_started``: when the head arrived): a bar when the size is known, the rate."""
    elapsed = max(event.t - (body_started or event.t), 1e-6)
    rate = event.total / elapsed if event.t > body_started else 0
    t = Text(no_wrap=True)
    if event.expected:
        done = min(1.0, event.total / event.expected)
        cells = int(done * BAR)
        t.append("█" * cells, "green")
        t.append("░" * (BAR - cells), "dim")
        t.append(f" {done:4.0%} ")
        t.append(f"{fmt_bytes(event.total)} of {fmt_bytes(event.expected)}")
    else:
        t.append("receiving ", "dim")
        t.append(f"{fmt_bytes(event.total)} (no Content-Length)")
    t.append(f" · {fmt_bytes(rate)}/s", "cyan")
    return t
