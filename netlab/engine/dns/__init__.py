"""DNS lab queries: one question to one server, and everything the answer holds.

Unlike a resolver (which only wants addresses), ``lookup`` shows the DNS exchange
itself, like ``dig``: the server and transport used, the response code, the header
flags, the EDNS details, the answer / authority / additional sections with TTLs, the
time it took and the size of the reply.  It is built from dnspython's pieces
(``dns.message.make_query`` and ``dns.query.udp`` / ``tcp``; DoH's HTTP exchange on
dnspython's own HTTP client) on sockets from netlab.engine.transport, so that the exact
reply size and the TLS details are known.

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
``*.onion``; the rule is netlab.engine.dns.system.special_use) are never sent to the
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

The modules, each importing only those above it:

    model      the values (DnsResult, Record, TraceResult, ...) and shared constants
    system     hosts file, special-use names, resolv.conf, nsswitch, getaddrinfo
    parse      record types, servers and reverse names as a user writes them
    exchange   one query over udp / tcp / tls / https; a failure as (kind, message)
    query      lookup and lookup_many: the checks, the query, the reply as values
    tracer     trace, and the root hints it starts from
    addresses  resolve_addresses, for the engine's sends

model and system import no dnspython, and neither does this file.
"""

from __future__ import annotations

import importlib
from typing import Any

# Where each name lives.  Imported on first use (PEP 562), like netlab.engine's own names:
# the send path imports netlab.engine.dns.system (the hosts file, the special-use rule)
# for every request, and must not pull in dnspython with this package.  Not cached here,
# so a test that replaces a name in its module (``dns.query.lookup``) is seen through
# the package too.
_WHERE = {
    **dict.fromkeys(("Record", "Edns", "DnsResult", "ServerSpec", "TraceStep", "TraceResult", "AddressAnswer",
                     "TRANSPORTS", "DEFAULT_PORTS", "ERROR_KINDS", "DEFAULT_PAYLOAD", "DOH_PATH", "DOH_MEDIA_TYPE",
                     "DOH_MAX_REPLY"), "model"),
    **dict.fromkeys(("parse_rdtype", "is_rdtype", "parse_server", "parse_dns_server", "reverse_name"), "parse"),
    **dict.fromkeys(("lookup", "lookup_many", "_flags", "_records", "_edns"), "query"),
    "doh_available": "exchange",
    "resolve_addresses": "addresses",
    **dict.fromkeys(("trace", "load_hints", "ROOT_HINTS_PATHS", "BUILTIN_ROOT_HINTS"), "tracer"),
    **dict.fromkeys(("system_lookup", "system_config", "system_servers", "SystemAnswer", "SystemConfig",
                     "RESOLV_CONF", "NSSWITCH_CONF"), "system"),
}

__all__ = [
    "Record", "Edns", "DnsResult", "ServerSpec", "TraceStep", "TraceResult", "SystemAnswer", "SystemConfig",
    "AddressAnswer", "lookup", "lookup_many", "trace", "load_hints", "system_lookup", "system_config",
    "system_servers", "resolve_addresses", "parse_rdtype", "parse_server", "parse_dns_server", "reverse_name",
    "doh_available", "is_rdtype",
    "TRANSPORTS", "DEFAULT_PORTS", "ERROR_KINDS", "DEFAULT_PAYLOAD", "RESOLV_CONF", "NSSWITCH_CONF",
    "ROOT_HINTS_PATHS", "DOH_MEDIA_TYPE", "DOH_MAX_REPLY",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'netlab.engine.dns' has no attribute {name!r}")
    return getattr(importlib.import_module(f"netlab.engine.dns.{module}"), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_WHERE))
