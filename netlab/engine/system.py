"""The system side of name resolution, decided on this machine without a query: the
hosts file and the special-use names (RFC 6761 localhost/invalid, RFC 7686 onion).

Both the send path (resolve.py) and the DNS lab (dns.py) read it; it imports neither.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["read_hosts", "special_use", "Special", "HOSTS_PATH", "LOOPBACK_ADDRESSES", "SPECIAL_SOURCE"]

HOSTS_PATH = "/etc/hosts"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")  # what localhost is, without a query (curl's order of families aside)
SPECIAL_SOURCE = "special-use"  # Resolution.source of a special-use name; .server says which RFC


@dataclass(frozen=True, slots=True)
class Special:
    """What a special-use name is, decided on this machine without a query."""

    zone: str  # "localhost" | "invalid" | "onion"
    rfc: str  # "RFC 6761" | "RFC 7686"
    addresses: tuple[str, ...]  # loopback for localhost; () for a name that never exists

    @property
    def why(self) -> str:
        return f"special-use name ({self.rfc})"

    def nxdomain_message(self, name: str) -> str:
        return (f"{name!r} does not exist (NXDOMAIN): .{self.zone} is a {self.why}, answered on this "
                "machine without a DNS query")


_SPECIAL = {
    "localhost": Special("localhost", "RFC 6761", LOOPBACK_ADDRESSES),
    "invalid": Special("invalid", "RFC 6761", ()),
    "onion": Special("onion", "RFC 7686", ()),
}


def special_use(name: str) -> Special | None:
    """The special-use rule for ``name`` (``localhost``, ``*.localhost``, ``*.invalid``,
    ``*.onion``; any case, trailing dots allowed), or None for a name DNS may be asked."""
    tld = str(name).rstrip(".").rpartition(".")[2].lower()
    return _SPECIAL.get(tld)


def read_hosts(name: str, path: str = HOSTS_PATH) -> list[str]:
    """Addresses for ``name`` in a hosts file, in file order."""
    name = name.lower()
    found: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if len(fields) >= 2 and name in (h.lower() for h in fields[1:]):
                    addr = fields[0].split("%", 1)[0]
                    try:
                        ipaddress.ip_address(addr)
                    except ValueError:
                        continue
                    if addr not in found:
                        found.append(addr)
    except OSError:
        return []
    return found
