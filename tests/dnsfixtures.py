"""Small DNS servers written with dnspython, for what dnsmasq cannot do in the tests.

    Authority    authoritative answers from zone texts: referrals with glue, CNAME chains,
                 NXDOMAIN / NODATA with the SOA, REFUSED outside its zones
    DnsServer    a real listener on a loopback address: UDP and TCP on one port, and
                 optionally DNS over TLS and DNS over HTTPS (each on a port of its own);
                 a UDP reply larger than the client's payload (512 bytes without EDNS) is
                 truncated with TC set, as real servers do.  ``received`` keeps every query.
    special      wraps a handler: names starting with servfail. / refused. / silent. get
                 SERVFAIL, REFUSED, or no reply at all

Everything binds to 127.0.0.0/8 only.  The fixtures built from these are in tests/conftest.py.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import socket
import ssl
import struct
import threading
import urllib.parse
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

Handler = Callable[[dns.message.Message, str], "dns.message.Message | bytes | None"]
HANG_GUARD = 30.0


class Authority:
    """Authoritative for some zones (given as zone-file text): answers like a real
    authoritative server would, without recursion."""

    def __init__(self, *zones: tuple[str, str]) -> None:
        self.zones = []
        for origin, text in zones:
            zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
            self.zones.append((dns.name.from_text(origin), zone))
        self.zones.sort(key=lambda z: len(z[0]), reverse=True)  # the closest enclosing zone first

    def _rrset(self, zone, name, rdtype):
        node = zone.get_node(name)
        if node is None:
            return None
        rds = node.get_rdataset(dns.rdataclass.IN, rdtype)
        if rds is None:
            return None
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rdtype)
        rrset.update(rds)
        return rrset

    def _glue(self, zone, response, ns_rrset) -> None:
        for rd in ns_rrset:
            for t in (dns.rdatatype.A, dns.rdatatype.AAAA):
                g = self._rrset(zone, rd.target, t)
                if g is not None and g not in response.additional:
                    response.additional.append(g)

    def __call__(self, query: dns.message.Message, transport: str) -> dns.message.Message:
        r = dns.message.make_response(query, our_payload=1232)
        r.flags &= ~dns.flags.RA
        if query.flags & dns.flags.CD:
            r.flags |= dns.flags.CD
        if query.edns >= 0 and query.ednsflags & dns.flags.DO:
            r.ednsflags |= dns.flags.DO  # RFC 3225: the DO bit is copied into the response
        if not query.question:
            r.set_rcode(dns.rcode.FORMERR)
            return r
        q = query.question[0]
        qname, qtype = q.name, q.rdtype
        found = next(((o, z) for o, z in self.zones if qname.is_subdomain(o)), None)
        if found is None:
            r.set_rcode(dns.rcode.REFUSED)
            return r
        origin, zone = found
        # A delegation between the zone's apex and the name: a referral, not an answer.
        for depth in range(len(origin) + 1, len(qname) + 1):
            cut = qname.split(depth)[1]
            ns = self._rrset(zone, cut, dns.rdatatype.NS)
            if ns is not None and not (cut == qname and qtype == dns.rdatatype.DS):
                r.authority.append(ns)
                self._glue(zone, r, ns)
                return r
        r.flags |= dns.flags.AA
        soa = self._rrset(zone, origin, dns.rdatatype.SOA)
        name = qname
        for _ in range(8):  # follow CNAMEs inside the zone
            node = zone.get_node(name)
            if node is None:
                if name == qname:
                    r.set_rcode(dns.rcode.NXDOMAIN)
                if soa is not None:
                    r.authority.append(soa)
                return r
            if qtype == dns.rdatatype.ANY:
                for rds in node.rdatasets:
                    rrset = dns.rrset.RRset(name, dns.rdataclass.IN, rds.rdtype)
                    rrset.update(rds)
                    r.answer.append(rrset)
                return r
            rrset = self._rrset(zone, name, qtype)
            if rrset is not None:
                r.answer.append(rrset)
                if qtype == dns.rdatatype.NS:
                    self._glue(zone, r, rrset)
                return r
            cname = self._rrset(zone, name, dns.rdatatype.CNAME)
            if cname is None:
                if soa is not None and not r.answer:
                    r.authority.append(soa)  # NODATA
                return r
            r.answer.append(cname)
            name = cname[0].target
            if not name.is_subdomain(origin):
                return r
        return r


def special(handler: Handler) -> Handler:
    """servfail.* → SERVFAIL, refused.* → REFUSED, silent.* → no reply; the rest: ``handler``."""

    def handle(query: dns.message.Message, transport: str):
        if query.question:
            labels = query.question[0].name.labels
            first = labels[0].lower() if labels else b""
            if first == b"silent":
                return None
            if first in (b"servfail", b"refused"):
                r = dns.message.make_response(query)
                r.set_rcode(dns.rcode.SERVFAIL if first == b"servfail" else dns.rcode.REFUSED)
                return r
        return handler(query, transport)

    return handle


def silent(query, transport):
    """A handler that never answers."""
    return None


def _udp_wire(response: dns.message.Message, query: dns.message.Message) -> bytes:
    limit = max(512, query.payload) if query.edns >= 0 else 512
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer, response.authority, response.additional = [], [], []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _recv_exact(conn, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class DnsServer:
    """A DNS server on ``host``: UDP and TCP on ``port`` (0: any), plus DoT and DoH on
    ports of their own when given server-side TLS contexts."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *,
                 tls_context: ssl.SSLContext | None = None, https_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.tls_port: int | None = None
        self.https_port: int | None = None
        self._tls_context = tls_context
        self._https_context = https_context
        self.received: list[tuple[str, dns.message.Message]] = []
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._http: http.server.ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> "DnsServer":
        for _attempt in range(20):
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                tcp.bind((self.host, self.port))
                udp.bind((self.host, tcp.getsockname()[1]))
                break
            except OSError:
                tcp.close()
                udp.close()
                if self.port:
                    raise
        else:
            raise RuntimeError(f"no free port for UDP and TCP on {self.host}")
        self.port = tcp.getsockname()[1]
        tcp.listen(16)
        self._socks += [tcp, udp]
        self._spawn(self._udp_loop, udp)
        self._spawn(self._accept_loop, tcp, None)
        if self._tls_context is not None:
            tls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tls.bind((self.host, 0))
            tls.listen(16)
            self.tls_port = tls.getsockname()[1]
            self._socks.append(tls)
            self._spawn(self._accept_loop, tls, self._tls_context)
        if self._https_context is not None:
            self._http = _DohHttpServer((self.host, 0), self)
            self._http.socket = self._https_context.wrap_socket(self._http.socket, server_side=True,
                                                                do_handshake_on_connect=False)
            self.https_port = self._http.server_address[1]
            self._spawn(self._http.serve_forever, 0.1)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for s in self._socks + self._conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def queries(self, transport: str | None = None) -> list[dns.message.Message]:
        return [q for t, q in list(self.received) if transport in (None, t)]

    # -- serving --------------------------------------------------------------------------
    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"dns-{self.host}")
        t.start()
        self._threads.append(t)

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The reply's bytes for one query (None: no reply); UDP replies are truncated to fit."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        self.received.append((transport, query))
        response = self.handler(query, transport)
        if response is None or isinstance(response, (bytes, bytearray)):
            return response
        return _udp_wire(response, query) if transport == "udp" else response.to_wire()

    def _udp_loop(self, sock: socket.socket) -> None:
        sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            reply = self.answer(data, "udp")
            if reply is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(reply, addr)

    def _accept_loop(self, listener: socket.socket, context: ssl.SSLContext | None) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            self._spawn(self._serve_stream, conn, context)

    def _serve_stream(self, conn: socket.socket, context: ssl.SSLContext | None) -> None:
        transport = "tcp" if context is None else "tls"
        try:
            conn.settimeout(HANG_GUARD)
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True)
                self._conns.append(conn)
            while not self._stop.is_set():
                (n,) = struct.unpack("!H", _recv_exact(conn, 2))
                reply = self.answer(_recv_exact(conn, n), transport)
                if reply is None:
                    self._stop.wait(HANG_GUARD)  # never answer; hold the connection open
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except (OSError, EOFError, ssl.SSLError, struct.error):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


