"""The route to an address and its next hop, asked of the kernel over rtnetlink (what
``ip route get ADDR`` and ``ip neigh`` print): the interface, the source address, the
gateway (None when the destination is on the link), the next hop's MAC and neighbour state,
and the interface's MTU.

A few netlink messages on one NETLINK_ROUTE socket, no privileges needed.  pyroute2 reads
the same messages but costs ~180 ms to import; these are three fixed requests, written
here with struct."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import asdict, dataclass

NETLINK_ROUTE = 0
RTM_GETLINK, RTM_GETROUTE, RTM_GETNEIGH = 18, 26, 30
RTM_NEWLINK, RTM_NEWROUTE, RTM_NEWNEIGH = 16, 24, 28
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PREFSRC, RTA_VIA = 1, 4, 5, 7, 18
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU = 1, 3, 4
NDA_DST, NDA_LLADDR = 1, 2
NUD_STATES = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE",
              0x20: "FAILED", 0x40: "NOARP", 0x80: "PERMANENT"}


@dataclass(frozen=True)
class Route:
    interface: str
    source: str | None
    gateway: str | None  # None: the destination is on the link ("direct")
    next_hop_mac: str | None  # the gateway's (or the destination's) link-layer address, if known
    neighbour_state: str | None  # REACHABLE, STALE, … (None: no neighbour entry, e.g. loopback)
    mtu: int | None

    def as_json(self) -> dict:
        return asdict(self)


class RouteError(OSError):
    pass


def route_to(address: str) -> Route:
    """The kernel's route to ``address`` (an IPv4 or IPv6 literal)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as nl:
        nl.bind((0, 0))
        rtmsg = struct.pack("BBBBBBBBI", family, 0, ip.max_prefixlen, 0, 0, 0, 0, 0, 0)
        attrs = _attrs(_request(nl, RTM_GETROUTE, NLM_F_REQUEST, rtmsg + _rta(RTA_DST, ip.packed))[0][1], 12)
        oif = struct.unpack("I", attrs[RTA_OIF])[0] if RTA_OIF in attrs else 0
        source = _ip(attrs.get(RTA_PREFSRC))
        gateway = _ip(attrs.get(RTA_GATEWAY))
        name, mtu, own_mac = _link(nl, oif)
        hop = gateway or str(ip)
        mac, state = (None, None) if own_mac in (None, "00:00:00:00:00:00") else _neighbour(nl, family, oif, hop)
        return Route(name or f"if{oif}", source, gateway, mac, state, mtu)


def route_of(exchange) -> Route | None:
    """The route to an exchange's peer, or None (a Unix socket, no connection, no answer)."""
    conn = getattr(exchange, "connection", None)
    if conn is None or conn.family not in ("AF_INET", "AF_INET6"):
        return None
    try:
        return route_to(conn.remote[0])
    except (OSError, ValueError):
        return None


def _link(nl: socket.socket, index: int) -> tuple[str | None, int | None, str | None]:
    ifinfo = struct.pack("BxHiII", socket.AF_UNSPEC, 0, index, 0, 0)
    for msg_type, body in _request(nl, RTM_GETLINK, NLM_F_REQUEST, ifinfo):
        if msg_type == RTM_NEWLINK:
            attrs = _attrs(body, 16)
            name = attrs[IFLA_IFNAME].rstrip(b"\0").decode() if IFLA_IFNAME in attrs else None
            mtu = struct.unpack("I", attrs[IFLA_MTU])[0] if IFLA_MTU in attrs else None
            mac = _mac(attrs.get(IFLA_ADDRESS))
            return name, mtu, mac
    return None, None, None


def _neighbour(nl: socket.socket, family: int, index: int, address: str) -> tuple[str | None, str | None]:
    ndmsg = struct.pack("BxxxiHBB", family, index, 0, 0, 0)
    want = ipaddress.ip_address(address).packed
    for msg_type, body in _request(nl, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, ndmsg):
        if msg_type != RTM_NEWNEIGH:
            continue
        fam, ifindex, state = struct.unpack_from("BxxxiH", body)
        attrs = _attrs(body, 12)
        if fam == family and ifindex == index and attrs.get(NDA_DST) == want:
            names = [n for bit, n in NUD_STATES.items() if state & bit]
            return _mac(attrs.get(NDA_LLADDR)), "|".join(names) or None
    return None, None


def _request(nl: socket.socket, msg_type: int, flags: int, payload: bytes) -> list[tuple[int, bytes]]:
    """Send one request; the replies (type, body) up to DONE (a dump) or the first answer."""
    seq = int.from_bytes(os.urandom(4), "little")
    nl.send(struct.pack("IHHII", 16 + len(payload), msg_type, flags, seq, 0) + payload)
    out: list[tuple[int, bytes]] = []
    while True:
        data = nl.recv(65536)
        offset = 0
        while offset + 16 <= len(data):
            length, kind, _flags, rseq, _pid = struct.unpack_from("IHHII", data, offset)
            body = data[offset + 16:offset + length]
            offset += (length + 3) & ~3
            if length < 16 or rseq != seq:
                continue
            if kind == NLMSG_ERROR:
                (errno,) = struct.unpack_from("i", body)
                if errno:
                    raise RouteError(-errno, os.strerror(-errno))
                return out
            if kind == NLMSG_DONE:
                return out
            out.append((kind, body))
            if not flags & NLM_F_DUMP:
                return out


def _rta(kind: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("HH", length, kind) + value + b"\0" * (((length + 3) & ~3) - length)


def _attrs(body: bytes, header: int) -> dict[int, bytes]:
    attrs: dict[int, bytes] = {}
    offset = header
    while offset + 4 <= len(body):
        length, kind = struct.unpack_from("HH", body, offset)
        if length < 4:
            break
        attrs[kind & 0x3FFF] = body[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return attrs


def _ip(raw: bytes | None) -> str | None:
    if raw is None or len(raw) not in (4, 16):
        return None
    return str(ipaddress.ip_address(raw))


def _mac(raw: bytes | None) -> str | None:
    return ":".join(f"{b:02x}" for b in raw) if raw else None
