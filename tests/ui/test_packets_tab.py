"""The response viewer's Packets tab (issue 14, part 3): the ladder of the exchange's
packets (relative seq/ack, what each carries, the handshake and teardown, the RTT), the
selected packet's layers as nested boxes, the words when nothing was captured, and ``w``
writing the frames as pcap — from fixed packets (tests/ui/packet_fakes.py) and, as root,
from a real capture of an exchange with the lab server."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from netlab.ui.views import packets as pv
from tests.ui import fakes
from tests.ui import packet_fakes as pf
from tests.ui.conftest import send_and_wait, wait_for

SIZE = (120, 40)


# -- the pure view ---------------------------------------------------------------------------------
def test_the_ladder_numbers_and_names_every_packet():
    ex = fakes.exchange()
    ladder = pv.read_ladder(pf.packets(), ex)
    q, r = len(fakes.REQUEST), len(fakes.JSON_RESPONSE)
    head = fakes.JSON_RESPONSE.index(b"\r\n\r\n") + 4
    assert ladder.labels == (
        "handshake 1/3: SYN", "handshake 2/3: SYN-ACK", "handshake 3/3: ACK",
        f"request head {q} B", "ACK", f"response head {head} B + {r - head} B body", "ACK",
        "server closes (FIN)", "client closes (FIN)", "teardown: ACK of the FIN")
    # sequence numbers relative to each side's ISN, as Wireshark shows them
    assert ladder.rel[0] == (0, None) and ladder.rel[1] == (0, 1) and ladder.rel[2] == (1, 1)
    assert ladder.rel[3] == (1, 1) and ladder.rel[4] == (1, 1 + q)
    assert ladder.rel[-1] == (r + 2, q + 2)
    assert ladder.rtt_ms == pytest.approx(0.042)
    assert ladder.client == "127.0.0.1:54321" and ladder.server == "127.0.0.1:8080"
    lines = pv.ladder_lines(ladder, 110)
    assert lines.count == len(pf.packets())
    syn, synack, request = (lines.line(i).plain for i in (0, 1, 3))
    assert "├" in syn and "▶" in syn and "S seq 0" in syn and "handshake 1/3" in syn
    assert synack.index("◀") < synack.index("┤") and "RTT 0.042 ms" in synack
    assert f"PA seq 1 ack 1 len {q}" in request and f"request head {q} B" in request
    for width in (50, 76, 110, 160):  # every line fits its width
        fitted = pv.ladder_lines(ladder, width)
        assert all(fitted.line(i).cell_len <= width for i in range(fitted.count))
        assert pv.ladder_header(ladder, width).cell_len <= width


def test_a_retransmission_and_a_reset_are_named():
    pkts = pf.packets()[:4]
    again = dict(pkts[3], t_ms=0.5)
    reset = pf.packet(0.6, False, "R", pf.ISN_S + 1, 0)
    ladder = pv.read_ladder([*pkts, again, reset], fakes.exchange())
    assert ladder.labels[4].startswith("retransmission of")
    assert "RST" in ladder.labels[5]


def test_dns_packets_are_read_as_a_query_and_its_answer():
    ladder = pv.read_ladder(pf.dns_pair() + pf.packets(), fakes.exchange())
    assert ladder.labels[0] == "DNS query A web.lab.test"
    assert ladder.labels[1] == "DNS answer A web.lab.test: 2 records"
    assert ladder.labels[2] == "handshake 1/3: SYN"  # the HTTP connection is told apart from the DNS talk


def test_hostile_bytes_in_a_dns_name_are_escaped():
    pair = pf.dns_pair()
    name = b"\x1b[2J[bold]x"
    evil = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + bytes([len(name)]) + name + b"\x00\x00\x01\x00\x01"
    pair[0] = dict(pair[0], payload=evil.decode("latin-1"), payload_bytes=len(evil))
    ladder = pv.read_ladder(pair, None)
    label = ladder.labels[0]
    assert "\x1b" not in label and "\\x1b[2J[bold]x" in label
    shown = pv.layers_lines(ladder, 0, 90)
    text = "\n".join(shown.line(i).plain for i in range(shown.count))
    assert "\x1b" not in text
    for i in range(shown.count):  # Text, not markup: "[bold]" stays as written
        assert not shown.line(i).spans or all(s.style for s in shown.line(i).spans)


def test_a_packet_opens_as_nested_boxes_with_every_layer():
    ladder = pv.read_ladder(pf.packets(), fakes.exchange())
    for width in (60, 80, 120):
        lines = pv.layers_lines(ladder, 3, width)
        rows = [lines.line(i).plain for i in range(lines.count)]
        text = "\n".join(rows)
        assert all(len(row) <= width for row in rows)
        boxed = [row for row in rows if row[:1] in "┌│└"]
        assert boxed and all(len(row) == len(boxed[0]) for row in boxed), "the boxes' walls line up"
        order = [text.index(word) for word in ("Ethernet II", "IPv4", "TCP", "payload")]
        assert order == sorted(order)
        assert "TTL 64" in text and "ID 102" in text and "port 54321 → 8080" in text
        assert "flags PA (PSH, ACK)" in text and "window 512 (×128 = 65536 B)" in text
        assert "GET /jso" in text  # the payload's hex dump, ASCII column
        assert rows[-1].startswith("└") and rows[-2].startswith("│└")  # each box inside the one before
    syn = "\n".join(pv.layers_lines(ladder, 0, 100).line(i).plain for i in range(pv.layers_lines(ladder, 0, 100).count))
    assert "MSS 65495" in syn and "window scale 7 (×128)" in syn and "SACK permitted" in syn
    assert "timestamps val 100 ecr 0" in syn and "payload 0 B: none" in syn


def test_the_summary_says_how_to_capture_or_why_it_failed():
    plain = "\n".join(t.plain for t in pv.summary(pf.below(captured=False), None))
    assert "Capture packets" in plain and "Options tab" in plain and "netlab --packets" in plain
    assert "CAP_NET_RAW" in plain and "setcap" in plain
    error = {"message": "capture needs root or CAP_NET_RAW: [Errno 1] Operation not permitted",
             "hint": "sudo setcap cap_net_raw+ep /usr/bin/python3.11"}
    plain = "\n".join(t.plain for t in pv.summary(pf.below(error=error), None))
    assert "capture failed" in plain and "Operation not permitted" in plain and "setcap cap_net_raw+ep" in plain
    ladder = pv.read_ladder(pf.packets(), fakes.exchange())
    plain = "\n".join(t.plain for t in pv.summary(pf.below(), ladder))
    assert "captured on lo" in plain and "10 packets" in plain and "RTT 0.042 ms" in plain


# -- in the app --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_packets_tab_moves_a_cursor_and_opens_the_packet_under_it(make_app):
    app = make_app(fakes.URL)
    async with app.run_test(size=SIZE) as pilot:
        await app.response.ensure_tabs()
        app.response.prepared = pf.prepared()
        await pilot.press("f3", "7")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "pkt-ladder", "the ladder's focus")
        view = app.response.query_one("#resp-packets")
        ladder = app.response.query_one("#pkt-ladder")
        layers = app.response.query_one("#pkt-layers")
        assert ladder.line_count == 10 and "handshake 1/3" in ladder.text_of(0)
        assert "packet 1 of 10" in layers.text_of(0)
        await pilot.press("j", "j", "down")
        await pilot.pause()
        assert ladder.cursor == 3 and view.selected == 3
        assert "packet 4 of 10" in layers.text_of(0) and "request head" in layers.plain()
        await pilot.press("k")
        await pilot.pause()
        assert "packet 3 of 10" in layers.text_of(0)
        await pilot.press("end")
        await pilot.pause()
        assert ladder.cursor == 9
        await pilot.press("enter")  # into the layers (to scroll the payload), and back
        await wait_for(pilot, lambda: app.focused is layers, "the layers' focus")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is ladder, "back to the ladder")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: app.focused is ladder, "enter goes back too")


@pytest.mark.anyio
async def test_without_capture_the_tab_and_w_say_how_to_turn_it_on(make_app):
    app = make_app(fakes.URL)
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **kw: (said.append(str(message)), notify(message, *a, **kw))[1]
    async with app.run_test(size=SIZE) as pilot:
        await app.response.ensure_tabs()
        app.response.prepared = pf.prepared(captured=False)
        await pilot.press("f3", "7")
        await pilot.pause()
        summary = str(app.response.query_one("#pkt-summary").render())
        assert "not captured" in summary and "netlab --packets" in summary and "CAP_NET_RAW" in summary
        assert not app.response.query_one("#pkt-ladder").display
        assert app.grid.pane_of(app.focused) is app.response
        await pilot.press("w")
        await pilot.pause()
        assert any("Capture packets" in s and "netlab --packets" in s for s in said)
        assert type(app.screen).__name__ != "PromptScreen"
        error = {"message": "capture needs root or CAP_NET_RAW", "hint": "sudo setcap cap_net_raw+ep /x/python"}
        app.response.prepared = pf.prepared(error=error)
        await pilot.pause()
        summary = str(app.response.query_one("#pkt-summary").render())
        assert "capture failed" in summary and "setcap cap_net_raw+ep /x/python" in summary
        await pilot.press("w")
        await pilot.pause()
        assert "the capture failed" in said[-1]


def _root() -> bool:
    return os.geteuid() == 0


@pytest.mark.anyio
@pytest.mark.skipif(not _root(), reason="a live capture needs root (AF_PACKET); run the tests as root to cover it")
async def test_a_captured_exchange_is_drawn_and_w_writes_a_pcap_tcpdump_reads(make_app, lab_server, tmp_path,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(lab_server.url + "/ip", packets=True)
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        below = prepared.extra["below"]
        assert below["capture"]["error"] is None and below["packets"], below["capture"]
        await pilot.press("f3", "7")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "pkt-ladder", "the ladder")
        ladder = app.response.query_one("#pkt-ladder")
        text = ladder.plain()
        assert ladder.line_count == len(below["packets"])
        assert "handshake 1/3: SYN" in text and "handshake 2/3: SYN-ACK" in text
        assert f"request head {len(prepared.exchange.request.data)} B" in text
        assert "response head" in text and "FIN" in text
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PromptScreen", "the save prompt")
        await pilot.press("enter")
        path = tmp_path / "ip.pcap"
        await wait_for(pilot, lambda: path.exists() and path.stat().st_size > 24, "the pcap file")
        await pilot.pause(0.2)
    assert path.stat().st_mode & 0o777 == 0o600
    import dpkt

    with open(path, "rb") as f:
        count = sum(1 for _ in dpkt.pcap.Reader(f))
    assert count == len(below["frames"]) == len(below["packets"])
    if shutil.which("tcpdump"):
        out = subprocess.run(["tcpdump", "-nr", str(path)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and len(out.stdout.splitlines()) == count
