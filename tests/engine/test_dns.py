"""DNS lab queries against a real dnsmasq on loopback, cross-checked with dig."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading

import pytest

from netlab.engine import dns as ndns
from netlab.engine.dns import DnsResult, Record, lookup, parse_rdtype, system_servers

HANG_GUARD = 30.0
DIG = shutil.which("dig")

needs_dig = pytest.mark.skipif(DIG is None, reason="dig (bind9-dnsutils) is not installed")


@pytest.fixture
def lab_dns(dnsmasq) -> int:
    """The port of the shared dnsmasq (tests/conftest.py) that serves lab.test."""
    return dnsmasq.port


def dig(port: int, *args: str) -> list[str]:
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(port), "+short", "+time=5", "+tries=1", *args],
                       capture_output=True, text=True, timeout=HANG_GUARD)
    assert p.returncode == 0, p.stderr
    return [line for line in p.stdout.splitlines() if line.strip()]


def ask(port: int, name: str, rdtype: str = "A", **kw) -> DnsResult:
    return lookup(name, rdtype, server="127.0.0.1", port=port, timeout=5.0, **kw)


@needs_dig
@pytest.mark.parametrize("name,rdtype", [
    ("web.lab.test", "A"),
    ("www.lab.test", "CNAME"),
    ("www.lab.test", "A"),  # the CNAME and then the A record, like dig +short
    ("lab.test", "MX"),
    ("lab.test", "TXT"),
])
def test_answers_match_dig(lab_dns, name, rdtype):
    res = ask(lab_dns, name, rdtype)
    assert res.error is None and res.rcode == "NOERROR"
    assert [r.data for r in res.answer] == dig(lab_dns, name, rdtype)
    assert res.transport == "udp" and "qr" in res.flags
    assert all(r.cls == "IN" for r in res.answer)


def test_sections_and_records(lab_dns):
    res = ask(lab_dns, "www.lab.test", "A")
    assert res.answer == (
        Record("www.lab.test.", res.answer[0].ttl, "IN", "CNAME", "web.lab.test."),
        Record("web.lab.test.", res.answer[1].ttl, "IN", "A", "127.0.0.1"),
    )
    assert (res.name, res.rdtype, res.server, res.port) == ("www.lab.test", "A", "127.0.0.1", lab_dns)
    assert set(res.flags) >= {"qr", "aa", "rd"}
    assert res.flags == tuple(f for f in ("qr", "aa", "tc", "rd", "ra", "ad", "cd") if f in res.flags)
    mx = ask(lab_dns, "lab.test", "MX")
    assert [(r.type, r.data) for r in mx.answer] == [("MX", "10 mail.lab.test.")]
    txt = ask(lab_dns, "lab.test", "TXT")
    assert [r.data for r in txt.answer] == ['"hello world"']


def test_to_dict_shape(lab_dns):
    d = ask(lab_dns, "web.lab.test", "A").to_dict()
    json.dumps(d)
    assert set(d) == {"query", "rcode", "flags", "answer", "authority", "additional", "elapsed_ms", "size", "error"}
    assert d["query"] == {"name": "web.lab.test", "type": "A", "server": "127.0.0.1", "port": lab_dns,
                          "transport": "udp"}
    assert d["answer"] == [{"name": "web.lab.test.", "ttl": d["answer"][0]["ttl"], "class": "IN", "type": "A",
                            "data": "127.0.0.1"}]
    assert d["error"] is None and d["rcode"] == "NOERROR" and isinstance(d["flags"], list)


@needs_dig
def test_size_matches_dig(lab_dns):
    # dig adds EDNS by default (a bigger query and reply); without it the replies are identical.
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(lab_dns), "+noedns", "+time=5", "+tries=1",
                        "web.lab.test", "A"], capture_output=True, text=True, timeout=HANG_GUARD)
    m = re.search(r"MSG SIZE\s+rcvd:\s+(\d+)", p.stdout)
    assert m, p.stdout
    assert ask(lab_dns, "web.lab.test", "A").size == int(m.group(1))


def test_nxdomain_and_nodata_are_answers(lab_dns):
    nx = ask(lab_dns, "nothing-here.lab.test", "A")
    assert nx.error is None and nx.rcode == "NXDOMAIN" and nx.answer == ()
    assert nx.to_dict()["error"] is None
    nodata = ask(lab_dns, "web.lab.test", "MX")
    assert nodata.error is None and nodata.rcode == "NOERROR" and nodata.answer == ()


def test_tcp_transport(lab_dns):
    udp = ask(lab_dns, "www.lab.test", "A")
    tcp = ask(lab_dns, "www.lab.test", "A", transport="tcp")
    assert tcp.error is None and tcp.transport == "tcp"
    assert [r.data for r in tcp.answer] == [r.data for r in udp.answer]
    assert tcp.size == udp.size  # the same message; TCP's 2-byte length prefix is not counted


@needs_dig
def test_truncated_udp_reply_is_asked_again_over_tcp(lab_dns, dnsmasq):
    res = ask(lab_dns, "big.lab.test", "TXT")
    assert res.error is None, res.error
    assert res.transport == "tcp" and "tc" not in res.flags
    assert res.size > 512
    assert sorted(r.data for r in res.answer) == sorted(dig(lab_dns, "big.lab.test", "TXT"))
    assert sorted(r.data for r in res.answer) == [f'"{t}"' for t in dnsmasq.big_txt]


def test_timeout_against_a_silent_server():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        res = lookup("web.lab.test", "A", server="127.0.0.1", port=port, timeout=0.5)
    finally:
        silent.close()
    assert res.rcode is None and res.answer == () and res.size is None
    assert res.error[0] == "timeout"
    assert f"127.0.0.1:{port}" in res.error[1] and "0.5 s" in res.error[1]
    assert res.to_dict()["error"] == {"kind": "timeout", "message": res.error[1]}


def test_tcp_refused_is_a_network_error():
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))  # bound, not listening: connect is refused
    try:
        res = lookup("web.lab.test", server="127.0.0.1", port=blocker.getsockname()[1], transport="tcp",
                     timeout=5)
    finally:
        blocker.close()
    assert res.error[0] == "network" and "refused" in res.error[1]


def test_garbage_reply_is_malformed():
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(HANG_GUARD)

    def answer_garbage():
        try:
            _data, addr = srv.recvfrom(4096)
            srv.sendto(b"\x00\x01garbage", addr)
        except OSError:
            pass

    t = threading.Thread(target=answer_garbage, daemon=True)
    t.start()
    try:
        res = lookup("web.lab.test", server="127.0.0.1", port=srv.getsockname()[1], timeout=5)
    finally:
        t.join(HANG_GUARD)
        srv.close()
    assert res.error[0] == "malformed" and res.rcode is None


@pytest.mark.parametrize("kwargs,fragment", [
    ({"rdtype": "BOGUS"}, "unknown record type"),
    ({"rdtype": "70000"}, "unknown record type"),
    ({"rdtype": "AXFR"}, "cannot be asked"),
    ({"transport": "quic"}, "unknown transport"),
    ({"name": "a" * 64 + ".test"}, "not a valid DNS name"),
    ({"name": ""}, "no name"),
    ({"port": 0}, "bad port"),
    ({"timeout": 0}, "timeout must be positive"),
])
def test_usage_errors(kwargs, fragment):
    args = {"name": "web.lab.test", "rdtype": "A", "server": "127.0.0.1", "port": 53, "timeout": 1.0} | kwargs
    res = lookup(**args)
    assert res.error is not None and res.error[0] == "usage" and fragment in res.error[1], res.error
    assert res.rcode is None


def test_record_type_by_number(lab_dns):
    assert parse_rdtype("15") == parse_rdtype("mx") == parse_rdtype(15)
    res = ask(lab_dns, "lab.test", "15")
    assert res.rdtype == "MX" and [r.data for r in res.answer] == ["10 mail.lab.test."]


def test_default_server_and_missing_config(monkeypatch):
    servers = system_servers()
    assert isinstance(servers, list) and all(isinstance(s, str) for s in servers)
    monkeypatch.setattr(ndns, "system_servers", lambda: [])
    res = lookup("web.lab.test")
    assert res.error[0] == "config" and "no DNS server configured" in res.error[1]


def test_system_server_is_used_when_none_given(lab_dns, monkeypatch):
    monkeypatch.setattr(ndns, "system_servers", lambda: ["127.0.0.1"])
    res = lookup("web.lab.test", port=lab_dns)
    assert res.error is None and res.server == "127.0.0.1" and res.answer[0].data == "127.0.0.1"
