"""DNS lab queries: one question to one server, and everything the answer holds.

Unlike resolve.py (which only wants addresses to connect to), ``lookup`` shows the DNS
exchange itself, like ``dig``: the server and transport used, the response code, the
header flags, the answer / authority / additional sections with TTLs, the time it took
and the size of the reply.  It is built from dnspython's pieces
(``dns.message.make_query`` and ``dns.query.udp`` / ``dns.query.tcp``); a UDP reply
with the TC (truncated) flag is asked again over TCP, as resolvers do, and the result
says ``transport="tcp"``.

``lookup`` never raises for network trouble or bad input: ``DnsResult.error`` is a
``(kind, message)`` pair, kind one of

    usage      a bad name, record type, port, timeout or transport
    config     no DNS server given and none configured (resolv.conf)
    timeout    no reply within the timeout
    network    the socket failed (refused, unreachable, reset, closed early)
    malformed  a reply arrived but is not a valid answer to the question

NXDOMAIN and NODATA are answers, not errors: ``rcode`` says which.  Names and record
data come from the network: show them escaped (netlab.engine.text.safe_text).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

__all__ = ["Record", "DnsResult", "lookup", "system_servers", "parse_rdtype", "TRANSPORTS", "ERROR_KINDS"]

TRANSPORTS = ("udp", "tcp")
ERROR_KINDS = ("usage", "config", "timeout", "network", "malformed")
# Header flags in dig's order.
_FLAG_ORDER = (("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC), ("rd", dns.flags.RD),
               ("ra", dns.flags.RA), ("ad", dns.flags.AD), ("cd", dns.flags.CD))
_NOT_QUERYABLE = {dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT, dns.rdatatype.TSIG,
                  dns.rdatatype.TKEY}


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    ttl: int
    cls: str
    type: str
    data: str

    def to_dict(self) -> dict:
        return {"name": self.name, "ttl": self.ttl, "class": self.cls, "type": self.type, "data": self.data}


@dataclass(frozen=True, slots=True)
class DnsResult:
    name: str
    rdtype: str
    server: str
    port: int
    transport: str  # udp | tcp (tcp also when a truncated UDP reply was asked again over TCP)
    rcode: str | None  # NOERROR, NXDOMAIN, SERVFAIL, ...; None when no reply arrived
    flags: tuple[str, ...]  # ("qr", "rd", "ra")
    answer: tuple[Record, ...]
    authority: tuple[Record, ...]
    additional: tuple[Record, ...]
    elapsed_ms: float
    size: int | None  # bytes of the reply as received (without TCP's length prefix)
    error: tuple[str, str] | None  # (kind, message)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {
            "query": {"name": self.name, "type": self.rdtype, "server": self.server, "port": self.port,
                      "transport": self.transport},
            "rcode": self.rcode,
            "flags": list(self.flags),
            "answer": [r.to_dict() for r in self.answer],
            "authority": [r.to_dict() for r in self.authority],
            "additional": [r.to_dict() for r in self.additional],
            "elapsed_ms": round(self.elapsed_ms, 3),
            "size": self.size,
            "error": None if self.error is None else {"kind": self.error[0], "message": self.error[1]},
        }


def system_servers() -> list[str]:
    """The name servers of the system's resolver configuration (/etc/resolv.conf)."""
    try:
        resolver = dns.resolver.Resolver()
    except (dns.resolver.NoResolverConfiguration, OSError):
        return []
    return [str(s) for s in resolver.nameservers]


def parse_rdtype(rdtype: str | int) -> dns.rdatatype.RdataType:
    """A record type by name (``MX``, ``TYPE65``) or number (``15``); ValueError if unknown."""
    try:
        if isinstance(rdtype, int) or (isinstance(rdtype, str) and rdtype.strip().isdigit()):
            value = int(rdtype)
            if not 0 <= value <= 65535:
                raise ValueError
            rt = dns.rdatatype.RdataType.make(value)
        else:
            rt = dns.rdatatype.from_text(str(rdtype).strip().upper())
    except (ValueError, dns.exception.DNSException):
        raise ValueError(f"unknown record type {rdtype!r} (use a name like A, AAAA, MX, TXT or a number "
                         "0-65535)") from None
    if rt in _NOT_QUERYABLE:
        raise ValueError(f"{dns.rdatatype.to_text(rt)} cannot be asked as a plain query")
    return rt


class _Recorder:
    """Wraps the socket handed to dns.query so the reply's exact bytes are seen (its size)."""

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


def _records(rrsets) -> tuple[Record, ...]:
    out = []
    for rrset in rrsets:
        name = rrset.name.to_text()
        cls = dns.rdataclass.to_text(rrset.rdclass)
        rtype = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            out.append(Record(name, int(rrset.ttl), cls, rtype, rdata.to_text()))
    return tuple(out)


def _flags(message: dns.message.Message) -> tuple[str, ...]:
    return tuple(name for name, bit in _FLAG_ORDER if message.flags & bit)


