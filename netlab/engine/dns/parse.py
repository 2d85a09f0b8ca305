"""What a user types for the DNS lab, parsed: a record type (``MX``, ``TYPE65``, ``15``),
a server (``127.0.0.1#5353``, ``[::1]:53``, ``tls://1.1.1.1``, ``https://dns.example/dns-query``)
and an address to reverse (``127.0.0.1`` → ``1.0.0.127.in-addr.arpa.``).

Each parser raises ValueError with a message for the user; ``lookup_rdtype`` and
``reverse_qname`` give the same refusal as a lookup's usage error (``NoQuery``).
"""

from __future__ import annotations

import urllib.parse

import dns.exception
import dns.rdatatype
import dns.reversename

from netlab.engine.dns.model import DOH_PATH, NoQuery, ServerSpec

__all__ = ["parse_rdtype", "is_rdtype", "parse_server", "parse_dns_server", "reverse_name", "lookup_rdtype",
           "reverse_qname"]

_NOT_QUERYABLE = {dns.rdatatype.AXFR, dns.rdatatype.IXFR, dns.rdatatype.OPT, dns.rdatatype.TSIG,
                  dns.rdatatype.TKEY}
_SCHEMES = {"udp": "udp", "dns": "udp", "tcp": "tcp", "tls": "tls", "dot": "tls", "https": "https", "doh": "https"}


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


def lookup_rdtype(rdtype: str | int) -> dns.rdatatype.RdataType:
    """``parse_rdtype``, its refusal as a usage error."""
    try:
        return parse_rdtype(rdtype)
    except ValueError as exc:
        raise NoQuery("usage", str(exc)) from None


def reverse_qname(name: str) -> str:
    """``reverse_name``, its refusal as a usage error."""
    try:
        return reverse_name(name)
    except ValueError as exc:
        raise NoQuery("usage", str(exc)) from None
