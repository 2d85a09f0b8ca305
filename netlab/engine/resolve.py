"""Name → addresses, the first step under every request.

Sources, in the order they are consulted: a literal IP in the URL, a pin given like
curl's ``--resolve host:port:addr``, the hosts file (/etc/hosts), the special-use
names, then A and AAAA queries through netlab.engine.dns (the DNS lab's own ``lookup``)
to the system's name servers (/etc/resolv.conf, with its search list) or to
``dns_server`` when one is given (then the hosts file is skipped: the point is to ask
that server).  The answer records which source answered, every address, and (after
connect) the one used.

Special-use names never leave the machine (RFC 6761; ``special_use``): ``localhost``
and ``*.localhost`` are 127.0.0.1 and ::1 (as curl does), ``*.invalid`` (and, as
RFC 7686 asks of every non-Tor client, ``*.onion``) fail as NXDOMAIN, all without a
query, also when ``dns_server`` is given.  The hosts file and pins still come first:
they are the user's own configuration, and getaddrinfo (under ``requests.get``)
reads /etc/hosts for localhost too.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

from netlab.engine.dns.model import Resolution
from netlab.engine.dns.system import (
    HOSTS_PATH,
    LOOPBACK_ADDRESSES,
    SPECIAL_SOURCE,
    Special,
    read_hosts,
    special_use,
)
from netlab.engine.errors import NetlabError

__all__ = ["Pin", "parse_pin", "Resolution", "resolve", "read_hosts", "special_use", "Special", "HOSTS_PATH",
           "LOOPBACK_ADDRESSES", "SPECIAL_SOURCE"]

@dataclass(frozen=True, slots=True)
class Pin:
    host: str
    port: int | None  # None: any port ("*" in curl)
    addresses: tuple[str, ...]


def parse_pin(text: str) -> Pin:
    """Parse ``HOST:PORT:ADDR[,ADDR...]``; ADDR may be ``[v6]``; PORT may be ``*``."""
    host, sep1, rest = text.partition(":")
    port_s, sep2, addrs = rest.partition(":")
    if not (sep1 and sep2 and host and port_s and addrs):
        raise NetlabError("usage", f"--resolve {text!r}: expected HOST:PORT:ADDR")
    if port_s == "*":
        port = None
    else:
        try:
            port = int(port_s)
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise NetlabError("usage", f"--resolve {text!r}: bad port {port_s!r}") from None
    out = []
    for a in addrs.split(","):
        a = a.strip().strip("[]")
        try:
            out.append(str(ipaddress.ip_address(a)))
        except ValueError:
            raise NetlabError("usage", f"--resolve {text!r}: {a!r} is not an IP address") from None
    return Pin(host.lower(), port, tuple(out))


def _literal(host: str) -> str | None:
    host = host.strip("[]")
    for family in (socket.AF_INET, socket.AF_INET6):
        try:  # inet_pton: the kernel's own parser, and far cheaper than ipaddress per request
            return socket.inet_ntop(family, socket.inet_pton(family, host))
        except (OSError, ValueError):
            continue
    return None


def _dns(name: str, timeout: float, server: tuple[str, int] | None) -> tuple[list[str], str | None, tuple]:
    """A and AAAA through netlab.engine.dns, the module the DNS pane and `netlab dns` use:
    what they show for a name is what a send does with it."""
    from netlab.engine.dns.addresses import resolve_addresses

    answer = resolve_addresses(name, server=server, timeout=timeout)
    if answer.addresses:
        return list(answer.addresses), answer.server, answer.results
    kind, message = answer.error or ("network", f"no addresses for {name!r}")
    if kind == "timeout":
        raise NetlabError("timeout", message,
                          "check the DNS server, or pin an address with --resolve HOST:PORT:ADDR")
    if kind == "config":
        raise NetlabError("dns", "no DNS resolver is configured (/etc/resolv.conf has no nameserver)",
                          "pin an address with --resolve HOST:PORT:ADDR or add the name to /etc/hosts")
    if kind == "usage":
        raise NetlabError("dns", message, "check the host name, or the --dns-server address")
    raise NetlabError("dns", message)


def resolve(name: str, port: int, *, pins: tuple[Pin, ...] = (), timeout: float = 5.0,
            hosts_path: str = HOSTS_PATH, dns_server: tuple[str, int] | None = None) -> Resolution:
    t0 = time.perf_counter()

    def done(addrs, source, server=None):
        return Resolution(name, list(addrs), source, server, (time.perf_counter() - t0) * 1000)

    lit = _literal(name)
    if lit:
        return done([lit], "literal")
    lname = name.lower().rstrip(".")
    for pin in pins:
        if pin.host == lname and pin.port in (None, port):
            return done(pin.addresses, "pin")
    if dns_server is None:
        found = read_hosts(lname, hosts_path)
        if found:
            return done(found, "hosts", hosts_path)
    special = special_use(lname)
    if special is not None:  # never a query, whichever server is configured
        if special.addresses:
            return done(special.addresses, SPECIAL_SOURCE, special.rfc)
        raise NetlabError("dns", special.nxdomain_message(name),
                          f"no name under .{special.zone} exists anywhere; to use one in a lab, pin an "
                          "address with --resolve HOST:PORT:ADDR or add it to /etc/hosts")
    addrs, server, queries = _dns(name.lower(), timeout, dns_server)
    res = done(addrs, "dns", server)
    res.queries = list(queries)
    return res
