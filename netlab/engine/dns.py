"""DNS lab queries: one question to one server, and everything the answer holds.

Unlike a resolver (which only wants addresses), ``lookup`` shows the DNS exchange
itself, like ``dig``: the server and transport used, the response code, the header
flags, the EDNS details, the answer / authority / additional sections with TTLs, the
time it took and the size of the reply.  It is built from dnspython's pieces
(``dns.message.make_query`` and ``dns.query.udp`` / ``tcp``; DoH's HTTP exchange on
dnspython's own HTTP client) on sockets it opens itself, so that the exact reply size
and the TLS details are known.

* Transports: ``udp`` (a reply with the TC flag is asked again over TCP, as resolvers
  do: the result then says ``transport="tcp"`` and ``udp_truncated=True``), ``tcp``,
  ``tls`` (DNS over TLS, RFC 7858, port 853) and ``https`` (DNS over HTTPS, RFC 8484,
  only where dnspython's DoH extra is installed: ``pip install 'dnspython[doh]'``).  A DoH
  reply must be a 2xx with Content-Type application/dns-message (an HTML page says
  what it is: "the server answered text/html, not application/dns-message") and at most
  65,535 bytes (DOH_MAX_REPLY, the most a DNS message can be): beyond it, ``malformed``.
* Flags: recursion desired (``rd``), DNSSEC OK (``do``), checking disabled (``cd``) and
  the EDNS UDP payload size (``payload``).  Without ``do`` or ``payload`` the query has
  no EDNS at all, like the glibc stub resolver under ``getaddrinfo`` (and ``dig +noedns``).
* ``lookup_many``: several record types for one name, one query each (like doggo).
* ``trace``: iterative resolution from root hints (a named.root style file; tests
  point it at loopback servers), each referral and the server that gave it.
* ``system_lookup``: what ``getaddrinfo`` says for the same name, with /etc/hosts, the
  search domains and nsswitch's order, so the difference to a DNS answer is visible.
* ``resolve_addresses``: A and AAAA through the same ``lookup``, for the engine's own
  name resolution (netlab.engine.resolve), so what the DNS pane shows is what a send uses.

Special-use names (RFC 6761: ``localhost``, ``*.localhost``, ``*.invalid``; RFC 7686:
``*.onion``; the rule is netlab.engine.resolve.special_use) are never sent to the
system's name servers, which may be off the machine: ``lookup`` and ``trace`` without
a server the user named refuse them (a ``usage`` error that says to name one),
``system_lookup`` does not hand them to getaddrinfo unless the hosts file answers
them first, and ``resolve_addresses`` (the sends) answers them locally whatever the
server.  With a server named (``@127.0.0.1``, a hints file, ``--root``), the DNS lab
asks it, as dig does: that is the point of a lab.

``lookup`` never raises for network trouble or bad input: ``DnsResult.error`` is a
``(kind, message)`` pair, kind one of

    usage      a bad name, record type, port, timeout, transport or server
    config     no DNS server given and none configured (resolv.conf), or the
               transport needs something not installed (DoH extra)
    timeout    no reply within the timeout
    network    the socket failed (refused, unreachable, reset, closed early)
    tls        the TLS handshake failed (certificate not trusted, wrong name, ...)
    malformed  a reply arrived but is not a valid answer to the question

NXDOMAIN and NODATA are answers, not errors: ``rcode`` says which.  Names and record
data come from the network: show them escaped (netlab.engine.text.safe_text).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename

from netlab.engine.system import special_use
from netlab.engine.text import safe_text

__all__ = [
    "Record", "Edns", "DnsResult", "ServerSpec", "TraceStep", "TraceResult", "SystemAnswer", "SystemConfig",
    "AddressAnswer", "lookup", "lookup_many", "trace", "load_hints", "system_lookup", "system_config",
    "system_servers", "resolve_addresses", "parse_rdtype", "parse_server", "parse_dns_server", "reverse_name",
    "doh_available", "is_rdtype",
    "TRANSPORTS", "DEFAULT_PORTS", "ERROR_KINDS", "DEFAULT_PAYLOAD", "RESOLV_CONF", "NSSWITCH_CONF",
    "ROOT_HINTS_PATHS", "DOH_MEDIA_TYPE", "DOH_MAX_REPLY",
]

TRANSPORTS = ("udp", "tcp", "tls", "https")
DEFAULT_PORTS = {"udp": 53, "tcp": 53, "tls": 853, "https": 443}
ERROR_KINDS = ("usage", "config", "timeout", "network", "tls", "malformed")
DEFAULT_PAYLOAD = 1232  # the EDNS buffer size of DNS flag day 2020 (dig's default too)
RESOLV_CONF = "/etc/resolv.conf"
NSSWITCH_CONF = "/etc/nsswitch.conf"
ROOT_HINTS_PATHS = ("/usr/share/dns/root.hints", "/etc/bind/db.root")
DOH_PATH = "/dns-query"
DOH_MEDIA_TYPE = "application/dns-message"
DOH_MAX_REPLY = 65535  # bytes: a DNS message never exceeds this (TCP's 16-bit length prefix)

# Header flags in dig's order.
_FLAG_ORDER = (("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC), ("rd", dns.flags.RD),
               ("ra", dns.flags.RA), ("ad", dns.flags.AD), ("cd", dns.flags.CD))
_NOT_QUERYABLE = {dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT, dns.rdatatype.TSIG,
                  dns.rdatatype.TKEY}
_SCHEMES = {"udp": "udp", "dns": "udp", "tcp": "tcp", "tls": "tls", "dot": "tls", "https": "https", "doh": "https"}

# The root servers (IANA's named.root), used by ``trace`` when no hints file is given
# and the system has none (dns-root-data's /usr/share/dns/root.hints).
BUILTIN_ROOT_HINTS = tuple((f"{letter}.root-servers.net.", addrs) for letter, addrs in (
    ("a", ("198.41.0.4", "2001:503:ba3e::2:30")), ("b", ("170.247.170.2", "2801:1b8:10::b")),
    ("c", ("192.33.4.12", "2001:500:2::c")), ("d", ("199.7.91.13", "2001:500:2d::d")),
    ("e", ("192.203.230.10", "2001:500:a8::e")), ("f", ("192.5.5.241", "2001:500:2f::f")),
    ("g", ("192.112.36.4", "2001:500:12::d0d")), ("h", ("198.97.190.53", "2001:500:1::53")),
    ("i", ("192.36.148.17", "2001:7fe::53")), ("j", ("192.58.128.30", "2001:503:c27::2:30")),
    ("k", ("193.0.14.129", "2001:7fd::1")), ("l", ("199.7.83.42", "2001:500:9f::42")),
    ("m", ("202.12.27.33", "2001:dc3::35")),
))


# ---------------------------------------------------------------------------------- values


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
class Edns:
    """The OPT record of a reply: EDNS version, the server's UDP payload size, flags, options."""

    version: int
    payload: int
    flags: tuple[str, ...]  # ("do",)
    options: tuple[str, ...]  # "COOKIE: 0123...", "NSID: 6e73 (ns)", "EDE: 18 (Prohibited)"

    def to_dict(self) -> dict:
        return {"version": self.version, "udp_payload": self.payload, "flags": list(self.flags),
                "options": list(self.options)}


