"""The only module that touches sockets: connect (TCP v4/v6, Unix), TLS, read, write,
TCP_INFO.  OS and ssl errors are translated into NetlabError here, once, with the
phase they happened in.

The DNS lab's sockets are here too (``dns_udp``, ``dns_tcp``, ``dns_tls``): dnspython
writes the query and reads the reply on them, and the lab reports a failure as a
(kind, message) of its own (netlab.engine.dns.exchange), so their errors pass through."""

from __future__ import annotations

import hashlib
import os
import select
import socket
import ssl
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.engine.errors import NetlabError, from_oserror

if TYPE_CHECKING:
    from netlab.engine.dns.model import Resolution

__all__ = ["Conn", "TLSInfo", "open_tcp", "open_unix", "start_tls", "family_name", "idle_dead",
           "RecordingSocket", "dns_udp", "dns_tcp", "dns_tls", "time_left"]

_FAMILY: dict[int, str] = {socket.AF_INET: "AF_INET", socket.AF_INET6: "AF_INET6"}
if hasattr(socket, "AF_UNIX"):
    _FAMILY[socket.AF_UNIX] = "AF_UNIX"


_KERNEL_TIMEOUTS = sys.platform == "linux" and struct.calcsize("l") == 8


def family_name(family: int) -> str:
    return _FAMILY.get(family, str(family))


@dataclass(slots=True)
class TLSInfo:
    version: str
    cipher: str
    alpn: str | None
    sni: str | None
    verified: bool
    peer_cert: dict | None = None

    def to_dict(self) -> dict:
        return {"version": self.version, "cipher": self.cipher, "alpn": self.alpn, "sni": self.sni,
                "verified": self.verified, "peer_cert": self.peer_cert}


@dataclass(slots=True, eq=False)
class Conn:
    sock: socket.socket
    family: str
    local: tuple[str, int]
    remote: tuple[str, int]
    key: tuple = ()
    tls: TLSInfo | None = None
    uses: int = 0
    created: float = field(default_factory=time.monotonic)
    idle_since: float = 0.0
    reused_dns: Resolution | None = None  # the Resolution every reuse of this connection reports
    _timeout: float | None = -1.0  # what the socket is set to now (-1: not set by us yet)

    def settimeout(self, seconds: float | None) -> None:
        """Timeout for each following send/recv.

        A plain socket on Linux stays blocking and the kernel enforces the timeout
        (SO_RCVTIMEO/SO_SNDTIMEO, set only when the value changes): Python's own
        timeouts cost a mode switch and a poll() around every call, 3 syscalls where
        1 does, which is most of a keep-alive round trip on loopback.  TLS sockets keep
        Python's timeouts (OpenSSL must see the socket as it set it up)."""
        if seconds == self._timeout:
            return
        if self.tls is not None or not _KERNEL_TIMEOUTS or seconds is None:
            self.sock.settimeout(seconds)
        else:
            if self.sock.gettimeout() is not None:  # no syscall to ask; one to change
                self.sock.settimeout(None)
            whole = int(seconds)
            usec = int((seconds - whole) * 1e6) or (0 if whole else 1)  # a zero timeval means "forever"
            tv = struct.pack("ll", whole, usec)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        self._timeout = seconds

    def sendall(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            raise self._error("send", exc, f"sending to {self.remote_text}") from None

    def recv_into(self, buf) -> int:
        try:
            return self.sock.recv_into(buf)
        except (OSError, ssl.SSLError) as exc:
            raise self._error("receive", exc, f"reading from {self.remote_text}") from None

    def _error(self, phase: str, exc: BaseException, where: str) -> NetlabError:
        if isinstance(exc, BlockingIOError):  # the kernel's SO_RCVTIMEO/SO_SNDTIMEO ran out
            exc = TimeoutError()
        return from_oserror(phase, exc, where)

    @property
    def remote_text(self) -> str:
        host, port = self.remote
        if self.family == "AF_UNIX":
            return host
        from netlab.engine.request import host_port

        return host_port(host, port)

    def rtt_ms(self) -> float | None:
        """Smoothed RTT from the kernel's TCP_INFO (Linux), in ms."""
        if self.family == "AF_UNIX" or not hasattr(socket, "TCP_INFO"):
            return None
        try:
            raw = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        except OSError:
            return None
        if len(raw) < 76:
            return None
        # struct tcp_info: 8 single bytes, then u32 fields; tcpi_rtt is the 16th (offset 68), in µs
        (rtt_us,) = struct.unpack_from("I", raw, 68)
        return rtt_us / 1000.0

    def tcp_info_raw(self) -> bytes | None:
        """The kernel's ``struct tcp_info`` for this connection as bytes (one getsockopt;
        ``netlab.engine.capture.tcpinfo.parse`` reads it when someone asks), or None."""
        if self.family == "AF_UNIX" or not hasattr(socket, "TCP_INFO"):
            return None
        try:
            return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 144)
        except OSError:
            return None

    def is_idle_alive(self) -> bool:
        """For a pooled connection: True when the peer has not closed it or sent stray bytes."""
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
        except ValueError:  # a descriptor past select()'s FD_SETSIZE (a process with many files open)
            return not idle_dead([self])
        except OSError:
            return False
        return not r  # readable while idle means EOF, reset, or junk: not reusable

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Interrupt a blocking call from another thread (cancel)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_IDLE_EVENTS = select.POLLIN | select.POLLPRI | getattr(select, "POLLRDHUP", 0)


