"""The lab network (issue 14.4): a chain of namespaces on 198.18.0.0/15 with routers between
this host and a namespace running the lab server; the route and next hop across it, the
router's MAC on the frames, the TTL falling by one per router, and the same packet captured
at every hop.  Root only; every test builds its own chain and removes it, also on failure."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from netlab.engine import Engine, Request
from netlab.engine.capture import ExchangeCapture, HopsCapture
from netlab.engine.capture.route import route_to

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root; run as root")


@pytest.fixture
def chain():
    """``chain(hops)`` builds the lab network; it is removed after the test, pass or fail."""
    from netlab.lab import net

    yield net.up
    net.down(quiet=True)
    assert not [n for n in _namespaces() if n.startswith("netlab-")]
    assert not os.path.exists("/sys/class/net/nl-h0")


def _namespaces() -> list[str]:
    try:
        return os.listdir("/run/netns")
    except FileNotFoundError:
        return []


def _mac(namespace: str | None, link: str) -> str:
    cmd = ["ip", "-j"] + (["-n", namespace] if namespace else []) + ["link", "show", link]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)[0]["address"]


def _send(url: str):
    engine = Engine()
    try:
        return engine.send(Request.from_url(url, headers={"Connection": "close"}))
    finally:
        engine.close()


@root_only
def test_one_router_between_host_and_server(chain):
    lab = chain(1)
    cap = ExchangeCapture([lab.port])
    cap.start()
    ex = _send(lab.url + "ip")
    summary = cap.finish(ex)
    assert ex.ok and ex.response.status == 200 and summary["error"] is None
    router_mac = _mac("netlab-r1", "eth0")
    route = route_to(lab.server)
    assert route.interface == "nl-h0" and route.gateway == "198.18.0.2" and route.source == "198.18.0.1"
    assert route.next_hop_mac == router_mac and route.neighbour_state and route.mtu == 1500
    out = [p for p in cap.packets if p["dir"] == "out"]
    inn = [p for p in cap.packets if p["dir"] == "in"]
    assert out and inn and summary["interface"] == "nl-h0"
    assert {p["eth"]["dst"] for p in out} == {router_mac}
    assert {p["eth"]["src"] for p in inn} == {router_mac}
    assert {p["ip"]["ttl"] for p in out} == {64}
    assert {p["ip"]["ttl"] for p in inn} == {63}  # one router on the way back


@root_only
def test_the_packet_at_every_hop(chain):
    lab = chain(3)
    assert lab.server == "198.18.3.2" and len(lab.links) == 4
    hops = HopsCapture([(h.namespace, h.interface) for h in lab.links], [lab.port])
    hops.start()
    ex = _send(lab.url)
    seen = hops.finish(ex)
    assert ex.ok and hops.error is None
    syns = [next(p for p in hop["packets"] if p["tcp"]["flags"] == "S") for hop in seen]
    assert [s["ip"]["ttl"] for s in syns] == [64, 63, 62, 61]
    assert len({s["tcp"]["seq"] for s in syns}) == 1  # the same segment, hop after hop
    for hop, syn in zip(lab.links, syns, strict=True):
        assert syn["eth"]["src"] == _mac(hop.namespace, hop.interface)  # each router wraps a new frame
    assert len({s["eth"]["dst"] for s in syns}) == 4
    answers = [next(p for p in hop["packets"] if p["dir"] == "in" and p["tcp"]["flags"] == "SA") for hop in seen]
    assert [a["ip"]["ttl"] for a in answers] == [61, 62, 63, 64]


@root_only
def test_up_removes_leftovers_first_and_down_removes_everything(chain):
    subprocess.run(["ip", "netns", "add", "netlab-r1"], check=True)  # a leftover of a killed run
    lab = chain(2)
    assert sorted(n for n in _namespaces() if n.startswith("netlab-")) == ["netlab-r1", "netlab-r2", "netlab-srv"]
    assert _send(lab.url + "ip").ok
    from netlab.lab import net

    removed = net.down()
    assert set(removed) == {"netlab-r1", "netlab-r2", "netlab-srv", "nl-h0"}
    assert net.status() is None
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True, check=True).stdout
    assert "198.18." not in routes


def test_hops_out_of_range_are_refused():
    from netlab.lab import net

    with pytest.raises(net.LabnetError, match="between 1 and 8"):
        net.plan(0)
    with pytest.raises(net.LabnetError):
        net.plan(9)