@dataclass(frozen=True, slots=True)
class DnsResult:
    name: str  # as asked (for a reverse lookup: the in-addr.arpa / ip6.arpa name)
    rdtype: str
    server: str  # the address asked ("" when none could be chosen)
    port: int
    transport: str  # udp | tcp | tls | https (tcp also when a truncated UDP reply was asked again over TCP)
    rcode: str | None  # NOERROR, NXDOMAIN, SERVFAIL, ...; None when no reply arrived
    flags: tuple[str, ...]  # ("qr", "rd", "ra")
    answer: tuple[Record, ...]
    authority: tuple[Record, ...]
    additional: tuple[Record, ...]
    elapsed_ms: float
    size: int | None  # bytes of the reply as received (without TCP's length prefix)
    error: tuple[str, str] | None  # (kind, message)
    edns: Edns | None = None  # the reply's OPT record
    query_flags: tuple[str, ...] = ("rd",)  # what was asked: rd, cd, do
    payload: int | None = None  # the EDNS UDP payload size advertised (None: the query had no EDNS)
    udp_truncated: bool = False  # the UDP reply had TC set; this is the answer asked again over TCP
    tls: str | None = None  # "TLSv1.3 TLS_AES_256_GCM_SHA384" for tls/https
    url: str | None = None  # the DoH URL
    server_name: str | None = None  # the server as given when it was a host name

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def nodata(self) -> bool:
        """NOERROR without an answer: the name exists, but has no records of this type."""
        return self.error is None and self.rcode == "NOERROR" and not self.answer

    @property
    def at(self) -> str:
        return _hostport(self.server, self.port) if self.server else "(no server)"

    def to_dict(self) -> dict:
        return {
            "query": {"name": self.name, "type": self.rdtype, "server": self.server, "port": self.port,
                      "transport": self.transport, "flags": list(self.query_flags), "udp_payload": self.payload,
                      **({"url": self.url} if self.url else {})},
            "rcode": self.rcode,
            "flags": list(self.flags),
            "answer": [r.to_dict() for r in self.answer],
            "authority": [r.to_dict() for r in self.authority],
            "additional": [r.to_dict() for r in self.additional],
            "edns": self.edns.to_dict() if self.edns else None,
            "udp_truncated": self.udp_truncated,
            "tls": self.tls,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "size": self.size,
            "error": None if self.error is None else {"kind": self.error[0], "message": self.error[1]},
        }


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """A server as a user writes it: ``1.1.1.1``, ``127.0.0.1:5353``, ``[::1]:53``, ``::1``,
    ``127.0.0.1#5353`` (kdig), ``tls://1.1.1.1``, ``https://dns.example/dns-query``."""

    host: str
    port: int | None = None  # None: the transport's default
    transport: str | None = None  # from a scheme; None: not said
    path: str | None = None  # DoH path of an https:// URL

    def text(self) -> str:
        s = _hostport(self.host, self.port) if self.port else (f"[{self.host}]" if ":" in self.host else self.host)
        if self.transport:
            s = f"{self.transport}://{s}{self.path or ''}"
        return s


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """What /etc/resolv.conf says."""

    servers: tuple[str, ...]
    search: tuple[str, ...]
    ndots: int
    path: str


@dataclass(frozen=True, slots=True)
class SystemAnswer:
    """What ``getaddrinfo`` returns for a name, and the configuration that explains it."""

    name: str
    addresses: tuple[str, ...]
    canonname: str | None
    hosts: tuple[str, ...]  # the name's addresses in the hosts file (files come first in nsswitch)
    hosts_path: str
    search: tuple[str, ...]
    ndots: int
    nsswitch: str | None  # the `hosts:` line of nsswitch.conf
    elapsed_ms: float
    error: tuple[str, str] | None  # (kind, message): noname | again | timeout | error | skipped (special-use)

    def to_dict(self) -> dict:
        return {"name": self.name, "addresses": list(self.addresses), "canonname": self.canonname,
                "hosts_file": {"path": self.hosts_path, "addresses": list(self.hosts)},
                "search": list(self.search), "ndots": self.ndots, "nsswitch": self.nsswitch,
                "elapsed_ms": round(self.elapsed_ms, 3),
                "error": None if self.error is None else {"kind": self.error[0], "message": self.error[1]}}


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One exchange of an iterative resolution."""

    zone: str  # the zone the asked server was expected to serve ("." for the roots)
    server_name: str  # its NS name (or its address, from a hints file that gives only addresses)
    kind: str  # referral | answer | nxdomain | nodata | rcode | lame | noreply
    result: DnsResult  # the exchange (the last server tried when none answered)
    next_zone: str | None = None  # for a referral: the zone delegated to
    referral: tuple[str, ...] = ()  # for a referral: the NS names given
    failed: tuple[tuple[str, str], ...] = ()  # (server, why) tried before this one
    purpose: str = ""  # "" for the question itself; "address of ns.example." for a glueless NS

    def to_dict(self) -> dict:
        return {"zone": self.zone, "server_name": self.server_name, "kind": self.kind, "next_zone": self.next_zone,
                "referral": list(self.referral), "failed": [list(f) for f in self.failed],
                "purpose": self.purpose, **self.result.to_dict()}


@dataclass(frozen=True, slots=True)
class TraceResult:
    name: str
    rdtype: str
    hints: str  # the hints file used, or "built-in"
    port: int
    transport: str
    steps: tuple[TraceStep, ...]
    final: DnsResult | None  # the last server's answer (NOERROR, NXDOMAIN, ...) when one was reached
    elapsed_ms: float
    error: tuple[str, str] | None

    def to_dict(self) -> dict:
        f = self.final
        return {
            "query": {"name": self.name, "type": self.rdtype, "hints": self.hints, "port": self.port,
                      "transport": self.transport},
            "steps": [s.to_dict() for s in self.steps],
            "rcode": f.rcode if f else None,
            "flags": list(f.flags) if f else [],
            "answer": [r.to_dict() for r in f.answer] if f else [],
            "authority": [r.to_dict() for r in f.authority] if f else [],
            "additional": [r.to_dict() for r in f.additional] if f else [],
            "server": f.server if f else None,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "size": f.size if f else None,
            "error": None if self.error is None else {"kind": self.error[0], "message": self.error[1]},
        }


@dataclass(frozen=True, slots=True)
class AddressAnswer:
    """A and AAAA for a host name, as the engine's resolver asked them (``resolve_addresses``)."""

    name: str
    addresses: tuple[str, ...]
    server: str | None  # "addr:port" of the server that gave the addresses
    results: tuple[DnsResult, ...]  # every query made, in order
    error: tuple[str, str] | None  # (kind, message): nxdomain | nodata | rcode | timeout | network | config | usage


# ------------------------------------------------------------------------ small helpers


def _hostport(host: str, port: int | None) -> str:
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


def is_rdtype(text: str) -> bool:
    """Does ``text`` name a record type (``MX``, ``type65``)?  Numbers do not count here."""
    t = text.strip()
    if not t or t.isdigit():
        return False
    try:
        dns.rdatatype.from_text(t.upper())  # AXFR too: parse_rdtype then says why it cannot be asked
        return True
    except (ValueError, dns.exception.DNSException):
        return False


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad port {text!r} in server {whole!r} (1-65535)")
    return int(text)


def _parse_url_server(text: str, whole: str) -> ServerSpec:
    """``SCHEME://HOST[:PORT][/PATH]``: the scheme names the transport; a path only for https://."""
    scheme = text.split("://", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r} in server {whole!r} (use udp://, tcp://, tls:// or https://)")
    transport = _SCHEMES[scheme]
    try:
        parts = urllib.parse.urlsplit("https://" + text.split("://", 1)[1])
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"bad server {whole!r}: {exc}") from None
    if not host:
        raise ValueError(f"no host in server {whole!r}")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"bad port in server {whole!r} (1-65535)")
    path = None
    if transport == "https":
        path = (parts.path or DOH_PATH) + (f"?{parts.query}" if parts.query else "")
    elif parts.path not in ("", "/"):
        raise ValueError(f"a path only makes sense for https:// servers, not {whole!r}")
    return ServerSpec(host, port, transport, path)