def idle_dead(conns) -> list[Conn]:
    """Of these idle (pooled) connections, the ones that cannot be reused: the peer closed
    (its FIN makes the socket readable, and the kernel holds our end in CLOSE_WAIT until
    we close it), reset it, or sent bytes nobody asked for.  One poll() with timeout 0
    for all of them: nothing blocks, nothing is read."""
    poller = select.poll()
    dead: list[Conn] = []
    by_fd: dict[int, Conn] = {}
    for conn in conns:
        try:
            fd = conn.sock.fileno()
        except (OSError, ValueError):
            fd = -1
        if fd < 0:  # already closed
            dead.append(conn)
            continue
        by_fd[fd] = conn
        poller.register(fd, _IDLE_EVENTS)
    if by_fd:
        try:
            ready = poller.poll(0)
        except OSError:
            return dead
        dead.extend(by_fd[fd] for fd, _ in ready if fd in by_fd)
    return dead


def _addr(sockaddr) -> tuple[str, int]:
    if isinstance(sockaddr, tuple):
        return (sockaddr[0], sockaddr[1])
    return (sockaddr or "", 0)


def open_tcp(address: str, port: int, timeout: float | None, before_connect=None) -> Conn:
    """Connect.  ``before_connect(conn)``, when given, runs just before connect(): a cancel
    token attaches there, since shutdown() ends a connect() still waiting for the SYN-ACK."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    conn = Conn(sock, family_name(family), ("", 0), (address, port))
    try:
        # With kernel timeouts a blocking connect() gives up after SO_SNDTIMEO (EINPROGRESS).
        conn.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if before_connect is not None:
            before_connect(conn)
        sock.connect((address, port))
    except BaseException as exc:
        sock.close()
        if isinstance(exc, BlockingIOError):
            exc = TimeoutError()
        if isinstance(exc, (OSError, ssl.SSLError)):
            where = f"to [{address}]:{port}" if family == socket.AF_INET6 else f"to {address}:{port}"
            err = from_oserror("connect", exc, where)
            if err.phase == "timeout":
                err = NetlabError("timeout", f"connect {where} did not complete within {timeout:g} s",
                                  "the server is not accepting connections (a full accept backlog) or a firewall "
                                  "drops them: check the server, or raise --timeout to wait longer")
            raise err from None
        raise
    conn.local = _addr(sock.getsockname())  # the port the kernel picked
    return conn


def open_unix(path: str, timeout: float | None) -> Conn:
    if not hasattr(socket, "AF_UNIX"):
        raise NetlabError("connect", "Unix sockets are not available on this system")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except OSError as exc:
        sock.close()
        if isinstance(exc, FileNotFoundError):
            raise NetlabError("connect", f"Unix socket {path}: no such file",
                              "check the path; a server creates its socket file when it starts") from None
        if isinstance(exc, ConnectionRefusedError):
            raise NetlabError("connect", f"Unix socket {path}: connection refused (nothing listens on it)",
                              "the socket file is there but its server is gone: start the server again") from None
        raise from_oserror("connect", exc, f"to Unix socket {path}") from None
    return Conn(sock, "AF_UNIX", (sock.getsockname() or "", 0), (path, 0))


def _context(cafile: str | None, insecure: bool, keylog: str | None = None) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise NetlabError("tls", f"cannot load CA file {cafile!r}: {exc}", "check the --cacert path") from None
    if keylog is not None:  # SSLKEYLOGFILE lines: Wireshark decrypts a capture of the same session
        try:
            ctx.keylog_filename = keylog
        except OSError as exc:
            raise NetlabError("tls", f"cannot write the key log {keylog!r}: {exc.strerror}",
                              "check the --keylog path") from None
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


_CTX_CACHE: dict[tuple, ssl.SSLContext] = {}


def start_tls(conn: Conn, sni: str | None, *, cafile: str | None = None, insecure: bool = False,
              keylog: str | None = None) -> TLSInfo:
    key = (cafile, insecure, keylog)
    ctx = _CTX_CACHE.get(key)
    if ctx is None:
        ctx = _CTX_CACHE[key] = _context(cafile, insecure, keylog)
    server_hostname = sni
    if conn._timeout is not None and conn._timeout > 0:
        conn.sock.settimeout(conn._timeout)  # OpenSSL works with Python's timeouts, not the kernel's
    try:
        tls_sock = ctx.wrap_socket(conn.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        tls_sock.do_handshake()
    except (OSError, ssl.SSLError) as exc:
        conn.close()
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)) or (isinstance(exc, ssl.SSLEOFError)):
            raise NetlabError("tls", f"the peer closed the connection during the TLS handshake with "
                              f"{conn.remote_text} (is this port speaking TLS?)") from None
        raise from_oserror("tls", exc, f"with {conn.remote_text}") from None
    conn.sock = tls_sock
    cipher = tls_sock.cipher()
    der = tls_sock.getpeercert(binary_form=True)
    info = TLSInfo(
        version=tls_sock.version() or "",
        cipher=cipher[0] if cipher else "",
        alpn=tls_sock.selected_alpn_protocol(),
        sni=None if _is_ip(server_hostname) else server_hostname,  # no SNI is sent for an IP
        verified=not insecure,
        peer_cert=cert_info(der, tls_sock.getpeercert() if not insecure else None),
    )
    conn.tls = info
    return info


def _is_ip(host: str | None) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host or "")
            return True
        except OSError:
            pass
    return False


def _name(rdns) -> str:
    return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)


def cert_info(der: bytes | None, decoded: dict | None) -> dict | None:
    """Subject, issuer, SANs, validity and SHA-256 fingerprint of a DER certificate."""
    if not der:
        return None
    if not decoded:
        decoded = _decode_der(der)
    return {
        "subject": _name(decoded.get("subject", ())),
        "issuer": _name(decoded.get("issuer", ())),
        "san": [f"{k}:{v}" for k, v in decoded.get("subjectAltName", ())],
        "not_before": decoded.get("notBefore"),
        "not_after": decoded.get("notAfter"),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def _decode_der(der: bytes) -> dict:
    # The stdlib only decodes verified certificates; for --insecure ones it decodes a PEM file.
    pem = ssl.DER_cert_to_PEM_cert(der)
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        return ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a certificate we cannot decode still has a fingerprint
        return {}
    finally:
        os.unlink(path)



# ----------------------------------------------------------------------- DNS's sockets


def time_left(deadline: float) -> float:
    """Seconds until ``deadline`` (a time.monotonic() value); TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class RecordingSocket:
    """Wraps a socket handed to dnspython (``sock=``) so the reply's exact bytes are seen
    (its size): the last datagram (UDP), every byte read (TCP and TLS, with the length
    prefix).  Everything else goes to the socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.datagram = b""
        self.stream = bytearray()

    def recvfrom(self, n: int):
        data, addr = self._sock.recvfrom(n)
        self.datagram = data
        return data, addr

    def recv(self, n: int) -> bytes:
        data = self._sock.recv(n)
        self.stream += data
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _dns_family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _dns_connect(address: str, port: int, deadline: float) -> socket.socket:
    """A TCP socket connected to the server within what is left until ``deadline``."""
    sock = socket.socket(_dns_family(address), socket.SOCK_STREAM)
    try:
        sock.settimeout(time_left(deadline))
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _nonblocking(sock: socket.socket) -> RecordingSocket:
    """dnspython waits on the socket itself (select, with its own timeout)."""
    try:
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return RecordingSocket(sock)


def dns_udp(address: str, port: int) -> RecordingSocket:
    """A UDP socket for one DNS query.  Connected, like dig: a port nobody listens on is
    reported (ICMP) at once, instead of waiting for the timeout."""
    sock = socket.socket(_dns_family(address), socket.SOCK_DGRAM)
    try:
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return _nonblocking(sock)


def dns_tcp(address: str, port: int, deadline: float) -> RecordingSocket:
    """A TCP connection for DNS queries, connected before ``deadline``."""
    return _nonblocking(_dns_connect(address, port, deadline))


def dns_tls(address: str, port: int, deadline: float, context: ssl.SSLContext,
            hostname: str) -> tuple[RecordingSocket, str]:
    """DNS over TLS: a TCP connection and the TLS handshake, both before ``deadline``;
    the socket and the TLS version and cipher (``"TLSv1.3 TLS_AES_256_GCM_SHA384"``)."""
    sock = _dns_connect(address, port, deadline)
    try:
        ssock = context.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    except BaseException:
        sock.close()
        raise
    try:
        ssock.settimeout(time_left(deadline))
        ssock.do_handshake()
        cipher = ssock.cipher()
        tls = f"{ssock.version()} {cipher[0] if cipher else ''}".strip()
    except BaseException:
        ssock.close()
        raise
    return _nonblocking(ssock), tls


if sys.platform != "linux":  # pragma: no cover
    Conn.rtt_ms = lambda self: None  # type: ignore[method-assign]
