"""The exchange's frames as a pcap file (Ethernet link type, nanosecond timestamps) that
tcpdump and Wireshark open, written with dpkt's pcap writer.  A frame kept cut (past the
capture's payload budget) is written with its captured length and its length on the wire,
as tcpdump's snap length does, so Wireshark marks it "packet size limited"."""

from __future__ import annotations

from netlab.engine.capture.sniffer import KEEP_ALL, Frame


def write(path: str, frames: list[Frame]) -> int:
    """Write ``frames`` to ``path`` (mode 0600: they hold the exchange's bytes); the count."""
    import os

    import dpkt

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=KEEP_ALL, linktype=dpkt.pcap.DLT_EN10MB, nano=True)
        for frame in frames:
            sec = int(frame.t)
            nsec = int(round((frame.t - sec) * 1e9))
            header = writer._pack_hdr(sec, nsec, len(frame.data), frame.length)  # caplen, then wire length
            f.write(header + frame.data)
    return len(frames)