class _DohHandler(http.server.BaseHTTPRequestHandler):
    """RFC 8484: POST a DNS message to /dns-query, or GET /dns-query?dns=BASE64URL."""

    server: "_DohHttpServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def _reply(self, wire: bytes | None) -> None:
        if wire is None:
            self.send_error(400, "not a DNS query")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/dns-message")
        self.send_header("Content-Length", str(len(wire)))
        self.end_headers()
        self.wfile.write(wire)

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/dns-query":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._reply(self.server.dns.answer(body, "https"))

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != "/dns-query":
            self.send_error(404)
            return
        value = urllib.parse.parse_qs(parts.query).get("dns", [""])[0]
        try:
            wire = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            self._reply(None)
            return
        self._reply(self.server.dns.answer(wire, "https"))


class _DohHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, dns_server: DnsServer) -> None:
        super().__init__(address, _DohHandler)
        self.dns = dns_server

    def finish_request(self, request, client_address):
        with contextlib.suppress(ssl.SSLError, OSError):
            request.settimeout(HANG_GUARD)
            request.do_handshake()
            super().finish_request(request, client_address)


def start_on_same_port(specs: list[tuple[str, Handler]], attempts: int = 20) -> list[DnsServer]:
    """Start one server per (address, handler), all on the same port (``dig -p`` and
    ``trace(port=...)`` use one port for every server of a delegation chain)."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((specs[0][0], 0))
            port = probe.getsockname()[1]
        started: list[DnsServer] = []
        try:
            for host, handler in specs:
                started.append(DnsServer(handler, host, port).start())
            return started
        except OSError:
            for s in started:
                s.stop()
    raise RuntimeError("could not find one port free on every address")
