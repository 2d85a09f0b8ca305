"""The system side of name resolution: what this machine decides or asks without the DNS
lab's own queries.

* Without a query: the hosts file (``read_hosts``) and the special-use names
  (``special_use``: RFC 6761 ``localhost`` / ``*.localhost`` / ``*.invalid``, RFC 7686
  ``*.onion``).  The send path (netlab.engine.resolve) and the DNS lab both read them.
* The resolver's configuration: /etc/resolv.conf (``system_config``: name servers,
  search list, ndots) and nsswitch's ``hosts:`` order.
* ``system_lookup``: what ``getaddrinfo`` says for a name, beside what explains it.

No dnspython here: the send path imports this module for every request.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

__all__ = ["read_hosts", "special_use", "special_refusal", "Special", "SystemConfig", "SystemAnswer",
           "system_config", "system_servers", "system_lookup", "HOSTS_PATH", "LOOPBACK_ADDRESSES",
           "SPECIAL_SOURCE", "RESOLV_CONF", "NSSWITCH_CONF"]

HOSTS_PATH = "/etc/hosts"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")  # what localhost is, without a query (curl's order of families aside)
SPECIAL_SOURCE = "special-use"  # Resolution.source of a special-use name; .server says which RFC

RESOLV_CONF = "/etc/resolv.conf"
NSSWITCH_CONF = "/etc/nsswitch.conf"


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


def special_refusal(name: str, asked: str = "the system's DNS servers") -> str | None:
    """Why a special-use name is not sent to servers the user did not name (None: send it)."""
    special = special_use(name)
    if special is None:
        return None
    local = ("sends use 127.0.0.1 and ::1 for it" if special.addresses
             else "sends fail with NXDOMAIN for it")
    return (f"{name.rstrip('.')!r} is a {special.why}: netlab does not send it to {asked}, which may be off "
            f"this machine ({local}, without a query); name a server to ask it anyway, e.g. @127.0.0.1")


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """What /etc/resolv.conf says."""

    servers: tuple[str, ...]
    search: tuple[str, ...]
    ndots: int
    path: str


@dataclass(frozen=True, slots=True)
class SystemAnswer:
    """What ``getaddrinfo`` returns for a name, and the configuration that explains it."""

    name: str
    addresses: tuple[str, ...]
    canonname: str | None
    hosts: tuple[str, ...]  # the name's addresses in the hosts file (files come first in nsswitch)
    hosts_path: str
    search: tuple[str, ...]
    ndots: int
    nsswitch: str | None  # the `hosts:` line of nsswitch.conf
    elapsed_ms: float
    error: tuple[str, str] | None  # (kind, message): noname | again | timeout | error | skipped (special-use)

    def to_dict(self) -> dict:
        return {"name": self.name, "addresses": list(self.addresses), "canonname": self.canonname,
                "hosts_file": {"path": self.hosts_path, "addresses": list(self.hosts)},
                "search": list(self.search), "ndots": self.ndots, "nsswitch": self.nsswitch,
                "elapsed_ms": round(self.elapsed_ms, 3),
                "error": None if self.error is None else {"kind": self.error[0], "message": self.error[1]}}



def system_config(path: str = RESOLV_CONF) -> SystemConfig:
    """The name servers, search list and ndots of the system's resolver configuration."""
    servers: list[str] = []
    search: list[str] = []
    ndots = 1
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].split(";", 1)[0].split()
                if len(fields) < 2:
                    continue
                key = fields[0].lower()
                if key == "nameserver":
                    addr = fields[1]
                    try:
                        ipaddress.ip_address(addr.split("%", 1)[0])
                    except ValueError:
                        continue
                    servers.append(addr)
                elif key in ("search", "domain"):
                    search = fields[1:]  # the last of them wins, as in glibc
                elif key == "options":
                    for opt in fields[1:]:
                        if opt.startswith("ndots:") and opt[6:].isdigit():
                            ndots = min(int(opt[6:]), 15)
    except OSError:
        pass
    return SystemConfig(tuple(servers), tuple(s.rstrip(".") for s in search if s != "."), ndots, path)


def system_servers() -> list[str]:
    """The name servers of the system's resolver configuration (/etc/resolv.conf)."""
    return list(system_config().servers)


def _nsswitch_hosts(path: str = NSSWITCH_CONF) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split("#", 1)[0].strip()
                if fields.startswith("hosts:"):
                    return " ".join(fields[len("hosts:"):].split())
    except OSError:
        pass
    return None


def _gai_error(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_NONAME:
        return "noname", f"getaddrinfo: {exc.strerror or exc}"
    if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
        return "again", f"getaddrinfo: {exc.strerror or exc} (no DNS server answered)"
    return "error", f"getaddrinfo: {getattr(exc, 'strerror', None) or exc}"


def _getaddrinfo(name: str, text: str, timeout: float) -> tuple[list[str], str | None, tuple[str, str] | None]:
    """``getaddrinfo(name)`` in a daemon thread, given up on after ``timeout`` seconds (it
    cannot be interrupted): (addresses, canonical name, error)."""
    box: dict = {}

    def run() -> None:
        try:
            box["infos"] = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="getaddrinfo", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        return [], None, ("timeout", f"getaddrinfo({text!r}) did not return within {timeout:g} s")
    if "error" in box:
        return [], None, _gai_error(box["error"])
    addresses: list[str] = []
    canon = None
    for _fam, _type, _proto, cname, sockaddr in box.get("infos", []):
        if cname and canon is None:
            canon = cname
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses, canon, None


def system_lookup(name: str, timeout: float = 5.0, *, hosts_path: str | None = None,
                  resolv_conf: str = RESOLV_CONF) -> SystemAnswer:
    """What ``getaddrinfo(name)`` (the C library's resolver, behind ``requests.get``)
    returns, beside what explains it: the hosts file's entry, the search list, ndots and
    nsswitch's order.  getaddrinfo cannot be interrupted: it runs in a daemon thread and
    is given up on (reported as a timeout) after ``timeout`` seconds.

    Careful: for a name that is not in the hosts file this asks the system's DNS servers."""
    hosts_path = hosts_path or HOSTS_PATH
    t0 = time.perf_counter()
    config = system_config(resolv_conf)
    addresses: list[str] = []
    canon = None
    error = None
    text = str(name or "").strip()
    nsswitch = _nsswitch_hosts()
    special = special_use(text) if text else None
    if special is not None and not (read_hosts(text.rstrip(".").lower(), hosts_path)
                                    and (nsswitch or "files").split()[:1] == ["files"]):
        # getaddrinfo would ask the system's DNS servers (glibc has no RFC 6761 rule): not asked
        error = ("skipped", f"{text.rstrip('.')!r} is a {special.why} that {hosts_path} does not answer: "
                            "getaddrinfo was not called, as it would ask the system's DNS servers "
                            f"({'127.0.0.1 and ::1' if special.addresses else 'NXDOMAIN'} is the answer "
                            "RFC-conforming resolvers give, and what sends use)")
    elif not text:
        error = ("usage", "no name to look up")
    else:
        addresses, canon, error = _getaddrinfo(name, text, timeout)
    hosts = tuple(read_hosts(text.rstrip(".").lower(), hosts_path)) if text else ()
    return SystemAnswer(text, tuple(addresses), canon, hosts, hosts_path, config.search, config.ndots,
                        nsswitch, (time.perf_counter() - t0) * 1000, error)
