"""The kernel's ``struct tcp_info`` for one socket (Linux ``getsockopt(TCP_INFO)``): what
``ss -ti`` prints, readable without privileges for one's own sockets."""

from __future__ import annotations

import socket
import struct

# Offsets in struct tcp_info (include/uapi/linux/tcp.h): eight u8 fields, then u32s, then
# u64s from tcpi_pacing_rate (104) on.  Older kernels return a shorter struct: fields past
# its end are left out, not read as zero.
_U32 = {"snd_mss": 16, "rcv_mss": 20, "rtt_us": 68, "rttvar_us": 72, "snd_cwnd": 80, "total_retrans": 100,
        "segs_out": 136, "segs_in": 140}
_U64 = {"bytes_acked": 120, "bytes_received": 128}
SIZE = 144  # through tcpi_segs_in


def read(sock: socket.socket) -> dict | None:
    """``tcp_info`` of a TCP socket as the JSON names it (rtt in ms), or None (not TCP, not
    Linux, or the socket is closed)."""
    if not hasattr(socket, "TCP_INFO"):
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, SIZE)
    except OSError:
        return None
    return parse(raw)


def parse(raw: bytes) -> dict | None:
    if len(raw) < 84:
        return None
    values: dict[str, int] = {}
    for name, offset in _U32.items():
        if offset + 4 <= len(raw):
            values[name] = struct.unpack_from("I", raw, offset)[0]
    for name, offset in _U64.items():
        if offset + 8 <= len(raw):
            values[name] = struct.unpack_from("Q", raw, offset)[0]
    out: dict = {"rtt_ms": values.pop("rtt_us") / 1000.0, "rttvar_ms": values.pop("rttvar_us") / 1000.0}
    for name in ("snd_cwnd", "snd_mss", "rcv_mss", "total_retrans", "segs_out", "segs_in", "bytes_acked",
                 "bytes_received"):
        if name in values:
            out[name] = values[name]
    return out
