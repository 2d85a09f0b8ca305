"""Untrusted bytes in the TUI: a peer whose reason phrase, header values, body and chunked
trailers carry terminal escapes (clear screen, window title, OSC 8 links, OSC 52
clipboard writes, cursor and title reports), C1 controls, bidi and zero-width format
characters and Rich markup; a DNS server whose TXT and CNAME data carry them; process
names and Unix socket paths that carry them.

Every pane must show them as visible escapes (``\\x1b]0;pwned\\x07``, ``\\u202e``) or
literal text (``[bold red]``), never interpret them.  Each test looks at two things:
the text a widget renders, and the screen as it would be written to a terminal (the
compositor's full update, rendered by the app's console): in the latter every ESC must
be Textual's own (SGR colours and cursor moves) and no BEL, C1, bidi or zero-width
character may appear at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from textual.widgets import DataTable, Input

from netlab.ui.widgets.lineview import LineView
from tests.conftest import HANG_GUARD, read_request_head, short_tmpdir
from tests.hostile import ESC_SEQ_SHOWN, HOSTILE_HEAD, MARKUP, UNICODE_SHOWN, chunked, hostile_body
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (220, 50)  # wide: the visible escapes are long, and a picture cuts lines at its edge

# -- what the hostile peer sends ---------------------------------------------------------------

BODY = hostile_body(30)
HOSTILE_BODY = chunked(BODY)
HOSTILE = HOSTILE_HEAD + HOSTILE_BODY

# ... and as the Raw tab writes them (netlab/engine/rawtext.py, the composer's raw view's
# notation): a backslash is doubled, so ESC then "\\" reads \x1b\\, and a C1 or hidden
# character in the UTF-8 body is its UTF-8 bytes
ESC_SEQ_RAW = (r"\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x.test\x1b\\link\x1b]8;;\x1b\\"
               r"\x1b]52;c;cHduZWQ=\x07\x1b[6n\x1b[21t")
UNICODE_RAW = r"\xc2\x9b31m \xc2\x85 \xe2\x80\xaeevil\xe2\x80\xac \xe2\x80\x8bzw \xe2\x81\xa6iso\xe2\x81\xa9"

#: never in what is written to the terminal
FORBIDDEN = ("\x07", "\x9b", "\x85", "\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\x1b]", "\x1b[2J",
             "\x1b[6n", "\x1b[21t")
#: the only escape sequences Textual itself writes when it draws a screen: colours, cursor moves
TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;]*[mH]")


# -- what the screen shows, and what a terminal would receive ----------------------------------

def screen_text(app) -> str:
    """The characters on the screen, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def terminal_output(app) -> str:
    """The whole screen as the app would write it to the terminal."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def assert_clean(app, where: str) -> str:
    """No peer escape reaches the terminal; returns the screen's text."""
    term = terminal_output(app)
    for bad in FORBIDDEN:
        assert bad not in term, f"{where}: {bad!r} reaches the terminal"
    rest = TEXTUAL_OWN.sub("", term)
    assert "\x1b" not in rest, f"{where}: an ESC that is not Textual's: {rest[rest.index(chr(27)) - 20:][:60]!r}"
    text = screen_text(app)
    controls = [c for c in text if ord(c) < 32 and c != "\n" or 0x7F <= ord(c) <= 0x9F]
    assert not controls, f"{where}: control characters on screen: {controls!r}"
    return text


async def settle(pilot) -> None:
    for _ in range(3):  # tables size their columns on the next refreshes
        await pilot.pause()


# -- peers ---------------------------------------------------------------------------------

def hostile_handler(conn, peer) -> None:
    conn.sendall(HOSTILE)


