"""`netlab dns` and `netlab send --dns-server`, against real servers on loopback:
dnsmasq (cross-checked with dig) and the dnspython servers of tests/dnsfixtures.py."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from netlab.engine import dns as ndns

DIG = shutil.which("dig")
HANG_GUARD = 30
needs_dig = pytest.mark.skipif(DIG is None, reason="dig (bind9-dnsutils) is not installed")

SPEC_KEYS = {"query", "rcode", "flags", "answer", "authority", "additional", "elapsed_ms", "size", "error"}
RECORD_KEYS = {"name", "ttl", "class", "type", "data"}


def dig_short(port: int, *args: str) -> list[str]:
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(port), "+short", "+time=5", "+tries=1", *args],
                       capture_output=True, text=True, timeout=HANG_GUARD)
    assert p.returncode == 0, p.stderr
    return [line for line in p.stdout.splitlines() if line.strip()]


def at(server) -> str:
    return f"@127.0.0.1:{server.port}"


# ------------------------------------------------------------------------- human output


def test_human_output_like_dig(run_cli, fx_dns):
    code, out, err = run_cli("dns", "chain.fx.test", at(fx_dns))
    assert code == 0, err
    assert f"; netlab dns chain.fx.test A @127.0.0.1:{fx_dns.port} (udp; asked: rd)" in out
    assert ";; status: NOERROR   flags: qr aa rd" in out
    assert f";; server: 127.0.0.1:{fx_dns.port} over udp" in out and "size: 88 bytes" in out
    lines = out.split(";; ANSWER SECTION:\n", 1)[1].splitlines()
    assert [line.split() for line in lines[:3]] == [
        ["chain.fx.test.", "300", "IN", "CNAME", "alias.fx.test."],
        ["alias.fx.test.", "300", "IN", "CNAME", "secret.fx.test."],
        ["secret.fx.test.", "300", "IN", "A", "127.0.0.1"]]
    assert err == ""


@needs_dig
def test_answers_match_dig_for_dnsmasq(run_cli, dnsmasq):
    for args in (["www.lab.test"], ["lab.test", "MX"], ["lab.test", "TXT"], ["v6.lab.test", "AAAA"],
                 ["_http._tcp.lab.test", "SRV"], ["lab.test", "CAA"]):
        code, out, err = run_cli("dns", *args, at(dnsmasq), "--short")
        assert code == 0, err
        assert out.splitlines() == dig_short(dnsmasq.port, *args), args


def test_nxdomain_and_nodata_are_answers(run_cli, fx_dns):
    code, out, _ = run_cli("dns", "nothing.fx.test", at(fx_dns))
    assert code == 0 and "status: NXDOMAIN (the name does not exist)" in out
    assert ";; AUTHORITY SECTION:" in out and "SOA" in out
    code, out, _ = run_cli("dns", "secret.fx.test", "MX", at(fx_dns))
    assert code == 0 and "NODATA (the name has no MX records)" in out


@pytest.mark.parametrize("name,rcode", [("servfail.fx.test", "SERVFAIL"), ("refused.fx.test", "REFUSED")])
def test_servfail_and_refused_exit_zero(run_cli, fx_dns, name, rcode):
    code, out, _ = run_cli("dns", name, at(fx_dns), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["rcode"] == rcode and doc["error"] is None


def test_truncation_and_edns_are_shown(run_cli, fx_dns):
    code, out, _ = run_cli("dns", "big.fx.test", "TXT", at(fx_dns))
    assert code == 0 and "the UDP reply was truncated (TC): asked again over TCP" in out and "over tcp" in out
    code, out, _ = run_cli("dns", "big.fx.test", "TXT", at(fx_dns), "+bufsize=4096", "+dnssec")
    assert code == 0 and "over udp" in out and "truncated" not in out
    assert ";; EDNS: version 0, flags: do, udp: 1232" in out and "asked: rd do, EDNS udp 4096" in out
    code, out, _ = run_cli("dns", "big.fx.test", "TXT", at(fx_dns), "+ignore")
    assert code == 0 and "flags: qr aa tc rd" in out and "was not asked again" in out


def test_hostile_strings_are_escaped(run_cli, fx_dns):
    for args in (["hostile.fx.test", "TXT"], ["evil.fx.test", "CNAME"]):
        code, out, _ = run_cli("dns", *args, at(fx_dns))
        assert code == 0
        assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]markup[/bold red]" in run_cli("dns", "hostile.fx.test", "TXT", at(fx_dns)).out


# ------------------------------------------------------------------------------- JSON


def test_json_shape(run_cli, fx_dns):
    code, out, _ = run_cli("dns", "secret.fx.test", at(fx_dns), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= SPEC_KEYS
    assert {k: doc["query"][k] for k in ("name", "type", "server", "port", "transport")} == {
        "name": "secret.fx.test", "type": "A", "server": "127.0.0.1", "port": fx_dns.port, "transport": "udp"}
    assert doc["rcode"] == "NOERROR" and doc["flags"] == ["qr", "aa", "rd"] and doc["error"] is None
    assert doc["answer"] == [{"name": "secret.fx.test.", "ttl": 300, "class": "IN", "type": "A",
                              "data": "127.0.0.1"}]
    assert isinstance(doc["elapsed_ms"], float) and doc["size"] == 48


def test_several_types_give_a_json_list(run_cli, fx_dns):
    code, out, _ = run_cli("dns", "fx.test", "MX", "--json", "TXT", "-t", "CAA", at(fx_dns))  # options mixed in
    docs = json.loads(out)
    assert code == 0 and [d["query"]["type"] for d in docs] == ["MX", "TXT", "CAA"]
    assert all(set(d) >= SPEC_KEYS and all(set(r) == RECORD_KEYS for r in d["answer"]) for d in docs)
    assert [d["answer"][0]["data"] for d in docs] == ["10 mail.fx.test.", '"v=spf1 -all"', '0 issue "letsencrypt.org"']


def test_type_by_number(run_cli, fx_dns):
    doc = json.loads(run_cli("dns", "fx.test", "15", at(fx_dns), "--json").out)
    assert doc["query"]["type"] == "MX" and doc["answer"][0]["data"] == "10 mail.fx.test."
    doc = json.loads(run_cli("dns", "fx.test", "TYPE65280", at(fx_dns), "--json").out)
    assert doc["answer"][0]["data"] == "\\# 4 0a000001"


@needs_dig
def test_reverse(run_cli, dnsmasq, fx_dns):
    code, out, _ = run_cli("dns", "-x", "127.0.0.9", at(dnsmasq), "--short")
    assert code == 0 and out.splitlines() == ["ptr.lab.test."] == dig_short(dnsmasq.port, "-x", "127.0.0.9")
    doc = json.loads(run_cli("dns", "-x", "127.0.0.10", at(fx_dns), "--json").out)
    assert doc["query"]["name"] == "10.0.0.127.in-addr.arpa." and doc["query"]["type"] == "PTR"
    assert doc["answer"][0]["data"] == "secret.fx.test."


# ------------------------------------------------------------------------- exit status 1


def test_timeout_exits_one(run_cli, fx_dns):
    code, out, err = run_cli("dns", "silent.fx.test", at(fx_dns), "--timeout", "0.3", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["rcode"] is None and doc["error"]["kind"] == "timeout"
    assert "no answer from" in err and "0.3 s" in err


def test_refused_connection_exits_one(run_cli, silent_dns):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = run_cli("dns", "x.test", f"@127.0.0.1:{port}", "--tcp")
    assert code == 1 and "refused" in err and ";; no response: network" in out


# ------------------------------------------------------------------- flags and transports


def test_flags_reach_the_server(run_cli, fx_dns):
    import dns.flags

    code, _out, _ = run_cli("dns", "secret.fx.test", at(fx_dns), "+norec", "--cd", "--bufsize", "2048", "--do")
    q = fx_dns.server.received[-1][1]
    assert code == 0 and not q.flags & dns.flags.RD and q.flags & dns.flags.CD
    assert q.payload == 2048 and q.ednsflags & dns.flags.DO
    run_cli("dns", "secret.fx.test", at(fx_dns), "--edns")
    q = fx_dns.server.received[-1][1]
    assert q.edns == 0 and q.payload == 1232 and q.flags & dns.flags.RD


def test_tcp_and_scheme_servers(run_cli, fx_dns):
    for args in (["--tcp"], ["+tcp"]):
        doc = json.loads(run_cli("dns", "secret.fx.test", at(fx_dns), "--json", *args).out)
        assert doc["query"]["transport"] == "tcp" and fx_dns.server.received[-1][0] == "tcp"
    doc = json.loads(run_cli("dns", "secret.fx.test", f"@tcp://127.0.0.1:{fx_dns.port}", "--json").out)
    assert doc["query"]["transport"] == "tcp"


def test_dns_over_tls(run_cli, fx_dns):
    code, out, err = run_cli("dns", "secret.fx.test", f"@127.0.0.1:{fx_dns.tls_port}", "--tls",
                             "--cacert", fx_dns.ca_path)
    assert code == 0, err
    assert "over tls (TLSv1" in out and "127.0.0.1" in out.split("ANSWER SECTION")[1]
    code, out, err = run_cli("dns", "secret.fx.test", f"@tls://127.0.0.1:{fx_dns.tls_port}", "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "tls" and "--cacert" in err
    code, _, _ = run_cli("dns", "secret.fx.test", f"@tls://127.0.0.1:{fx_dns.tls_port}", "-k")
    assert code == 0
    code, _, err = run_cli("dns", "secret.fx.test", f"@tls://127.0.0.1:{fx_dns.tls_port}", "--cacert",
                           fx_dns.ca_path, "--tls-name", "dns.fx.test")
    assert code == 0, err


def test_dns_over_https(run_cli, fx_dns):
    url = f"@https://127.0.0.1:{fx_dns.https_port}/dns-query"
    code, out, err = run_cli("dns", "secret.fx.test", url, "--cacert", fx_dns.ca_path)
    if not ndns.doh_available():
        assert code == 1 and "pip install 'dnspython[doh]'" in err
        pytest.skip("dnspython's DoH extra is not installed: the clear message is all there is")
    assert code == 0, err
    assert f"https://127.0.0.1:{fx_dns.https_port}/dns-query" in out and "over https (HTTP/" in out


# ------------------------------------------------------------------------------- trace


def test_trace_human_and_json(run_cli, trace_dns):
    args = ("dns", "www.trace.test", "--trace", "--hints", trace_dns.hints, "-p", str(trace_dns.port))
    code, out, err = run_cli(*args)
    assert code == 0, err
    port = trace_dns.port
    assert f"zone .: asked a.root.lab. (127.0.0.2:{port}) for www.trace.test. A → referral to test." in out
    assert "(ns0.trace.test.): answered REFUSED — trying the next server" in out
    assert ";; final: NOERROR from 127.0.0.4:%d" % trace_dns.port in out
    doc = json.loads(run_cli(*args, "--json").out)
    assert [s["kind"] for s in doc["steps"]] == ["referral", "referral", "answer"]
    assert [s["query"]["server"] for s in doc["steps"]] == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert doc["rcode"] == "NOERROR" and doc["answer"][0]["data"] == "127.0.0.1" and doc["error"] is None
    assert run_cli(*args, "+short").out.splitlines() == ["127.0.0.1"]
    # @SERVER: start from that server (here the test. server) instead of the hints
    doc = json.loads(run_cli("dns", "www.trace.test", "+trace", f"@127.0.0.3:{trace_dns.port}", "--json").out)
    assert [s["query"]["server"] for s in doc["steps"]] == ["127.0.0.3", "127.0.0.4"]
    assert doc["query"]["hints"] == "@127.0.0.3" and doc["answer"][0]["data"] == "127.0.0.1"


def test_trace_that_gets_no_answer_exits_one(run_cli, silent_dns, tmp_path):
    hints = tmp_path / "hints"
    hints.write_text("127.0.0.1\n")
    code, out, _ = run_cli("dns", "x.test", "+trace", "--hints", str(hints), "-p", str(silent_dns.port),
                           "--timeout", "0.3")
    assert code == 1 and "trace failed: timeout" in out


# ---------------------------------------------------------------------- exit status 2


@pytest.mark.parametrize("argv,fragment", [
    ([], "no name"),
    (["a.test", "b.test"], "more than one name"),
    (["a.test", "BOGUS"], "more than one name"),
    (["a.test", "-t", "BOGUS"], "unknown record type"),
    (["a.test", "AXFR"], "cannot be asked"),
    (["a.test", "@127.0.0.1:0"], "bad port"),
    (["a.test", "@1.2.3.4", "@5.6.7.8"], "more than one server"),
    (["a.test", "@ftp://x"], "unknown scheme"),
    (["a.test", "+bogus"], "unknown flag"),
    (["a.test", "--tcp", "+tls"], "conflicts"),
    (["a.test", "@tls://127.0.0.1", "--tcp"], "was given"),
    (["a.test", "--bufsize", "100"], "512-65535"),
    (["a.test", "--timeout", "0"], "--timeout: must be a number of seconds above 0"),
    (["a.test", "--trace", "@127.0.0.1", "--hints", "x"], "not both"),
    (["a.test", "--trace", "@localhost"], "must be an IP address"),
    (["a.test", "--hints", "x"], "only makes sense with --trace"),
    (["a.test", "--trace", "--hints", "/nonexistent/hints"], "cannot read the root hints"),
    (["-x", "not-an-address"], "not an IP address"),
    (["a.test", "--cacert", "x"], "are for --tls"),
    (["a.test", "--tcp", "--tls"], "not allowed with"),
])
def test_bad_usage_exits_two(run_cli, argv, fragment):
    code, out, err = run_cli("dns", *argv)
    assert code == 2, (code, out, err)
    assert fragment in err and out == ""


# ------------------------------------------------------------------- getaddrinfo side


def test_compare_with_getaddrinfo(run_cli, fx_dns):
    # localhost comes from /etc/hosts: getaddrinfo sends nothing off the machine.
    code, out, _ = run_cli("dns", "localhost", at(fx_dns), "--compare")
    assert code == 0 and "status: NOERROR" in out  # the test server has a localhost. zone
    side = out.split(";; getaddrinfo('localhost')", 1)[1]
    assert "127.0.0.1" in side and "/etc/hosts has this name" in side and "nsswitch hosts:" in side
    doc = json.loads(run_cli("dns", "localhost", at(fx_dns), "--compare", "--json").out)
    assert "127.0.0.1" in doc["system"]["addresses"] and doc["system"]["hosts_file"]["addresses"]


# --------------------------------------------------------------- the engine's send path


def test_send_with_dns_server(run_cli, fx_dns, lab_server):
    url = f"http://secret.fx.test:{lab_server.port}/ip"
    code, out, err = run_cli("send", "--dns-server", f"127.0.0.1:{fx_dns.port}", "--json", "--no-history", url)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dns"]["source"] == "dns" and doc["dns"]["addresses"] == ["127.0.0.1"]
    assert doc["response"]["status"] == 200 and doc["response"]["body"] == "127.0.0.1\n"
    assert str(fx_dns.server.received[-1][1].question[0].name) == "secret.fx.test."
    code, _, err = run_cli("send", "--dns-server", f"127.0.0.1:{fx_dns.port}", "-v", "--no-history", url)
    assert code == 0 and f"via dns (127.0.0.1:{fx_dns.port})" in err


def test_send_with_dns_server_failures(run_cli, fx_dns):
    code, _, err = run_cli("send", "--dns-server", f"127.0.0.1:{fx_dns.port}", "--no-history",
                           "http://nothing.fx.test/")
    assert code == 1 and "netlab: DNS lookup failed: " in err and "NXDOMAIN" in err
    code, _, err = run_cli("send", "--dns-server", "127.0.0.1:0", "--no-history", "http://secret.fx.test/")
    assert code == 2 and "--dns-server" in err and "bad port" in err
    code, _, err = run_cli("send", "--dns-server", "tls://127.0.0.1", "--no-history", "http://secret.fx.test/")
    assert code == 2 and "UDP" in err


def test_real_process_exit_codes(run_cli_subprocess, fx_dns):
    ok = run_cli_subprocess("dns", "secret.fx.test", at(fx_dns), "+short")
    assert (ok.code, ok.out) == (0, "127.0.0.1\n")
    nx = run_cli_subprocess("dns", "nothing.fx.test", at(fx_dns), "--short")
    assert (nx.code, nx.out) == (0, "")
    bad = run_cli_subprocess("dns", "a.test", "--no-such-option")
    assert bad.code == 2 and "usage:" in bad.err
