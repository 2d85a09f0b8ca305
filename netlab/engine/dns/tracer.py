"""Iterative resolution from the root hints (``trace``), like ``dig +trace``: each server's
referral, then the answer of the last one, every exchange a ``TraceStep``.

The hints are a named.root style file (``load_hints``; tests point one at loopback
servers), the system's root.hints, or the built-in root servers.  Each exchange is a
``lookup`` with recursion off; a name server without glue is resolved from the roots too.
Special-use names are not sent to the real roots (a usage error says to name a server).
"""

from __future__ import annotations

import ipaddress
import os
import time
from dataclasses import dataclass, field
from functools import partial

import dns.exception
import dns.name
import dns.rdatatype

from netlab.engine.dns import query
from netlab.engine.dns.model import DnsResult, NoQuery, TraceResult, TraceStep
from netlab.engine.dns.parse import lookup_rdtype, reverse_qname
from netlab.engine.dns.system import special_refusal
from netlab.engine.request import host_port

__all__ = ["trace", "load_hints", "ROOT_HINTS_PATHS", "BUILTIN_ROOT_HINTS"]

ROOT_HINTS_PATHS = ("/usr/share/dns/root.hints", "/etc/bind/db.root")

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



def _hint_address(text: str, why: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(why) from None


def _hint_record(fields: list[str], where: str) -> tuple[str, str, str] | None:
    """A hints file's record line as (``NS``, owner, name server) or (``A`` | ``AAAA``, owner,
    address text), names absolute and lower case; None for a line of another type."""
    upper = [x.upper() for x in fields]
    kind = next((k for k in ("NS", "AAAA", "A") if k in upper[1:]), None)
    if kind is None:
        return None
    i = upper.index(kind, 1)
    if i + 1 >= len(fields):
        raise ValueError(f"{where}: {kind} record without data")
    owner, data = fields[0].lower(), fields[i + 1]
    if not owner.endswith("."):
        owner += "."
    if kind == "NS":
        data = data.lower() if data.endswith(".") else data.lower() + "."
    return kind, owner, data


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
            where = f"{path}:{lineno}"
            if len(fields) == 1:
                bare.append(_hint_address(fields[0], f"{where}: expected an address or a record, not {fields[0]!r}"))
                continue
            record = _hint_record(fields, where) if fields else None
            if record is None:
                continue
            kind, owner, data = record
            if kind != "NS":
                addrs.setdefault(owner, []).append(_hint_address(data, f"{where}: {data!r} is not an IP address"))
            elif data not in names:
                names.append(data)
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
        return query.lookup(qname, rdtype, server=address, port=self.port, transport=self.transport,
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
        at = host_port(address, self.port)
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
        raise NoQuery("usage", "no name to look up")
    if reverse:
        qname = reverse_qname(qname)
    try:
        return dns.name.from_text(qname).to_text()
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise NoQuery("usage", f"{name!r} is not a valid DNS name: {exc}") from None


def _trace_roots(qname: str, root: str | None, hints: str | None) -> tuple[str, list[tuple[str, list[str]]]]:
    """Where a trace starts: (source, [(ns name, addresses)]) -- the ``root`` address, else the
    root hints (``hints``, the system's or the built-in: the real roots, so no special-use names)."""
    if root is not None:
        try:
            address = str(ipaddress.ip_address(str(root).strip().strip("[]")))
        except ValueError:
            raise NoQuery("usage", f"the server to start a trace from must be an IP address, not {root!r}") from None
        return hints or f"@{root}", [(address, [address])]
    if hints is None:
        refused = special_refusal(qname, "the root servers")
        if refused:
            raise NoQuery("usage", refused)
    try:
        return load_hints(hints)
    except OSError as exc:
        raise NoQuery("usage", f"cannot read the root hints {hints!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise NoQuery("usage", str(exc)) from None


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
            raise NoQuery("usage", f"--trace asks over udp or tcp, not {transport!r}")
        qtype = dns.rdatatype.to_text(lookup_rdtype(rdtype))
        if not isinstance(port, int) or not 0 < port < 65536:
            raise NoQuery("usage", f"bad port {port!r} (1-65535)")
        if not timeout or timeout <= 0:
            raise NoQuery("usage", f"the timeout must be positive, not {timeout!r}")
        qname = _trace_qname(name, reverse)
    except NoQuery as stop:
        return done(error=stop.error)
    try:
        source, roots = _trace_roots(qname, root, hints)
    except NoQuery as stop:
        return done(error=stop.error, qname=qname)
    tracer = _Tracer(roots, port, float(timeout), transport, {"do": do, "cd": cd, "payload": payload})
    final, error = tracer.run(qname, qtype)
    return done(tracer.steps, final, error, qname)
