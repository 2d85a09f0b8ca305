"""One socket's TCP state (and its ``tcp_info``) straight from the kernel: a sock_diag
netlink query for exactly one 4-tuple (Linux), what ``ss`` (``ss -ti``) uses."""

from __future__ import annotations

import os
import socket

from netlab.engine.netstat.snapshot import norm_addr

_TCP_STATE_NUMBERS = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
                      6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
                      11: "CLOSING", 12: "SYN_RECV"}
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR = 2
_INET_DIAG_INFO = 2  # the reply attribute holding struct tcp_info
_DIAG_MSG = 72  # sizeof(struct inet_diag_msg)


class ProbeUnavailable(Exception):
    """This system cannot look up one socket's state directly (not Linux, or no
    sock_diag): the follower relies on the periodic snapshots."""


def tcp_state(local: tuple[str, int], remote: tuple[str, int], timeout: float = 1.0) -> str | None:
    """The kernel's state of the one TCP socket ``local`` → ``remote`` (psutil's name),
    or None when there is no such socket.  Linux: one sock_diag netlink query for
    exactly that 4-tuple (what ``ss`` uses; tens of microseconds however many sockets
    there are, where reading /proc/net/tcp costs ~60 ms at 20,000).  Raises
    ProbeUnavailable where the kernel cannot answer such a query."""
    found = _query(local, remote, 0, timeout)
    return None if found is None else found[0]


def tcp_details(local: tuple[str, int], remote: tuple[str, int], timeout: float = 1.0) -> dict | None:
    """The state and ``tcp_info`` of the one TCP socket ``local`` → ``remote`` (any
    process's: the kernel gives INET_DIAG_INFO without privileges, as ``ss -ti`` shows),
    as ``{"state", "tcp_info": dict | None}`` (the tcp_info as the JSON names it), or
    None when there is no such socket.  Raises ProbeUnavailable as ``tcp_state``."""
    found = _query(local, remote, 1 << (_INET_DIAG_INFO - 1), timeout)
    if found is None:
        return None
    state, attrs = found
    info = None
    if _INET_DIAG_INFO in attrs:
        from netlab.engine.capture.tcpinfo import parse

        info = parse(attrs[_INET_DIAG_INFO])
    return {"state": state, "tcp_info": info}


def _query(local: tuple[str, int], remote: tuple[str, int], ext: int, timeout: float) -> tuple[str, dict] | None:
    """One sock_diag request for exactly this 4-tuple: (state, {attribute type: bytes}) or None."""
    af_netlink = getattr(socket, "AF_NETLINK", None)
    if af_netlink is None:
        raise ProbeUnavailable("no AF_NETLINK on this system")
    local_n, remote_n = norm_addr(local), norm_addr(remote)
    if local_n is None or remote_n is None:
        return None
    family = socket.AF_INET6 if ":" in local_n[0] or ":" in remote_n[0] else socket.AF_INET
    try:
        src = socket.inet_pton(family, local_n[0])
        dst = socket.inet_pton(family, remote_n[0])
    except (OSError, ValueError):
        return None
    import struct

    req = (struct.pack("=BBBBI", family, socket.IPPROTO_TCP, ext, 0, 0xFFFFFFFF)
           + struct.pack(">HH", local_n[1], remote_n[1]) + src.ljust(16, b"\0") + dst.ljust(16, b"\0")
           + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))  # any interface, no cookie check
    msg = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req  # NLM_F_REQUEST
    try:
        s = socket.socket(af_netlink, socket.SOCK_RAW, _NETLINK_SOCK_DIAG)
    except OSError as exc:
        raise ProbeUnavailable(f"sock_diag: {exc}") from None
    try:
        s.settimeout(timeout)
        s.sendto(msg, (0, 0))
        data = s.recv(65536)
    except OSError as exc:
        raise ProbeUnavailable(f"sock_diag: {exc}") from None
    finally:
        s.close()
    if len(data) < 18:
        raise ProbeUnavailable("sock_diag: short reply")
    length, kind = struct.unpack_from("=IH", data)
    if kind == _NLMSG_ERROR:
        (err,) = struct.unpack_from("=i", data, 16)
        if -err in (2,):  # ENOENT: no such socket
            return None
        raise ProbeUnavailable(f"sock_diag: {os.strerror(-err)}")
    if kind != _SOCK_DIAG_BY_FAMILY:
        raise ProbeUnavailable(f"sock_diag: unexpected reply type {kind}")
    # The kernel answers a lookup for a gone connection with the listener on its local
    # port, if there is one: only an answer for exactly this 4-tuple counts.
    sport, dport = struct.unpack_from(">HH", data, 20)
    size = 4 if family == socket.AF_INET else 16
    if (sport, dport, data[24:24 + size], data[40:40 + size]) != (local_n[1], remote_n[1], src, dst):
        return None
    state = _TCP_STATE_NUMBERS.get(data[17], f"STATE{data[17]}")
    attrs: dict[int, bytes] = {}
    offset = 16 + _DIAG_MSG
    end = min(len(data), length)
    while offset + 4 <= end:  # the rtattrs after struct inet_diag_msg
        alen, atype = struct.unpack_from("=HH", data, offset)
        if alen < 4:
            break
        attrs[atype & 0x3FFF] = data[offset + 4:offset + alen]
        offset += (alen + 3) & ~3
    return state, attrs


def probe_states(pairs) -> dict[tuple, str | None]:
    """``{(local, remote): state or None}`` for each pair, straight from the kernel
    (``tcp_state``).  Raises ProbeUnavailable where that is not possible."""
    return {pair: tcp_state(pair[0], pair[1]) for pair in pairs}
