"""`netlab send --packets [--pcap FILE]`: the exchange below the socket.  The capture starts
before the SYN (netlab.engine.capture) and ends after the connection is closed; `--json`
gains ``capture`` and ``packets`` (and ``hops`` when the lab network is up and is the
target), the human output a tcpdump-like list on standard error.  ``route`` and
``tcp_info`` are in every `--json` (no privileges needed)."""

from __future__ import annotations

from netlab.engine.text import safe_text


def add_arguments(p) -> None:
    p.add_argument("--packets", action="store_true",
                   help="capture the exchange's packets (root or CAP_NET_RAW): --json gains packets, the "
                        "output a packet list on stderr")
    p.add_argument("--pcap", metavar="FILE", help="write the captured frames to FILE as pcap (implies --packets)")
    p.add_argument("--keylog", metavar="FILE",
                   help="append the TLS session keys to FILE (SSLKEYLOGFILE format): Wireshark decrypts the pcap")


class Capture:
    """The capture around one send: ``start()`` before it, ``finish(ex)`` after the engine
    closed its connections; ``extras`` is what --json adds."""

    def __init__(self, args, request, opts) -> None:
        self.args = args
        self.request = request
        self.dns_server = opts.dns_server
        self.wanted = bool(getattr(args, "packets", False) or getattr(args, "pcap", None))
        self.exchange = None
        self.extras: dict = {}

    def start(self) -> None:
        if not self.wanted:
            return
        from netlab.engine.capture import start_for
        from netlab.lab.net import links_to

        self.exchange = start_for(self.request, self.dns_server, links_to(self.request.host))

    def finish(self, ex) -> dict:
        extras: dict = {"route": route_json(ex)}
        if self.exchange is not None:
            self.exchange.finish(ex, dns_server=self.dns_server)
            extras.update(self.exchange.report())
            if self.args.pcap and self.exchange.error is None:
                from netlab.engine.capture import pcap

                pcap.write(self.args.pcap, self.exchange.frames)
        self.extras = extras
        return extras


def route_json(ex) -> dict | None:
    """The route to the exchange's peer (netlink), or None (Unix socket, no connection)."""
    from netlab.engine.capture.route import route_of

    route = route_of(ex)
    return route.as_json() if route is not None else None


def print_packets(extras: dict, err) -> None:
    """The capture for people: one line a packet, tcpdump's way, then the hops' TTLs."""
    capture = extras.get("capture")
    if capture is None:
        return
    if capture["error"]:
        err.write(f"* packets: not captured: {safe_text(capture['error']['message'], keep_newlines=False)}\n")
        if capture["error"].get("hint"):
            err.write(f"  next: {safe_text(capture['error']['hint'], keep_newlines=False)}\n")
        return
    sampled = f", {capture['sampled']} with headers only" if capture.get("sampled") else ""
    err.write(f"* packets on {capture['interface']}: {capture['packets']}{sampled}\n")
    for p in extras.get("packets", []):
        err.write(packet_line(p) + "\n")
    for hop in extras.get("hops", []) or []:
        syn = next((p for p in hop["packets"] if "tcp" in p and p["tcp"]["flags"] == "S"), None)
        where = f"{hop['namespace'] or 'host'} {hop['interface']}"
        if syn is not None:
            err.write(f"* hop {where}: SYN with TTL {syn['ip']['ttl']}, {syn['eth']['src']} > {syn['eth']['dst']}\n")


def packet_line(p: dict) -> str:
    ip = p["ip"]
    l4 = p.get("tcp") or p.get("udp") or {}
    src = _endpoint(ip["src"], l4.get("sport"))
    dst = _endpoint(ip["dst"], l4.get("dport"))
    if "tcp" in p:
        tcp = p["tcp"]
        what = f"TCP [{tcp['flags']}] seq {tcp['seq']}"
        if "A" in tcp["flags"]:
            what += f" ack {tcp['ack']}"
        what += f" win {tcp['window']}"
    else:
        what = "UDP"
    return f"  {p['t_ms']:9.3f} ms {p['dir']:>3}  {src} > {dst}  {what}  len {p['payload_bytes']}  ttl {ip['ttl']}"


def _endpoint(host: str, port) -> str:
    from netlab.engine.request import host_port

    return host_port(host, port)