def _server_address(server: str, port: int) -> str:
    text = server.strip().strip("[]")
    try:
        ipaddress.ip_address(text.split("%", 1)[0])  # fe80::1%eth0 keeps its zone
        return text if "%" in text else str(ipaddress.ip_address(text))
    except ValueError:
        pass
    infos = socket.getaddrinfo(text, port, type=socket.SOCK_DGRAM)
    return infos[0][4][0]


def _ask(q: dns.message.Message, where: str, port: int, transport: str, timeout: float) -> tuple:
    """(reply, transport used, reply size).  Raises dnspython / OS errors."""
    family = socket.AF_INET6 if ":" in where else socket.AF_INET
    end = time.monotonic() + timeout
    if transport == "udp":
        rec = _Recorder(dns.query.make_socket(family, socket.SOCK_DGRAM))
        try:
            reply = dns.query.udp(q, where, timeout=timeout, port=port, ignore_unexpected=True,
                                  raise_on_truncation=True, sock=rec)
            return reply, "udp", len(rec.datagram)
        except dns.message.Truncated:
            pass  # TC set: ask again over TCP, within what is left of the timeout
        finally:
            rec.close()
    left = end - time.monotonic()
    if left <= 0:
        raise dns.exception.Timeout
    sock = socket.socket(family, socket.SOCK_STREAM)
    rec = _Recorder(sock)
    try:
        sock.settimeout(left)
        sock.connect((where, port))
        sock.setblocking(False)
        left = max(end - time.monotonic(), 0.001)
        reply = dns.query.tcp(q, where, timeout=left, port=port, sock=rec)
        return reply, "tcp", max(len(rec.stream) - 2, 0)
    finally:
        sock.close()


def lookup(name: str, rdtype: str = "A", server: str | None = None, port: int = 53, transport: str = "udp",
           timeout: float = 5.0) -> DnsResult:
    """Ask ``server`` (default: the first system name server) for ``name``/``rdtype``."""
    t0 = time.perf_counter()
    qtype = str(rdtype).strip().upper() if rdtype is not None else ""
    used = (transport or "").lower()
    where = "" if server is None else str(server)

    def result(error=None, reply=None, size=None, via=None) -> DnsResult:
        elapsed = (time.perf_counter() - t0) * 1000
        if reply is None:
            return DnsResult(name, qtype, where, port, via or used, None, (), (), (), (), elapsed, size, error)
        return DnsResult(name, qtype, where, port, via or used, dns.rcode.to_text(reply.rcode()), _flags(reply),
                         _records(reply.answer), _records(reply.authority), _records(reply.additional),
                         elapsed, size, error)

    if used not in TRANSPORTS:
        return result(("usage", f"unknown transport {transport!r} (use udp or tcp)"))
    try:
        rt = parse_rdtype(rdtype)
    except ValueError as exc:
        return result(("usage", str(exc)))
    qtype = dns.rdatatype.to_text(rt)
    if not isinstance(port, int) or not 0 < port < 65536:
        return result(("usage", f"bad port {port!r} (1-65535)"))
    if not timeout or timeout <= 0:
        return result(("usage", f"the timeout must be positive, not {timeout!r}"))
    if not name or not str(name).strip():
        return result(("usage", "no name to look up"))
    try:
        qname = dns.name.from_text(str(name).strip())
    except dns.exception.DNSException as exc:
        return result(("usage", f"{name!r} is not a valid DNS name: {exc}"))
    if server is None:
        servers = system_servers()
        if not servers:
            return result(("config", "no DNS server configured (/etc/resolv.conf has no nameserver); "
                                     "give one, e.g. 127.0.0.1"))
        where = servers[0]
    try:
        where = _server_address(where, port)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return result(("usage", f"DNS server {server!r} is not an IP address and cannot be resolved: {reason}"))
    at = f"[{where}]:{port}" if ":" in where else f"{where}:{port}"
    q = dns.message.make_query(qname, rt)
    via = used
    try:
        reply, via, size = _ask(q, where, port, used, float(timeout))
    except (dns.exception.Timeout, socket.timeout, TimeoutError):
        return result(("timeout", f"no answer from {at} within {timeout:g} s"))
    except EOFError:
        return result(("network", f"{at} closed the TCP connection before answering"), via="tcp")
    except ConnectionRefusedError:
        return result(("network", f"connection refused by {at} (is a DNS server listening there?)"))
    except OSError as exc:
        return result(("network", f"{exc.strerror or exc} (talking to {at})"))
    except dns.query.BadResponse:
        return result(("malformed", f"the reply from {at} does not answer the question asked (ID or question "
                                    "differs)"))
    except dns.exception.DNSException as exc:
        return result(("malformed", f"the reply from {at} is not a valid DNS message: "
                                    f"{type(exc).__name__}: {exc}"))
    return result(reply=reply, size=size, via=via)
