"""Captured frames opened layer by layer with dpkt (BSD licence: Ethernet, IPv4/IPv6, TCP,
UDP, DNS): each packet as the JSON's ``packets`` entries name it, its direction told from
the client's own address.  dpkt is imported here only, when a capture is read."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netlab.engine.capture.sniffer import Frame

# TCP option kinds (RFC 9293, 7323, 2018) and their names in the packet view
_OPTIONS = {0: None, 1: None, 2: "mss", 3: "wscale", 4: "sack_ok", 5: "sack", 8: "timestamps"}


@dataclass(frozen=True)
class Flow:
    """What belongs to the exchange: its TCP connection (client ip:port ↔ server ip:port)
    and, when a DNS server was asked, the client's UDP/TCP talk with that server."""

    client: tuple[str, int]
    server: tuple[str, int]
    dns_server: tuple[str, int] | None = None


def select(frames: list[Frame], flow: Flow) -> list[tuple[Frame, dict]]:
    """The frames of ``flow``, in order, each with its packet dict; t_ms from the first."""
    import dpkt

    out: list[tuple[Frame, dict]] = []
    t0: float | None = None
    for frame in frames:
        packet = _packet(dpkt, frame, flow)
        if packet is None:
            continue
        if t0 is None:
            t0 = frame.t
        packet["t_ms"] = round((frame.t - t0) * 1000, 3)
        out.append((frame, packet))
    return out


def _packet(dpkt, frame: Frame, flow: Flow) -> dict | None:
    try:
        eth = dpkt.ethernet.Ethernet(frame.data)
    except (dpkt.UnpackError, ValueError):
        return None
    ip = eth.data
    if isinstance(ip, dpkt.ip.IP):
        ip_fields = {"version": 4, "src": _addr(ip.src), "dst": _addr(ip.dst), "ttl": ip.ttl, "id": ip.id,
                     "length": ip.len}
    elif isinstance(ip, dpkt.ip6.IP6):
        ip_fields = {"version": 6, "src": _addr(ip.src), "dst": _addr(ip.dst), "ttl": ip.hlim, "id": None,
                     "length": 40 + ip.plen}
    else:
        return None
    l4 = ip.data
    if not isinstance(l4, (dpkt.tcp.TCP, dpkt.udp.UDP)):
        return None
    src, dst = (ip_fields["src"], l4.sport), (ip_fields["dst"], l4.dport)
    direction = _direction(flow, src, dst, isinstance(l4, dpkt.tcp.TCP))
    if direction is None:
        return None
    payload = bytes(l4.data)
    packet: dict = {
        "t_ms": 0.0, "dir": direction,
        "eth": {"src": _mac(eth.src), "dst": _mac(eth.dst), "type": f"0x{eth.type:04x}"},
        "ip": ip_fields,
    }
    if isinstance(l4, dpkt.tcp.TCP):
        packet["tcp"] = {"sport": l4.sport, "dport": l4.dport, "seq": l4.seq, "ack": l4.ack,
                         "flags": tcp_flags(l4.flags), "window": l4.win, "options": _tcp_options(dpkt, l4.opts)}
    else:
        packet["udp"] = {"sport": l4.sport, "dport": l4.dport}
    wire_payload = frame.length - (len(frame.data) - len(payload))
    packet["payload_bytes"] = max(len(payload), wire_payload)
    packet["payload"] = payload.decode("latin-1")
    if len(payload) < packet["payload_bytes"]:
        packet["sampled"] = True  # past the capture's payload budget: headers only
    return packet


def _direction(flow: Flow, src: tuple, dst: tuple, tcp: bool) -> str | None:
    if tcp and _same(src, flow.client) and _same(dst, flow.server):
        return "out"
    if tcp and _same(src, flow.server) and _same(dst, flow.client):
        return "in"
    if flow.dns_server is not None:
        if _same(dst, flow.dns_server) and src[0] == _norm(flow.client[0]):
            return "out"
        if _same(src, flow.dns_server) and dst[0] == _norm(flow.client[0]):
            return "in"
    return None


def _same(a: tuple, b: tuple) -> bool:
    return a[1] == b[1] and a[0] == _norm(b[0])


def _norm(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.split("%")[0]))
    except ValueError:
        return address


def tcp_flags(bits: int) -> str:
    """tcpdump's letters, in the order the issue writes them: S, SA, A, PA, FA, R, RA…"""
    names = [(0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x20, "U"), (0x10, "A"), (0x40, "E"),
             (0x80, "C")]
    text = "".join(letter for bit, letter in names if bits & bit)
    return text or "."


def _tcp_options(dpkt, raw: bytes) -> dict:
    out: dict = {}
    try:
        parsed = dpkt.tcp.parse_opts(raw)
    except (dpkt.UnpackError, ValueError, IndexError):
        return out
    for kind, data in parsed:
        name = _OPTIONS.get(kind, f"kind{kind}")
        if name is None:
            continue
        if name == "mss" and len(data) == 2:
            out[name] = int.from_bytes(data, "big")
        elif name == "wscale" and len(data) == 1:
            out[name] = data[0]
        elif name == "sack_ok":
            out[name] = True
        elif name == "timestamps" and len(data) == 8:
            out[name] = [int.from_bytes(data[:4], "big"), int.from_bytes(data[4:], "big")]
        else:
            out[name] = data.hex()
    return out


def _addr(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)
