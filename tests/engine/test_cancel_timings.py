"""A cancelled exchange reports no phase it never reached.

Cancel shuts the socket down, so the blocked recv() returns an EOF: that is not a first
byte, and there is no download without one.  Phases that were reached keep their times.
Real peer: the lab server's /slow/MS (waits before answering) and /stream/N?delay_ms=M
(a chunked body, one line at a time).
"""

from __future__ import annotations

import threading

from netlab.engine import CancelToken, Request
from netlab.engine import events as ev
from tests.conftest import HANG_GUARD


def send_and_cancel_after(engine, url: str, kind: type):
    """Send ``url`` in a thread, cancel when an event of ``kind`` arrives; the exchange."""
    token = CancelToken()
    seen = threading.Event()
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, kind):
            seen.set()

    out: list = []
    thread = threading.Thread(target=lambda: out.append(engine.send(Request.from_url(url), on_event, cancel=token)))
    thread.start()
    assert seen.wait(HANG_GUARD), f"no {kind.__name__} event"
    token.cancel()
    thread.join(HANG_GUARD)
    assert out, "the send did not return after cancel"
    return out[0], events


def test_cancel_while_waiting_shows_no_first_byte_and_no_download(lab_server, engine):
    ex, events = send_and_cancel_after(engine, lab_server.url + "/slow/60000", ev.RequestSent)
    assert ex.error is not None and ex.error.phase == "cancelled"
    assert ex.timings.ttfb == 0.0  # no byte came: no time to first byte
    assert ex.timings.download == 0.0  # nor a download
    assert ex.timings.total > 0.0
    assert not any(isinstance(e, (ev.ResponseHead, ev.BodyChunk)) for e in events)


def test_cancel_during_the_body_keeps_the_phases_reached(lab_server, engine):
    ex, _ = send_and_cancel_after(engine, lab_server.url + "/stream/1000?delay_ms=200", ev.BodyChunk)
    assert ex.error is not None and ex.error.phase == "cancelled"
    assert ex.response is not None and ex.response.status == 200
    assert ex.timings.ttfb > 0.0  # the first byte came
    assert ex.timings.download > 0.0  # and part of the body


def test_a_server_that_closes_without_answering_has_no_first_byte(tcp_peer, engine):
    peer = tcp_peer(lambda conn, peer: None)  # reads the request, closes
    ex = engine.send(Request.from_url(peer.url + "/"))
    assert ex.error is not None and ex.error.phase == "receive"
    assert ex.timings.ttfb == 0.0 and ex.timings.download == 0.0
