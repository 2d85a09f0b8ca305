"""The connection pane: 20,000 rows through its public update method, keyed updates,
filters and sorting by key, untrusted process names, pid-less rows, AccessDenied,
scan pacing, and following a real exchange's connection into the response viewer's
Connection tab.  Behaviour only: nothing here is timed."""

from __future__ import annotations

import threading

import psutil
import pytest

from netlab.engine import netstat
from netlab.engine.netstat import ConnRow
from netlab.ui.messages import ConnectionsChanged
from tests.ui.conftest import wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
N = 20_000
STATES = ("ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "FIN_WAIT2")


def synthetic(n: int = N) -> list[ConnRow]:
    """n sockets: 40 listeners, the rest connections to them from 127.0.0.x, 50 processes."""
    rows = []
    for i in range(n):
        if i < 40:
            rows.append(ConnRow("tcp", ("127.0.0.1", 8000 + i), None, "LISTEN", 1000 + i % 50, f"proc{i % 50}"))
        else:
            rows.append(ConnRow("tcp", (f"127.0.0.{2 + i % 200}", 10000 + i % 50000), ("127.0.0.1", 8000 + i % 40),
                                STATES[i % 4], 1000 + i % 50 if i % 97 else None, f"proc{i % 50}" if i % 97 else None))
    return rows


def changed(rows, *, removed=(), changed_rows=(), own=frozenset(), elapsed_ms=5.0, **kw) -> ConnectionsChanged:
    return ConnectionsChanged(tuple(rows), tuple(removed), tuple(changed_rows), frozenset(own), kw.pop("total", 0),
                              elapsed_ms, kw.pop("notice", None), **kw)


async def maximised(pilot):
    await pilot.press("f5", "f11")
    await pilot.pause()
    return pilot.app.connections


async def test_twenty_thousand_rows_page_sort_and_filter_drawing_only_what_shows(make_app, monkeypatch):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        rows = synthetic()
        pane.apply(changed(rows, total=N, no_pid=sum(r.pid is None for r in rows)))
        await pilot.pause()
        view = pane.view
        assert pane.row_count == N and view.virtual_size.height == N + 1  # + the header line
        status = str(pane.query_one("#conn-status").render())
        assert f"{N:,} sockets" in status and "without pid" in status and "scan 5 ms · every 1.0 s" in status
        counts = str(pane.query_one("#conn-counts").render())
        assert "LISTEN 40" in counts and f"ESTABLISHED {sum(r.state == 'ESTABLISHED' for r in rows):,}" in counts

        # paging: each key press draws one screenful, not 20,000 rows
        page = view.page_size
        assert 20 < page < 40
        view.focus()
        view.rows_rendered = 0
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert view.cursor == 3 * page and view.first_visible == 3 * page
        assert 0 < view.rows_rendered <= 4 * (page + 1)
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor == N - 1 and view.first_visible == N - page
        last = pane.table.key_at(N - 1)
        assert view.row_text(N - 1).split()[:3] == ["tcp", netstat.format_addr(last[1]), netstat.format_addr(last[2])]
        await pilot.press("home", "down", "down")
        assert view.cursor == 2 and view.first_visible == 0

        # a keyed update: 60 rows come and go or change; no re-sort, the cursor stays on its row
        rebuilds = []
        real = netstat.ConnTable._rebuild
        monkeypatch.setattr(netstat.ConnTable, "_rebuild", lambda self: (rebuilds.append(1), real(self)))
        await pilot.press("pagedown")
        on = view.cursor_key
        before = view.cursor
        gone = [pane.table.key_at(i) for i in range(5)]  # rows above the cursor go away
        new = [ConnRow("tcp", ("127.0.0.1", 2000 + i), ("127.0.0.1", 8000), "SYN_SENT", 7, "new") for i in range(20)]
        moved = [ConnRow(r.proto, r.local, r.remote, "CLOSE_WAIT", r.pid, r.process) for r in rows[1000:1035]]
        pane.apply(changed(new, removed=gone, changed_rows=moved, total=N + 15))
        await pilot.pause()
        assert rebuilds == [] and pane.row_count == N + 15
        assert view.cursor_key == on and view.cursor == before - 5 + sum(1 for r in new if r.key < on)
        assert all(pane.table.get(r.key).state == "CLOSE_WAIT" for r in moved)

        # filter as you type: `/`, words, narrowing in place; escape clears it
        await pilot.press("slash", *"proc7")
        await pilot.pause()
        want = sum(1 for r in pane.table.rows.values() if r.process and r.process.startswith("proc7"))
        assert pane.row_count == want and rebuilds == []  # typed letters narrow the view in place
        await pilot.press("space", *"time")
        await pilot.pause()
        assert pane.row_count == sum(1 for r in pane.table.rows.values()
                                     if r.process and r.process.startswith("proc7") and r.state == "TIME_WAIT")
        assert "showing" in str(pane.query_one("#conn-counts").render())
        await pilot.press("escape")
        await pilot.pause()
        assert pane.row_count == N + 15 and view.has_focus and not pane.query_one("#conn-filter").display

        # state, protocol, listening, own
        listening = sum(1 for r in pane.table.rows.values() if r.state == "LISTEN")
        assert listening == 35  # 5 of the 40 went above
        await pilot.press("t")
        assert pane.table.spec.states == {"LISTEN"} and pane.row_count == listening
        await pilot.press("t")
        assert pane.table.spec.states == {"SYN_SENT"} and pane.row_count == 20
        await pilot.press("c", "l")
        assert pane.row_count == listening
        await pilot.press("l", "p")
        assert pane.table.spec.protos == {"tcp", "tcp6"} and pane.row_count == N + 15
        await pilot.press("p")
        assert pane.row_count == 0  # UDP only: none here
        await pilot.press("p", "o")
        assert pane.row_count == 0  # none of these is netlab's own
        await pilot.press("o")

        # sort by any column: keys < > i, or a click on a column title
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        assert pane.table.spec.sort == "state" and "state▲" in view.header_text()
        assert pane.table.get(pane.table.key_at(0)).state == "LISTEN"
        await pilot.press("i")
        assert "state▼" in view.header_text() and pane.table.get(pane.table.key_at(0)).state == "TIME_WAIT"
        x = view.header_text().index("pid") + 1
        await pilot.click("#conn-table", offset=(x, 0))
        await pilot.pause()
        assert pane.table.spec.sort == "pid" and not pane.table.spec.reverse
        pids = [pane.table.get(k).pid for k in pane.table.keys(0, 200)]
        assert pids == sorted(pids)
        await pilot.press("end")
        assert pane.table.get(view.cursor_key).pid is None  # no pid sorts last
        assert view.row_text(view.cursor).split()[-4:-1] == ["-", "(no", "pid)"]  # ... and is marked


async def test_a_big_change_comes_sorted_from_the_worker_and_is_adopted(make_app):
    """The first snapshot (or thousands of new sockets) arrives as a whole table sorted in
    the worker: the pane adopts it, keeps its filter and cursor, and goes on by key."""
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        rows = synthetic(3000)
        pane.apply(changed(rows[:100], total=100))
        await pilot.press("slash", *"proc1", "enter", "down", "down")
        on = pane.view.cursor_key
        mirror = netstat.ConnTable(view=False)  # what workers.poll_connections keeps
        mirror.apply(rows[:100], now=1.0)
        mirror.apply(rows[100:], now=2.0)
        big = mirror.copy(netstat.ViewSpec(), frozenset())  # sorted for the spec of the request ...
        pane.apply(changed(rows[100:], total=3000, table=big))
        await pilot.pause()
        assert pane.table is big and pane.view.table is big
        assert pane.table.spec.text == "proc1"  # ... and re-filtered for the one typed meanwhile
        want = [r.key for r in netstat.filter_sort(rows, pane.table.spec)]
        assert pane.table.keys() == want and pane.row_count == len(want)
        assert pane.view.cursor_key == on
        pane.apply(changed((), removed=[want[-1]], total=2999))  # and then by key again
        assert pane.row_count == len(want) - 1


async def test_untrusted_names_and_pidless_rows(make_app):
    evil = ["[bold red]markup[/]", "\x1b[31mred\x1b]0;title\x07", "wide名前"]
    rows = [ConnRow("tcp", ("127.0.0.1", 4000 + i), ("127.0.0.1", 80), "ESTABLISHED", 10 + i, name)
            for i, name in enumerate(evil)]
    rows.append(ConnRow("tcp", ("127.0.0.1", 5000), ("127.0.0.1", 80), "TIME_WAIT", None, None))
    rows.append(ConnRow("udp", ("127.0.0.1", 53), None, "NONE", 9, "dns"))
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        pane.apply(changed(rows, total=len(rows), no_pid=1))
        await pilot.pause()
        view = pane.view
        texts = [view.row_text(i) for i in range(pane.row_count)]
        assert any("[bold red]markup[/]" in t for t in texts)  # shown as typed, never parsed
        assert any("\\x1b[31mred\\x1b]0;" in t for t in texts)  # escapes made visible
        assert any("wide名前" in t for t in texts)
        assert not any(c in t for t in texts for c in "\x1b\x07")
        strips = [view.render_line(y) for y in range(1, pane.row_count + 1)]
        assert not any("\x1b" in seg.text or "\x07" in seg.text for strip in strips for seg in strip)
        assert len({strip.cell_length for strip in strips}) == 1  # a wide name does not shift the columns
        [pidless] = [t for t in texts if ":5000" in t]
        assert pidless.split()[-4:-1] == ["-", "(no", "pid)"]
        [udp] = [t for t in texts if "127.0.0.1:53" in t]
        assert "NONE" not in udp and "dns" in udp
        assert "1 without pid" in str(pane.query_one("#conn-status").render())


async def test_access_denied_is_said_in_the_pane(make_app, monkeypatch):
    """psutil.AccessDenied (macOS without root): netlab's own sockets, and a notice, not a crash."""
    def denied(kind="inet"):
        raise psutil.AccessDenied(pid=None, msg="not allowed (test)")

    monkeypatch.setattr(psutil, "net_connections", denied)
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        app = make_app("http://127.0.0.1:9/", live_connections=True)
        async with app.run_test(size=SIZE) as pilot:
            pane = await maximised(pilot)
            await wait_for(pilot, lambda: pane.row_count, "the first snapshot")
            notice = pane.query_one("#conn-notice")
            assert notice.display and "AccessDenied" in str(notice.render())
            import os

            assert {pane.table.get(k).pid for k in pane.table.keys()} == {os.getpid()}
            assert any(f":{listener.getsockname()[1]}" in pane.view.row_text(i) for i in range(pane.row_count))


async def test_scans_never_overlap_and_slow_ones_back_off(make_app, monkeypatch):
    release = threading.Event()
    active, most, calls = [0], [0], [0]
    lock = threading.Lock()
    real = netstat.snapshot

    def held(kind="inet"):
        with lock:
            active[0] += 1
            calls[0] += 1
            most[0] = max(most[0], active[0])
        try:
            release.wait(30)
            return real(kind)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(netstat, "snapshot", held)
    app = make_app("http://127.0.0.1:9/", live_connections=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        await wait_for(pilot, lambda: calls[0] == 1, "the first scan to start")
        for _ in range(5):  # timers firing, sends connecting: all while the scan runs
            pane._scan_tick()
            pane.scan_soon()
            await pilot.pause()
        assert calls[0] == 1 and pane.pacer.busy and pane.pacer.skipped >= 5
        release.set()
        await wait_for(pilot, lambda: pane.row_count and not pane.pacer.busy, "the scan to be shown")
        assert most[0] == 1
        assert app.services.feed.mirror.rows == pane.table.rows  # the worker diffs against what is shown

    # the pane shows the scan time and the interval, and backs off when scans are slow
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        pane.apply(changed(synthetic(50), total=50, elapsed_ms=2000.0))
        status = str(pane.query_one("#conn-status").render())
        assert "scan 2000 ms · every 6.0 s (backed off: slow scans)" in status
        pane.apply(changed((), total=50, elapsed_ms=20.0))
        assert "scan 20 ms · every 3.0 s" in str(pane.query_one("#conn-status").render())  # coming back down


async def test_pause_holds_the_diffs_and_applies_them_on_resume(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = await maximised(pilot)
        rows = synthetic(100)
        pane.apply(changed(rows, total=100))
        await pilot.press("z")
        assert "PAUSED" in str(pane.query_one("#conn-status").render())
        pane.apply(changed((), removed=[r.key for r in rows[:10]], total=90))
        assert pane.row_count == 100  # frozen
        await pilot.press("z")
        assert pane.row_count == 90 and "PAUSED" not in str(pane.query_one("#conn-status").render())


async def test_following_a_real_exchange_into_the_connection_tab(make_app, lab_server):
    """SYN_SENT → ESTABLISHED from the engine, the server's end from probes, a reused
    keep-alive connection told apart, then our close: FIN_WAIT → TIME_WAIT."""
    from netlab.ui.widgets.lineview import LineView
    from tests.ui.conftest import send_and_wait

    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.connections
        host = f"127.0.0.1:{lab_server.port}"
        await pilot.press("f3", "6")
        tab = app.response.query_one("#resp-connection", LineView)

        def text() -> str:
            return tab.plain()

        # the composer's default request says Connection: close: the connection ends with the exchange
        prepared = await send_and_wait(pilot, app)
        first = prepared.exchange.connection
        assert not prepared.exchange.keep_alive
        closing = pane.follow_for(first.local, first.remote)
        await wait_for(pilot, lambda: closing.state not in ("SYN_SENT", "ESTABLISHED"), "the close")
        assert closing.state in netstat.CLOSING_STATES | {netstat.GONE}
        assert [s.state for s in closing.steps][:2] == ["SYN_SENT", "ESTABLISHED"]

        # keep-alive: a new connection, then the same one reused
        app.composer.load(f"GET /ip HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), lab_server.url + "/ip")
        prepared = await send_and_wait(pilot, app)
        conn = prepared.exchange.connection
        assert not conn.reused and prepared.exchange.keep_alive and conn.local != first.local
        await wait_for(pilot, lambda: "the server's end" in text(), "the probe to see the server's end")
        t = text()
        assert "TCP states" in t and "new connection" in t
        assert f"{netstat.format_addr(conn.local)} → {netstat.format_addr(conn.remote)}" in t
        ours = t[t.index("our end"):]
        assert ours.index("SYN_SENT") < ours.index("ESTABLISHED") and "connect() called" in t and "probe" in t
        follow = pane.follow_for(conn.local, conn.remote)
        assert follow is app.response.follow and [s.state for s in follow.steps] == ["SYN_SENT", "ESTABLISHED"]
        assert pane.view.followed == {(conn.local, conn.remote), (conn.remote, conn.local)}

        prepared = await send_and_wait(pilot, app)  # keep-alive: the same connection again
        assert prepared.exchange.connection.reused and prepared.exchange.connection.local == conn.local
        await wait_for(pilot, lambda: "2 requests on it" in text(), "the reuse in the Connection tab")
        assert "reused from the keep-alive pool" in text()

        pane.tracker.probe_max = 0.1  # probe often from here on: nothing in this test waits on a clock
        app.services.engine().close()  # we close first: FIN_WAIT1/2, then TIME_WAIT
        await wait_for(pilot, lambda: follow.state == "TIME_WAIT", "TIME_WAIT")
        await wait_for(pilot, lambda: "TIME_WAIT" in text(), "TIME_WAIT in the Connection tab")
        assert "the kernel keeps the 4-tuple 60 s" in text()  # what the state means
        states = [s.state for s in follow.steps]
        assert states[:3] == ["SYN_SENT", "ESTABLISHED", "ESTABLISHED"] and states[-1] == "TIME_WAIT"
        assert set(states[3:-1]) <= {"FIN_WAIT1", "FIN_WAIT2"}
        assert [s.t for s in follow.steps] == sorted(s.t for s in follow.steps)


def test_connection_tab_with_the_tcp_states_snapshot(snap_compare):
    """The look of a followed connection in the Connection tab: both ends, each step
    with its time, where it was seen and what it means (fixed times: a stable picture)."""
    from tests.ui import fakes
    from tests.ui.test_snapshots import app, maximised

    follow = netstat.Follow(("127.0.0.1", 54321), ("127.0.0.1", 8080), started=100.0)
    follow.add_use(False, 100.0, 100.00015)
    follow.peer.observe("ESTABLISHED", 100.0004, "probe")
    follow.add_use(True, 100.2, 100.2)
    follow.observe("FIN_WAIT2", 100.5, "probe")
    follow.peer.observe("CLOSE_WAIT", 100.5, "probe")
    follow.observe("TIME_WAIT", 100.55, "scan")
    follow.peer.observe(None, 100.55, "scan")
    run = maximised("response", "6")

    async def with_follow(pilot) -> None:
        await run(pilot)
        pilot.app.response.follow = follow  # the fake exchange's connection: 54321 -> 8080
        await pilot.pause()

    assert fakes.exchange().connection.local == ("127.0.0.1", 54321)
    assert snap_compare(app(), terminal_size=(120, 40), run_before=with_follow)


# -- narrow layouts, the legend and "row N of M" (issue 11, parts 4 and 7) ------------------------------

def test_columns_give_way_in_order_and_then_rows_stack():
    from netlab.ui.widgets.conntable import ConnTableView

    view = ConnTableView()
    seen = []
    for width in range(90, 30, -1):
        widths, stacked = view._layout(width)
        shown = tuple(c for c in ("proto", "local", "remote", "state", "pid", "process", "age") if c in widths)
        if not seen or seen[-1][0] != (shown, stacked, widths["state"]):
            seen.append(((shown, stacked, widths["state"]), width))
    steps = [s for s, _ in seen]
    full = ("proto", "local", "remote", "state", "pid", "process", "age")
    assert steps == [
        (full, False, 11),
        (full[:-1], False, 11),  # age gives way first,
        (full[:-2], False, 11),  # then process,
        (full[1:-2], False, 11),  # then proto,
        (full[1:-2], False, 10),  # then ESTABLISHED is written ESTAB;
        (full, True, 11),  # then each socket takes two lines, every column back
    ]
    for (_, stacked, _), width in seen:  # one line: the columns fit exactly in the width
        widths, _ = view._layout(width)
        if not stacked:
            assert 2 + sum(widths.values()) + len(widths) - 1 <= width


async def test_a_narrow_table_stacks_rows_and_keeps_state_pid_and_addresses(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=(100, 30)) as pilot:  # the 2 x 2 grid: the pane is 46 cells wide
        pane = app.connections
        rows = synthetic(500)
        pane.apply(changed(rows, total=500))
        await pilot.pause()
        view = pane.view
        assert view.stacked and view.lines_per_row == 2
        spare = (view.scrollable_content_region.height - 1) % 2  # so that the last rows show whole
        assert view.virtual_size.height == 2 * 500 + 1 + spare
        assert "row 1 of 500" in pane.footer_text().plain and "●" in pane.footer_text().plain
        for i in range(3):
            row = pane.table.get(pane.table.key_at(i))
            first, second = view.row_text(i).split("\n")
            assert first.split()[:3] == [netstat.format_addr(row.local), "→", netstat.format_addr(row.remote)]
            words = second.split()
            assert row.state in words or (row.state == "ESTABLISHED" and "ESTAB" in words)
            assert (f"pid {row.pid}" in second) if row.pid is not None else "no pid" in second
            assert len(first) <= view.size.width and len(second) <= view.size.width
        # keys move by rows; the cursor stays on screen; the footer follows it
        view.focus()
        page = view.page_size
        assert page == (view.scrollable_content_region.height - 1) // 2
        await pilot.press("pagedown", "down")
        await pilot.pause()
        assert view.cursor == page + 1
        assert view.first_visible <= view.cursor < view.first_visible + page
        assert int(view.scroll_y) % 2 == 0  # a row's two lines together
        assert f"row {page + 2} of 500" in pane.footer_text().plain
        assert f"row {page + 2} of 500" in str(pane.border_subtitle)
        await pilot.press("end")
        await pilot.pause()
        assert view.cursor == 499 and view.first_visible == 500 - page
        assert "row 500 of 500" in pane.footer_text().plain
        # maximised, the same table is one line a socket again, every column shown
        await pilot.press("f5", "f11")
        await pilot.pause()
        assert not view.stacked and view.virtual_size.height == 500 + 1
        header = view.header_text().split()
        assert header[:3] == ["proto▲", "local", "address"] and header[-3:] == ["pid", "process", "age"]
        assert view.first_visible <= view.cursor < view.first_visible + view.page_size
        assert "netlab's own" in pane.footer_text().plain and "row 500 of 500" in pane.footer_text().plain
