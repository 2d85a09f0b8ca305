"""The DNS lab's values: what one query gave (``DnsResult`` with its ``Record``s and
``Edns``), a server as a user writes it (``ServerSpec``), a trace and its steps, the
engine's address answer (``AddressAnswer``) and what a send resolved (``Resolution``),
and the constants the rest of the package shares.

Plain frozen dataclasses without dnspython, so that a caller holding results (the UI,
the CLI's printers, the history) imports no DNS library.  Names and record data come
from the network: they are made printable (``printable``) before they are stored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netlab.engine.request import host_port
from netlab.engine.text import safe_text

__all__ = [
    "Record", "Edns", "DnsResult", "ServerSpec", "TraceStep", "TraceResult", "AddressAnswer", "Resolution",
    "NoQuery",
    "printable", "TRANSPORTS", "DEFAULT_PORTS", "ERROR_KINDS", "DEFAULT_PAYLOAD", "DOH_PATH", "DOH_MEDIA_TYPE",
    "DOH_MAX_REPLY",
]

TRANSPORTS = ("udp", "tcp", "tls", "https")
DEFAULT_PORTS = {"udp": 53, "tcp": 53, "tls": 853, "https": 443}
ERROR_KINDS = ("usage", "config", "timeout", "network", "tls", "malformed")
DEFAULT_PAYLOAD = 1232  # the EDNS buffer size of DNS flag day 2020 (dig's default too)
DOH_PATH = "/dns-query"
DOH_MEDIA_TYPE = "application/dns-message"
DOH_MAX_REPLY = 65535  # bytes: a DNS message never exceeds this (TCP's 16-bit length prefix)


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
        return host_port(self.server, self.port) if self.server else "(no server)"

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
        s = host_port(self.host, self.port or None)
        if self.transport:
            s = f"{self.transport}://{s}{self.path or ''}"
        return s



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


@dataclass(slots=True)
class Resolution:
    """Name → addresses as a send resolved it (netlab.engine.resolve): which source answered,
    every address, and (after connect) the one used.  Here, below the socket code, because
    a pooled connection (netlab.engine.transport.Conn) keeps the one its reuses report."""

    name: str
    addresses: list[str]
    source: str  # literal | pin | hosts | special-use | dns | unix
    server: str | None = None
    elapsed_ms: float = 0.0
    used: str | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, why) tried before `used`
    queries: list = field(default_factory=list)  # source "dns": every DnsResult asked

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "addresses": list(self.addresses),
            "used": self.used,
            "source": self.source,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


class NoQuery(Exception):
    """A lookup that ends before any query is sent; ``error`` is its (kind, message)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.error = (kind, message)


def printable(text: str) -> str:
    """Network data as one line of text with every control character made visible
    (dnspython escapes most of them itself; EDNS option texts and names it does not)."""
    return safe_text(str(text), keep_newlines=False)
