"""trace and the root hints (netlab.engine.dns.tracer), against the delegation chain of
tests/dnsfixtures.py on loopback addresses."""

from __future__ import annotations

import json
import subprocess

from netlab.engine.dns import load_hints, trace
from netlab.engine.dns import tracer as dns_tracer
from tests.engine.dns import DIG, HANG_GUARD, needs_dig


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

