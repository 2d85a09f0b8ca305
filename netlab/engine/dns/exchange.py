"""One DNS query's exchange with one server over ``udp``, ``tcp``, ``tls`` (DNS over TLS,
RFC 7858) or ``https`` (DNS over HTTPS, RFC 8484), and what went wrong as a (kind, message).

The sockets come from netlab.engine.transport (``dns_udp``, ``dns_tcp``, ``dns_tls``:
connected, and recording what they read, so the exact reply size is known); dnspython
writes the query and reads the reply on them (``dns.query.udp`` / ``tcp`` with ``sock=``).
DoH runs on dnspython's own HTTP client (httpx), which opens its connection itself; its
reply is checked (``_doh_body``) before it is parsed.  A UDP reply with TC set is asked
again over TCP within what is left of the timeout, as resolvers do.
"""

from __future__ import annotations

import socket
import ssl
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import dns.exception
import dns.message
import dns.query

from netlab.engine.dns.model import DOH_MAX_REPLY, DOH_MEDIA_TYPE, printable
from netlab.engine.request import host_port
from netlab.engine.transport import dns_tcp, dns_tls, dns_udp, time_left

__all__ = ["Wire", "exchange", "classify", "doh_available", "doh_missing"]


def doh_available() -> bool:
    """Is dnspython's DNS-over-HTTPS extra (an HTTP client with HTTP/2) installed?"""
    return bool(getattr(dns.query, "have_doh", False))


def doh_missing() -> str:
    return ("DNS over HTTPS needs dnspython's DoH extra, which is not installed here "
            "(pip install 'dnspython[doh]'); use --tls (DNS over TLS) or --tcp instead")


class Wire:
    """What a transport saw beyond the parsed reply."""

    __slots__ = ("transport", "size", "truncated", "tls", "url")

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.size: int | None = None
        self.truncated = False
        self.tls: str | None = None
        self.url: str | None = None


def _ask_udp(q, where, port, end, wire: Wire, tc_retry: bool):
    sock = dns_udp(where, port)
    try:
        reply = dns.query.udp(q, where, timeout=time_left(end), port=port, ignore_unexpected=True,
                              raise_on_truncation=tc_retry, sock=sock)
        wire.size = len(sock.datagram)
        return reply
    except dns.message.Truncated:
        wire.truncated = True  # TC set: ask again over TCP, within what is left of the timeout
    finally:
        sock.close()
    wire.transport = "tcp"
    return _ask_tcp(q, where, port, end, wire)


def _ask_tcp(q, where, port, end, wire: Wire):
    sock = dns_tcp(where, port, end)
    try:
        reply = dns.query.tcp(q, where, timeout=time_left(end), port=port, sock=sock)
        wire.size = max(len(sock.stream) - 2, 0)
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


def _ask_tls(q, where, port, end, wire: Wire, hostname: str, cafile, insecure):
    ctx = _tls_context(cafile, insecure, ["dot"])
    sock, wire.tls = dns_tls(where, port, end, ctx, hostname)
    try:
        reply = dns.query.tcp(q, where, timeout=time_left(end), port=port, sock=sock)
        wire.size = max(len(sock.stream) - 2, 0)
        return reply
    finally:
        sock.close()


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
    shown = printable(media[:80]) if media else None
    if not 200 <= response.status_code <= 299:
        answered = f" (it answered {shown})" if shown else ""
        raise _HttpStatus(f"HTTP {response.status_code} {printable(response.reason_phrase or '')} from {url}, "
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
        raise _HttpStatus(f"the DoH reply from {url} is encoded as {printable(encoding[:40])!r}, which netlab "
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


def _ask_https(q, where, port, end, wire: Wire, hostname: str, path: str, cafile, insecure):
    """DNS over HTTPS (RFC 8484) with POST, as dnspython's ``dns.query.https`` asks, on an
    HTTP client of our own so the reply is checked (``_doh_body``) before it is parsed."""
    http = _http_module()
    if not doh_available() or http is None:
        raise _HttpStatus(doh_missing())
    url = f"https://{host_port(hostname, port)}{path}"
    wire.url = url
    ctx = _tls_context(cafile, insecure, ["h2", "http/1.1"])
    try:
        client = http.Client(verify=ctx, http1=True, http2=True)
    except ImportError:  # http2=True without h2
        client = http.Client(verify=ctx)
    data = q.to_wire()
    headers = {"accept": DOH_MEDIA_TYPE, "content-type": DOH_MEDIA_TYPE, "accept-encoding": "identity"}
    with client, client.stream("POST", url, content=data, headers=headers, timeout=time_left(end)) as response:
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
                return classify(inner, at, timeout)
        return "network", f"HTTPS to {at} failed: {exc}"
    return None


def classify(exc: BaseException, at: str, timeout: float) -> tuple[str, str]:
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
    return printable(" ".join(str(exc).split()))


def exchange(used: str, q, where: str, port: int, end: float, wire: Wire, *, tc_retry: bool, hostname: str,
              path: str, cafile: str | None, insecure: bool):
    """Send ``q`` over the transport ``used`` and read the reply (each transport raises its own errors)."""
    if used == "udp":
        return _ask_udp(q, where, port, end, wire, tc_retry)
    if used == "tcp":
        return _ask_tcp(q, where, port, end, wire)
    if used == "tls":
        return _ask_tls(q, where, port, end, wire, hostname, cafile, insecure)
    return _ask_https(q, where, port, end, wire, hostname, path, cafile, insecure)
