"""The Connection tab: the connection, name resolution, TLS and certificate, the request's
target; and a followed connection's TCP state history."""

from __future__ import annotations

from rich.text import Text

from netlab.ui.styles import STATE_STYLES
from netlab.ui.views.lines import Hanging, Lines
from netlab.ui.views.text import NOTE, fmt_addr, fmt_ms, safe


def _kv(out: list[Text], key: str, value, style: str = "") -> None:
    t = Hanging(no_wrap=True, hang=16)  # wrapped lines go on under the value
    t.append(f"  {key:<14}", "bold")
    t.append(value if isinstance(value, str) else str(value), style)
    out.append(t)


def _section(out: list[Text], title: str) -> None:
    if out:
        out.append(Text(""))
    out.append(Text(title, "bold underline"))


def connection_lines(ex, follow=None) -> Lines:
    """The Connection tab; ``follow`` (a netstat.Follow of this connection) adds its TCP
    state history right below the connection itself."""
    out: list[Text] = []
    c = ex.connection
    _section(out, "Connection")
    if c is None:
        out.append(Text("  (no connection was made)", NOTE))
    else:
        _kv(out, "family", c.family)
        _kv(out, "local", fmt_addr(c.local) + ("   (the port the kernel chose)" if c.local and c.local[1] else ""))
        _kv(out, "remote", fmt_addr(c.remote))
        _kv(out, "connection", "reused (keep-alive)" if c.reused else "new", "green" if c.reused else "")
        _kv(out, "RTT", fmt_ms(c.rtt_ms) + ("  (kernel TCP_INFO)" if c.rtt_ms is not None else ""))
        _kv(out, "after", "kept open for reuse" if ex.keep_alive else "closed")
    if follow is not None:
        out.extend(follow_lines(follow))
    d = ex.dns
    if d is not None:
        _section(out, "Name resolution")
        _kv(out, "name", safe(d.name))
        _kv(out, "source", d.source)
        if d.server:
            _kv(out, "server", safe(d.server))
        _kv(out, "addresses", safe(", ".join(d.addresses)))
        if d.used:
            _kv(out, "used", safe(d.used))
        _kv(out, "time", fmt_ms(d.elapsed_ms))
        for addr, why in list(getattr(d, "failed", []) or []):
            _kv(out, "failed", f"{safe(addr)}: {safe(why)}", "red")
    tls = ex.tls
    if tls is not None:
        _section(out, "TLS")
        _kv(out, "version", safe(tls.version))
        _kv(out, "cipher", safe(tls.cipher))
        _kv(out, "ALPN", safe(tls.alpn or "-"))
        _kv(out, "SNI", safe(tls.sni or "-"))
        _kv(out, "verified", "yes" if tls.verified else "no (--insecure)", "green" if tls.verified else "yellow")
        cert = tls.peer_cert or {}
        if cert:
            _section(out, "Certificate")
            _kv(out, "subject", safe(cert.get("subject")))
            _kv(out, "issuer", safe(cert.get("issuer")))
            for san in cert.get("san") or ():
                _kv(out, "SAN", safe(san))
            _kv(out, "not before", safe(cert.get("not_before")))
            _kv(out, "not after", safe(cert.get("not_after")))
            _kv(out, "sha256", safe(cert.get("sha256")))
    _section(out, "Request")
    _kv(out, "target", safe(f"{ex.request.origin}{ex.request.target}"))
    _kv(out, "bytes sent", str(len(ex.request.data)))
    if ex.options.resolve:
        _kv(out, "pinned", ", ".join(f"{p.host}:{p.port or '*'}:{','.join(p.addresses)}" for p in ex.options.resolve))
    if ex.options.unix_socket:
        _kv(out, "unix socket", safe(ex.options.unix_socket))
    if ex.options.insecure:
        _kv(out, "TLS check", "off (--insecure)", "yellow")
    for addr, why in ex.attempts:
        _kv(out, "attempt", f"{safe(addr)}: {safe(why)}", "red")
    return Lines.of(out)


# -- TCP states of a followed connection -------------------------------------------------------

def _timeline(out: list[Text], follow) -> None:

    for when, step in follow.timeline():
        t = Hanging(no_wrap=True, hang=40)  # wrapped notes go on under the note
        t.append(f"  {when:>14}  ", "dim")
        t.append(f"{step.state:<12}", STATE_STYLES.get(step.state, "bold"))
        t.append(f"{step.source:<10}", "dim")
        note = step.note[len(step.source) + 1:] if step.note.startswith(step.source + " ") else step.note
        t.append(safe(note), NOTE if step.source != "connect()" else "")  # (not "connect() connect() called")
        out.append(t)


def follow_lines(follow) -> list[Text]:
    """A followed connection's TCP state history (both ends when the server is on this
    machine), each step with its time since connect() and where it was seen."""

    out: list[Text] = [Text("")]
    out.append(Text("TCP states", "bold underline"))
    how = "reused keep-alive connection" if follow.reused else "new connection"
    uses = f" · {follow.exchanges} requests on it" if follow.exchanges > 1 else ""
    _kv(out, "followed", f"{fmt_addr(follow.local)} → {fmt_addr(follow.remote)} ({how}{uses})",
        "green" if follow.reused else "")
    _kv(out, "now", follow.state or "?", STATE_STYLES.get(follow.state or "", "bold"))
    out.append(Text("  our end:", "bold"))
    _timeline(out, follow)
    peer = follow.peer
    if peer is not None and peer.steps:
        out.append(Text("  the server's end (on this machine too):", "bold"))
        _timeline(out, peer)
    out.append(Hanging("  connect(): the engine's own step · probe: asked the kernel (sock_diag) · scan: a snapshot",
                       NOTE, hang=2))
    return out
