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


def test_the_session_jar_reaches_a_raw_first_request(lab_server):
    """The composer sends bytes (Request.raw): the jar's Cookie goes into them, where curl puts it."""
    import json

    from netlab.engine.cookies import with_header

    services = Services(history=False)
    url = f"http://127.0.0.1:{lab_server.port}"
    posted: list = []
    send(services, Request.raw(b"GET /cookies/set?sid=42 HTTP/1.1\r\nHost: x\r\n\r\n", url + "/cookies/set?sid=42"),
         Options(), CancelToken(), 1, SendHow(cookies=True), post=posted.append)
    assert [c.name for c in services.jar().cookies()] == ["sid"]
    raw = Request.raw(b"GET /cookies HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\nX-A: 1\r\nConnection: close\r\n\r\n",
                      url + "/cookies")
    posted.clear()
    send(services, raw, Options(), CancelToken(), 2, SendHow(cookies=True), post=posted.append)
    ex = next(p for p in posted if isinstance(p, m.ExchangeDone)).prepared.exchange
    assert ex.request.data == (b"GET /cookies HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\nCookie: sid=42\r\n"
                               b"X-A: 1\r\nConnection: close\r\n\r\n")
    assert json.loads(ex.response.body) == {"cookies": {"sid": "42"}}
    bare = Request.raw(b"GET / HTTP/1.1\nHost: h\n\nbody", url + "/")
    assert with_header(bare, "Cookie", "a=1", raw_too=True).data == b"GET / HTTP/1.1\nHost: h\nCookie: a=1\n\nbody"
    assert with_header(bare, "Cookie", "a=1").data == bare.data  # the CLI's --raw stays as given


@pytest.mark.skipif(os.geteuid() != 0, reason="the lab network needs root (network namespaces); run as root")
def test_on_the_lab_network_the_packets_tab_shows_every_hop():
    from netlab.lab import net
    from netlab.ui.views.packets import hop_rows, read_ladder

    lab = net.up(2)
    try:
        services = Services(history=False)
        posted: list = []
        send(services, Request.from_url(lab.url + "ip"), Options(), CancelToken(), 1, SendHow(packets=True),
             post=posted.append)
        prepared = next(p for p in posted if isinstance(p, m.ExchangeDone)).prepared
        below = prepared.extra["below"]
        assert [h["interface"] for h in below["hops"]] == ["nl-h0", "eth1", "eth1"]
        ladder = read_ladder(below["packets"], prepared.exchange, below["hops"])
        syn = next(i for i, p in enumerate(ladder.packets) if p["tcp"]["flags"] == "S")
        rows = hop_rows(ladder, syn)
        assert [row.split(": TTL ")[1].split(" ")[0] for row in rows] == ["64", "63", "62"]
        assert rows[0].startswith("host nl-h0") and rows[1].startswith("netlab-r1 eth1")
    finally:
        net.down(quiet=True)
