"""Special-use names never leave the machine (RFC 6761, issue 12.7).

``localhost`` and ``*.localhost`` are loopback, ``*.invalid`` (and ``*.onion``, RFC 7686)
never exist: a send answers them on this machine, whichever DNS server is configured.
The proof is a DNS server the test owns on loopback (UDP and TCP on one port) that counts
every packet it receives and answers each A query with 127.0.0.99, so a name that did
reach it would show a different address and a count above zero.

Every path that could ask the system's name servers (off this machine here) is pointed at
that counter for the whole module, and getaddrinfo and the root hints are replaced where a
test reaches them: when the rule is broken the tests fail, and still nothing leaves.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from netlab.engine import Engine, Options, Request, parse_pin
from netlab.engine import dns as ndns
from netlab.engine.dns import query as dns_query
from netlab.engine.dns import system as dns_system
from netlab.engine.dns import tracer as dns_tracer
from netlab.engine.errors import NetlabError
from netlab.engine.resolve import SPECIAL_SOURCE, resolve, special_use

WRONG = "127.0.0.99"  # what the counting server answers for any A question


class CountingDns:
    """A DNS server on 127.0.0.1 (UDP and TCP, one port) that counts what it receives."""

    def __init__(self) -> None:
        for _ in range(20):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket()
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        else:
            raise RuntimeError("no loopback port free for both UDP and TCP")
        self.tcp.listen(8)
        self.names: list[str] = []  # the question of every packet received
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def packets(self) -> int:
        with self.lock:
            return len(self.names)

    def _answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        with self.lock:
            self.names.append(query.question[0].name.to_text() if query.question else "?")
        reply = dns.message.make_response(query)
        if query.question and query.question[0].rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", WRONG))
        return reply.to_wire()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.1)
            for sock in ready:
                with contextlib.suppress(Exception):
                    if sock is self.udp:
                        data, peer = self.udp.recvfrom(65535)
                        self.udp.sendto(self._answer(data), peer)
                    else:
                        conn, _ = self.tcp.accept()
                        with conn:
                            conn.settimeout(5)
                            size = int.from_bytes(conn.recv(2), "big")
                            data = b""
                            while len(data) < size:
                                chunk = conn.recv(size - len(data))
                                if not chunk:
                                    break
                                data += chunk
                            out = self._answer(data)
                            conn.sendall(len(out).to_bytes(2, "big") + out)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.udp.close()
        self.tcp.close()


@pytest.fixture(scope="module")
def counter():
    c = CountingDns()
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _system_resolver_is_the_counter(counter, monkeypatch):
    """The system's resolver configuration, as the engine reads it, names only the counter.

    Each name is replaced in the module that defines it: every caller, in the package or
    outside it (the CLI through ``netlab.engine.dns``), looks it up there."""
    config = ndns.SystemConfig((counter.address[0],), (), 1, "(test: the counting server)")
    monkeypatch.setattr(dns_system, "system_config", lambda path=ndns.RESOLV_CONF: config)
    # resolve_addresses asks port 53 of the system's servers: the counter listens elsewhere
    # (the DNS lab's lookup without a server asks the first of them, on port 53 too)
    real_lookup = dns_query.lookup

    def lookup(name, rdtype="A", server=None, port=None, *args, **kw):
        if server in (None, "", counter.address[0]) and port in (None, 53):
            port = counter.port
        return real_lookup(name, rdtype, server, port, *args, **kw)

    monkeypatch.setattr(dns_query, "lookup", lookup)
    yield


@pytest.fixture
def no_hosts(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# empty: nothing answers from the hosts file\n")
    return str(path)


def _send(url: str, options: Options):
    events: list = []
    with Engine() as engine:
        ex = engine.send(Request.from_url(url), events.append, options=options)
    return ex, events


SPECIAL = ["localhost", "LocalHost.", "app.localhost", "a.b.LOCALHOST.", "x.invalid", "invalid",
           "no-such-host.invalid.", "site.onion"]
ORDINARY = ["localhost.example", "invalid.test", "mylocalhost", "onion.test", "known.test", ""]


@pytest.mark.parametrize("name", SPECIAL)
def test_special_use_names_are_recognised(name):
    assert special_use(name) is not None


@pytest.mark.parametrize("name", ORDINARY)
def test_other_names_are_not(name):
    assert special_use(name) is None


# ------------------------------------------------------------------------------- sends


@pytest.mark.parametrize("name", ["localhost", "app.localhost", "A.B.LocalHost."])
def test_localhost_is_loopback_without_a_query(counter, name, no_hosts):
    for server in (counter.address, None):  # a configured DNS server, and the system's (the counter too)
        before = counter.packets
        res = resolve(name, 80, dns_server=server, hosts_path=no_hosts)
        assert counter.packets == before, counter.names
        assert res.addresses == ["127.0.0.1", "::1"]
        assert res.source == SPECIAL_SOURCE == "special-use" and res.server == "RFC 6761"
        assert res.queries == []


@pytest.mark.parametrize("name", ["x.invalid", "no-such-host.INVALID.", "site.onion"])
def test_invalid_is_nxdomain_without_a_query(counter, name, no_hosts):
    for server in (counter.address, None):
        before = counter.packets
        with pytest.raises(NetlabError) as exc:
            resolve(name, 80, dns_server=server, hosts_path=no_hosts)
        assert counter.packets == before, counter.names
        err = exc.value
        assert err.phase == "dns" and "NXDOMAIN" in err.message and name in err.message
        assert "special-use name (RFC" in err.message and "without a DNS query" in err.message
        assert "--resolve" in err.hint


def test_the_counter_does_count(counter, no_hosts):
    """The control: an ordinary name does reach the server (and gets its wrong answer)."""
    before = counter.packets
    res = resolve("ordinary.test", 80, dns_server=counter.address, hosts_path=no_hosts)
    assert res.source == "dns" and res.addresses == [WRONG]
    assert counter.packets == before + 2 and counter.names[-2:] == ["ordinary.test.", "ordinary.test."]
    before = counter.packets
    assert resolve("ordinary.test", 80, hosts_path=no_hosts).addresses == [WRONG]  # the "system" is the counter
    assert counter.packets == before + 2


def test_send_to_a_localhost_name_reaches_the_lab_server(counter, lab_server):
    before = counter.packets
    ex, events = _send(f"http://app.localhost:{lab_server.port}/ip", Options(dns_server=counter.address))
    assert ex.ok, ex.error
    assert counter.packets == before, counter.names
    assert ex.dns.source == "special-use" and ex.dns.server == "RFC 6761"
    assert ex.dns.addresses == ["127.0.0.1", "::1"] and ex.dns.used == "127.0.0.1"
    assert ex.response.body == b"127.0.0.1\n"
    resolved = next(e for e in events if type(e).__name__ == "Resolved")
    assert resolved.source == "special-use" and resolved.server == "RFC 6761"


def test_send_to_an_invalid_name_fails_in_the_dns_phase(counter):
    before = counter.packets
    ex, events = _send("http://no-such-host.invalid/", Options(dns_server=counter.address))
    assert counter.packets == before, counter.names
    assert ex.error is not None and ex.error.phase == "dns"
    assert "NXDOMAIN" in ex.error.message and "special-use name (RFC 6761)" in ex.error.message
    assert ex.connection is None and ex.response is None
    assert type(events[-1]).__name__ == "Failed" and events[-1].phase == "dns"


def test_cli_send_says_why(counter, lab_server, run_cli):
    server = f"127.0.0.1:{counter.port}"
    before = counter.packets
    code, _, err = run_cli("send", "--dns-server", server, "--no-history", "-v",
                           f"http://lab.localhost:{lab_server.port}/ip")
    assert code == 0, err
    assert "via special-use (RFC 6761): 127.0.0.1, ::1" in err
    code, _, err = run_cli("send", "--dns-server", server, "--no-history", "http://nothing.invalid/")
    assert code != 0
    assert "NXDOMAIN" in err and "special-use name (RFC 6761)" in err
    assert counter.packets == before, counter.names


def test_pins_and_the_hosts_file_still_come_first(counter, tmp_path):
    """Both are the user's own configuration (and getaddrinfo reads /etc/hosts for localhost)."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.7 lab.localhost\n127.0.0.8 lab.invalid\n")
    before = counter.packets
    got = resolve("lab.localhost", 80, hosts_path=str(hosts))
    assert (got.source, got.addresses) == ("hosts", ["127.0.0.7"])
    assert resolve("lab.invalid", 80, hosts_path=str(hosts)).addresses == ["127.0.0.8"]
    pinned = resolve("x.invalid", 8080, pins=(parse_pin("x.invalid:8080:127.0.0.1"),), dns_server=counter.address)
    assert (pinned.source, pinned.addresses) == ("pin", ["127.0.0.1"])
    # with a DNS server given the hosts file is skipped, and the special-use rule answers
    assert resolve("lab.localhost", 80, hosts_path=str(hosts), dns_server=counter.address).source == "special-use"
    assert counter.packets == before, counter.names


