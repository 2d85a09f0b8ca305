"""Servers as a user writes them (netlab.engine.dns.parse)."""

from __future__ import annotations

import pytest

from netlab.engine.dns import ServerSpec, parse_server


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

