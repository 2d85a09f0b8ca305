"""The TUI driven by keys (App.run_test), sending real requests to the lab server on
loopback and asserting on what the panes show."""

from __future__ import annotations

import socket

import pytest
from textual.widgets import DataTable, Input, TextArea

from netlab.ui import requesttext as rt
from netlab.ui.widgets.lineview import LineView
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def status_text(app) -> str:
    return str(app.response.query_one("#resp-status").render())


async def test_newcomer_sees_a_round_trip_with_one_key(make_app):
    """`netlab` with no URL: the lab server starts, the classic request is there, ctrl+j sends it."""
    app = make_app(lab=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.composer.data, "the lab server and the pre-filled request")
        port = app.services.lab.port
        assert app.composer.data == (f"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                     f"Connection: close\r\n\r\n").encode()
        assert app.composer.raw_text == (f"GET /ip HTTP/1.1\\r\\n\nHost: 127.0.0.1:{port}\\r\\n\n"
                                         f"Connection: close\\r\\n\n\\r\\n\n")
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is None and ex.response.status == 200
        assert "HTTP/1.1 200 OK" in status_text(app)
        assert app.response.query_one("#body-view", LineView).text_of(0) == "127.0.0.1"
        raw = app.response.query_one("#resp-raw", LineView).plain()
        assert raw.startswith("HTTP/1.1 200 OK\\r\\n")
        assert "── end of head" in raw and "end of body: all 10 bytes of Content-Length received" in raw
        hex_first = app.response.query_one("#resp-hex", LineView).text_of(0)
        assert hex_first.startswith("00000000  48 54 54 50 2f 31 2e 31") and hex_first.endswith("|HTTP/1.1 200 OK.|")
        headers = app.response.header_rows()
        assert headers == [(n, v) for n, v in ex.response.headers]
        conn = app.response.query_one("#resp-connection", LineView).plain()
        local = f"127.0.0.1:{ex.connection.local[1]}"
        assert local in conn and f"127.0.0.1:{port}" in conn and "AF_INET" in conn and "new" in conn


async def test_raw_view_is_byte_for_byte_what_is_sent(make_app, lab_server):
    """Edit the raw view (and the fields); /echo returns exactly what the raw view shows."""
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")  # the raw view
        raw = app.composer.query_one("#raw", TextArea)
        await wait_for(pilot, lambda: raw.has_focus, "the raw view")
        # Type a header by hand at the end of the Host line; Enter gives CR LF.
        raw.move_cursor((1, len(raw.document.get_line(1))))
        await pilot.press("enter", *"X-A: 1\\n")  # a bare LF, written out
        await pilot.press("enter", *"X-T: a\\tb")
        await wait_for(pilot, lambda: b"X-T" in app.composer.data, "the raw edit")
        shown = app.composer.raw_text
        expected = rt.from_raw_text(shown)
        assert b"X-A: 1\nX-T: a\tb\r\n" in expected
        assert app.composer.data == expected
        # the fields view followed the raw edit
        assert "X-T: a\tb" in app.composer.query_one("#headers", TextArea).text
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.request.data == expected
        assert prepared.exchange.response.body == expected  # /echo: the exact request bytes
        # Now edit the fields: a POST body; Content-Length follows; raw view follows.
        await pilot.press("f7")
        body = app.composer.query_one("#body", TextArea)
        body.focus()
        await pilot.pause()
        await pilot.press(*"hello")
        method = app.composer.query_one("#method", Input)
        method.focus()
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"POST")
        await wait_for(pilot, lambda: app.composer.data.startswith(b"POST"), "the method edit")
        data = app.composer.data
        assert data.endswith(b"\r\n\r\nhello") and b"Content-Length: 5\r\n" in data
        assert rt.from_raw_text(app.composer.raw_text) == data
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.response.body == data