def test_resolve_addresses_answers_them_locally(counter):
    before = counter.packets
    ans = ndns.resolve_addresses("app.localhost", server=counter.address)
    assert ans.addresses == ("127.0.0.1", "::1") and ans.results == () and ans.error is None
    ans = ndns.resolve_addresses("x.invalid")
    assert ans.addresses == () and ans.error[0] == "nxdomain" and "RFC 6761" in ans.error[1]
    # a search domain under a special-use zone is not tried either
    config = ndns.SystemConfig(("127.0.0.1",), ("corp.invalid", "lab.localhost"), 1, "(test)")
    ans = ndns.resolve_addresses("plain", config=config)
    assert counter.names[before:] == ["plain.", "plain."]  # A and AAAA of the name itself only


# --------------------------------------------------------------- the DNS lab (netlab dns)


def test_dns_lab_refuses_them_for_the_system_servers(counter, run_cli):
    before = counter.packets
    for name in ("x.invalid", "localhost", "app.localhost"):
        res = ndns.lookup(name, "A")
        assert res.error[0] == "usage" and "special-use name (RFC 6761)" in res.error[1]
        assert "@127.0.0.1" in res.error[1] and res.rcode is None
    code, out, err = run_cli("dns", "x.invalid")
    assert code == 2 and "special-use name (RFC 6761)" in err and "name a server" in err
    assert counter.packets == before, counter.names


