"""The Connection tab: the connection, the route under it (interface, source, gateway,
next hop, MTU: ``ip route get``), the kernel's ``tcp_info`` for it (``ss -ti``), name
resolution, TLS and certificate, the request's target; and a followed connection's TCP
state history."""

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


def connection_lines(ex, follow=None, below: dict | None = None) -> Lines:
    """The Connection tab; ``follow`` (a netstat.Follow of this connection) adds its TCP
    state history right below the connection itself; ``below`` (the send worker's
    ``extra["below"]``) the route."""
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
    _under(out, ex, below)
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


# -- below the socket: the route and tcp_info ---------------------------------------------------

def _under(out: list[Text], ex, below: dict | None) -> None:
    """The route and tcp_info sections, when known."""
    if ex.connection is not None and below is not None and below.get("route"):
        _route(out, below["route"])
    info = getattr(ex, "tcp_info", None)
    if info:
        _tcp_info(out, info)


def _route(out: list[Text], route: dict) -> None:
    """The route to the peer as the kernel says it (``ip route get``, ``ip neigh``)."""
    _section(out, "Route")
    _kv(out, "interface", safe(route.get("interface") or "?"))
    _kv(out, "source", safe(route.get("source") or "-"))
    gateway = route.get("gateway")
    _kv(out, "gateway", safe(gateway) if gateway else "direct (the peer is on the link: no router)")
    mac, state = route.get("next_hop_mac"), route.get("neighbour_state")
    if mac:
        _kv(out, "next hop MAC", f"{safe(mac)}  ({safe(state or 'no neighbour entry')})")
    elif (route.get("interface") or "") == "lo":
        _kv(out, "next hop MAC", "none: loopback has no link-layer addresses")
    else:
        _kv(out, "next hop MAC", "not known" + (f" (neighbour {safe(state)})" if state else " (no neighbour entry)"),
            NOTE)
    mtu = route.get("mtu")
    _kv(out, "MTU", f"{mtu} B" if mtu else "-")


def _tcp_info(out: list[Text], info: dict) -> None:
    """The kernel's ``struct tcp_info`` at the exchange's end (``ss -ti``'s numbers)."""
    _section(out, "TCP (kernel tcp_info)")
    if "rtt_ms" in info:
        _kv(out, "rtt", f"{info['rtt_ms']:.3f} ms ± {info.get('rttvar_ms', 0):.3f} ms  (smoothed, and its variation)")
    if "snd_cwnd" in info:
        _kv(out, "cwnd", f"{info['snd_cwnd']} segments  (congestion window)")
    if "snd_mss" in info:
        _kv(out, "MSS", f"send {info['snd_mss']} B · receive {info.get('rcv_mss', '-')} B")
    if "total_retrans" in info:
        _kv(out, "retransmits", str(info["total_retrans"]), "red" if info["total_retrans"] else "green")
    if "segs_out" in info:
        _kv(out, "segments", f"{info['segs_out']} out · {info.get('segs_in', '-')} in")
    if "bytes_acked" in info:
        _kv(out, "bytes", f"{info['bytes_acked']} acked · {info.get('bytes_received', '-')} received")


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