async def test_no_freeze_during_a_slow_request_and_escape_cancels(make_app, lab_server):
    app = make_app(lab_server.url + "/slow/30000", live_connections=True)  # escape cancels it long before
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.connections.row_count, "the connection table")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "waiting for the response" in status_text(app), "the request to go out")
        in_flight = [app._cancel is not None]
        # keys still move focus, edit and scroll while it is in flight
        await pilot.press("f4", "a", "b")
        name = app.dns.query_one("#dns-name", Input)
        assert name.has_focus and name.value == "ab"
        in_flight.append(app._cancel is not None)
        await pilot.press("f5", "down", "pagedown")
        table = app.connections.view
        assert not name.has_focus and table.has_focus and table.cursor > 1
        in_flight.append(app._cancel is not None)
        await pilot.press("escape")
        assert all(in_flight), in_flight  # nothing above waited for the request
        await wait_for(pilot, lambda: app._cancel is None, "the cancel")
        await pilot.pause()
        ex = app.response.prepared.exchange
        assert ex.error is not None and ex.error.phase == "cancelled"
        assert "cancelled" in status_text(app)


async def test_ctrl_r_replays_the_last_exchange(make_app, lab_server):
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        first = await send_and_wait(pilot, app)
        # change the composer; ctrl+r still replays what was sent
        app.composer.query_one("#url", Input).focus()
        await pilot.press("end", *"?changed")
        await wait_for(pilot, lambda: b"changed" in app.composer.data, "the edit")
        before = app.response.prepared
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the replay")
        second = app.response.prepared
        assert second.exchange.request.data == first.exchange.request.data
        assert second.exchange.response.body == first.exchange.request.data
        assert app.composer.data == first.exchange.request.data  # the composer shows what was replayed


