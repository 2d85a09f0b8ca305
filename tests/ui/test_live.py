"""Live and clean: the timing waterfall ticks while a request is in flight, a cancelled
request shows no phase it never reached, and the app's keep-alive pool closes the
connections the server closed (no CLOSE_WAIT socket of ours stays).

Real peers on loopback: the lab server (/slow/MS waits before it answers; ``closing_lab``,
with a short idle timeout, closes idle keep-alive connections), a listener whose accept
queue is full (connect hangs).  psutil shows the kernel's view of this process's sockets.
"""

from __future__ import annotations

import pytest

from netlab.engine import Request
from tests.conftest import tcp_state
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def waterfall(app) -> str:
    return str(app.response.query_one("#resp-timing").render())


def rows(text: str) -> dict[str, str]:
    """The waterfall's lines by their first word (phase, total, the note's first word)."""
    return {line.split()[0]: line for line in text.splitlines()[1:] if line.strip()}


async def start_on_timing_tab(pilot, app) -> None:
    await app.response.action_tab("timing")
    await pilot.press("ctrl+j")


async def test_waterfall_ticks_while_waiting_and_escape_shows_no_unreached_phase(make_app, lab_server):
    app = make_app(lab_server.url + "/slow/60000")  # escape cancels it long before
    async with app.run_test(size=SIZE) as pilot:
        await start_on_timing_tab(pilot, app)
        await wait_for(pilot, lambda: "in flight: waiting (first byte)" in waterfall(app), "the wait for the answer")
        first = waterfall(app)
        assert "…" in rows(first)["ttfb"]  # the phase in progress is marked and counts up
        # No event comes while the server waits: only the tick can change the text.
        await wait_for(pilot, lambda: waterfall(app) != first, "the waterfall to tick")
        ticked = waterfall(app)
        assert app._cancel is not None  # still in flight: the change was the tick
        assert rows(ticked)["ttfb"] != rows(first)["ttfb"]
        assert rows(ticked)["download"].split()[-1] == "-"  # not reached yet

        await pilot.press("escape")
        await wait_for(pilot, lambda: app._cancel is None and app.response.prepared is not None, "the cancel")
        await pilot.pause()
        ex = app.response.prepared.exchange
        assert ex.error is not None and ex.error.phase == "cancelled"
        after = waterfall(app)
        phase = rows(after)
        assert phase["download"].split()[-1] == "-"  # never reached: no time shown
        assert "✗" in phase["ttfb"]  # the wait was cut short by the cancel
        assert "…" not in after  # nothing is in progress any more
        assert "cancelled during waiting (first byte)" in after
        shown = waterfall(app)
        await pilot.pause(0.3)  # a few ticks' worth: the ticker has stopped
        assert waterfall(app) == shown


async def test_cancel_during_connect_shows_no_send_wait_or_download(make_app, full_backlog):
    app = make_app(full_backlog.url + "/")  # connect() hangs: the accept queue is full
    async with app.run_test(size=SIZE) as pilot:
        await start_on_timing_tab(pilot, app)
        await wait_for(pilot, lambda: "in flight: TCP handshake" in waterfall(app), "the connect")
        first = waterfall(app)
        await wait_for(pilot, lambda: waterfall(app) != first, "the waterfall to tick")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app._cancel is None and app.response.prepared is not None, "the cancel")
        await pilot.pause()
        phase = rows(waterfall(app))
        for never in ("tls", "send", "ttfb", "download"):
            assert phase[never].split()[-1] == "-", phase[never]
        assert "✗" in phase["connect"]
        assert "cancelled during TCP handshake" in waterfall(app)


async def test_a_finished_exchange_shows_every_phase_without_marks(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await app.response.action_tab("timing")
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.ok
        text = waterfall(app)
        assert "…" not in text and "✗" not in text and "in flight" not in text
        assert rows(text)["ttfb"].split()[-1] != "-"


async def test_the_pool_leaves_no_close_wait_after_the_server_closes(make_app, closing_lab):
    url = closing_lab.url + "/ip"
    app = make_app(url)  # the connection table is off: only the app's sweep timer closes sockets
    async with app.run_test(size=SIZE) as pilot:
        request = Request.from_url(url)  # no "Connection: close": the connection is kept
        app.composer.load(request.data, request.url)
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.ok and ex.keep_alive
        pair = (tuple(ex.connection.local), tuple(ex.connection.remote))
        engine = app.services.engine()
        assert pair in engine.own_sockets()
        await wait_for(pilot, lambda: closing_lab.connection_count == 0, "the server to close the idle connection")
        await wait_for(pilot, lambda: not engine.own_sockets(), "the pool to close its end")
        assert tcp_state(*pair) != "CLOSE_WAIT"
