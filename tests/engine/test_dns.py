"""DNS lab queries against a real dnsmasq on loopback, cross-checked with dig."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading

import dns.flags
import pytest

from netlab.engine import dns as ndns
from netlab.engine.dns import (
    DnsResult,
    Record,
    ServerSpec,
    load_hints,
    lookup,
    lookup_many,
    parse_rdtype,
    parse_server,
    resolve_addresses,
    reverse_name,
    system_config,
    system_lookup,
    system_servers,
    trace,
)
from netlab.engine.dns import exchange as dns_exchange
from netlab.engine.dns import system as dns_system
from netlab.engine.dns import tracer as dns_tracer

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
    assert set(d) >= SPEC_KEYS  # the issue's shape; edns, udp_truncated and tls come on top
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


def fx(fx_dns, name: str, rdtype: str = "A", **kw) -> DnsResult:
    kw.setdefault("timeout", 5.0)
    return lookup(name, rdtype, server=fx_dns.host, port=kw.pop("port", fx_dns.port), **kw)


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


# -------------------------------------------------------------------------- DNS over TLS


def test_dot_with_the_ca(fx_dns):
    res = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.tls_port, transport="tls", cafile=fx_dns.ca_path)
    assert res.error is None, res.error
    assert res.transport == "tls" and res.tls.startswith("TLS") and [r.data for r in res.answer] == ["127.0.0.1"]
    assert res.size == fx(fx_dns, "secret.fx.test", "A").size
    assert fx_dns.server.received[-2][0] == "tls"
    named = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.tls_port, transport="tls", cafile=fx_dns.ca_path,
               tls_hostname="dns.fx.test")
    assert named.error is None


@pytest.mark.parametrize("kw,fragment", [
    ({}, "not trusted"),
    ({"tls_hostname": "other.test"}, "other.test"),
])
def test_dot_verification_failures(fx_dns, kw, fragment):
    kw = {"cafile": fx_dns.ca_path, **kw} if kw else {}
    res = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.tls_port, transport="tls", **kw)
    assert res.error[0] == "tls" and fragment in res.error[1] and res.rcode is None


def test_dot_insecure_skips_verification(fx_dns):
    res = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.tls_port, transport="tls", insecure=True)
    assert res.error is None and res.answer[0].data == "127.0.0.1"


# ------------------------------------------------------------------------ DNS over HTTPS


def test_doh(fx_dns):
    res = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.https_port, transport="https", cafile=fx_dns.ca_path)
    if not ndns.doh_available():
        assert res.error[0] == "config" and "dnspython[doh]" in res.error[1] and "--tls" in res.error[1]
        pytest.skip("dnspython's DoH extra is not installed: the clear message is all there is")
    assert res.error is None, res.error
    assert res.transport == "https" and res.url == f"https://127.0.0.1:{fx_dns.https_port}/dns-query"
    assert [r.data for r in res.answer] == ["127.0.0.1"] and res.size == fx(fx_dns, "secret.fx.test").size
    assert fx_dns.server.received[-2][0] == "https" and "HTTP/" in res.tls
    bad = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.https_port, transport="https", cafile=fx_dns.ca_path,
             path="/nope")
    assert bad.error[0] == "malformed" and "404" in bad.error[1]
    untrusted = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.https_port, transport="https")
    assert untrusted.error[0] == "tls"


def test_doh_without_the_extra_is_a_clear_message(fx_dns, monkeypatch):
    monkeypatch.setattr(dns_exchange, "doh_available", lambda: False)
    res = fx(fx_dns, "secret.fx.test", "A", port=fx_dns.https_port, transport="https")
    assert res.error[0] == "config" and "pip install 'dnspython[doh]'" in res.error[1]


@pytest.fixture(scope="module")
def doh_tls(tmp_path_factory):
    """A server TLS context (HTTP/1.1 by ALPN) for 127.0.0.1, and the CA file that trusts it."""
    import ssl

    trustme = pytest.importorskip("trustme", reason="trustme makes the test certificates")
    ca = trustme.CA()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])
    path = tmp_path_factory.mktemp("doh") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ctx, str(path)


def _doh_peer(tcp_peer, doh_tls, answer):
    """A DoH endpoint that is not one: TLS on a tcp_peer, the whole request read, then
    ``answer(tls, peer)`` writes whatever it likes."""
    ctx, _ca = doh_tls

    def handler(conn, peer):
        with ctx.wrap_socket(conn, server_side=True) as tls:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            while length and len(body) < int(length.group(1)):
                body += tls.recv(65536)
            peer.received.append(head)
            peer.body = body
            answer(tls, peer)

    if not ndns.doh_available():
        pytest.skip("dnspython's DoH extra is not installed")
    return tcp_peer(handler, read_request=False)


def _doh(peer, doh_tls, **kw):
    return lookup("secret.fx.test", "A", server="127.0.0.1", port=peer.port, transport="https",
                  cafile=doh_tls[1], timeout=HANG_GUARD, **kw)


HTML = b"<!doctype html><html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>\n"


def test_doh_reply_that_is_html_says_so(tcp_peer, doh_tls):
    def html(tls, peer):
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(HTML) + HTML)

    peer = _doh_peer(tcp_peer, doh_tls, html)
    res = _doh(peer, doh_tls)
    assert res.error is not None and res.error[0] == "malformed"
    assert "the server answered text/html, not application/dns-message" in res.error[1]
    assert f"https://127.0.0.1:{peer.port}/dns-query" in res.error[1]
    assert res.rcode is None and res.answer == ()
    # the request was a real DoH POST (RFC 8484): what the peer got shows it
    head = peer.received[-1].lower()
    assert head.startswith(b"post /dns-query http/1.1") and b"content-type: application/dns-message" in head


def test_doh_reply_without_a_content_type_or_an_error_status(tcp_peer, doh_tls):
    answers = iter([
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nnot dns wire",
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % len(HTML) + HTML,
    ])
    peer = _doh_peer(tcp_peer, doh_tls, lambda tls, peer: tls.sendall(next(answers)))
    res = _doh(peer, doh_tls)
    assert res.error[0] == "malformed"
    assert "the server answered without a Content-Type, not application/dns-message" in res.error[1]
    res = _doh(peer, doh_tls)
    assert res.error[0] == "malformed" and "HTTP 404 Not Found" in res.error[1]
    assert "not a DNS message (it answered text/html)" in res.error[1]


def test_doh_reply_compressed_anyway_is_decoded_within_the_limit(tcp_peer, doh_tls):
    """netlab asks for identity; a server that gzips anyway is still understood."""
    import gzip

    import dns.message
    import dns.rrset

    def gzipped(tls, peer):
        query = dns.message.from_wire(peer.body)
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "127.0.0.1"))
        body = gzip.compress(reply.to_wire())
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Encoding: gzip\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)

    peer = _doh_peer(tcp_peer, doh_tls, gzipped)
    res = _doh(peer, doh_tls)
    assert res.error is None, res.error
    assert [r.data for r in res.answer] == ["127.0.0.1"] and res.size == len(dns.message.make_query(
        "secret.fx.test", "A").to_wire()) + 16  # the decoded message: question + one A record
    assert b"accept-encoding: identity" in peer.received[-1].lower()


def test_doh_reply_declaring_a_huge_body_fails_at_once(tcp_peer, doh_tls):
    def huge(tls, peer):
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\n"
                    b"Content-Length: 104857600\r\n\r\n" + b"\0" * 1000)
        peer.stop.wait(HANG_GUARD)  # the rest never comes: only the declared length can end this

    peer = _doh_peer(tcp_peer, doh_tls, huge)
    res = _doh(peer, doh_tls)
    assert res.error[0] == "malformed", res.error
    assert "over 65,535 bytes, the most a DNS message can be" in res.error[1]
    assert "Content-Length: 104,857,600" in res.error[1] and "not read" in res.error[1]


def test_doh_reply_with_a_huge_body_stops_at_the_limit(tcp_peer, doh_tls):
    def huge(tls, peer):
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nConnection: close\r\n\r\n")
        block = b"\xff" * 16384
        for _ in range(512):  # 8 MiB with no length, then silence: only a limit ends the read early
            try:
                tls.sendall(block)
            except OSError:  # the client hung up: what a bounded reader does
                return
        peer.stop.wait(HANG_GUARD)

    peer = _doh_peer(tcp_peer, doh_tls, huge)
    res = _doh(peer, doh_tls)
    assert res.error[0] == "malformed", res.error
    assert "over 65,535 bytes, the most a DNS message can be: stopped reading after" in res.error[1]
    read = int(re.search(r"stopped reading after ([\d,]+) bytes", res.error[1]).group(1).replace(",", ""))
    assert 65535 < read <= 65535 + 65536  # at most one read past the limit
    assert res.size is None


# ------------------------------------------------------------------------ server specs


@pytest.mark.parametrize("text,spec", [
    ("127.0.0.1", ServerSpec("127.0.0.1")),
    ("@127.0.0.1:5353", ServerSpec("127.0.0.1", 5353)),
    ("127.0.0.1#5353", ServerSpec("127.0.0.1", 5353)),
    ("::1", ServerSpec("::1")),
    ("[::1]:5353", ServerSpec("::1", 5353)),
    ("[::1]", ServerSpec("::1")),
    ("localhost", ServerSpec("localhost")),
    ("tcp://127.0.0.1:53", ServerSpec("127.0.0.1", 53, "tcp")),
    ("tls://[::1]", ServerSpec("::1", None, "tls")),
    ("https://127.0.0.1:8443/dns-query", ServerSpec("127.0.0.1", 8443, "https", "/dns-query")),
    ("https://dns.example", ServerSpec("dns.example", None, "https", "/dns-query")),
])
def test_parse_server(text, spec):
    assert parse_server(text) == spec


@pytest.mark.parametrize("text", ["", "@", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", "[::1", "ftp://x",
                                  "tls://1.2.3.4/path", "[::1]x"])
def test_parse_server_rejects(text):
    with pytest.raises(ValueError):
        parse_server(text)


# ---------------------------------------------------------------------------------- trace


def steps_of(tr):
    return [(s.purpose, s.zone, s.result.server, s.kind, s.next_zone) for s in tr.steps]


def test_trace_follows_referrals_past_a_lame_server(trace_dns):
    tr = trace("www.trace.test", "A", hints=trace_dns.hints, port=trace_dns.port, timeout=5.0)
    assert tr.error is None and tr.final.rcode == "NOERROR"
    assert [r.data for r in tr.final.answer] == ["127.0.0.1"]
    assert steps_of(tr) == [
        ("", ".", "127.0.0.2", "referral", "test."),
        ("", "test.", "127.0.0.3", "referral", "trace.test."),
        ("", "trace.test.", "127.0.0.4", "answer", None),
    ]
    assert tr.steps[1].referral == ("ns0.trace.test.", "ns1.trace.test.")
    assert tr.steps[2].failed == ((f"127.0.0.6:{trace_dns.port} (ns0.trace.test.)", "answered REFUSED"),)
    assert all("rd" not in s.result.query_flags for s in tr.steps)  # iterative: RD off
    assert tr.hints == trace_dns.hints and tr.port == trace_dns.port
    d = tr.to_dict()
    json.dumps(d)
    assert d["rcode"] == "NOERROR" and len(d["steps"]) == 3 and d["steps"][0]["next_zone"] == "test."


@needs_dig
def test_trace_referrals_match_dig(trace_dns):
    tr = trace("www.trace.test", "A", hints=trace_dns.hints, port=trace_dns.port)
    for step in tr.steps[:2]:
        p = subprocess.run([DIG, f"@{step.result.server}", "-p", str(trace_dns.port), "+norec", "+time=5",
                            "+tries=1", "+noall", "+authority", "www.trace.test", "A"],
                           capture_output=True, text=True, timeout=HANG_GUARD)
        theirs = sorted(line.split()[-1] for line in p.stdout.splitlines() if line.strip())
        assert sorted(r.data for r in step.result.authority if r.type == "NS") == theirs


def test_trace_resolves_a_glueless_name_server(trace_dns):
    tr = trace("host.sub.trace.test", "A", hints=trace_dns.hints, port=trace_dns.port, timeout=5.0)
    assert tr.error is None and [r.data for r in tr.final.answer] == ["127.0.0.9"]
    side = "address of ns.helper.test. (no glue)"
    assert steps_of(tr) == [
        ("", ".", "127.0.0.2", "referral", "test."),
        ("", "test.", "127.0.0.3", "referral", "trace.test."),
        ("", "trace.test.", "127.0.0.4", "referral", "sub.trace.test."),
        (side, ".", "127.0.0.2", "referral", "test."),
        (side, "test.", "127.0.0.3", "referral", "helper.test."),
        (side, "helper.test.", "127.0.0.5", "answer", None),
        ("", "sub.trace.test.", "127.0.0.5", "answer", None),
    ]


def test_trace_ends_at_nxdomain_and_cname(trace_dns):
    nx = trace("nope.trace.test", "A", hints=trace_dns.hints, port=trace_dns.port)
    assert nx.error is None and nx.final.rcode == "NXDOMAIN" and nx.steps[-1].kind == "nxdomain"
    alias = trace("alias.trace.test", "A", hints=trace_dns.hints, port=trace_dns.port)
    assert [(r.type, r.data) for r in alias.final.answer] == [("CNAME", "www.trace.test."), ("A", "127.0.0.1")]
    nodata = trace("www.trace.test", "MX", hints=trace_dns.hints, port=trace_dns.port)
    assert nodata.final.rcode == "NOERROR" and nodata.steps[-1].kind == "nodata"


def test_trace_with_silent_roots_fails_cleanly(silent_dns, tmp_path):
    hints = tmp_path / "hints"
    hints.write_text("127.0.0.1\n")
    tr = trace("www.trace.test", "A", hints=str(hints), port=silent_dns.port, timeout=0.3)
    assert tr.final is None and tr.error[0] == "timeout" and "zone ." in tr.error[1]
    assert [s.kind for s in tr.steps] == ["noreply"]


def test_trace_usage_errors(tmp_path):
    assert trace("x.test", hints=str(tmp_path / "missing")).error[0] == "usage"
    empty = tmp_path / "empty"
    empty.write_text("; nothing\n")
    assert "no root servers" in trace("x.test", hints=str(empty)).error[1]
    assert trace("x.test", "BOGUS").error[0] == "usage"
    assert trace("x.test", transport="tls").error[0] == "usage"


def test_load_hints(tmp_path, monkeypatch):
    f = tmp_path / "named.root"
    f.write_text(".  3600000  NS  A.ROOT.LAB.\nA.ROOT.LAB.  3600000  AAAA  ::1\nA.ROOT.LAB. 3600000 A 127.0.0.2\n"
                 "; comment\n127.0.0.7\n")
    assert load_hints(str(f)) == (str(f), [("a.root.lab.", ["127.0.0.2", "::1"]), ("127.0.0.7", ["127.0.0.7"])])
    monkeypatch.setattr(dns_tracer, "ROOT_HINTS_PATHS", ())
    source, roots = load_hints()
    assert source == "built-in" and len(roots) == 13 and roots[0][0] == "a.root-servers.net."


# ------------------------------------------------- the engine's resolution uses this module


def test_resolve_addresses_through_the_test_server(fx_dns):
    ans = resolve_addresses("dual.fx.test", server=fx_dns.address, timeout=5.0)
    assert ans.error is None and ans.addresses == ("127.0.0.1", "::1")
    assert ans.server == f"127.0.0.1:{fx_dns.port}"
    assert [(r.rdtype, r.transport) for r in ans.results] == [("A", "udp"), ("AAAA", "udp")]
    chain = resolve_addresses("chain.fx.test", server=fx_dns.address)
    assert chain.addresses == ("127.0.0.1",)
    assert resolve_addresses("nothing.fx.test", server=fx_dns.address).error[0] == "nxdomain"
    assert resolve_addresses("mail.fx.test.", server=fx_dns.address).addresses == ("127.0.0.1",)
    fail = resolve_addresses("servfail.fx.test", server=fx_dns.address)
    assert fail.error[0] == "rcode" and "SERVFAIL" in fail.error[1]


def test_send_resolves_through_the_test_server(fx_dns, lab_server):
    from netlab.engine import Engine, Options, Request

    with Engine() as engine:
        ex = engine.send(Request.from_url(f"http://secret.fx.test:{lab_server.port}/ip"),
                         options=Options(dns_server=fx_dns.address))
        assert ex.ok, ex.error
        assert ex.dns.source == "dns" and ex.dns.addresses == ["127.0.0.1"]
        assert ex.dns.server == f"127.0.0.1:{fx_dns.port}"
        assert [(q.name, q.rdtype, q.rcode) for q in ex.dns.queries] == [
            ("secret.fx.test", "A", "NOERROR"), ("secret.fx.test", "AAAA", "NOERROR")]
        assert ex.response.body == b"127.0.0.1\n"
        bad = engine.send(Request.from_url(f"http://servfail.fx.test:{lab_server.port}/ip"),
                          options=Options(dns_server=fx_dns.address))
        assert bad.error.phase == "dns" and "SERVFAIL" in bad.error.message


# ------------------------------------------------------------ the system resolver's side


def test_system_config_parsing(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 127.0.0.1\nnameserver ::1\nnameserver not-an-ip\n"
                    "search lab.test example.test\noptions ndots:2 timeout:1\n")
    cfg = system_config(str(conf))
    assert cfg.servers == ("127.0.0.1", "::1") and cfg.search == ("lab.test", "example.test") and cfg.ndots == 2
    assert system_config(str(tmp_path / "missing")).servers == ()


def test_getaddrinfo_side_for_a_hosts_file_name():
    # "localhost" is answered from /etc/hosts (files come first): no DNS traffic leaves the machine.
    ans = system_lookup("localhost", timeout=HANG_GUARD)
    assert ans.error is None and ans.addresses and all(a in ("127.0.0.1", "::1") for a in ans.addresses)
    assert set(ans.hosts) <= {"127.0.0.1", "::1"} and ans.hosts
    assert json.loads(json.dumps(ans.to_dict()))["hosts_file"]["addresses"] == list(ans.hosts)
    literal = system_lookup("127.0.0.1")
    assert literal.addresses == ("127.0.0.1",) and literal.hosts == ()