async def test_history_enter_loads_and_r_replays(make_app, lab_server):
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        first = await send_and_wait(pilot, app)
        app.composer.load_url(lab_server.url + "/ip")
        await send_and_wait(pilot, app)
        await wait_for(pilot, lambda: len(app.history_entries) == 2, "two history entries")
        await pilot.press("f6")
        table = app.screen.query_one("#history-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, "the history list")
        rows = [[c.plain for c in table.get_row_at(i)] for i in range(2)]
        assert rows[0][2:5] == ["GET", lab_server.url + "/ip", "200"]  # newest first
        assert rows[1][2:5] == ["GET", lab_server.url + "/echo", "200"]
        assert rows[0][5].endswith("ms")
        await pilot.press("down", "enter")  # load the /echo one
        await wait_for(pilot, lambda: len(app.screen_stack) == 1 and app.composer.data == first.exchange.request.data,
                       "the load")
        await pilot.pause()
        assert app.response.prepared.exchange.response.body == first.exchange.request.data
        await pilot.press("f6")
        table = app.screen.query_one("#history-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, "the history list")
        before = app.response.prepared
        await pilot.press("down", "r")  # replay the /echo one exactly
        await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the replay")
        replay = app.response.prepared.exchange
        assert replay.request.data == first.exchange.request.data
        assert (replay.request.host, replay.request.port) == (first.exchange.request.host, first.exchange.request.port)
        assert replay.response.body == first.exchange.request.data
        await wait_for(pilot, lambda: len(app.history_entries) == 3, "the replay in the history")


async def test_head_and_progress_show_before_the_body_is_complete(make_app, lab_server):
    app = make_app(lab_server.url + "/stream/30?delay_ms=60")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+j")
        progress = app.response.query_one("#resp-progress")
        await wait_for(pilot, lambda: progress.display, "the progress bar")
        assert app._cancel is not None  # the body is still coming
        assert "200 OK" in status_text(app)
        assert ("Transfer-Encoding", "chunked") in app.response.header_rows()
        assert "/s" in str(app.response.query_one("#resp-progress").render())
        await wait_for(pilot, lambda: app._cancel is None, "the end of the stream")
        await pilot.pause()
        assert not progress.display
        raw = app.response.query_one("#resp-raw", LineView).plain()
        assert "← chunk size 0x" in raw and "last chunk (size 0)" in raw and "← trailer" in raw
        body = app.response.query_one("#body-view", LineView).plain()
        assert body.count("\n") >= 29


async def test_gzip_body_is_decoded_with_the_wire_size(make_app, lab_server):
    app = make_app(lab_server.url + "/gzip")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        r = prepared.exchange.response
        note = str(app.response.query_one("#body-note").render())
        assert "gzip" in note and "on the wire" in note and "decoded" in note
        assert prepared.body_kind == "json"
        assert f"{r.body_bytes} B on the wire → {len(r.decoded_body())} B decoded" in note


async def test_binary_body_shows_as_hex(make_app, lab_server):
    app = make_app(lab_server.url + "/bytes/100")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.body_kind == "binary"
        view = app.response.query_one("#body-view", LineView)
        assert view.line_count == 7 and view.text_of(0).startswith("00000000  ")


async def test_failure_names_the_phase_and_what_to_do(make_app):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(f"http://127.0.0.1:{port}/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "connect"
        text = status_text(app)
        assert "connect" in text and "refused" in text and "next:" in text


async def test_untrusted_bytes_are_shown_literally(make_app, tcp_peer):
    evil = "\x1b]0;pwned\x07 \x1b[2J [bold red]x[/]"
    body = evil.encode() + b"\n"

    def handler(conn, peer):
        conn.sendall(b"HTTP/1.1 200 \x1b[31mOK\r\nX-Evil: " + evil.encode() + b"\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    peer = tcp_peer(handler)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.response.header("x-evil") == evil
        literal = "\\x1b]0;pwned\\x07 \\x1b[2J [bold red]x[/]"
        assert ("X-Evil", literal) in app.response.header_rows()
        assert app.response.query_one("#body-view", LineView).text_of(0) == literal
        assert "\\x1b[31mOK" in status_text(app)
        # what is drawn: every tab, rendered to the screen
        for tab in ("1", "2", "3"):
            await pilot.press("f3", tab)
            await pilot.pause()
            shot = app.export_screenshot()
            assert "\x1b" not in shot and "\x07" not in shot
            assert "pwned" in shot
        assert "[bold red]x[/]" in app.export_screenshot().replace("&#160;", " ")


async def test_dns_lookup_and_pin(make_app, dnsmasq, lab_server):
    app = make_app(f"http://known.test:{lab_server.port}/ip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", *"known.test", "tab", "tab", *f"127.0.0.1:{dnsmasq.port}", "enter")
        await wait_for(pilot, lambda: app.dns.result is not None, "the DNS answer")
        await pilot.pause()
        rows = app.dns.rows()
        assert rows[0][0].rstrip(".") == "known.test" and rows[0][2:] == ("A", "127.0.0.1")
        assert rows[0][1].isdigit()
        status = str(app.dns.query_one("#dns-status").render())
        assert "NOERROR" in status and "ms" in status and f"127.0.0.1:{dnsmasq.port}" in status
        await pilot.press("tab")  # to the table
        await pilot.press("p")
        assert app.composer.opt["resolve"] == f"known.test:{lab_server.port}:127.0.0.1"
        assert app.composer.query_one("#opt-resolve", Input).value == app.composer.opt["resolve"]
        prepared = await send_and_wait(pilot, app)  # resolves through the pin, not /etc/hosts or DNS
        assert prepared.exchange.dns.source == "pin"
        assert prepared.exchange.response.status == 200


async def test_connection_table_highlights_and_selects_the_exchange(make_app, lab_server):
    app = make_app(lab_server.url + "/ip", live_connections=True)
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        conn = prepared.exchange.connection
        pane = app.connections
        pair = {conn.local, conn.remote}

        def selected():
            row = pane.selected_row()
            return row is not None and {row.local, row.remote} == pair

        await wait_for(pilot, selected, "the exchange's row to be selected")
        # netlab's own socket, highlighted: ◆ the connection followed since the send (● own)
        assert pane.view.row_text(pane.view.cursor).startswith("◆")
        assert "netlab" in str(pane.query_one("#conn-status").render())


async def test_f1_help_lists_every_key(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        from netlab.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(" ".join(str(c) for c in row) for _, rows in app.screen.sections for row in rows)
        for b in type(app).BINDINGS:
            assert b.description in text
        for words in ("Raw view", "Options", "Prev tab", "Lookup", "Pin name", "Use name", "Own only", "Pause",
                      "Load", "Replay"):
            assert words in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_action_is_in_the_command_palette(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await app.dns.ensure_tabs()  # the DNS tables (whose keys the palette lists) mount after the first frame
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for b in type(app).BINDINGS:
            if b.action != "cancel":  # offered only while a request is in flight
                assert b.description in titles, b.description
        for title in ("Raw view", "Composer: Undo", "Response: Next tab", "DNS: Lookup", "DNS: Pin name",
                      "DNS: Use name", "Connections: Own only"):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)


async def test_maximise_and_restore_with_one_key(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "f11")
        assert app.screen.maximized is app.dns
        await pilot.press("f11")
        assert app.screen.maximized is None
        await pilot.press("f3", "f11")
        assert app.screen.maximized is app.response
        await pilot.press("escape")  # nothing in flight: escape restores
        assert app.screen.maximized is None


async def test_all_four_panes_at_120x40_and_one_at_a_time_at_80x24(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        panes = [app.composer, app.response, app.dns, app.connections]
        assert all(p.display and p.region.width >= 50 and p.region.height >= 10 for p in panes)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert [p.display for p in panes] == [True, False, False, False]
        for key, index in (("f3", 1), ("f4", 2), ("f5", 3), ("f2", 0)):
            await pilot.press(key)
            assert [p.display for p in panes] == [i == index for i in range(4)], key
        # usable: a send from the composer switches to the response
        await send_and_wait(pilot, app)
        assert app.response.display and not app.composer.display
        assert "200 OK" in status_text(app)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert all(p.display for p in panes)


async def test_options_tab_unix_socket(make_app, unix_http_server):
    app = make_app("http://localhost/hello.txt")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        assert app.focused.id == "opt-timeout"
        await pilot.press("tab", "tab", "tab")
        assert app.focused.id == "opt-unix"
        app.focused.insert_text_at_cursor(unix_http_server.path)  # as a paste would
        await pilot.pause()
        assert app.composer.opt["unix"] == unix_http_server.path
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is None and ex.response.body == unix_http_server.files["hello.txt"]
        assert ex.connection.family == "AF_UNIX"
        assert "unix socket" in app.response.query_one("#resp-connection", LineView).plain()


async def test_tls_details_with_insecure_option(make_app, nginx):
    app = make_app(nginx.tls_url + "/hello.txt")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8", "tab", "space")  # the insecure TLS checkbox
        assert app.composer.opt["insecure"] is True
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is None and ex.response.status == 200
        text = app.response.query_one("#resp-connection", LineView).plain()
        for word in ("TLS", ex.tls.version, ex.tls.cipher, "ALPN", "Certificate", "subject", "issuer",
                     "SAN", "not after", ex.tls.peer_cert["sha256"]):
            assert word in text, word
        assert "TLS handshake" in str(app.response.query_one("#resp-timing").render())


async def test_ctrl_r_replays_the_last_stored_exchange_in_a_new_session(make_app, lab_server):
    first_app = make_app(lab_server.url + "/echo")
    async with first_app.run_test(size=SIZE) as pilot:
        first = await send_and_wait(pilot, first_app)
    app = make_app("http://127.0.0.1:9/nothing-here")  # same history file, nothing sent yet
    async with app.run_test(size=SIZE) as pilot:
        before = app.response.prepared
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the replay")
        again = app.response.prepared.exchange
        assert again.request.data == first.exchange.request.data
        assert again.response.body == first.exchange.request.data
