"""A and AAAA for the engine's own name resolution (``resolve_addresses``), asked through
the DNS lab's ``lookup``, so what the DNS pane shows for a name is what a send uses.

With a server given, that server is asked for the name as given; without one, the
system's configuration is followed as glibc does: each name server in turn, and the
search domains for a name with fewer dots than ``ndots``.  Special-use names are
answered here without a query, whatever the server (netlab.engine.resolve answers them
first; this is the rule for any other caller).
"""

from __future__ import annotations

import time

from netlab.engine.dns import query, system
from netlab.engine.dns.model import AddressAnswer, DnsResult, NoQuery
from netlab.engine.dns.system import SystemConfig, special_use
from netlab.engine.request import host_port

__all__ = ["resolve_addresses"]


def _resolution_plan(name: str, server: tuple[str, int] | None,
                     config: SystemConfig | None) -> tuple[list[tuple[str, int]], list[str]]:
    """The servers to ask and the names to try, in order: the name as given to ``server``, or
    the system's name servers with the search domains (before the name when it has fewer
    dots than ``ndots``, as glibc does).  A config error when no server is configured."""
    lname = name.rstrip(".")
    if server is not None:
        return [(str(server[0]), int(server[1]))], [lname]
    config = config or system.system_config()
    servers = [(s, 53) for s in config.servers]
    if not servers:
        raise NoQuery("config", f"no DNS server configured ({config.path} has no nameserver)")
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
            r = query.lookup(qname, rdtype, server=host, port=port, timeout=left)
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
            servers_text = ", ".join(host_port(h, p) for h, p in self.servers)
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
    except NoQuery as stop:
        return AddressAnswer(name, (), None, (), stop.error)
    search = _AddressSearch(name, servers, end, timeout)
    verdicts = [search.verdict(rdtype, candidates) for rdtype in ("A", "AAAA")]
    if search.addresses:
        return AddressAnswer(name, tuple(search.addresses), search.answered_by, tuple(search.results), None)
    return AddressAnswer(name, (), None, tuple(search.results), search.failure(verdicts))
