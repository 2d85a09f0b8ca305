"""lookup (netlab.engine.dns.query): questions to dnsmasq and to the dnspython authoritative
server (fx.test), cross-checked with dig."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading

import dns.flags
import pytest

from netlab.engine.dns import (
    DnsResult,
    Record,
    lookup,
    lookup_many,
    parse_rdtype,
    reverse_name,
    system_servers,
)
from netlab.engine.dns import system as dns_system
from tests.engine.dns import DIG, HANG_GUARD, dig, fx, needs_dig


@pytest.fixture
def lab_dns(dnsmasq) -> int:
    """The port of the shared dnsmasq (tests/conftest.py) that serves lab.test."""
    return dnsmasq.port



def ask(port: int, name: str, rdtype: str = "A", **kw) -> DnsResult:
    return lookup(name, rdtype, server="127.0.0.1", port=port, timeout=5.0, **kw)


@needs_dig
@pytest.mark.parametrize("name,rdtype", [
    ("web.lab.test", "A"),
    ("www.lab.test", "CNAME"),
    ("www.lab.test", "A"),  # the CNAME and then the A record, like dig +short
    ("lab.test", "MX"),
    ("lab.test", "TXT"),
    ("v6.lab.test", "AAAA"),
    ("_http._tcp.lab.test", "SRV"),
    ("lab.test", "CAA"),
    ("9.0.0.127.in-addr.arpa", "PTR"),
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


SPEC_KEYS = {"query", "rcode", "flags", "answer", "authority", "additional", "elapsed_ms", "size", "error"}


def test_to_dict_shape(lab_dns):
    d = ask(lab_dns, "web.lab.test", "A").to_dict()
    json.dumps(d)
    assert set(d) >= SPEC_KEYS  # the shape; edns, udp_truncated and tls come on top
    assert set(d) - SPEC_KEYS == {"edns", "udp_truncated", "tls"}
    q = d["query"]
    assert {k: q[k] for k in ("name", "type", "server", "port", "transport")} == {
        "name": "web.lab.test", "type": "A", "server": "127.0.0.1", "port": lab_dns, "transport": "udp"}
    assert q["flags"] == ["rd"] and q["udp_payload"] is None  # no EDNS by default, like getaddrinfo
    assert d["answer"] == [{"name": "web.lab.test.", "ttl": d["answer"][0]["ttl"], "class": "IN", "type": "A",
                            "data": "127.0.0.1"}]
    assert d["error"] is None and d["rcode"] == "NOERROR" and isinstance(d["flags"], list)
    assert d["edns"] is None and d["udp_truncated"] is False and d["tls"] is None


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
    ({"payload": 100}, "EDNS buffer size"),
    ({"name": "not-an-ip", "reverse": True}, "not an IP address"),
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
    monkeypatch.setattr(dns_system, "system_servers", lambda: [])
    res = lookup("web.lab.test")
    assert res.error[0] == "config" and "no DNS server configured" in res.error[1]


def test_system_server_is_used_when_none_given(lab_dns, monkeypatch):
    monkeypatch.setattr(dns_system, "system_servers", lambda: ["127.0.0.1"])
    res = lookup("web.lab.test", port=lab_dns)
    assert res.error is None and res.server == "127.0.0.1" and res.answer[0].data == "127.0.0.1"


# ------------------------------------------------------ several types, reverse (dnsmasq)


@needs_dig
def test_several_types_one_query_each(lab_dns):
    results = lookup_many("lab.test", ["MX", "TXT", "CAA"], server="127.0.0.1", port=lab_dns, timeout=5.0)
    assert [r.rdtype for r in results] == ["MX", "TXT", "CAA"]
    for r in results:
        assert r.error is None and r.rcode == "NOERROR"
        assert [rec.data for rec in r.answer] == dig(lab_dns, "lab.test", r.rdtype)


@needs_dig
def test_reverse_lookup_matches_dig_x(lab_dns):
    res = lookup("127.0.0.9", "PTR", server="127.0.0.1", port=lab_dns, timeout=5.0, reverse=True)
    assert res.name == "9.0.0.127.in-addr.arpa." and res.rdtype == "PTR"
    assert [r.data for r in res.answer] == ["ptr.lab.test."] == dig(lab_dns, "-x", "127.0.0.9")
    assert reverse_name("::1").endswith(".ip6.arpa.") and reverse_name("[::1]") == reverse_name("::1")



# ----------------------------------------------- the dnspython authoritative server (fx.test)

def dig_fx(fx_dns, *args: str) -> list[str]:
    return dig(fx_dns.port, *args)


@pytest.mark.parametrize("name,rdtype,expected", [
    ("secret.fx.test", "A", ["127.0.0.1"]),
    ("v6.fx.test", "AAAA", ["::1"]),
    ("alias.fx.test", "CNAME", ["secret.fx.test."]),
    ("fx.test", "MX", ["10 mail.fx.test."]),
    ("fx.test", "TXT", ['"v=spf1 -all"']),
    ("fx.test", "NS", ["ns.fx.test."]),
    ("fx.test", "SOA", ["ns.fx.test. hostmaster.fx.test. 2024010101 3600 600 86400 60"]),
    ("10.0.0.127.in-addr.arpa", "PTR", ["secret.fx.test."]),
    ("_sip._udp.fx.test", "SRV", ["10 60 5060 sip.fx.test."]),
    ("fx.test", "CAA", ['0 issue "letsencrypt.org"']),
    ("fx.test", "HTTPS", ['1 . alpn="h2,h3"']),
    ("svc.fx.test", "SVCB", ['1 secret.fx.test. port="8443"']),
    ("child.fx.test", "DS", ["12345 13 2 " + "ab" * 32]),
    ("fx.test", "TYPE65280", ["\\# 4 0a000001"]),
    ("fx.test", "65280", ["\\# 4 0a000001"]),
])
def test_every_record_type(fx_dns, name, rdtype, expected):
    res = fx(fx_dns, name, rdtype)
    assert res.error is None and res.rcode == "NOERROR", res.error
    assert "aa" in res.flags and "ra" not in res.flags  # an authoritative server, no recursion
    assert [r.data for r in res.answer] == expected
    assert res.answer[0].type == dns_type_text(rdtype) and res.answer[0].ttl == 300


def dns_type_text(rdtype: str) -> str:
    return "TYPE65280" if rdtype == "65280" else rdtype


@needs_dig
@pytest.mark.parametrize("name,rdtype", [("fx.test", "DNSKEY"), ("fx.test", "HTTPS"), ("chain.fx.test", "A"),
                                          ("fx.test", "TYPE65280")])
def test_dnspython_server_agrees_with_dig(fx_dns, name, rdtype):
    res = fx(fx_dns, name, rdtype)
    ours = [r.data for r in res.answer]
    theirs = dig_fx(fx_dns, "+norec", name, rdtype)
    if rdtype == "DNSKEY":  # dig splits the base64 key differently: compare without spaces
        ours, theirs = [x.replace(" ", "") for x in ours], [x.replace(" ", "") for x in theirs]
    if rdtype.startswith("TYPE"):  # RFC 3597 hex: dig writes it in upper case
        ours, theirs = [x.lower() for x in ours], [x.lower() for x in theirs]
    assert ours == theirs


def test_cname_chain_is_in_the_answer(fx_dns):
    res = fx(fx_dns, "chain.fx.test", "A")
    assert [(r.name, r.type, r.data) for r in res.answer] == [
        ("chain.fx.test.", "CNAME", "alias.fx.test."), ("alias.fx.test.", "CNAME", "secret.fx.test."),
        ("secret.fx.test.", "A", "127.0.0.1")]


def test_nxdomain_and_nodata_carry_the_soa(fx_dns):
    nx = fx(fx_dns, "nothing.fx.test", "A")
    assert nx.error is None and nx.rcode == "NXDOMAIN" and nx.answer == () and not nx.nodata
    assert [r.type for r in nx.authority] == ["SOA"]
    nodata = fx(fx_dns, "secret.fx.test", "MX")
    assert nodata.error is None and nodata.rcode == "NOERROR" and nodata.nodata
    assert [r.type for r in nodata.authority] == ["SOA"]


@pytest.mark.parametrize("name,rcode", [("servfail.fx.test", "SERVFAIL"), ("refused.fx.test", "REFUSED"),
                                        ("elsewhere.example", "REFUSED")])
def test_servfail_and_refused_are_answers(fx_dns, name, rcode):
    res = fx(fx_dns, name, "A")
    assert res.error is None and res.rcode == rcode and res.answer == ()
    assert res.size is not None and res.size > 12 and "qr" in res.flags


def test_truncated_reply_forces_the_tcp_retry(fx_dns):
    before = len(fx_dns.server.received)
    res = fx(fx_dns, "big.fx.test", "TXT")
    assert res.error is None and res.transport == "tcp" and res.udp_truncated and "tc" not in res.flags
    assert sorted(r.data for r in res.answer) == sorted(f'"{t}"' for t in fx_dns.big_txt)
    assert res.size > 1232
    asked = [(t, str(q.question[0].name)) for t, q in fx_dns.server.received[before:]]
    assert asked == [("udp", "big.fx.test."), ("tcp", "big.fx.test.")]


def test_truncated_reply_shown_as_is_without_the_retry(fx_dns):
    res = fx(fx_dns, "big.fx.test", "TXT", tc_retry=False)
    assert res.error is None and res.transport == "udp" and not res.udp_truncated
    assert "tc" in res.flags and res.answer == ()


def test_a_big_edns_buffer_avoids_the_truncation(fx_dns):
    res = fx(fx_dns, "big.fx.test", "TXT", payload=4096)
    assert res.error is None and res.transport == "udp" and not res.udp_truncated
    assert len(res.answer) == len(fx_dns.big_txt) and res.size > 1232
    assert res.payload == 4096 and res.edns is not None and res.edns.payload == 1232 and res.edns.version == 0


@needs_dig
def test_edns_details_match_dig(fx_dns):
    res = fx(fx_dns, "secret.fx.test", "A", do=True)
    assert res.payload == 1232 and res.query_flags == ("rd", "do")
    assert res.edns.flags == ("do",) and res.edns.payload == 1232
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(fx_dns.port), "+dnssec", "+bufsize=1232", "+nocookie",
                        "+time=5", "+tries=1", "secret.fx.test", "A"], capture_output=True, text=True,
                       timeout=HANG_GUARD)
    assert "; EDNS: version: 0, flags: do; udp: 1232" in p.stdout
    m = re.search(r"MSG SIZE\s+rcvd:\s+(\d+)", p.stdout)
    assert m and int(m.group(1)) == res.size


def test_query_flags_reach_the_server(fx_dns):
    res = fx(fx_dns, "secret.fx.test", "A", rd=False, cd=True, do=True, payload=2048)
    assert res.error is None and res.query_flags == ("cd", "do")
    q = fx_dns.server.received[-1][1]
    assert not q.flags & dns.flags.RD and q.flags & dns.flags.CD
    assert q.edns == 0 and q.payload == 2048 and q.ednsflags & dns.flags.DO
    assert "rd" not in res.flags and "cd" in res.flags  # the server echoed CD, and RD stayed off
    plain = fx(fx_dns, "secret.fx.test", "A")
    q = fx_dns.server.received[-1][1]
    assert q.flags & dns.flags.RD and q.edns == -1 and plain.edns is None


def test_a_server_that_never_answers_times_out(fx_dns, silent_dns):
    res = fx(fx_dns, "silent.fx.test", "A", timeout=0.3)
    assert res.error[0] == "timeout" and res.rcode is None and "0.3 s" in res.error[1]
    res = lookup("secret.fx.test", "A", server="127.0.0.1", port=silent_dns.port, transport="tcp", timeout=0.3)
    assert res.error[0] == "timeout" and res.transport == "tcp"
    assert [t for t, _q in silent_dns.received][-1] == "tcp"  # it did receive the query


def test_udp_to_a_closed_port_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = lookup("secret.fx.test", "A", server="127.0.0.1", port=port, timeout=HANG_GUARD)
    assert res.error[0] == "network" and "refused" in res.error[1]  # at once, not after the timeout


def test_hostile_strings_stay_escaped_data(fx_dns):
    txt = fx(fx_dns, "hostile.fx.test", "TXT")
    assert txt.answer[0].data == '"\\027[2J\\027]0;pwned\\007 [bold red]markup[/bold red]"'
    cname = fx(fx_dns, "evil.fx.test", "CNAME")
    assert cname.answer[0].data == "x\\027[31my.fx.test."
    assert "\x1b" not in json.dumps(txt.to_dict()) + json.dumps(cname.to_dict(), ensure_ascii=False)

