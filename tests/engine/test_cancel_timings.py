"""A cancelled exchange reports no phase it never reached.

Cancel shuts the socket down, so the blocked recv() returns an EOF: that is not a first
byte, and there is no download without one.  Phases that were reached keep their times.
Real peer: the lab server's /slow/MS (waits before answering) and /stream/N?delay_ms=M
(a chunked body, one line at a time).
"""

from __future__ import annotations

import os
import threading
import time

import psutil

from netlab.engine import CancelToken, Options, Request
from netlab.engine import events as ev
from tests.conftest import HANG_GUARD


def send_and_cancel_after(engine, url: str, kind: type, options=None, then=None):
    """Send ``url`` in a thread, cancel when an event of ``kind`` arrives (and ``then()``
    holds, when given); the exchange and its events."""
    token = CancelToken()
    seen = threading.Event()
    events: list = []

    def on_event(event) -> None:
        events.append(event)
        if isinstance(event, kind):
            seen.set()

    out: list = []
    thread = threading.Thread(target=lambda: out.append(engine.send(Request.from_url(url), on_event,
                                                                options=options, cancel=token)))
    thread.start()
    assert seen.wait(HANG_GUARD), f"no {kind.__name__} event"
    end = time.monotonic() + HANG_GUARD
    while then is not None and not then():
        assert time.monotonic() < end, "gave up waiting before the cancel"
        time.sleep(0.01)
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


def test_cancel_ends_a_connect_that_waits_for_the_syn_ack(full_backlog, engine):
    """The cancel token holds the socket from before connect(): shutdown() ends the wait
    (else escape would wait for the connect timeout, here far beyond the hang guard)."""
    def syn_sent() -> bool:
        return any(c.status == "SYN_SENT" and c.raddr and c.raddr.port == full_backlog.port
                   for c in psutil.Process(os.getpid()).net_connections(kind="tcp"))

    ex, events = send_and_cancel_after(engine, full_backlog.url + "/", ev.Connecting,
                                       Options(timeout=10 * HANG_GUARD), then=syn_sent)
    assert ex.error is not None and ex.error.phase == "cancelled"
    assert ex.connection is None and ex.attempts == []  # the cancel is not a failed address
    assert not any(isinstance(e, ev.ConnectFailed) for e in events)
    t = ex.timings
    assert t.connect == t.send == t.ttfb == t.download == 0.0
