"""Pictures of the Packets tab (issue 14, part 3) and of the Connection tab's route and
tcp_info: the ladder, the selected packet's nested layer boxes, the words when nothing was
captured — at 80x24, 120x40 and 160x50, the response viewer maximised (F11) so that
the pictures show this tab only (pytest-textual-snapshot).

The packets are fixed (tests/ui/packet_fakes.py: the fixed exchange's handshake, request,
response and teardown), never a live capture.  Regenerate after a deliberate change with
``pytest tests/ui/test_packets_snapshots.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.ui import packet_fakes as pf

pytestmark = pytest.mark.usefixtures("utc")

SIZES = {"80x24": (80, 24), "120x40": (120, 40), "160x50": (160, 50)}
INFO = {"rtt_ms": 0.052, "rttvar_ms": 0.028, "snd_cwnd": 10, "snd_mss": 32768, "rcv_mss": 536, "total_retrans": 0,
        "segs_out": 4, "segs_in": 3, "bytes_acked": 64, "bytes_received": 263}


def app():
    from netlab.ui.app import NetlabApp

    a = NetlabApp("http://127.0.0.1:8080/json", lab=False, live_connections=False, history=False)
    a.animation_level = "none"
    return a


def showing(prepared_of, *keys: str, maximise: bool = False):
    async def run(pilot) -> None:
        a = pilot.app
        for widget in a.query("Input, TextArea"):
            widget.cursor_blink = False
        await a.composer.ensure_tabs()
        await a.response.ensure_tabs()
        a.response.prepared = prepared_of()
        await pilot.press("f3", *(("f11",) if maximise else ()), *keys)
        for _ in range(3):
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()

    return run


@pytest.mark.parametrize("size", list(SIZES))
def test_packets_ladder_and_the_fourth_packets_layers(snap_compare, size):
    assert snap_compare(app(), terminal_size=SIZES[size],
                        run_before=showing(pf.prepared, "7", "j", "j", "j", maximise=True))


def test_packets_not_captured(snap_compare):
    assert snap_compare(app(), terminal_size=SIZES["80x24"], run_before=showing(lambda: pf.prepared(captured=False),
                                                                                 "7", maximise=True))


def test_connection_tab_with_the_route_and_tcp_info(snap_compare):
    def prepared():
        from netlab.ui.views.exchange import prepare
        from tests.ui import fakes

        p = prepare(replace(fakes.exchange(), tcp_info_raw=dict(INFO)))
        p.extra["below"] = pf.below(captured=False)
        return p

    assert snap_compare(app(), terminal_size=SIZES["120x40"], run_before=showing(prepared, "6", maximise=True))
