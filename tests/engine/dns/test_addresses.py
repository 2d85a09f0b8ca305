"""resolve_addresses (netlab.engine.dns.addresses): the engine's own resolution asks through
the DNS lab, so a send uses what the DNS pane shows."""

from __future__ import annotations

from netlab.engine.dns import resolve_addresses


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

