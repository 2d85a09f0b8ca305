"""The lab network: a chain of network namespaces with real hops (root only).

    this host ── nl-h0 ─┬─ eth0 [netlab-r1] eth1 ── … ── eth0 [netlab-rN] eth1 ── eth0 [netlab-srv]
                198.18.0.1   198.18.0.2   198.18.1.1                     198.18.N.1   198.18.N.2

Link k is 198.18.k.0/24 (RFC 2544 benchmarking space, so no user's LAN collides): the left
end is .1, the right end .2.  Each router forwards; the host gets one /32 route to the
server via the first router and the server one route back to 198.18.0.0/24 — no default
route anywhere, so nothing here can reach past the machine.  The server namespace runs
netlab's lab server on port 8080.  ``up`` removes leftovers first; ``down`` removes every
namespace, link and route it made (the routes go with their links).  What is up is
written to a state file so ``down`` and capture find it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

PREFIX = "netlab-"
HOST_LINK = "nl-h0"
PORT = 8080
STATE = "/run/netlab-labnet.json"
MAX_HOPS = 8


class LabnetError(Exception):
    pass


@dataclass(frozen=True)
class Hop:
    """One link of the chain, as seen from its left end (where capture listens)."""

    namespace: str | None  # None: this host's own namespace
    interface: str
    left: str  # address at the left end
    right: str  # address at the right end

    @property
    def name(self) -> str:
        return f"{self.namespace or 'host'} {self.interface}"


@dataclass(frozen=True)
class Labnet:
    hops: int
    server: str
    port: int
    pid: int | None  # the lab server in the server namespace
    links: tuple[Hop, ...]

    @property
    def url(self) -> str:
        return f"http://{self.server}:{self.port}/"

    def to_json(self) -> dict:
        doc = asdict(self)
        doc["url"] = self.url
        return doc


def plan(hops: int) -> tuple[list[str], list[Hop], str]:
    """Namespaces, links (left end first) and the server's address for ``hops`` routers."""
    if not 1 <= hops <= MAX_HOPS:
        raise LabnetError(f"--hops {hops}: between 1 and {MAX_HOPS} routers")
    routers = [f"{PREFIX}r{i}" for i in range(1, hops + 1)]
    names = [*routers, f"{PREFIX}srv"]
    links = [Hop(None, HOST_LINK, "198.18.0.1", "198.18.0.2")]
    for k, router in enumerate(routers, start=1):
        links.append(Hop(router, "eth1", f"198.18.{k}.1", f"198.18.{k}.2"))
    return names, links, links[-1].right


def up(hops: int = 1, *, python: str | None = None) -> Labnet:
    """Build the chain and start the lab server in it; the leftovers of an earlier run go first."""
    _need_root()
    down(quiet=True)
    names, links, server = plan(hops)
    try:
        for name in names:
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        chain = [None, *names]  # None: the host
        for k in range(len(names)):
            left_ns, right_ns = chain[k], chain[k + 1]
            left_if = HOST_LINK if left_ns is None else "eth1"
            _ip("link", "add", f"nl-tmp{k}a", "type", "veth", "peer", "name", f"nl-tmp{k}b")
            _move(f"nl-tmp{k}a", left_ns, left_if)
            _move(f"nl-tmp{k}b", right_ns, "eth0")
            _addr(left_ns, left_if, f"198.18.{k}.1/24")
            _addr(right_ns, "eth0", f"198.18.{k}.2/24")
        for k, router in enumerate(names[:-1], start=1):
            _ip("netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            if k < len(names) - 1:  # towards the server: via the next router
                _ip("-n", router, "route", "add", f"{server}/32", "via", f"198.18.{k}.2")
            if k > 1:  # back towards the host: via the previous router
                _ip("-n", router, "route", "add", "198.18.0.0/24", "via", f"198.18.{k - 1}.1")
        _ip("route", "add", f"{server}/32", "via", "198.18.0.2", "dev", HOST_LINK)
        _ip("-n", names[-1], "route", "add", "198.18.0.0/24", "via", f"198.18.{hops}.1")
        pid = _serve(names[-1], server, python or sys.executable)
    except BaseException:
        down(quiet=True)
        raise
    net = Labnet(hops, server, PORT, pid, tuple(links))
    fd = os.open(STATE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(net.to_json(), f)
    return net


def down(*, quiet: bool = False) -> list[str]:
    """Remove every namespace, link and route ``up`` made; what was removed."""
    _need_root()
    removed = []
    host_link = os.path.exists(f"/sys/class/net/{HOST_LINK}")  # goes with netlab-r1 (its veth peer)
    current = status()
    if current is not None and current.pid:
        try:
            os.kill(current.pid, 15)
        except ProcessLookupError:
            pass
    for name in _namespaces():
        if name.startswith(PREFIX):
            for pid in _pids_in(name):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            _ip("netns", "del", name, check=not quiet)
            removed.append(name)
    if os.path.exists(f"/sys/class/net/{HOST_LINK}"):
        _ip("link", "del", HOST_LINK, check=not quiet)
    if host_link:
        removed.append(HOST_LINK)
    if os.path.exists(STATE):
        os.unlink(STATE)
    return removed


def status() -> Labnet | None:
    try:
        with open(STATE) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    links = tuple(Hop(**h) for h in doc.get("links", []))
    return Labnet(doc["hops"], doc["server"], doc["port"], doc.get("pid"), links)


def links_to(host: str) -> list[tuple[str | None, str]] | None:
    """(namespace, interface) of each link when the lab network is up and ``host`` is its
    server (a capture then listens on every hop), else None."""
    lab = status()
    if lab is None or lab.server != host:
        return None
    return [(hop.namespace, hop.interface) for hop in lab.links]


def _serve(namespace: str, address: str, python: str) -> int:
    serve = [python, "-m", "netlab", "serve", "--host", address, "--port", str(PORT), "--public"]
    proc = subprocess.Popen(
        ["ip", "netns", "exec", namespace, *serve],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise LabnetError(f"the lab server in {namespace} exited with {proc.returncode}")
        try:
            with socket.create_connection((address, PORT), timeout=0.5):
                return proc.pid
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise LabnetError(f"the lab server in {namespace} did not answer on {address}:{PORT}")


def _move(link: str, namespace: str | None, name: str) -> None:
    if namespace is not None:
        _ip("link", "set", link, "netns", namespace)
    prefix = [] if namespace is None else ["-n", namespace]
    _ip(*prefix, "link", "set", link, "name", name)
    _ip(*prefix, "link", "set", name, "up")


def _addr(namespace: str | None, link: str, cidr: str) -> None:
    prefix = [] if namespace is None else ["-n", namespace]
    _ip(*prefix, "addr", "add", cidr, "dev", link)


def _namespaces() -> list[str]:
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def _pids_in(namespace: str) -> list[int]:
    run = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(p) for p in run.stdout.split() if p.isdigit()]


def _ip(*args: str, check: bool = True) -> None:
    run = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and run.returncode != 0:
        raise LabnetError(f"ip {' '.join(args)}: {run.stderr.strip() or run.returncode}")


def _need_root() -> None:
    if os.geteuid() != 0:
        raise LabnetError("the lab network needs root (network namespaces and veth links): run it with sudo")
