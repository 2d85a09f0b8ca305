"""Below the socket: the packets and frames of one exchange, the route and the next hop.

``ExchangeCapture`` starts an AF_PACKET capture (``sniffer``) before the exchange's SYN
leaves, filtered in the kernel on the server's port (and the DNS server's), and after the
exchange keeps the frames of its own connection (and its DNS talk), dissected with dpkt
(``dissect``), writable as pcap (``pcap``).  ``route.route_to`` asks the kernel for the
route and next hop over netlink; ``tcpinfo.read`` reads a socket's ``tcp_info``.

Nothing here is imported unless capture or route facts are asked for: the engine's send
path does not pay for it."""

from __future__ import annotations

import time

from netlab.engine.capture.sniffer import CaptureError, Frame, Sniffer

GRACE = 0.05  # seconds after the exchange for its last FIN/ACK to pass


class ExchangeCapture:
    """Capture around one exchange: ``start()`` before it, ``finish(exchange)`` after it
    (once the connection is closed or back in the pool).  A capture that cannot start
    leaves ``error`` set and the exchange runs as always."""

    def __init__(self, ports: list[int], *, payload_budget: int = 16 << 20) -> None:
        self.ports = [p for p in ports if p]
        self.error: CaptureError | None = None
        self.interface: str | None = None
        self.frames: list[Frame] = []
        self.packets: list[dict] = []
        self.sampled = 0
        self.hops: HopsCapture | None = None  # the same exchange on every link of the lab network, when asked
        self.hop_packets: list[dict] | None = None  # per link: {"namespace", "interface", "packets"}
        self._sniffer = Sniffer(None, self.ports, payload_budget=payload_budget)

    def start(self) -> None:
        try:
            self._sniffer.start()
        except CaptureError as exc:
            self.error = exc

    def finish(self, exchange, *, dns_server: tuple[str, int] | None = None, grace: float = GRACE) -> dict:
        """Stop, keep this exchange's frames, dissect them; the JSON's ``capture`` object."""
        from netlab.engine.capture.dissect import Flow, select

        if self.error is None:
            time.sleep(grace)
            frames = self._sniffer.stop()
            conn = getattr(exchange, "connection", None)
            if conn is not None and conn.family in ("AF_INET", "AF_INET6"):
                flow = Flow(tuple(conn.local), tuple(conn.remote), dns_server)
                self.interface = _interface(conn.remote[0])
                mine = [f for f in frames if self.interface is None or f.interface == self.interface]
                pairs = select(mine, flow)
                self.frames = [frame for frame, _packet in pairs]
                self.packets = [packet for _frame, packet in pairs]
                self.sampled = sum(1 for p in self.packets if p.get("sampled"))
            elif conn is not None:
                self.error = CaptureError(f"no packets to capture: the exchange went over {conn.family}")
            if self.hops is not None:
                self.hop_packets = self.hops.finish(exchange, grace=0)  # the grace above served them too
        return self.as_json()

    def report(self) -> dict:
        """What a send's JSON (and the TUI's render) carries: capture, packets, and hops
        when the lab network was captured too."""
        out: dict = {"capture": self.as_json(), "packets": self.packets}
        if self.hop_packets is not None:
            out["hops"] = self.hop_packets
        return out

    def as_json(self) -> dict:
        return {"interface": self.interface, "packets": len(self.packets), "sampled": self.sampled,
                "dropped": self._sniffer.dropped, "error": self.error.as_json() if self.error else None}


class HopsCapture:
    """The same exchange captured on every link of a chain of namespaces (the lab network):
    one capture per (namespace, interface), each the left end of a link.  ``finish`` gives
    each hop's packets, so a frame can be followed as each router rewrites its Ethernet
    header and lowers the TTL."""

    def __init__(self, links: list[tuple[str | None, str]], ports: list[int]) -> None:
        self.links = links
        self.error: CaptureError | None = None
        self._sniffers = [Sniffer(interface, ports, namespace=ns, payload_budget=4 << 20)
                          for ns, interface in links]

    def start(self) -> None:
        started = []
        try:
            for sniffer in self._sniffers:
                sniffer.start()
                started.append(sniffer)
        except CaptureError as exc:
            self.error = exc
            for sniffer in started:
                sniffer.stop()

    def finish(self, exchange, *, grace: float = GRACE) -> list[dict]:
        from netlab.engine.capture.dissect import Flow, select

        if self.error is not None:
            return []
        time.sleep(grace)
        conn = getattr(exchange, "connection", None)
        hops = []
        for (namespace, interface), sniffer in zip(self.links, self._sniffers, strict=True):
            frames = sniffer.stop()
            packets = []
            if conn is not None and conn.family in ("AF_INET", "AF_INET6"):
                packets = [p for _f, p in select(frames, Flow(tuple(conn.local), tuple(conn.remote)))]
            hops.append({"namespace": namespace, "interface": interface, "packets": packets})
        return hops


def start_for(request, dns_server: tuple[str, int] | None = None,
              hop_links: list[tuple[str | None, str]] | None = None) -> ExchangeCapture:
    """A started capture for one send of ``request``: its server's port and the DNS
    server's, and on ``hop_links`` (the lab network's links, when it is the target) too."""
    ports = [request.port] + ([dns_server[1]] if dns_server else [])
    capture = ExchangeCapture(ports)
    capture.start()
    if hop_links and capture.error is None:
        capture.hops = HopsCapture(hop_links, [request.port])
        capture.hops.start()
    return capture


def _interface(address: str) -> str | None:
    from netlab.engine.capture.route import route_to

    try:
        return route_to(address).interface
    except (OSError, ValueError):
        return None


__all__ = ["CaptureError", "ExchangeCapture", "Frame", "GRACE", "HopsCapture", "start_for"]