def test_dns_lab_asks_a_server_the_user_names(counter, run_cli):
    """A lab tool, like dig: with @server the question is sent, and the answer shown."""
    before = counter.packets
    res = ndns.lookup("x.invalid", "A", server="127.0.0.1", port=counter.port)
    assert res.error is None and [r.data for r in res.answer] == [WRONG]
    code, out, _ = run_cli("dns", "app.localhost", "@127.0.0.1", "-p", str(counter.port), "+short")
    assert code == 0 and out.strip() == WRONG
    assert counter.names[before:] == ["x.invalid.", "app.localhost."]


def test_trace_from_the_real_roots_is_refused(counter, monkeypatch, tmp_path):
    # Were the rule broken, the "roots" are the counter, not the internet's.
    monkeypatch.setattr(dns_tracer, "load_hints", lambda path=None: ("(test)", [("a.root.lab.", ["127.0.0.1"])]))
    before = counter.packets
    tr = ndns.trace("x.invalid", "A", port=counter.port)
    assert tr.error[0] == "usage" and "root servers" in tr.error[1] and "RFC 6761" in tr.error[1]
    assert counter.packets == before, counter.names
    hints = tmp_path / "hints"
    hints.write_text("127.0.0.1\n")
    tr = ndns.trace("x.invalid", "A", port=counter.port, hints=str(hints))  # hints the user gave: asked
    assert counter.packets > before


def test_getaddrinfo_is_not_asked_for_them(counter, monkeypatch, no_hosts, tmp_path):
    asked: list[str] = []

    def fake_getaddrinfo(host, *args, **kwargs):  # the real one would ask the system's servers
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(dns_system, "_nsswitch_hosts", lambda path=ndns.NSSWITCH_CONF: "files dns")
    for name in ("x.invalid", "app.localhost", "localhost"):
        ans = ndns.system_lookup(name, hosts_path=no_hosts)
        assert ans.error[0] == "skipped" and "special-use name (RFC 6761)" in ans.error[1]
        assert ans.addresses == ()
    assert asked == []
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    ans = ndns.system_lookup("localhost", hosts_path=str(hosts))  # files first: the hosts file answers
    assert ans.error is None and asked == ["localhost"] and ans.hosts == ("127.0.0.1",)
    monkeypatch.setattr(dns_system, "_nsswitch_hosts", lambda path=ndns.NSSWITCH_CONF: "dns files")
    assert ndns.system_lookup("localhost", hosts_path=str(hosts)).error[0] == "skipped"
    assert asked == ["localhost"]
