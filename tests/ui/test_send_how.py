"""The TUI's send worker with the Options tab's boxes (issues 14 and 15): following
redirects (each hop an exchange), the session's cookie jar, and a packet capture whose
facts ride along with the render (route always; packets when captured)."""

from __future__ import annotations

import os

import pytest

from netlab.engine import CancelToken, Options, Request
from netlab.ui import messages as m
from netlab.ui.workers import SendHow, Services, send


def _send(lab_server, path: str, how: SendHow, services: Services | None = None):
    services = services or Services(history=False)
    posted: list = []
    send(services, Request.from_url(f"http://127.0.0.1:{lab_server.port}{path}"), Options(), CancelToken(), 1,
         how, post=posted.append)
    done = [p for p in posted if isinstance(p, m.ExchangeDone)]
    assert len(done) == 1 and done[0].prepared is not None
    return done[0].prepared, posted, services


def test_plain_send_has_the_route_and_no_hops(lab_server):
    prepared, _posted, _s = _send(lab_server, "/redirect/1", SendHow())
    assert prepared.exchange.response.status == 302 and prepared.exchange.redirects is None
    assert prepared.extra["below"]["route"]["interface"] == "lo"
    assert "packets" not in prepared.extra["below"]


def test_follow_makes_each_hop_an_exchange(lab_server):
    prepared, posted, _s = _send(lab_server, "/redirect/1", SendHow(follow=True))
    ex = prepared.exchange
    assert ex.response.status == 200 and [h.response.status for h in ex.redirects] == [302]
    events = [p.event for p in posted if isinstance(p, m.ExchangeEvent)]
    assert sum(type(e).__name__ == "ResponseHead" for e in events) == 2  # both hops' events reach the viewer


@pytest.mark.skipif(os.geteuid() != 0, reason="packet capture needs root (AF_PACKET); run as root")
def test_capture_rides_along_with_the_render(lab_server):
    prepared, _posted, _s = _send(lab_server, "/ip", SendHow(packets=True))
    below = prepared.extra["below"]
    assert below["capture"]["error"] is None and below["capture"]["interface"] == "lo"
    flags = [p["tcp"]["flags"] for p in below["packets"]]
    assert flags[:3] == ["S", "SA", "A"] and len(below["frames"]) == len(flags)
