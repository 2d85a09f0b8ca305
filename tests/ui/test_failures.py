"""Failures in the TUI (issue 6): a request sent from the composer to a misbehaving peer
on loopback ends with one line naming the phase and what failed, one ``next:`` line,
and whatever arrived viewable in the Raw (and Hex / Body) tabs.  The engine and CLI side
of the same peers: tests/engine/test_hostile.py."""

from __future__ import annotations

import socket

import pytest

from netlab.ui.widgets.lineview import LineView
from tests.conftest import HANG_GUARD
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def status_lines(app) -> list[str]:
    return str(app.response.query_one("#resp-status").render()).splitlines()


def assert_one_failure(app, phase: str, *words: str, hint: tuple[str, ...] = ()) -> None:
    """The status shows one ✗ line with the phase and message, then one next: line."""
    lines = status_lines(app)
    failed = [line for line in lines if "✗" in line]
    nexts = [line for line in lines if line.strip().startswith("next:")]
    assert len(failed) == 1 and len(nexts) == 1, lines
    assert failed[0].strip().startswith(f"✗ {phase} "), lines
    assert lines.index(nexts[0]) == lines.index(failed[0]) + 1
    text = "\n".join(lines)
    for w in words:
        assert w.lower() in failed[0].lower(), (w, lines)
    for w in hint:
        assert w.lower() in nexts[0].lower(), (w, lines)
    assert "Traceback" not in text


async def show_tab(pilot, app, key: str, name: str) -> LineView:
    await pilot.press("f3", key)
    await wait_for(pilot, lambda: app.response.active_tab == name, f"the {name} tab")
    return app.response.query_one(f"#resp-{name}", LineView)


async def set_timeout(pilot, app, seconds: str) -> None:
    await pilot.press("f8")  # the composer's options
    await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "opt-timeout", "the timeout field")
    await pilot.press("home", "ctrl+k", *seconds)
    assert app.composer.opt["timeout"] == seconds


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_connection_refused(make_app):
    app = make_app(f"http://127.0.0.1:{closed_port()}/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "connect"
        assert_one_failure(app, "connect", "connection refused", hint=("listens",))
        raw = await show_tab(pilot, app, "3", "raw")
        text = raw.plain()
        assert "(nothing received)" in text and "connect: connection refused" in text


async def test_timeout_keeps_the_partial_head(make_app, tcp_peer):
    """A server that sends half a head and stalls: the configured timeout (F8) ends it,
    and the half head is in the Raw and Hex tabs."""

    def half_head(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Partial: yes\r\n")
        peer.stop.wait(HANG_GUARD)

    peer = tcp_peer(half_head)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        await set_timeout(pilot, app, "0.5")
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error.phase == "timeout"
        assert ex.timings.total >= 500
        assert_one_failure(app, "timeout", "no data for 0.5 s", "response head", hint=("--timeout",))
        text = (await show_tab(pilot, app, "3", "raw")).plain()
        assert "HTTP/1.1 200 OK\\r\\n" in text and "X-Partial: yes\\r\\n" in text
        assert "no complete response head: 33 bytes received" in text
        assert "timeout: no data for 0.5 s" in text
        hexdump = (await show_tab(pilot, app, "4", "hex")).plain()
        assert hexdump.startswith("00000000  48 54 54 50 2f 31 2e 31")  # "HTTP/1.1"


async def test_endless_header_block_hits_the_header_limit(make_app, tcp_peer):
    def endless_head(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not peer.stop.is_set():
            conn.sendall(b"X-More: yes\r\n" * 500)

    peer = tcp_peer(endless_head)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "limit"
        assert_one_failure(app, "limit", "header limit of 65536 bytes", hint=("misbehaving",))
        raw = await show_tab(pilot, app, "3", "raw")
        assert raw.text_of(0) == "HTTP/1.1 200 OK\\r\\n" and raw.text_of(1) == "X-More: yes\\r\\n"
        assert raw.line_count > 5000  # the whole partial head (bounded by the limit) is there
        assert "limit: the response head exceeds" in raw.plain(limit=raw.line_count + 10)


async def test_http09_reply_is_a_parse_error_with_its_bytes_viewable(make_app, tcp_peer):
    body = b"<html>hello from 1991</html>\n"

    def http09(conn, peer):
        conn.sendall(body)

    peer = tcp_peer(http09)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "parse"
        assert_one_failure(app, "parse", "no HTTP status line", "HTTP/0.9", hint=("Raw tab",))
        text = (await show_tab(pilot, app, "3", "raw")).plain()
        assert "<html>hello from 1991</html>\\n" in text
        assert f"no complete response head: {len(body)} bytes received" in text


async def test_body_shorter_than_content_length_keeps_the_body(make_app, tcp_peer):
    def short(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789")

    peer = tcp_peer(short)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "receive"
        assert_one_failure(app, "receive", "10 of 100 body bytes", hint=("kept",))
        assert "HTTP/1.1 200 OK" in status_lines(app)[0]  # the head that arrived is shown as such
        assert app.response.query_one("#body-view", LineView).text_of(0) == "0123456789"
        text = (await show_tab(pilot, app, "3", "raw")).plain()
        assert "0123456789" in text and "incomplete: receive failed" in text


async def test_tls_self_signed(make_app, tls_lab):
    app = make_app(f"https://127.0.0.1:{tls_lab.self_signed_port}/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error.phase == "tls" and ex.tls is None
        assert_one_failure(app, "tls", "certificate verification failed", "self-signed",
                           hint=("--cacert", "--insecure"))
        shot = app.export_screenshot()
        assert "self-signed" in shot and "next:" in shot  # drawn, not only in the widget's text
        conn = (await show_tab(pilot, app, "6", "connection")).plain()
        assert str(tls_lab.self_signed_port) in conn  # the TCP connection that did happen is shown


async def test_tls_to_a_plain_http_port(make_app, tcp_peer):
    def answer_400(conn, peer):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    peer = tcp_peer(answer_400, read_request=False)
    app = make_app(f"https://127.0.0.1:{peer.port}/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error.phase == "tls"
        assert_one_failure(app, "tls", "plain HTTP", hint=("http://",))


async def test_non_utf8_header_values_show_escaped(make_app, tcp_peer):
    def latin1(conn, peer):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Latin1: caf\xe9 \xff\r\nX-Utf8: caf\xc3\xa9\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\nok")

    peer = tcp_peer(latin1)
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.error is None
        await pilot.press("f3", "2")
        await wait_for(pilot, lambda: app.response.active_tab == "headers", "the Headers tab")
        rows = dict(app.response.header_rows())
        assert rows["X-Latin1"] == "caf\\xe9 \\xff"  # not UTF-8: each byte as \xNN
        assert rows["X-Utf8"] == "café"
        text = (await show_tab(pilot, app, "3", "raw")).plain()
        assert "X-Latin1: caf\\xe9 \\xff\\r\\n" in text
