"""Where the lab server may listen (netlab/lab/address.py): loopback unless public."""

from __future__ import annotations

import pytest

from netlab.lab import BindRefused, LabServer, bind_address, is_loopback
from tests.lab.client import exchange, get, split_response


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST.", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.1", False), ("0.0.0.0", False), ("::", False), ("example.com", False),
     ("", False)],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


# ------------------------------------------------------ loopback unless public


@pytest.mark.parametrize(
    ("host", "public", "expected"),
    [("127.0.0.1", False, "127.0.0.1"), ("127.0.0.2", False, "127.0.0.2"), ("::1", False, "::1"),
     ("[::1]", False, "::1"), ("localhost", False, "127.0.0.1"), ("LocalHost.", False, "127.0.0.1"),
     ("0.0.0.0", True, "0.0.0.0"), ("::", True, "::"), ("192.0.2.7", True, "192.0.2.7")],
)
def test_bind_address(host, public, expected):
    assert bind_address(host, public) == expected


@pytest.mark.parametrize(
    ("host", "public", "reason"),
    [("0.0.0.0", False, "not-loopback"), ("::", False, "not-loopback"), ("10.1.2.3", False, "not-loopback"),
     ("192.0.2.7", False, "not-loopback"), ("example.com", False, "not-an-address"),
     ("example.com", True, "not-an-address"), ("", True, "not-an-address")],
)
def test_bind_address_refusals(host, public, reason):
    with pytest.raises(BindRefused) as info:
        bind_address(host, public)
    assert info.value.reason == reason
    with pytest.raises(BindRefused):  # the server refuses in its constructor: no socket is made
        LabServer(host, public=public)


def test_localhost_binds_loopback_without_a_resolver():
    with LabServer("localhost") as lab:
        assert lab.host == "127.0.0.1"
        assert split_response(exchange(lab, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"
