"""One query over each transport (netlab.engine.dns.exchange): DNS over TLS and DNS over
HTTPS, and the checks a DoH reply passes before it is parsed."""

from __future__ import annotations

import re

import pytest

from netlab.engine import dns as ndns
from netlab.engine.dns import exchange as dns_exchange
from netlab.engine.dns import lookup
from tests.engine.dns import HANG_GUARD, fx

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

