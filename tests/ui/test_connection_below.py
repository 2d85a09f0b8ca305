"""Below the socket in the Connection tab and the connection table (issue 14, part 3): the
route (interface, source, gateway or direct, next hop MAC and its state, MTU) and the
kernel's tcp_info in the Connection tab; under the connection table, the selected row's
process ancestry and its tcp_info, live.  Fixed values for the words, the lab server for
the real thing."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from netlab.ui.views.connection import connection_lines
from tests.ui import fakes
from tests.ui import packet_fakes as pf
from tests.ui.conftest import send_and_wait, wait_for

SIZE = (120, 40)
INFO = {"rtt_ms": 0.052, "rttvar_ms": 0.028, "snd_cwnd": 10, "snd_mss": 32768, "rcv_mss": 536, "total_retrans": 2,
        "segs_out": 4, "segs_in": 3, "bytes_acked": 83, "bytes_received": 151}


def _text(lines) -> str:
    return lines.plain()


def test_the_route_on_loopback_and_through_a_gateway():
    text = _text(connection_lines(fakes.exchange(), below=pf.below(captured=False)))
    route = text[text.index("Route"):]
    assert "interface     lo" in route and "source        127.0.0.1" in route
    assert "direct" in route and "loopback has no link-layer addresses" in route and "MTU           65536 B" in route
    via = {"interface": "eth0", "source": "10.0.0.5", "gateway": "10.0.0.1", "next_hop_mac": "aa:bb:cc:dd:ee:ff",
           "neighbour_state": "REACHABLE", "mtu": 1500}
    text = _text(connection_lines(fakes.exchange(), below={"route": via}))
    assert "gateway       10.0.0.1" in text and "aa:bb:cc:dd:ee:ff  (REACHABLE)" in text and "1500 B" in text
    hostile = dict(via, interface="eth\x1b[2J0", neighbour_state="[bold]x")
    text = _text(connection_lines(fakes.exchange(), below={"route": hostile}))
    assert "\x1b" not in text and "eth\\x1b[2J0" in text and "[bold]x" in text
    # no route known (nothing below, or a Unix socket): no Route section
    assert "Route" not in _text(connection_lines(fakes.exchange()))
    assert "Route" not in _text(connection_lines(replace(fakes.exchange(), connection=None), below=pf.below()))


def test_tcp_info_numbers_as_ss_ti_names_them():
    text = _text(connection_lines(replace(fakes.exchange(), tcp_info_raw=dict(INFO))))
    part = text[text.index("TCP (kernel tcp_info)"):]
    assert "0.052 ms ± 0.028 ms" in part and "cwnd          10 segments" in part
    assert "send 32768 B · receive 536 B" in part and "retransmits   2" in part
    assert "4 out · 3 in" in part and "83 acked · 151 received" in part
    assert "tcp_info" not in _text(connection_lines(fakes.exchange()))  # none known: no section


@pytest.mark.anyio
async def test_a_real_exchange_shows_its_route_and_tcp_info(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.extra["below"]["route"]["interface"] == "lo"
        await pilot.press("f3", "6")
        view = app.response.query_one("#resp-connection")
        await wait_for(pilot, lambda: "Route" in view.plain(), "the route")
        text = view.plain()
        assert "interface     lo" in text and "source        127.0.0.1" in text and "direct" in text
        assert "TCP (kernel tcp_info)" in text and "segments" in text and "received" in text
        info = prepared.exchange.tcp_info
        assert f"{info['bytes_acked']} acked · {info['bytes_received']} received" in text


@pytest.mark.anyio
async def test_the_selected_rows_process_and_tcp_info_show_under_the_table(make_app, lab_server):
    """A keep-alive exchange leaves netlab's pooled socket ESTABLISHED: its row's detail
    names this process (and its ancestors) and its tcp_info numbers, which follow the
    socket live (a second exchange on it: more bytes)."""
    app = make_app(lab_server.url + "/ip", live_connections=True)
    async with app.run_test(size=SIZE) as pilot:
        host = lab_server.url.split("//")[1]
        app.composer.load(f"GET /ip HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), lab_server.url + "/ip")
        await pilot.pause()
        prepared = await send_and_wait(pilot, app)
        conn = prepared.exchange.connection
        assert prepared.exchange.keep_alive
        app.connections.select_exchange(conn.local, conn.remote)
        await pilot.press("f5")

        def shown() -> bool:
            row = app.connections.selected_row()
            return row is not None and row.local == tuple(conn.local) and "tcp_info" in app.connections.detail_text()

        await wait_for(pilot, shown, "the row's detail")
        text = app.connections.detail_text()
        assert "● netlab" in text and f"pid {os.getpid()}" in text and "→" in text
        import psutil

        assert psutil.Process(os.getpid()).name() in text
        first = prepared.exchange.tcp_info["bytes_received"]
        assert "rtt" in text and "cwnd" in text and "recv" in text
        await send_and_wait(pilot, app)  # the same pooled connection again: its numbers grow
        await wait_for(pilot, lambda: "segs" in app.connections.detail_text() and
                       f"{first} recv" not in app.connections.detail_text(), "the numbers, live")
        box = app.connections.query_one("#conn-detail")
        assert box.region.height <= 2 and all(len(line) <= box.size.width for line in str(box.render()).splitlines())
