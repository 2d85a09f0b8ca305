"""Frames off one interface with an AF_PACKET socket (Linux; root or CAP_NET_RAW), kept by a
kernel-side classic BPF filter on TCP/UDP ports so a busy interface costs little.

``Sniffer.start()`` returns once the socket is bound with its filter: a SYN sent after it
is seen.  A thread drains the socket into memory (kernel timestamps, SO_TIMESTAMPNS);
``stop()`` ends it and returns the frames.  On loopback each frame passes twice (once
outgoing, once incoming): only the incoming copy is kept.  Past ``payload_budget`` bytes a
frame is kept cut to its first ``SNAP`` bytes (the headers) and counted as sampled."""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
from dataclasses import dataclass

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_STATISTICS = 263, 6
RCVBUF = 32 << 20  # bytes the kernel holds for the capture between two reads (a 64 KiB loopback frame burst)
SNAP = 128  # bytes kept of a frame past the payload budget: Ethernet + IPv6 + TCP with options
KEEP_ALL = 0x40000
BATCH = 0.01  # seconds the capture thread lets frames gather in the kernel between reads


class CaptureError(Exception):
    """Capture could not start: ``message`` says why, ``hint`` how to allow it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def as_json(self) -> dict:
        return {"message": self.message, "hint": self.hint}


@dataclass(frozen=True)
class Frame:
    t: float  # kernel receive time, seconds since the epoch
    data: bytes  # the frame as kept (cut when sampled)
    length: int  # its length on the wire
    outgoing: bool  # the packet socket's PACKET_OUTGOING (not meaningful on loopback)
    interface: str  # where it was seen


def port_filter(ports: list[int]) -> bytes:
    """Classic BPF: Ethernet frames carrying IPv4 or IPv6 TCP/UDP with a source or destination
    port in ``ports`` (first fragments of IPv4 only; IPv6 without extension headers)."""
    code: list[tuple] = []  # (opcode, jt label, jf label, k) ; labels resolved below
    LDH_ABS, LDB_ABS, LDH_IND, LDXB_MSH = 0x28, 0x30, 0x48, 0xB1
    JEQ, JSET, RET = 0x15, 0x45, 0x06

    def port_tests(load: list[tuple]) -> None:
        for ld in load:  # each: load the port, then accept on any match
            code.append(ld)
            for port in ports:
                code.append((JEQ, "accept", None, port))

    code.append((LDH_ABS, None, None, 12))  # ethertype
    code.append((JEQ, None, "v6", 0x0800))
    code.append((LDB_ABS, None, None, 23))  # IPv4 protocol
    code.append((JEQ, "v4ok", None, 6))
    code.append((JEQ, None, "reject", 17))
    code.append(("label", "v4ok"))
    code.append((LDH_ABS, None, None, 20))  # flags + fragment offset
    code.append((JSET, "reject", None, 0x1FFF))
    code.append((LDXB_MSH, None, None, 14))  # X = IPv4 header length
    port_tests([(LDH_IND, None, None, 14), (LDH_IND, None, None, 16)])
    code.append((RET, None, None, 0))
    code.append(("label", "v6"))
    code.append((JEQ, None, "reject", 0x86DD))
    code.append((LDB_ABS, None, None, 20))  # IPv6 next header
    code.append((JEQ, "v6ok", None, 6))
    code.append((JEQ, None, "reject", 17))
    code.append(("label", "v6ok"))
    port_tests([(LDH_ABS, None, None, 54), (LDH_ABS, None, None, 56)])
    code.append(("label", "reject"))
    code.append((RET, None, None, 0))
    code.append(("label", "accept"))
    code.append((RET, None, None, KEEP_ALL))
    labels: dict[str, int] = {}
    program: list[tuple] = []
    for ins in code:
        if ins[0] == "label":
            labels[ins[1]] = len(program)
        else:
            program.append(ins)
    out = b""
    for i, (op, jt, jf, k) in enumerate(program):
        rel = [0 if j is None else labels[j] - i - 1 for j in (jt, jf)]
        if any(not 0 <= r < 256 for r in rel):
            raise ValueError("BPF jump out of range: too many ports")
        out += struct.pack("HBBI", op, rel[0], rel[1], k)
    return out


class Sniffer:
    def __init__(self, interface: str | None, ports: list[int], *, payload_budget: int = 16 << 20,
                 namespace: str | None = None) -> None:
        self.interface = interface  # None: every interface (the route is known only after the exchange)
        self.namespace = namespace  # a named network namespace (ip netns), None: this process's
        self.ports = sorted(set(ports))
        self.payload_budget = payload_budget
        self.frames: list[Frame] = []
        self.sampled = 0  # frames kept cut to SNAP bytes (past the budget)
        self.dropped = 0  # frames the kernel dropped for want of buffer (PACKET_STATISTICS)
        self.kept = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None  # a pipe: stop() wakes the thread's select at once
        self._raw: list[tuple] = []  # (data, wire length, ancillary data, outgoing, interface) as read

    def start(self) -> None:
        if not hasattr(socket, "AF_PACKET"):
            raise CaptureError("packet capture is not supported on this platform (Linux AF_PACKET only)")
        from netlab.engine.capture.netns import netns_socket

        try:
            sock = netns_socket(self.namespace, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError:
            import sys

            raise CaptureError(
                "packet capture needs root or CAP_NET_RAW (AF_PACKET: operation not permitted)",
                f"run as root, or allow this Python: sudo setcap cap_net_raw+ep {_real(sys.executable)}") from None
        try:
            self._attach(sock)
            if self.interface is not None:
                sock.bind((self.interface, 0))
        except OSError as exc:
            sock.close()
            where = f"{self.namespace} " if self.namespace else ""
            raise CaptureError(f"packet capture on {where}{self.interface or 'every interface'}: "
                               f"{exc.strerror or exc}") from None
        self._sock = sock
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"capture {self.interface}", daemon=True)
        self._thread.start()

    def _attach(self, sock: socket.socket) -> None:
        import ctypes

        program = port_filter(self.ports)
        buf = ctypes.create_string_buffer(program)
        fprog = struct.pack("HL", len(program) // 8, ctypes.addressof(buf))
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)  # the kernel copies the program
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None and self._wake is not None
        buf = bytearray(KEEP_ALL)  # one buffer: a 256 KiB bytes object per frame would be an mmap each
        while not self._stop.is_set():
            ready, _, _ = select.select([sock.fileno(), self._wake[0]], [], [])
            if sock.fileno() in ready:
                self._drain(sock, buf)
                self._stop.wait(BATCH)  # let a few frames gather: fewer wake-ups, less GIL traffic
        self._drain(sock, buf)

    def _drain(self, sock: socket.socket, buf: bytearray) -> None:
        view = memoryview(buf)
        raw = self._raw
        while True:
            try:
                n, anc, _flags, addr = sock.recvmsg_into([buf], 64, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if addr[2] == PACKET_OUTGOING and addr[0] == "lo":
                continue  # the same frame comes back as incoming
            keep = n if self.kept + n <= self.payload_budget else min(n, SNAP)
            self.kept += keep
            raw.append((bytes(view[:keep]), n, anc, addr[2] == PACKET_OUTGOING, addr[0]))

    def stop(self) -> list[Frame]:
        self._stop.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None
        if self._sock is not None:
            try:  # the kernel's count of frames it had to drop (reading it resets it)
                self.dropped += struct.unpack("II", self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
            except OSError:
                pass
            # Closing a packet socket waits for the kernel's RCU grace period (~10 ms here):
            # not on the caller's time.
            threading.Thread(target=self._sock.close, name="capture close", daemon=True).start()
            self._sock = None
        for data, length, anc, outgoing, interface in self._raw:
            if len(data) < length:
                self.sampled += 1
            self.frames.append(Frame(_timestamp(anc), data, length, outgoing, interface))
        self._raw = []
        return self.frames


def _timestamp(anc: list) -> float:
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack_from("qq", data)
            return sec + nsec / 1e9
    import time

    return time.time()


def _real(path: str) -> str:
    import os

    return os.path.realpath(path)