@contextlib.contextmanager
def unix_peer(response: bytes):
    """An HTTP peer on a Unix socket whose path carries escapes and markup."""
    tmp = short_tmpdir("netlab-hb-")
    path = os.path.join(tmp, "\x1b]0;pw\x07[b]x\u202e.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(HANG_GUARD)
                with contextlib.suppress(OSError):
                    read_request_head(conn)
                    conn.sendall(response)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        shutil.rmtree(tmp, ignore_errors=True)


async def show_tab(pilot, app, tab: str) -> None:
    await app.response.action_tab(tab)
    await settle(pilot)


async def maximise(pilot, key: str) -> None:
    await pilot.press(key, "f11")
    await settle(pilot)


# -- the response viewer -------------------------------------------------------------------------

async def test_every_response_tab_shows_escapes_never_interprets_them(make_app, tcp_peer):
    peer = tcp_peer(hostile_handler)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error is None and prepared.exchange.response.status == 200
        await maximise(pilot, "f3")
        view = app.response

        # the status line: reason phrase escaped, markup literal
        status = str(view.query_one("#resp-status").render())
        assert status.startswith(r" HTTP/1.1 200 OK \x1b[2J\x1b]0;pwned\x07")
        assert "\x1b" not in status and "\x07" not in status

        # Body
        await show_tab(pilot, app, "body")
        body = view.query_one("#body-view", LineView)
        first = body.text_of(0)
        assert first == "first " + MARKUP + " " + ESC_SEQ_SHOWN + " " + UNICODE_SHOWN
        text = assert_clean(app, "body tab")
        assert "first " + MARKUP in text  # the markup, as typed, on the screen
        assert r"\x1b[2J\x1b]0;pwned\x07" in text and r"OK \x1b[2J" in text  # body and status line
        assert "click[/link]" in text

        # Headers, and the trailer after them
        await show_tab(pilot, app, "headers")
        rows = dict(view.header_rows())
        assert rows["X-Evil"] == ESC_SEQ_SHOWN + r"\x9b2J\x85"
        assert rows["X-Markup"] == MARKUP
        assert rows["X-Trailer"] == ESC_SEQ_SHOWN + r"\x9b [bold]t[/bold]"
        text = assert_clean(app, "headers tab")
        assert MARKUP in text and ESC_SEQ_SHOWN + r"\x9b2J\x85" in text and r"\x9b [bold]t[/bold]" in text

        # Raw: the bytes as received, line endings and controls written out
        await show_tab(pilot, app, "raw")
        raw = view.query_one("#resp-raw", LineView).plain()
        assert (r"HTTP/1.1 200 OK " + ESC_SEQ_RAW + r"\x9b\x85 " + MARKUP + r"\r\n") in raw
        assert "X-Evil: " + ESC_SEQ_RAW + r"\x9b2J\x85\r\n" in raw
        assert "first " + MARKUP + " " + ESC_SEQ_RAW + " " + UNICODE_RAW + r"\n" in raw
        assert "X-Trailer: " + ESC_SEQ_RAW + r"\x9b [bold]t[/bold]\r\n" in raw
        text = assert_clean(app, "raw tab")
        assert "X-Markup: " + MARKUP + r"\r\n" in text

        # Hex: the ASCII column shows a dot for every control byte
        await show_tab(pilot, app, "hex")
        hexed = view.query_one("#resp-hex", LineView).plain()
        assert "|.[2J.]0;pwned..]|" in hexed
        assert_clean(app, "hex tab")

        # Timing and Connection hold nothing of the peer's, and stay clean
        for tab in ("timing", "connection"):
            await show_tab(pilot, app, tab)
            assert_clean(app, f"{tab} tab")


async def test_while_the_body_is_still_coming(make_app, tcp_peer):
    """The live status line and the live Headers tab show the head before the body ends."""
    go_on = threading.Event()

    def handler(conn, peer) -> None:
        conn.sendall(HOSTILE_HEAD + b"5\r\nhello\r\n")
        go_on.wait(HANG_GUARD)
        conn.sendall(HOSTILE_BODY)

    peer = tcp_peer(handler)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        await maximise(pilot, "f3")
        await app.response.ensure_tabs()
        await pilot.press("ctrl+j")
        status = app.response.query_one("#resp-status")
        await wait_for(pilot, lambda: "OK" in str(status.render()), "the response head")
        assert app.response.in_flight
        assert str(status.render()).startswith(r" HTTP/1.1 200 OK \x1b[2J\x1b]0;pwned\x07")
        text = assert_clean(app, "live status line")
        assert "receiving the body" in text
        await show_tab(pilot, app, "headers")
        await wait_for(pilot, lambda: app.response.header_rows(), "the live headers")
        assert dict(app.response.header_rows())["X-Evil"] == ESC_SEQ_SHOWN + r"\x9b2J\x85"
        assert_clean(app, "live headers tab")
        go_on.set()
        await wait_for(pilot, lambda: app.response.prepared is not None and app._cancel is None, "the exchange")
        await settle(pilot)
        assert_clean(app, "after the body")


@pytest.mark.parametrize("reply, quoted", [
    # an illegal header name (ESC in it): a parse error that quotes the line
    (b"HTTP/1.1 200 OK\r\nX-\x1b]0;pwned\x07: v\r\nContent-Length: 0\r\n\r\n", r"\x1b]0;pwned\x07"),
    # not HTTP at all
    (b"\x1b]0;pwned\x07\x1b[2J [bold red]not http[/bold red]\r\n\r\n", r"\x1b]0;pwned\x07"),
], ids=["bad-header-name", "not-http"])
async def test_errors_that_quote_the_peer(make_app, tcp_peer, reply, quoted):
    peer = tcp_peer(lambda conn, _peer: conn.sendall(reply))
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        error = prepared.exchange.error
        assert error is not None and error.phase == "parse"
        await maximise(pilot, "f3")
        status = str(app.response.query_one("#resp-status").render())
        assert "parse" in status and quoted in status, status
        text = assert_clean(app, "the error in the status line")
        assert quoted in text
        await show_tab(pilot, app, "raw")
        raw = app.response.query_one("#resp-raw", LineView).plain()
        assert quoted in raw  # what did arrive stays viewable, escaped
        assert_clean(app, "the raw tab of a failed exchange")
        await show_tab(pilot, app, "hex")
        assert_clean(app, "the hex tab of a failed exchange")


async def test_a_json_body_carrying_escapes(make_app, tcp_peer):
    """JSON escapes (\\u001b) decode to controls before pretty-printing: still shown escaped."""
    body = ('{"a": "\\u001b]0;pwned\\u0007 \\u009b2J", "b": "\u202eevil", "[bold red]k[/]": '
            '[1, "\\ud800 lone surrogate"]}').encode()
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    peer = tcp_peer(lambda conn, _peer: conn.sendall(reply))
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.body_kind == "json"
        await maximise(pilot, "f3")
        shown = app.response.query_one("#body-view", LineView).plain()
        assert r'"a": "\u001b]0;pwned\u0007 \x9b2J"' in shown  # json.dumps re-escapes C0; safe_text C1
        assert r'"b": "\u202eevil"' in shown
        assert '"[bold red]k[/]": [' in shown
        assert r"\ud800 lone surrogate" in shown  # no terminal encoding could carry it
        text = assert_clean(app, "json body")
        assert '"[bold red]k[/]"' in text


# -- a Unix socket path, and history ----------------------------------------------------------------

async def test_unix_socket_path_and_history_entries(make_app):
    """A Unix socket path with escapes (Connection tab); the History list, with a request
    whose method carries escapes; a stored hostile exchange loaded back into the viewer.

    The composer keeps such a request byte for byte; its fields show the escapes written out."""
    from netlab.engine import Options

    with unix_peer(HOSTILE) as path:
        app = make_app("http://localhost/")
        async with app.run_test(size=SIZE) as pilot:
            options = Options(unix_socket=path)
            clean = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            app.composer.load(clean, "http://localhost/", options)
            prepared = await send_and_wait(pilot, app)
            ex = prepared.exchange
            assert ex.error is None and ex.response.status == 200, ex.error
            await maximise(pilot, "f3")
            await show_tab(pilot, app, "connection")
            conn = app.response.query_one("#resp-connection", LineView).plain()
            assert r"netlab-hb-" in conn and r"/\x1b]0;pw\x07[b]x\u202e.sock" in conn
            text = assert_clean(app, "connection tab of a Unix socket exchange")
            assert r"\x1b]0;pw\x07[b]x\u202e.sock" in text

            hostile_request = (b"G\x1b]0;pwned\x07T /[bold]x[/bold] HTTP/1.1\r\nHost: localhost\r\n"
                               b"Connection: close\r\n\r\n")
            app.composer.load(hostile_request, "http://localhost/", options)
            second = await send_and_wait(pilot, app)
            assert second.exchange.error is None
            # the composer keeps the exact bytes, and its fields show the escapes written out
            assert app.composer.data == hostile_request
            assert app.composer.query_one("#method", Input).value == r"G\x1b]0;pwned\x07T"
            assert_clean(app, "composer fields holding a request with escapes")

            await pilot.press("f11", "f6")
            await wait_for(pilot, lambda: app.screen.query("HistoryTable") and
                           app.screen.query_one("HistoryTable", DataTable).row_count == 2, "the history list")
            await settle(pilot)
            table = app.screen.query_one("HistoryTable", DataTable)
            method = table.get_row_at(0)[2].plain  # newest first
            assert method.lower() == r"g\x1b]0;pwned\x07t"  # (the store may upper-case a method)
            text = assert_clean(app, "history list")
            assert method in text
            await pilot.press("down", "enter")  # load the first exchange back into the viewer
            await wait_for(pilot, lambda: len(app.screen_stack) == 1 and app.response.prepared is not second,
                           "the stored exchange")
            await settle(pilot)
            assert app.response.prepared.exchange.request.data == clean
            assert str(app.response.query_one("#resp-status").render()).startswith(
                r" HTTP/1.1 200 OK \x1b[2J\x1b]0;pwned\x07")
            assert_clean(app, "a stored hostile exchange, loaded back")


# -- DNS -----------------------------------------------------------------------------------------

HB_ZONE = r"""
$TTL 300
@      IN SOA   ns.hb.test. hostmaster.hb.test. 1 3600 600 86400 60
@      IN NS    ns.hb.test.
ns     IN A     127.0.0.1
txt    IN TXT   ( "\027[2J\027]0\;pwned\007" "\027]52\;c\;cHduZWQ=\007 \155\133 \226\128\174evil"
                  "[bold red]red[/bold red] [link=http://evil.test]click[/link]" )
evil   IN CNAME x\027[2J\007y.hb.test.
"""
TXT_SHOWN = (r'"\027[2J\027]0;pwned\007" "\027]52;c;cHduZWQ=\007 \155\133 \226\128\174evil" '
             r'"[bold red]red[/bold red] [link=http://evil.test]click[/link]"')


@pytest.fixture(scope="module")
def hostile_dns():
    """An authoritative dnspython server for hb.test whose data carry escapes and markup."""
    from tests.dnsfixtures import Authority, DnsServer

    server = DnsServer(Authority(("hb.test.", HB_ZONE)), "127.0.0.1").start()
    yield server
    server.stop()


async def lookup(pilot, app, name: str, rdtype: str, server: str) -> None:
    pane = app.dns
    before = len(pane.history)
    for wid, value in (("#dns-name", name), ("#dns-type", rdtype), ("#dns-server", server)):
        pane.query_one(wid, Input).value = value
    pane.query_one("#dns-server", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(pane.history) > before and pane.pending is None, f"the lookup of {name}")
    await settle(pilot)


async def test_dns_pane_txt_and_names_with_escapes(make_app, hostile_dns):
    app = make_app("http://127.0.0.1:9/")
    server = f"127.0.0.1:{hostile_dns.port}"
    async with app.run_test(size=SIZE) as pilot:
        await maximise(pilot, "f4")
        await lookup(pilot, app, "txt.hb.test", "TXT", server)
        [row] = app.dns.rows()
        assert row[2] == "TXT" and row[3] == TXT_SHOWN
        text = assert_clean(app, "DNS answer with a hostile TXT record")
        assert "[bold red]red[/bold red]" in text and r"\027]0;pwned\007" in text
        await lookup(pilot, app, "evil.hb.test", "CNAME", server)
        [row] = app.dns.rows()
        assert row[3] == r"x\027[2J\007y.hb.test."
        text = assert_clean(app, "DNS answer with a hostile name")
        assert r"x\027[2J\007y.hb.test." in text
        app.dns.action_tab("history")  # the History tab lists both lookups
        await settle(pilot)
        assert_clean(app, "DNS history tab")


# -- the connection table ----------------------------------------------------------------------

async def test_connection_table_process_names_and_unix_paths(make_app):
    from netlab.engine.netstat import ConnRow
    from netlab.ui.messages import ConnectionsChanged

    names = ["\x1b]0;pw\x07\x9b[2J", "[bold red]x[/]\u202e", "\udc9bsurrogate"]
    rows = [ConnRow("tcp", ("127.0.0.1", 4100 + i), ("127.0.0.1", 80), "ESTABLISHED", 100 + i, name)
            for i, name in enumerate(names)]
    rows.append(ConnRow("unix", ("/tmp/\x1b]8;;http://x\x1b\\s\u200b.sock", 0), None, "LISTEN", 200, "srv",
                        "SOCK_STREAM"))
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await maximise(pilot, "f5")
        pane = app.connections
        pane.apply(ConnectionsChanged(tuple(rows), (), (), frozenset(), len(rows), 3.0,
                                      "notice from the scan: \x1b]0;pwned\x07 [b]x[/b]"))
        await settle(pilot)
        texts = [pane.view.row_text(i) for i in range(pane.row_count)]
        joined = "\n".join(texts)
        assert r"\x1b]0;pw\x07\x9b[2J" in joined
        assert r"[bold red]x[/]\u202e" in joined
        assert r"\x9bsurrogate" in joined  # a name that was not UTF-8 (psutil's surrogateescape)
        assert r"/tmp/\x1b]8;;http://x\x1b\s\u200b.sock" in joined
        text = assert_clean(app, "connection table")
        assert r"[bold red]x[/]\u202e" in text and r"\x1b]0;pw\x07\x9b[2J" in text
        assert r"notice from the scan: \x1b]0;pwned\x07 [b]x[/b]" in text
        # the filter line quotes what was typed
        pane.set_spec(replace(pane.table.spec, text="\x1b[2J"))
        await settle(pilot)
        assert r"/\x1b[2J" in assert_clean(app, "connection filter")


def _named_listener():
    """A child process named (prctl PR_SET_NAME) with escapes, listening on loopback."""
    code = (
        "import ctypes, socket, sys\n"
        "name = b'\\x1b]0;pw\\x07\\x9b[b]x'\n"
        "ok = ctypes.CDLL(None, use_errno=True).prctl(15, ctypes.c_char_p(name), 0, 0, 0) == 0\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "print(s.getsockname()[1] if ok else 'noprctl', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    return proc, line


@contextlib.contextmanager
def named_listener():
    if not sys.platform.startswith("linux"):
        pytest.skip("process names are set with prctl(PR_SET_NAME): Linux only")
    proc, line = _named_listener()
    try:
        if not line.isdigit():
            pytest.skip(f"prctl(PR_SET_NAME) did not work here: {line!r}")
        yield int(line)
    finally:
        proc.stdin.close()
        proc.wait(timeout=HANG_GUARD)
        proc.stdout.close()


async def test_live_table_with_a_real_process_named_with_escapes(make_app):
    with named_listener() as port:
        app = make_app("http://127.0.0.1:9/", live_connections=True)
        async with app.run_test(size=SIZE) as pilot:
            await maximise(pilot, "f5")
            pane = app.connections
            await wait_for(pilot, lambda: pane.table is not None and pane.row_count, "the first snapshot")
            pane.set_spec(replace(pane.table.spec, text=f"127.0.0.1:{port}"))

            def shown() -> list[str]:
                return [pane.view.row_text(i) for i in range(pane.row_count)]

            await wait_for(pilot, lambda: any("LISTEN" in t for t in shown()), "the named listener's row")
            [row] = [t for t in shown() if "LISTEN" in t]
            assert r"\x1b]0;pw\x07\x9b[b]x" in row
            await settle(pilot)
            text = assert_clean(app, "a live row with a hostile process name")
            assert r"\x1b]0;pw\x07\x9b[b]x" in text