def _parse_bracketed_server(text: str, whole: str) -> ServerSpec:
    """``[IPv6]``, ``[IPv6]:PORT`` or ``[IPv6]#PORT``."""
    host, sep, rest = text[1:].partition("]")
    if not sep or not host:
        raise ValueError(f"bad server {whole!r}: expected [IPv6]:PORT")
    if rest and rest[0] in ":#":
        return ServerSpec(host, _port(rest[1:], whole))
    if rest:
        raise ValueError(f"bad server {whole!r}: expected [IPv6]:PORT")
    return ServerSpec(host)


def _parse_plain_server(text: str, whole: str) -> ServerSpec:
    """``HOST#PORT``, ``HOST:PORT`` (one colon), or a name / IPv4 / bare IPv6 address alone."""
    if "#" in text:
        host, _, port_text = text.rpartition("#")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        return ServerSpec(text)  # a name, an IPv4 address, or a bare IPv6 address
    if not host:
        raise ValueError(f"bad server {whole!r}")
    return ServerSpec(host, _port(port_text, whole))


def parse_server(text: str) -> ServerSpec:
    """Parse ``[SCHEME://]HOST[:PORT|#PORT][/PATH]``; ``@`` in front is allowed.  ValueError if bad."""
    whole = text
    text = text.strip()
    if text.startswith("@"):
        text = text[1:]
    if not text:
        raise ValueError("empty DNS server")
    if "://" in text:
        return _parse_url_server(text, whole)
    if text.startswith("["):
        return _parse_bracketed_server(text, whole)
    return _parse_plain_server(text, whole)


def parse_dns_server(text: str) -> tuple[str, int]:
    """A server for the engine's own resolution (``Options.dns_server``): ``ADDR[:PORT]``
    → (address, port).  Sends ask over UDP (TCP when truncated): another scheme is a ValueError."""
    spec = parse_server(text)
    if spec.transport not in (None, "udp"):
        raise ValueError(f"sends ask over UDP (TCP when truncated), not {spec.transport}; "
                         "other transports are for the DNS lab")
    return spec.host, spec.port or 53


def reverse_name(address: str) -> str:
    """``127.0.0.1`` → ``1.0.0.127.in-addr.arpa.``; ValueError if not an IP address."""
    try:
        return dns.reversename.from_address(address.strip().strip("[]")).to_text()
    except (ValueError, dns.exception.DNSException, TypeError):
        raise ValueError(f"{address!r} is not an IP address (-x wants one, e.g. 127.0.0.1 or ::1)") from None


def system_config(path: str = RESOLV_CONF) -> SystemConfig:
    """The name servers, search list and ndots of the system's resolver configuration."""
    servers: list[str] = []
    search: list[str] = []
    ndots = 1
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].split(";", 1)[0].split()
                if len(fields) < 2:
                    continue
                key = fields[0].lower()
                if key == "nameserver":
                    addr = fields[1]
                    try:
                        ipaddress.ip_address(addr.split("%", 1)[0])
                    except ValueError:
                        continue
                    servers.append(addr)
                elif key in ("search", "domain"):
                    search = fields[1:]  # the last of them wins, as in glibc
                elif key == "options":
                    for opt in fields[1:]:
                        if opt.startswith("ndots:") and opt[6:].isdigit():
                            ndots = min(int(opt[6:]), 15)
    except OSError:
        pass
    return SystemConfig(tuple(servers), tuple(s.rstrip(".") for s in search if s != "."), ndots, path)


def system_servers() -> list[str]:
    """The name servers of the system's resolver configuration (/etc/resolv.conf)."""
    return list(system_config().servers)


def doh_available() -> bool:
    """Is dnspython's DNS-over-HTTPS extra (an HTTP client with HTTP/2) installed?"""
    return bool(getattr(dns.query, "have_doh", False))


def _doh_missing() -> str:
    return ("DNS over HTTPS needs dnspython's DoH extra, which is not installed here "
            "(pip install 'dnspython[doh]'); use --tls (DNS over TLS) or --tcp instead")


# --------------------------------------------------------------------------- the wire


class _Recorder:
    """Wraps the socket handed to dns.query so the reply's exact bytes are seen (its size)."""

    def __init__(self, sock) -> None:
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
            out.append(Record(_printable(name), int(rrset.ttl), cls, rtype, _printable(_rdata_text(rdata))))
    return tuple(out)


def _rdata_text(rdata) -> str:
    """dnspython's presentation form; the generic RFC 3597 form when a type's own writer
    cannot render what the wire held."""
    try:
        return rdata.to_text()
    except Exception:  # noqa: BLE001 - data from the network: show it, never fail on it
        try:
            raw = rdata.to_wire()
        except Exception:  # noqa: BLE001
            raw = b""
        return f"\\# {len(raw)} {raw.hex()}".rstrip()


def _printable(text: str) -> str:
    """Network data as one line of text with every control character made visible
    (dnspython escapes most of them itself; EDNS option texts and names it does not)."""
    return safe_text(str(text), keep_newlines=False)


def _flags(message: dns.message.Message) -> tuple[str, ...]:
    return tuple(name for name, bit in _FLAG_ORDER if message.flags & bit)


def _option_text(opt) -> str:
    try:
        return _printable(_option_text_raw(opt))
    except Exception:  # noqa: BLE001 - an option dnspython cannot render: its code and bytes
        return f"OPT{int(opt.otype)}"


def _option_text_raw(opt) -> str:
    name = dns.edns.OptionType.to_text(opt.otype)
    try:
        raw = opt.to_wire() or b""
    except Exception:  # noqa: BLE001 - an option dnspython cannot write back
        raw = b""
    if isinstance(opt, dns.edns.GenericOption):
        text = raw.hex()
        if opt.otype == dns.edns.OptionType.NSID and raw:
            text += f" ({raw.decode('ascii', 'backslashreplace')})"
        return f"{name}: {text}" if text else name
    text = opt.to_text()
    if text.upper().startswith(name.upper()):
        text = text[len(name):].strip()
    return f"{name}: {text}" if text else name


def _edns(message: dns.message.Message) -> Edns | None:
    if message.edns < 0:
        return None
    flags = ("do",) if message.ednsflags & dns.flags.DO else ()
    return Edns(int(message.edns), int(message.payload), flags, tuple(_option_text(o) for o in message.options))


def _server_address(server: str, port: int) -> str:
    text = server.strip().strip("[]")
    try:
        ipaddress.ip_address(text.split("%", 1)[0])  # fe80::1%eth0 keeps its zone
        return text if "%" in text else str(ipaddress.ip_address(text))
    except ValueError:
        pass
    infos = socket.getaddrinfo(text, port, type=socket.SOCK_STREAM)
    return str(infos[0][4][0])  # an IP address: str for AF_INET/AF_INET6 (typeshed also allows int)


def _family(where: str) -> int:
    return socket.AF_INET6 if ":" in where else socket.AF_INET


def _left(end: float) -> float:
    left = end - time.monotonic()
    if left <= 0:
        raise dns.exception.Timeout
    return left


