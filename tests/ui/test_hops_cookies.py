"""The redirect hops screen (ctrl+f) and the cookie jar screen (F12) of issue 15, driven by
keys against real peers on loopback: the lab server's /redirect/N, and a small
http.server peer that sets cookies, redirects across origins and echoes the Cookie it
got."""

from __future__ import annotations

import http.server
import threading

import pytest
from textual.widgets import DataTable

from netlab.ui.screens.cookies import CookiesScreen
from netlab.ui.screens.hops import COLUMNS, HopsScreen
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


class _CookiePeer(http.server.BaseHTTPRequestHandler):
    """/login: two cookies and a 302 to /home; /home: the Cookie header it got, echoed;
    /away: a 302 to the same server under another host name (a new origin)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        port = self.server.server_address[1]
        if self.path == "/login":
            self._answer(302, b"", [("Set-Cookie", "sid=SECRET123; Path=/; HttpOnly"),
                                    ("Set-Cookie", "theme=dark; Max-Age=3600; Path=/"), ("Location", "/home")])
        elif self.path == "/away":
            self._answer(302, b"", [("Location", f"http://localhost:{port}/home")])
        else:
            self._answer(200, f"cookie={self.headers.get('Cookie')}\n".encode(), [])

    def _answer(self, status: int, body: bytes, headers) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def cookie_peer():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookiePeer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def response_status(app) -> str:
    return str(app.response.query_one("#resp-status").render())


def rows(table: DataTable) -> list[list[str]]:
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _follow_send(pilot, app, url: str, *, cookies: bool = False, data: bytes | None = None):
    if data is not None:
        app.composer.load(data, url)
    else:
        app.composer.load_url(url)
    app.composer._set_opt("follow", True)
    app.composer._set_opt("cookies", cookies)
    return await send_and_wait(pilot, app)


async def test_the_hops_screen_lists_the_chain_and_shows_each_hop(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await _follow_send(pilot, app, lab_server.url + "/redirect/2")
        final = prepared.exchange
        chain = [*final.redirects, final]
        assert [h.response.status for h in chain] == [302, 302, 200]
        assert "2 redirects (ctrl+f: hops)" in response_status(app)
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, HopsScreen), "the hops screen")
        table = app.screen.query_one("#hops-table", DataTable)
        got = rows(table)
        col = {name: i for i, name in enumerate(COLUMNS)}
        assert [r[col["method"]] for r in got] == ["GET"] * 3
        assert [r[col["url"]] for r in got] == [h.request.url for h in chain]
        assert [r[col["status"]].strip() for r in got] == ["302", "302", "200"]
        assert [r[col["port"]] for r in got] == [str(h.connection.local[1]) for h in chain]  # each hop's local port
        assert [r[col["conn"]] for r in got] == ["reused" if h.connection.reused else "new" for h in chain]
        assert got[2][0].startswith("● 3") and "final" in got[2][0]  # the one shown, and the final
        assert "redirected here by 302" in got[1][7]
        assert "b back to the final" in str(app.screen.query_one("#hops-hint").render())  # it says its keys
        # enter on the first hop: the viewer shows it with all its tabs, its status says which
        await pilot.press("up", "up", "enter")
        await wait_for(pilot, lambda: app.response.prepared.exchange is chain[0], "hop 1 in the viewer")
        assert len(app.screen_stack) == 1
        status = response_status(app)
        assert "hop 1 of 3" in status and "302" in status and "ctrl+f" in status
        await app.response.action_tab("raw")
        assert "Location: /redirect/1" in app.response.query_one("#resp-raw").plain()
        # ctrl+f again: the list has the shown hop highlighted; b goes back to the final
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, HopsScreen), "the hops screen again")
        table = app.screen.query_one("#hops-table", DataTable)
        assert table.cursor_row == 0 and rows(table)[0][0].startswith("● 1")
        await pilot.press("b")
        await wait_for(pilot, lambda: app.response.prepared is prepared, "the final again")
        assert "2 redirects" in response_status(app)
        # escape closes it without changing what is shown; ctrl+f toggles it shut as well
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, HopsScreen), "the hops screen")
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "ctrl+f closing it")
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, HopsScreen), "the hops screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "escape closing it")
        assert app.response.prepared is prepared


async def test_without_hops_ctrl_f_says_how_to_get_them(make_app, lab_server):
    app = make_app(lab_server.url + "/redirect/1")
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (said.append(str(message)), notify(message, **kw))[1]
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)  # follow is off: one 302
        assert "redirect" not in response_status(app).split("\n")[0].split("·", 1)[-1]
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: said, "a word")
        assert len(app.screen_stack) == 1 and "Follow redirects" in said[-1]


async def test_a_hop_says_the_credentials_it_dropped(make_app, cookie_peer):
    port = cookie_peer.rsplit(":", 1)[1]
    data = (f"GET /away HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer tok\r\n"
            "Connection: close\r\n\r\n").encode()
    app = make_app(cookie_peer + "/home")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await _follow_send(pilot, app, cookie_peer + "/away", data=data)
        assert prepared.exchange.request.header("authorization") is None
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, HopsScreen), "the hops screen")
        table = app.screen.query_one("#hops-table", DataTable)
        note = rows(table)[1][7]
        assert "origin changed" in note and "Authorization dropped" in note
        table.move_cursor(row=1)
        await pilot.pause()
        detail = str(app.screen.query_one("#hops-detail").render())
        assert f"localhost:{port}/home" in detail and "Authorization dropped" in detail


async def test_the_cookies_screen_lists_the_jar_masked(make_app, cookie_peer):
    app = make_app(cookie_peer + "/home")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await _follow_send(pilot, app, cookie_peer + "/login", cookies=True)
        # the jar's cookies went to the next hop (requests' and curl's -L -b rule)
        assert "sid=SECRET123" in prepared.exchange.response.body_store.getvalue().decode()
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, CookiesScreen), "the cookies screen")
        table = app.screen.query_one("#cookies-table", DataTable)
        got = {r[0]: r for r in rows(table)}
        assert set(got) == {"sid", "theme"}
        assert "SECRET123" not in got["sid"][1] and "9 chars" in got["sid"][1]  # masked, its length said
        assert got["sid"][2] == "127.0.0.1" and got["sid"][3] == "/"
        assert got["sid"][4] == "session" and "(in " in got["theme"][4]
        assert "HttpOnly" in got["sid"][5] and "host-only" in got["sid"][5]
        assert got["sid"][6] == cookie_peer + "/login"  # the exchange whose Set-Cookie made it
        await pilot.press("v")
        got = {r[0]: r for r in rows(table)}
        assert got["sid"][1] == "SECRET123" and got["theme"][1] == "dark"
        await pilot.press("v")
        assert "SECRET123" not in rows(table)[0][1] + rows(table)[1][1]
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "escape closing it")
        # x empties the jar
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, CookiesScreen), "the cookies screen")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.query_one("#cookies-table", DataTable).row_count == 0, "no rows")
        assert len(app.services.jar()) == 0
        await pilot.press("f12")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "F12 closing it")


async def test_with_the_jar_off_the_cookies_screen_says_how_to_turn_it_on(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, CookiesScreen), "the cookies screen")
        note = str(app.screen.query_one("#cookies-note").render())
        assert "the cookie jar is off" in note and "Options tab (F8)" in note
        assert app.screen.query_one("#cookies-table", DataTable).row_count == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "escape closing it")


async def test_a_cookie_from_a_hostile_peer_is_shown_escaped(make_app):
    """A cookie's name and value come from the server: shown as visible escapes."""
    from netlab.engine.cookies import CookieInfo
    from netlab.ui.screens.cookies import cookie_cells

    c = CookieInfo("n\x1b[2J", "v\x1b]0;x\x07", "ex.test", "/", None, False, False, True, None,
                   "http://ex.test/\x1b[31m")
    shown = [t.plain for t in cookie_cells(c, True)]
    assert all("\x1b" not in s and "\x07" not in s for s in shown)
    assert "\\x1b[2J" in shown[0] and "\\x07" in shown[1]


def test_the_status_line_names_the_key_the_binding_has():
    from netlab.ui import keys
    from netlab.ui.views import status

    assert status.HOPS_KEY == keys.HOPS_KEY
    assert any(b.id == "hops" and b.key == keys.HOPS_KEY for b in keys.APP_BINDINGS)
