"""The stack screen (issue 15.4): the composer's URL through each layer of the stack, run
in a worker, against real peers on loopback — the lab server, and a peer whose status
line holds escape sequences (shown escaped)."""

from __future__ import annotations

import socket
import threading

import pytest

from netlab.engine.stack import CLIENT_NAMES
from netlab.ui.screens.stack import StackScreen, stack_texts
from netlab.ui.widgets.lineview import LineView
from tests.ui.conftest import wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def screen_text(app) -> str:
    view = app.screen.query_one("#stack-view", LineView)
    return "\n".join(view.text_of(i) for i in range(view.line_count))


async def _open_stack(pilot, app) -> StackScreen:
    app.action_stack()
    await wait_for(pilot, lambda: isinstance(app.screen, StackScreen), "the stack screen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.results is not None, "the stack run")
    await pilot.pause()
    return screen


async def test_the_stack_screen_shows_each_client_and_what_it_adds(make_app, lab_server):
    app = make_app(lab_server.url + "/redirect/1")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_stack(pilot, app)
        assert [r.client for r in screen.results] == list(CLIENT_NAMES)
        text = screen_text(app)
        for r in screen.results:
            assert f"── {r.client} " in text
        by = {r.client: r for r in screen.results}
        # the raw socket sends the seed's request and follows nothing; requests follows the 302
        assert by["socket"].statuses == (302,) and by["socket"].redirects == 0
        assert "  + User-Agent: Python-urllib/" in text  # urllib's own User-Agent, marked as added
        if by["requests"].version is not None:
            assert by["requests"].statuses == (302, 200) and by["requests"].redirects == 1
            assert "request 2 of 2" in text and "< HTTP/1.1 200" in text
        assert "- Connection: close" in text  # a socket header another client leaves out
        assert text.splitlines()[-len(CLIENT_NAMES) - 1].startswith("client")  # the summary table
        status = str(screen.query_one("#stack-status").render())
        assert "clients installed" in status
        # the screen says its keys; r runs it again; escape closes it
        assert "r runs again" in screen.query_one("#stack-box").border_subtitle
        first = screen.results
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.results is not first and screen.run_id == 2, "the second run")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "escape closing it")


async def test_the_palette_lists_the_stack(make_app, lab_server):
    from netlab.ui.commands import system_commands

    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE):
        titles = [c.title for c in system_commands(app, app.screen)]
        assert "Stack" in titles


async def test_no_url_says_so(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        app.composer.query_one("#url").value = ""
        await pilot.pause()
        app.action_stack()
        await wait_for(pilot, lambda: isinstance(app.screen, StackScreen), "the stack screen")
        await pilot.pause()
        assert "no URL in the composer" in str(app.screen.query_one("#stack-status").render())


@pytest.fixture
def hostile_peer():
    """Answers every request with a status line and a header holding escape sequences."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 O\x1b[2JK\x1b]0;pwned\x07\r\nX-Evil: \x1b[31mred\r\n"
                             b"Content-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/x"
    stop.set()
    srv.close()


async def test_bytes_from_the_wire_are_shown_escaped(make_app, hostile_peer):
    app = make_app(hostile_peer)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_stack(pilot, app)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "< HTTP/1.1 200 O\\x1b[2JK\\x1b]0;pwned\\x07" in text
        assert screen.results[0].statuses == (200,)


def test_stack_texts_mark_against_the_socket():
    """The marks as `netlab stack` prints them, from StackResult values (no network)."""
    from netlab.engine.stack import StackResult

    seed = b"GET / HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n"
    mine = b"GET / HTTP/1.1\r\nHost: h:1\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n"
    results = [StackResult(client="socket", version="3", requests=(seed,), responses=(b"HTTP/1.1 204 No\r\n\r\n",),
                           statuses=(204,), connections=1, redirects=0, decompressed=False, elapsed_ms=1.0),
               StackResult(client="http.client", version="3", requests=(mine,), responses=(), statuses=(),
                           connections=1, redirects=0, decompressed=False, elapsed_ms=2.0, error="boom"),
               StackResult(client="requests", version=None, requests=(), responses=(), statuses=(), connections=0,
                           redirects=0, decompressed=False, elapsed_ms=0.0, error="not installed: pip install x")]
    lines = [t.plain for t in stack_texts(results, "http://h:1/")]
    assert "  + Accept-Encoding: identity" in lines and "  ~ Connection: keep-alive" in lines
    assert "    Host: h:1" in lines and "  error: boom" in lines and "  not installed: pip install x" in lines
    assert lines[-1].startswith("requests") and "not installed" in lines[-1]
    assert lines[-2].split()[:6] == ["http.client", "3", "1", "1", "0", "error"]