def _connect(where: str, port: int, end: float) -> socket.socket:
    sock = socket.socket(_family(where), socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(end))
        sock.connect((where, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _Wire:
    """What a transport saw beyond the parsed reply."""

    __slots__ = ("transport", "size", "truncated", "tls", "url")

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.size: int | None = None
        self.truncated = False
        self.tls: str | None = None
        self.url: str | None = None


def _ask_udp(q, where, port, end, wire: _Wire, tc_retry: bool):
    sock = socket.socket(_family(where), socket.SOCK_DGRAM)
    rec = _Recorder(sock)
    try:
        # Connected, like dig: a port nobody listens on is reported (ICMP) at once,
        # instead of waiting for the timeout.
        sock.connect((where, port))
        sock.setblocking(False)
        reply = dns.query.udp(q, where, timeout=_left(end), port=port, ignore_unexpected=True,
                              raise_on_truncation=tc_retry, sock=rec)
        wire.size = len(rec.datagram)
        return reply
    except dns.message.Truncated:
        wire.truncated = True  # TC set: ask again over TCP, within what is left of the timeout
    finally:
        sock.close()
    wire.transport = "tcp"
    return _ask_tcp(q, where, port, end, wire)


def _ask_tcp(q, where, port, end, wire: _Wire):
    sock = _connect(where, port, end)
    rec = _Recorder(sock)
    try:
        sock.setblocking(False)
        reply = dns.query.tcp(q, where, timeout=_left(end), port=port, sock=rec)
        wire.size = max(len(rec.stream) - 2, 0)
        return reply
    finally:
        sock.close()


def _tls_context(cafile: str | None, insecure: bool, alpn: list[str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(alpn)
    return ctx


def _ask_tls(q, where, port, end, wire: _Wire, hostname: str, cafile, insecure):
    ctx = _tls_context(cafile, insecure, ["dot"])
    sock = _connect(where, port, end)
    try:
        ssock = ctx.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    except BaseException:
        sock.close()
        raise
    try:
        ssock.settimeout(_left(end))
        ssock.do_handshake()
        cipher = ssock.cipher()
        wire.tls = f"{ssock.version()} {cipher[0] if cipher else ''}".strip()
        ssock.setblocking(False)
        rec = _Recorder(ssock)
        reply = dns.query.tcp(q, where, timeout=_left(end), port=port, sock=rec)
        wire.size = max(len(rec.stream) - 2, 0)
        return reply
    finally:
        ssock.close()


def _http_module():
    """The HTTP client module dnspython's DoH uses (httpx2 in dnspython 2.9, httpx before)."""
    return getattr(dns.query, "httpx2", None) or getattr(dns.query, "httpx", None)


class _HttpStatus(Exception):
    pass


def _doh_body(response, url: str) -> bytes:
    """The body of a DoH reply, checked before it is used: a 2xx status, the
    application/dns-message media type (an HTML page from a captive portal, a CDN or a
    wrong path says so instead of failing as a bad DNS message), and at most
    DOH_MAX_REPLY bytes, the most a DNS message can be: a bigger declared length fails
    at once, a longer body as soon as the limit is passed (it is never held whole)."""
    ctype = response.headers.get("content-type")
    media = (ctype or "").split(";", 1)[0].strip()
    shown = _printable(media[:80]) if media else None
    if not 200 <= response.status_code <= 299:
        answered = f" (it answered {shown})" if shown else ""
        raise _HttpStatus(f"HTTP {response.status_code} {_printable(response.reason_phrase or '')} from {url}, "
                          f"not a DNS message{answered}")
    if media.lower() != DOH_MEDIA_TYPE:
        raise _HttpStatus(f"the server answered {shown or 'without a Content-Type'}, not {DOH_MEDIA_TYPE} "
                          f"({url}): is this a DNS-over-HTTPS endpoint?")
    too_big = f"the DoH reply from {url} is over {DOH_MAX_REPLY:,} bytes, the most a DNS message can be"
    declared = (response.headers.get("content-length") or "").strip()
    if declared.isdigit() and int(declared) > DOH_MAX_REPLY:
        raise _HttpStatus(f"{too_big} (Content-Length: {int(declared):,}); not read")
    encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise _HttpStatus(f"the DoH reply from {url} is encoded as {_printable(encoding[:40])!r}, which netlab "
                          "does not decode (it asked for identity)")
    raw = bytearray()
    for chunk in response.iter_raw():  # as received; decoded below, within the same limit
        raw += chunk
        if len(raw) > DOH_MAX_REPLY:
            raise _HttpStatus(f"{too_big}: stopped reading after {len(raw):,} bytes")
    if encoding == "identity":
        return bytes(raw)
    try:  # gzip or zlib-wrapped deflate (wbits 47 detects either), else raw deflate
        inflater = zlib.decompressobj(47 if encoding != "deflate" or raw[:1] == b"\x78" else -15)
        body = inflater.decompress(bytes(raw), DOH_MAX_REPLY + 1)
    except zlib.error as exc:
        raise _HttpStatus(f"the DoH reply from {url} says Content-Encoding: {encoding}, but does not "
                          f"decode: {exc}") from None
    if len(body) > DOH_MAX_REPLY:
        raise _HttpStatus(f"{too_big} once decoded ({encoding})")
    return body


def _ask_https(q, where, port, end, wire: _Wire, hostname: str, path: str, cafile, insecure):
    """DNS over HTTPS (RFC 8484) with POST, as dnspython's ``dns.query.https`` asks, on an
    HTTP client of our own so the reply is checked (``_doh_body``) before it is parsed."""
    http = _http_module()
    if not doh_available() or http is None:
        raise _HttpStatus(_doh_missing())
    host = f"[{hostname}]" if ":" in hostname else hostname
    url = f"https://{host}:{port}{path}"
    wire.url = url
    ctx = _tls_context(cafile, insecure, ["h2", "http/1.1"])
    try:
        client = http.Client(verify=ctx, http1=True, http2=True)
    except ImportError:  # http2=True without h2
        client = http.Client(verify=ctx)
    data = q.to_wire()
    headers = {"accept": DOH_MEDIA_TYPE, "content-type": DOH_MEDIA_TYPE, "accept-encoding": "identity"}
    with client, client.stream("POST", url, content=data, headers=headers, timeout=_left(end)) as response:
        try:  # the TLS details of the connection the reply came on
            obj = response.extensions["network_stream"].get_extra_info("ssl_object")
            c = obj.cipher()
            wire.tls = f"{obj.version()} {c[0] if c else ''}".strip()
        except Exception:  # noqa: BLE001 - details only
            pass
        wire.tls = " ".join(x for x in (response.http_version, wire.tls) if x)
        body = _doh_body(response, url)
    wire.size = len(body)
    reply = dns.message.from_wire(body, keyring=q.keyring, request_mac=q.mac)
    if not q.is_response(reply):
        raise dns.query.BadResponse
    return reply


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _no_answer(exc: Any, at: str, timeout: float) -> tuple[str, str]:
    return "timeout", f"no answer from {at} within {timeout:g} s"


def _untrusted(exc: Any, at: str, timeout: float) -> tuple[str, str]:
    return "tls", (f"the certificate of {at} is not trusted: {exc.verify_message or exc.reason} "
                   "(give its CA with --cacert, or skip verification with --insecure)")


def _handshake_failed(exc: Any, at: str, timeout: float) -> tuple[str, str]:
    reason = exc.reason or str(exc)
    if reason == "WRONG_VERSION_NUMBER":
        reason += " (does this port speak TLS?)"
    return "tls", f"the TLS handshake with {at} failed: {reason}"


# (exception types, (kind, message)), the first match wins: subclasses before their bases
# (a certificate error is an SSLError, which is an OSError; socket.timeout is one too).
_FAILURES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...],
                       Callable[[Any, str, float], tuple[str, str]]], ...] = (
    (_HttpStatus, lambda exc, at, timeout: ("config" if "not installed" in str(exc) else "malformed", str(exc))),
    ((dns.exception.Timeout, socket.timeout, TimeoutError), _no_answer),
    (ssl.SSLCertVerificationError, _untrusted),
    (ssl.SSLError, _handshake_failed),
    (EOFError, lambda exc, at, timeout: ("network", f"{at} closed the connection before answering")),
    (ConnectionRefusedError,
     lambda exc, at, timeout: ("network", f"connection refused by {at} (is a DNS server listening there?)")),
    (ConnectionResetError, lambda exc, at, timeout: ("network", f"connection reset by {at}")),
    (OSError, lambda exc, at, timeout: ("network", f"{exc.strerror or exc} (talking to {at})")),
    (dns.query.BadResponse, lambda exc, at, timeout: (
        "malformed", f"the reply from {at} does not answer the question asked (ID or question differs)")),
    # dnspython raises ValueError / UnicodeDecodeError for some bad fields (an EDE text not UTF-8)
    ((dns.exception.DNSException, UnicodeError, ValueError, struct.error), lambda exc, at, timeout: (
        "malformed", f"the reply from {at} is not a valid DNS message: {type(exc).__name__}: {_one_line(exc)}")),
)


def _classify_http(exc: BaseException, at: str, timeout: float, http) -> tuple[str, str] | None:
    """httpx's own errors (DoH): a timeout, or the TLS / socket error underneath; None if not httpx's."""
    if isinstance(exc, getattr(http, "TimeoutException", ())):
        return _no_answer(exc, at, timeout)
    if isinstance(exc, getattr(http, "HTTPError", ())):
        for inner in _chain(exc):
            if isinstance(inner, (ssl.SSLError, OSError)) and inner is not exc:
                return _classify(inner, at, timeout)
        return "network", f"HTTPS to {at} failed: {exc}"
    return None


def _classify(exc: BaseException, at: str, timeout: float) -> tuple[str, str]:
    """A failed exchange with ``at`` as (kind, message): timeout, tls, network, malformed or config."""
    http = _http_module()
    if http is not None:
        verdict = _classify_http(exc, at, timeout, http)
        if verdict is not None:
            return verdict
    for types, describe in _FAILURES:
        if isinstance(exc, types):
            return describe(exc, at, timeout)
    return "network", f"{type(exc).__name__}: {_one_line(exc)} (talking to {at})"


def _one_line(exc: BaseException) -> str:
    """An exception's text on one line, control characters escaped (dnspython's messages
    are wrapped docstrings; some quote the reply's bytes)."""
    return _printable(" ".join(str(exc).split()))


# ---------------------------------------------------------------------------------- lookup


class _NoQuery(Exception):
    """A lookup that ends before any query is sent; ``error`` is its (kind, message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.error = (kind, message)


def _lookup_rdtype(rdtype: str | int) -> dns.rdatatype.RdataType:
    """``parse_rdtype``, its refusal as a usage error."""
    try:
        return parse_rdtype(rdtype)
    except ValueError as exc:
        raise _NoQuery("usage", str(exc)) from None


def _check_lookup_options(port: object, given_port: object, timeout: object, payload: object, name: object) -> None:
    """The port, timeout, EDNS buffer size and name of a lookup, in that order: a usage error if bad."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise _NoQuery("usage", f"bad port {given_port!r} (1-65535)")
    if not isinstance(timeout, (int, float)) or not timeout or timeout <= 0:
        raise _NoQuery("usage", f"the timeout must be positive, not {timeout!r}")
    if payload is not None and not (isinstance(payload, int) and 512 <= payload <= 65535):
        raise _NoQuery("usage", f"the EDNS buffer size must be 512-65535, not {payload!r}")
    if not name or not str(name).strip():
        raise _NoQuery("usage", "no name to look up")


def _reverse_qname(name: str) -> str:
    """``reverse_name``, its refusal as a usage error."""
    try:
        return reverse_name(name)
    except ValueError as exc:
        raise _NoQuery("usage", str(exc)) from None


def _lookup_qname(text: str, name: object) -> dns.name.Name:
    """The name to ask, parsed; a usage error naming what the user gave if it is not a DNS name."""
    try:
        return dns.name.from_text(text.strip())
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise _NoQuery("usage", f"{name!r} is not a valid DNS name: {exc}") from None


def _default_server(qname: dns.name.Name) -> str:
    """The first system name server, when the user named none; special-use names are not sent there."""
    refused = _special_refusal(qname.to_text())
    if refused:
        raise _NoQuery("usage", refused)
    servers = system_servers()
    if not servers:
        raise _NoQuery("config", "no DNS server configured (/etc/resolv.conf has no nameserver); "
                                 "give one, e.g. 127.0.0.1")
    return servers[0]


def _server_ip(where: str, port: int, server: str | None) -> str:
    """``_server_address``: the server's IP address; a usage error if a name does not resolve."""
    try:
        return _server_address(where, port)
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _NoQuery("usage", f"DNS server {server!r} is not an IP address and cannot be resolved: "
                                f"{reason}") from None


def _make_query(qname: dns.name.Name, rt: dns.rdatatype.RdataType, *, rd: bool, cd: bool, do: bool,
                payload: int | None) -> dns.message.QueryMessage:
    """The query message: RD and CD as asked; EDNS with ``payload`` (and DO) when a payload is set."""
    ednsflags = dns.flags.DO if do else 0
    q = dns.message.make_query(qname, rt, use_edns=0 if payload is not None else None, want_dnssec=do,
                               ednsflags=ednsflags if payload is not None else None, payload=payload,
                               flags=dns.flags.RD if rd else 0)
    if cd:
        q.flags |= dns.flags.CD
    return q


def _exchange(used: str, q, where: str, port: int, end: float, wire: _Wire, *, tc_retry: bool, hostname: str,
              path: str, cafile: str | None, insecure: bool):
    """Send ``q`` over the transport ``used`` and read the reply (each transport raises its own errors)."""
    if used == "udp":
        return _ask_udp(q, where, port, end, wire, tc_retry)
    if used == "tcp":
        return _ask_tcp(q, where, port, end, wire)
    if used == "tls":
        return _ask_tls(q, where, port, end, wire, hostname, cafile, insecure)
    return _ask_https(q, where, port, end, wire, hostname, path, cafile, insecure)


def lookup(name: str, rdtype: str | int = "A", server: str | None = None, port: int | None = None,
           transport: str = "udp", timeout: float = 5.0, *, rd: bool = True, cd: bool = False, do: bool = False,
           payload: int | None = None, tc_retry: bool = True, reverse: bool = False,
           tls_hostname: str | None = None, cafile: str | None = None, insecure: bool = False,
           path: str = DOH_PATH) -> DnsResult:
    """Ask ``server`` (default: the first system name server) for ``name``/``rdtype``.

    ``port`` defaults to the transport's (53, 853 for tls, 443 for https).  ``reverse``:
    ``name`` is an IP address, asked as its in-addr.arpa / ip6.arpa name.  ``payload``
    (or ``do``) adds EDNS with that UDP payload size (default 1232 with ``do``).
    ``tls_hostname`` is the name the TLS certificate must carry (default: the server as given)."""
    t0 = time.perf_counter()
    qtype = str(rdtype).strip().upper() if rdtype is not None else ""
    used = (transport or "").lower()
    where = "" if server is None else str(server)
    qname_text = str(name) if name is not None else ""
    given_port = port
    port = port if port is not None else DEFAULT_PORTS.get(used, 53)
    flags_asked = tuple(f for f, on in (("rd", rd), ("cd", cd), ("do", do)) if on)
    edns_payload = payload if payload is not None else (DEFAULT_PAYLOAD if do else None)
    server_name = None

    def result(error=None, reply=None, wire: _Wire | None = None) -> DnsResult:
        elapsed = (time.perf_counter() - t0) * 1000
        via = wire.transport if wire else used
        make = partial(DnsResult, query_flags=flags_asked, payload=edns_payload,
                       udp_truncated=bool(wire and wire.truncated), tls=wire.tls if wire else None,
                       url=wire.url if wire else None, server_name=server_name)
        size = wire.size if wire else None
        if reply is None:
            return make(qname_text, qtype, where, port, via, None, (), (), (), (), elapsed, size, error)
        return make(qname_text, qtype, where, port, via, dns.rcode.to_text(reply.rcode()), _flags(reply),
                    _records(reply.answer), _records(reply.authority), _records(reply.additional),
                    elapsed, size, error, _edns(reply))

    try:  # every check before a query is sent; the first that fails is the answer
        if used not in TRANSPORTS:
            raise _NoQuery("usage", f"unknown transport {transport!r} (use udp, tcp, tls or https)")
        rt = _lookup_rdtype(rdtype)
        qtype = dns.rdatatype.to_text(rt)
        _check_lookup_options(port, given_port, timeout, edns_payload, name)
        if reverse:
            qname_text = _reverse_qname(str(name))
        qname = _lookup_qname(qname_text, name)
        if server is None or not str(server).strip():
            where = _default_server(qname)
        given = where.strip().strip("[]")
        where = _server_ip(where, port, server)
        if given != where and given.split("%", 1)[0] != where.split("%", 1)[0]:
            server_name = given
        if used == "https" and not doh_available():
            raise _NoQuery("config", _doh_missing())
    except _NoQuery as stop:
        return result(stop.error)
    at = _hostport(where, port)
    q = _make_query(qname, rt, rd=rd, cd=cd, do=do, payload=edns_payload)
    wire = _Wire(used)
    end = time.monotonic() + float(timeout)
    try:
        reply = _exchange(used, q, where, port, end, wire, tc_retry=tc_retry, hostname=tls_hostname or given,
                          path=path or DOH_PATH, cafile=cafile, insecure=insecure)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a (kind, message)
        return result(_classify(exc, at, float(timeout)), wire=wire)
    return result(reply=reply, wire=wire)


def _special_refusal(name: str, asked: str = "the system's DNS servers") -> str | None:
    """Why a special-use name is not sent to servers the user did not name (None: send it)."""
    special = special_use(name)
    if special is None:
        return None
    local = ("sends use 127.0.0.1 and ::1 for it" if special.addresses
             else "sends fail with NXDOMAIN for it")
    return (f"{name.rstrip('.')!r} is a {special.why}: netlab does not send it to {asked}, which may be off "
            f"this machine ({local}, without a query); name a server to ask it anyway, e.g. @127.0.0.1")


def lookup_many(name: str, rdtypes, **kwargs) -> list[DnsResult]:
    """One ``lookup`` per record type (several types in one request, like doggo)."""
    types = list(rdtypes) or ["A"]
    return [lookup(name, t, **kwargs) for t in types]


# ------------------------------------------------------------------------ engine resolution


def _resolution_plan(name: str, server: tuple[str, int] | None,
                     config: SystemConfig | None) -> tuple[list[tuple[str, int]], list[str]]:
    """The servers to ask and the names to try, in order: the name as given to ``server``, or
    the system's name servers with the search domains (before the name when it has fewer
    dots than ``ndots``, as glibc does).  A config error when no server is configured."""
    lname = name.rstrip(".")
    if server is not None:
        return [(str(server[0]), int(server[1]))], [lname]
    config = config or system_config()
    servers = [(s, 53) for s in config.servers]
    if not servers:
        raise _NoQuery("config", f"no DNS server configured ({config.path} has no nameserver)")
    if name.endswith("."):
        return servers, [lname]
    # a search domain under .localhost or .invalid would make a special-use name: left out
    searched = [f"{lname}.{d}" for d in config.search if special_use(d) is None]
    return servers, ([lname, *searched] if lname.count(".") >= config.ndots else [*searched, lname])


class _AddressSearch:
    """One ``resolve_addresses``: asks each name of the plan on each server until one
    answers, and keeps every result, every problem and the addresses found."""

    def __init__(self, name: str, servers: list[tuple[str, int]], end: float, timeout: float) -> None:
        self.name = name
        self.servers = servers
        self.end = end
        self.timeout = timeout
        self.results: list[DnsResult] = []
        self.problems: list[tuple[str, str]] = []
        self.addresses: list[str] = []
        self.answered_by: str | None = None

    def _first_reply(self, qname: str, rdtype: str) -> DnsResult | None:
        """The first NOERROR or NXDOMAIN reply for ``qname`` from the servers in turn (None: none
        gave one, or the time is up); what the others said goes to ``problems``."""
        for host, port in self.servers:
            left = self.end - time.monotonic()
            if left <= 0:
                self.problems.append(("timeout", f"no DNS answer for {self.name!r} within {self.timeout:g} s"))
                return None
            r = lookup(qname, rdtype, server=host, port=port, timeout=left)
            self.results.append(r)
            if r.error is not None:
                self.problems.append(r.error)
            elif r.rcode in ("NOERROR", "NXDOMAIN"):
                return r
            else:
                self.problems.append(("rcode", f"{r.at} answered {r.rcode}"))
        return None

    def verdict(self, rdtype: str, candidates: list[str]) -> str:
        """Ask for one record type: ``answer`` (addresses added), ``nodata``, ``nxdomain`` (no
        candidate exists) or ``none`` (no server answered)."""
        verdict = None
        for qname in candidates:
            got = self._first_reply(qname, rdtype)
            if got is None:
                continue
            if got.rcode == "NXDOMAIN":
                verdict = verdict or "nxdomain"
                continue  # the next search candidate
            found = [rec.data for rec in got.answer if rec.type == rdtype]
            if not found:
                return "nodata"
            self.addresses += [a for a in dict.fromkeys(found) if a not in self.addresses]
            self.answered_by = self.answered_by or got.at
            return "answer"
        return verdict or "none"

    def failure(self, verdicts: list[str]) -> tuple[str, str]:
        """Why no address was found, from the per-type verdicts and the problems on the way."""
        name, problems = self.name, self.problems
        if "nxdomain" in verdicts and "nodata" not in verdicts:
            return "nxdomain", f"{name!r} does not exist (NXDOMAIN)"
        if "nodata" in verdicts:
            return "nodata", f"{name!r} has no A or AAAA records"
        timeouts = [p for p in problems if p[0] == "timeout"]
        if timeouts and len(timeouts) == len(problems):
            servers_text = ", ".join(_hostport(h, p) for h, p in self.servers)
            return "timeout", f"no DNS answer for {name!r} within {self.timeout:g} s (servers: {servers_text})"
        kind, message = next(((k, m) for k, m in problems if k != "timeout"), problems[0] if problems else
                             ("network", "no server could be asked"))
        return kind, f"DNS lookup of {name!r} failed: {message}"


def resolve_addresses(name: str, *, server: tuple[str, int] | None = None, timeout: float = 5.0,
                      config: SystemConfig | None = None) -> AddressAnswer:
    """A and AAAA records for a host name, through ``lookup`` (UDP, TCP on truncation).

    With ``server`` that one server is asked for the name as given.  Without it, the
    system's configuration is used like glibc does: each nameserver in turn (the next
    one when a server does not answer, or answers SERVFAIL/REFUSED), and the search
    domains for a name with fewer dots than ``ndots``.  ``timeout`` bounds the whole."""
    end = time.monotonic() + timeout
    special = special_use(name.rstrip("."))
    if special is not None:  # never a query for these, whichever server (netlab.engine.resolve answers first)
        if special.addresses:
            return AddressAnswer(name, special.addresses, None, (), None)
        return AddressAnswer(name, (), None, (), ("nxdomain", special.nxdomain_message(name)))
    try:
        servers, candidates = _resolution_plan(name, server, config)
    except _NoQuery as stop:
        return AddressAnswer(name, (), None, (), stop.error)
    search = _AddressSearch(name, servers, end, timeout)
    verdicts = [search.verdict(rdtype, candidates) for rdtype in ("A", "AAAA")]
    if search.addresses:
        return AddressAnswer(name, tuple(search.addresses), search.answered_by, tuple(search.results), None)
    return AddressAnswer(name, (), None, tuple(search.results), search.failure(verdicts))


# ------------------------------------------------------------------------------------ trace


def load_hints(path: str | None = None) -> tuple[str, list[tuple[str, list[str]]]]:
    """Root hints: (source, [(ns name, [addresses])]).  A named.root style file
    (``. NS a.root-servers.net.`` and ``a.root-servers.net. A 198.41.0.4``), or bare
    addresses one per line.  Without ``path``: the system's root.hints, else built-in."""
    if path is None:
        for candidate in ROOT_HINTS_PATHS:
            if os.path.exists(candidate):
                path = candidate
                break
        else:
            return "built-in", [(n, list(a)) for n, a in BUILTIN_ROOT_HINTS]
    names: list[str] = []
    addrs: dict[str, list[str]] = {}
    bare: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split(";", 1)[0].split()
            if not fields:
                continue
            if len(fields) == 1:
                try:
                    bare.append(str(ipaddress.ip_address(fields[0])))
                    continue
                except ValueError:
                    raise ValueError(f"{path}:{lineno}: expected an address or a record, not {fields[0]!r}") from None
            upper = [x.upper() for x in fields]
            kind = next((k for k in ("NS", "AAAA", "A") if k in upper[1:]), None)
            if kind is None:
                continue
            i = upper.index(kind, 1)
            if i + 1 >= len(fields):
                raise ValueError(f"{path}:{lineno}: {kind} record without data")
            owner, data = fields[0].lower(), fields[i + 1]
            if not owner.endswith("."):
                owner += "."
            if kind == "NS":
                target = data.lower() if data.endswith(".") else data.lower() + "."
                if target not in names:
                    names.append(target)
            else:
                try:
                    addrs.setdefault(owner, []).append(str(ipaddress.ip_address(data)))
                except ValueError:
                    raise ValueError(f"{path}:{lineno}: {data!r} is not an IP address") from None
    servers = [(n, sorted(addrs.get(n, []), key=lambda a: ":" in a)) for n in names]
    servers += [(a, [a]) for a in bare]
    servers = [(n, a) for n, a in servers if a]
    if not servers:
        raise ValueError(f"{path}: no root servers with addresses found")
    return path, servers


class _Tracer:
    MAX_QUERIES = 100
    MAX_HOPS = 30
    MAX_DEPTH = 4

    def __init__(self, roots, port, timeout, transport, flags) -> None:
        self.roots = roots
        self.port = port
        self.timeout = timeout
        self.transport = transport
        self.flags = flags  # cd / do / payload
        self.steps: list[TraceStep] = []
        self.queries = 0
        self.busy: set[str] = set()

    def _ask(self, qname, rdtype, address):
        self.queries += 1
        return lookup(qname, rdtype, server=address, port=self.port, transport=self.transport,
                      timeout=self.timeout, rd=False, **self.flags)

    def _addresses(self, nsname: str, depth: int, purpose_of: str) -> list[str]:
        """Addresses of a name server that came without glue: resolved from the roots too."""
        if depth >= self.MAX_DEPTH or nsname in self.busy:
            return []
        self.busy.add(nsname)
        try:
            out = []
            for rdtype in ("A", "AAAA"):  # AAAA only when there is no A
                final, _err = self.run(nsname, rdtype, depth + 1, f"address of {nsname} (no glue)")
                if final is not None:
                    out += [r.data for r in final.answer if r.type == rdtype]
                if out:
                    break
            return out
        finally:
            self.busy.discard(nsname)

    def _who(self, address: str, nsname: str) -> str:
        """A server as a trace step names it: ``addr:port (ns name)``, or the address alone."""
        at = _hostport(address, self.port)
        return f"{at} ({nsname})" if nsname != address else at

    def _query_zone(self, servers, qname: str, rdtype: str, depth: int) -> _ZoneRound:
        """Ask a zone's servers in turn, glued ones first, until one answers NOERROR or NXDOMAIN.

        A server without glue is resolved first (``_addresses``); every failure is kept in
        ``failed``.  ``abort`` is set when the query budget ran out."""
        got = _ZoneRound()
        queue = [(n, a) for n, a in servers if a] + [(n, a) for n, a in servers if not a]
        for nsname, addrs in queue:
            if not addrs:
                addrs = self._addresses(nsname, depth, qname)
                if not addrs:
                    got.failed.append((nsname, "no address found for this name server"))
                    continue
            for address in addrs:
                if self.queries >= self.MAX_QUERIES:
                    got.abort = ("malformed", f"gave up after {self.MAX_QUERIES} queries (a delegation loop?)")
                    return got
                r = self._ask(qname, rdtype, address)
                got.last, got.last_name = r, nsname
                if r.error is not None:
                    got.failed.append((self._who(address, nsname), r.error[1]))
                elif r.rcode not in ("NOERROR", "NXDOMAIN"):
                    got.failed.append((self._who(address, nsname), f"answered {r.rcode}"))
                else:
                    got.reply, got.reply_name = r, nsname
                    return got
        return got

    def _no_reply(self, zone: str, got: _ZoneRound, purpose: str):
        """The end of a trace when no server of ``zone`` gave a usable reply: the last
        server's rcode (SERVFAIL, REFUSED…) as the result, or its error."""
        failed = got.failed
        last = got.last
        if last is None:
            return None, ("network", f"no server for zone {zone} could be asked: "
                                     + "; ".join(f"{w}: {m}" for w, m in failed))
        error = last.error
        kind = "noreply" if error is not None else "rcode"
        self.steps.append(TraceStep(zone, got.last_name, kind, last, failed=tuple(failed[:-1]), purpose=purpose))
        if error is None:
            return last, None
        return None, (error[0], f"no server for zone {zone} answered: "
                      + "; ".join(f"{w}: {m}" for w, m in failed))

    def run(self, qname: str, rdtype: str, depth: int = 0, purpose: str = ""):
        """(final result or None, error or None); every exchange is appended to ``steps``."""
        zone = "."
        servers = [(n, list(a)) for n, a in self.roots]
        target = dns.name.from_text(qname)
        for _hop in range(self.MAX_HOPS):
            got = self._query_zone(servers, qname, rdtype, depth)
            if got.abort is not None:
                return None, got.abort
            reply = got.reply
            if reply is None:
                return self._no_reply(zone, got, purpose)
            step = partial(TraceStep, zone=zone, server_name=got.reply_name, result=reply,
                           failed=tuple(got.failed), purpose=purpose)
            kind, child = _reply_kind(reply, zone, target)
            if child is None:
                self.steps.append(step(kind=kind))
                if kind == "lame":
                    return None, ("malformed", f"{reply.at} ({got.reply_name}) gave neither an answer nor a "
                                               f"referral below {zone} (a lame delegation)")
                return reply, None
            ns_names, servers = _delegation(reply, child)
            self.steps.append(step(kind="referral", next_zone=child, referral=tuple(ns_names)))
            zone = child
        return None, ("malformed", f"more than {self.MAX_HOPS} referrals: giving up")


@dataclass(slots=True)
class _ZoneRound:
    """What asking one zone's servers gave: the usable reply (and its server's name), the
    last reply of any kind, the failures on the way, or why the trace must stop."""
    reply: DnsResult | None = None
    reply_name: str = ""
    last: DnsResult | None = None
    last_name: str = ""
    failed: list[tuple[str, str]] = field(default_factory=list)
    abort: tuple[str, str] | None = None


def _child_zone(reply: DnsResult, zone: str, target: dns.name.Name) -> str | None:
    """The deepest zone the reply's NS records delegate to, between ``zone`` and the name asked."""
    parent = dns.name.from_text(zone)
    child = None
    for rec in reply.authority:
        if rec.type != "NS":
            continue
        cname = dns.name.from_text(rec.name)
        if target.is_subdomain(cname) and cname.is_subdomain(parent) and cname != parent:
            if child is None or cname.is_subdomain(dns.name.from_text(child)):
                child = rec.name
    return child


def _reply_kind(reply: DnsResult, zone: str, target: dns.name.Name) -> tuple[str, str | None]:
    """How a usable reply moves a trace: (``nxdomain`` | ``answer`` | ``nodata`` | ``lame``, None)
    ends it; (``referral``, child zone) goes one zone down."""
    if reply.rcode == "NXDOMAIN":
        return "nxdomain", None
    if reply.answer:
        return "answer", None
    child = _child_zone(reply, zone, target)
    if child is not None:
        return "referral", child
    if "aa" in reply.flags or any(r.type == "SOA" for r in reply.authority):
        return "nodata", None
    return "lame", None


def _delegation(reply: DnsResult, child: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """A referral's name servers for ``child`` and (name, glue addresses, IPv4 first) to ask next."""
    # Sorted, so the same question gives the same trace (servers shuffle their NS sets).
    ns_names = sorted({r.data.lower() for r in reply.authority if r.type == "NS" and r.name == child})
    glue: dict[str, list[str]] = {}
    for r in reply.additional:
        if r.type in ("A", "AAAA"):
            glue.setdefault(r.name.lower(), []).append(r.data)
    return ns_names, [(n, sorted(glue.get(n, []), key=lambda a: ":" in a)) for n in ns_names]


def _trace_qname(name: str, reverse: bool) -> str:
    """The name a trace asks, absolute (an address's reverse name with ``reverse``); a usage error if bad."""
    qname = str(name or "").strip()
    if not qname:
        raise _NoQuery("usage", "no name to look up")
    if reverse:
        qname = _reverse_qname(qname)
    try:
        return dns.name.from_text(qname).to_text()
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise _NoQuery("usage", f"{name!r} is not a valid DNS name: {exc}") from None


def _trace_roots(qname: str, root: str | None, hints: str | None) -> tuple[str, list[tuple[str, list[str]]]]:
    """Where a trace starts: (source, [(ns name, addresses)]) -- the ``root`` address, else the
    root hints (``hints``, the system's or the built-in: the real roots, so no special-use names)."""
    if root is not None:
        try:
            address = str(ipaddress.ip_address(str(root).strip().strip("[]")))
        except ValueError:
            raise _NoQuery("usage", f"the server to start a trace from must be an IP address, not {root!r}") from None
        return hints or f"@{root}", [(address, [address])]
    if hints is None:
        refused = _special_refusal(qname, "the root servers")
        if refused:
            raise _NoQuery("usage", refused)
    try:
        return load_hints(hints)
    except OSError as exc:
        raise _NoQuery("usage", f"cannot read the root hints {hints!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _NoQuery("usage", str(exc)) from None


def trace(name: str, rdtype: str | int = "A", *, hints: str | None = None, root: str | None = None,
          port: int = 53, timeout: float = 5.0, transport: str = "udp", reverse: bool = False, do: bool = False,
          cd: bool = False, payload: int | None = None) -> TraceResult:
    """Iterative resolution from the root hints, without recursion (RD off), like
    ``dig +trace``: each server's referral, then the answer of the last one.  ``root``:
    start from this server's address instead of the hints.  ``port`` is used for every
    server (as ``dig -p`` does), which lets tests put a whole delegation chain on
    loopback addresses."""
    t0 = time.perf_counter()
    qtype = str(rdtype).upper()
    source = hints or (f"@{root}" if root else "")

    def done(steps=(), final=None, error=None, qname=str(name)) -> TraceResult:
        return TraceResult(qname, qtype, source, port, transport, tuple(steps), final,
                           (time.perf_counter() - t0) * 1000, error)

    try:  # the question and the options: errors name the name as given
        if transport not in ("udp", "tcp"):
            raise _NoQuery("usage", f"--trace asks over udp or tcp, not {transport!r}")
        qtype = dns.rdatatype.to_text(_lookup_rdtype(rdtype))
        if not isinstance(port, int) or not 0 < port < 65536:
            raise _NoQuery("usage", f"bad port {port!r} (1-65535)")
        if not timeout or timeout <= 0:
            raise _NoQuery("usage", f"the timeout must be positive, not {timeout!r}")
        qname = _trace_qname(name, reverse)
    except _NoQuery as stop:
        return done(error=stop.error)
    try:
        source, roots = _trace_roots(qname, root, hints)
    except _NoQuery as stop:
        return done(error=stop.error, qname=qname)
    tracer = _Tracer(roots, port, float(timeout), transport, {"do": do, "cd": cd, "payload": payload})
    final, error = tracer.run(qname, qtype)
    return done(tracer.steps, final, error, qname)


# ------------------------------------------------------------------------- getaddrinfo side


def _nsswitch_hosts(path: str = NSSWITCH_CONF) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].strip()
                if fields.startswith("hosts:"):
                    return " ".join(fields[len("hosts:"):].split())
    except OSError:
        pass
    return None


def system_lookup(name: str, timeout: float = 5.0, *, hosts_path: str | None = None,
                  resolv_conf: str = RESOLV_CONF) -> SystemAnswer:
    """What ``getaddrinfo(name)`` (the C library's resolver, behind ``requests.get``)
    returns, beside what explains it: the hosts file's entry, the search list, ndots and
    nsswitch's order.  getaddrinfo cannot be interrupted: it runs in a daemon thread and
    is given up on (reported as a timeout) after ``timeout`` seconds.

    Careful: for a name that is not in the hosts file this asks the system's DNS servers."""
    from netlab.engine.system import HOSTS_PATH, read_hosts

    hosts_path = hosts_path or HOSTS_PATH
    t0 = time.perf_counter()
    config = system_config(resolv_conf)
    box: dict = {}

    def run() -> None:
        try:
            box["infos"] = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    addresses: list[str] = []
    canon = None
    error = None
    text = str(name or "").strip()
    nsswitch = _nsswitch_hosts()
    special = special_use(text) if text else None
    if special is not None and not (read_hosts(text.rstrip(".").lower(), hosts_path)
                                    and (nsswitch or "files").split()[:1] == ["files"]):
        # getaddrinfo would ask the system's DNS servers (glibc has no RFC 6761 rule): not asked
        error = ("skipped", f"{text.rstrip('.')!r} is a {special.why} that {hosts_path} does not answer: "
                            "getaddrinfo was not called, as it would ask the system's DNS servers "
                            f"({'127.0.0.1 and ::1' if special.addresses else 'NXDOMAIN'} is the answer "
                            "RFC-conforming resolvers give, and what sends use)")
    elif not text:
        error = ("usage", "no name to look up")
    else:
        worker = threading.Thread(target=run, name="getaddrinfo", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            error = ("timeout", f"getaddrinfo({text!r}) did not return within {timeout:g} s")
        elif "error" in box:
            exc = box["error"]
            if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_NONAME:
                error = ("noname", f"getaddrinfo: {exc.strerror or exc}")
            elif isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
                error = ("again", f"getaddrinfo: {exc.strerror or exc} (no DNS server answered)")
            else:
                error = ("error", f"getaddrinfo: {getattr(exc, 'strerror', None) or exc}")
        else:
            for _fam, _type, _proto, cname, sockaddr in box.get("infos", []):
                if cname and canon is None:
                    canon = cname
                if sockaddr[0] not in addresses:
                    addresses.append(sockaddr[0])
    hosts = tuple(read_hosts(text.rstrip(".").lower(), hosts_path)) if text else ()
    return SystemAnswer(text, tuple(addresses), canon, hosts, hosts_path, config.search, config.ndots,
                        nsswitch, (time.perf_counter() - t0) * 1000, error)
