"""One question to one server, and everything the answer holds (``lookup``).

Unlike a resolver (which only wants addresses), ``lookup`` shows the DNS exchange
itself, like ``dig``: the server and transport used, the response code, the header
flags, the EDNS details, the answer / authority / additional sections with TTLs, the
time it took and the size of the reply.  Every check comes before a query is sent (a
``usage`` or ``config`` error instead); the query is built with dnspython
(``dns.message.make_query``) and sent by netlab.engine.dns.exchange; the reply becomes
plain values (netlab.engine.dns.model), its texts made printable.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from functools import partial

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from netlab.engine.dns import exchange, system
from netlab.engine.dns.model import (
    DEFAULT_PAYLOAD,
    DEFAULT_PORTS,
    DOH_PATH,
    TRANSPORTS,
    DnsResult,
    Edns,
    NoQuery,
    Record,
    printable,
)
from netlab.engine.dns.parse import lookup_rdtype, reverse_qname
from netlab.engine.request import host_port

__all__ = ["lookup", "lookup_many"]

# Header flags in dig's order.
_FLAG_ORDER = (("qr", dns.flags.QR), ("aa", dns.flags.AA), ("tc", dns.flags.TC), ("rd", dns.flags.RD),
               ("ra", dns.flags.RA), ("ad", dns.flags.AD), ("cd", dns.flags.CD))


def _records(rrsets) -> tuple[Record, ...]:
    out = []
    for rrset in rrsets:
        name = rrset.name.to_text()
        cls = dns.rdataclass.to_text(rrset.rdclass)
        rtype = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            out.append(Record(printable(name), int(rrset.ttl), cls, rtype, printable(_rdata_text(rdata))))
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



def _flags(message: dns.message.Message) -> tuple[str, ...]:
    return tuple(name for name, bit in _FLAG_ORDER if message.flags & bit)


def _option_text(opt) -> str:
    try:
        return printable(_option_text_raw(opt))
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



def _check_lookup_options(port: object, given_port: object, timeout: object, payload: object, name: object) -> None:
    """The port, timeout, EDNS buffer size and name of a lookup, in that order: a usage error if bad."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise NoQuery("usage", f"bad port {given_port!r} (1-65535)")
    if not isinstance(timeout, (int, float)) or not timeout or timeout <= 0:
        raise NoQuery("usage", f"the timeout must be positive, not {timeout!r}")
    if payload is not None and not (isinstance(payload, int) and 512 <= payload <= 65535):
        raise NoQuery("usage", f"the EDNS buffer size must be 512-65535, not {payload!r}")
    if not name or not str(name).strip():
        raise NoQuery("usage", "no name to look up")



def _lookup_qname(text: str, name: object) -> dns.name.Name:
    """The name to ask, parsed; a usage error naming what the user gave if it is not a DNS name."""
    try:
        return dns.name.from_text(text.strip())
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise NoQuery("usage", f"{name!r} is not a valid DNS name: {exc}") from None


def _default_server(qname: dns.name.Name) -> str:
    """The first system name server, when the user named none; special-use names are not sent there."""
    refused = system.special_refusal(qname.to_text())
    if refused:
        raise NoQuery("usage", refused)
    servers = system.system_servers()
    if not servers:
        raise NoQuery("config", "no DNS server configured (/etc/resolv.conf has no nameserver); "
                                 "give one, e.g. 127.0.0.1")
    return servers[0]


def _server_ip(where: str, port: int, server: str | None) -> str:
    """``_server_address``: the server's IP address; a usage error if a name does not resolve."""
    try:
        return _server_address(where, port)
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NoQuery("usage", f"DNS server {server!r} is not an IP address and cannot be resolved: "
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

    def result(error=None, reply=None, wire: exchange.Wire | None = None) -> DnsResult:
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
            raise NoQuery("usage", f"unknown transport {transport!r} (use udp, tcp, tls or https)")
        rt = lookup_rdtype(rdtype)
        qtype = dns.rdatatype.to_text(rt)
        _check_lookup_options(port, given_port, timeout, edns_payload, name)
        if reverse:
            qname_text = reverse_qname(str(name))
        qname = _lookup_qname(qname_text, name)
        if server is None or not str(server).strip():
            where = _default_server(qname)
        given = where.strip().strip("[]")
        where = _server_ip(where, port, server)
        if given != where and given.split("%", 1)[0] != where.split("%", 1)[0]:
            server_name = given
        if used == "https" and not exchange.doh_available():
            raise NoQuery("config", exchange.doh_missing())
    except NoQuery as stop:
        return result(stop.error)
    at = host_port(where, port)
    q = _make_query(qname, rt, rd=rd, cd=cd, do=do, payload=edns_payload)
    wire = exchange.Wire(used)
    end = time.monotonic() + float(timeout)
    try:
        reply = exchange.exchange(used, q, where, port, end, wire, tc_retry=tc_retry, hostname=tls_hostname or given,
                          path=path or DOH_PATH, cafile=cafile, insecure=insecure)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a (kind, message)
        return result(exchange.classify(exc, at, float(timeout)), wire=wire)
    return result(reply=reply, wire=wire)


def lookup_many(name: str, rdtypes, **kwargs) -> list[DnsResult]:
    """One ``lookup`` per record type (several types in one request, like doggo)."""
    types = list(rdtypes) or ["A"]
    return [lookup(name, t, **kwargs) for t in types]
