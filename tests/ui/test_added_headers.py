"""Which headers did netlab add? (issue 15.3): the composer's status line names the header
lines netlab wrote by itself, the Raw tab marks each in its gutter with ``+``, the user's
own lines stay unmarked, and a Cookie the session's jar will add is said too.  Editing
and undo in the Raw tab keep working with the gutter."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from netlab.ui.panes.composer import netlab_added
from netlab.ui.widgets.rawarea import head_rows
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def status_line(app) -> str:
    return str(app.composer.query_one("#composer-status").render())


def test_the_rules():
    data = (b"POST /x HTTP/1.1\r\nHost: a:8\r\nUser-Agent: netlab/0.1.0\r\nAccept: */*\r\nContent-Length: 2\r\n"
            b"Connection: close\r\nX-Mine: 1\r\n\r\nab")
    assert netlab_added(data, "http://a:8/x", True) == ["Host", "User-Agent", "Accept", "Content-Length",
                                                          "Connection"]
    # the user's values are theirs: another Host (host_auto off), agent, Accept, length, Connection
    theirs = (b"POST /x HTTP/1.1\r\nHost: b\r\nUser-Agent: curl/8\r\nAccept: text/html\r\nContent-Length: 5\r\n"
              b"Connection: keep-alive\r\n\r\nab")
    assert netlab_added(theirs, "http://a:8/x", False) == []
    # a bare-LF head: the body's length is still known
    assert netlab_added(b"POST / HTTP/1.1\nContent-Length: 3\n\nabc", "http://a/", True) == ["Content-Length"]


def test_head_rows_stop_at_the_head_end():
    lines = ["GET / HTTP/1.1\\r\\n", "Host: a\\r\\n", "X: y\\n", "\\r\\n", "Host: body"]
    assert head_rows(len(lines), lines.__getitem__) == {1: "host", 2: "x"}


async def test_the_composer_and_the_raw_tab_mark_what_netlab_added(make_app, lab_server):
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        assert "netlab adds Host, Connection" in status_line(app)
        await pilot.press("f7")
        raw = app.composer.query_one("#raw", TextArea)
        await wait_for(pilot, lambda: app.focused is raw, "the Raw tab")
        await pilot.pause()
        assert raw.marked_rows() == [1, 2]
        drawn = [raw.render_line(y).text for y in range(4)]
        assert drawn[0].startswith("  GET /echo") and drawn[1].startswith("+ Host: ")
        assert drawn[2].startswith("+ Connection: close") and drawn[3].startswith("  \\r\\n")
        assert "+ added by netlab: Host, Connection" in str(app.composer.query_one("#raw-hint").render())
        # a line the user types in the Raw tab is theirs: no mark; editing works as ever
        before = app.composer.data
        raw.move_cursor((2, 0))
        for ch in "X-Mine: 1":
            await pilot.press(ch)
        await pilot.press("enter")
        assert b"\r\nX-Mine: 1\r\nConnection: close\r\n" in app.composer.data
        assert raw.marked_rows() == [1, 3] and raw.render_line(2).text.startswith("  X-Mine: 1")
        # a click lands where the text is drawn (the gutter shifts it by two cells)
        await pilot.click(raw, offset=(raw.content_region.x - raw.region.x + 2 + 4, 2))
        assert raw.cursor_location == (2, 4)
        # the composer's undo takes the edit back (a step a key), the marks follow
        await pilot.press(*["ctrl+z"] * 10)
        assert app.composer.data == before and raw.marked_rows() == [1, 2]
        # a changed value makes the line the user's
        app.composer.load(app.composer.data.replace(b"Connection: close", b"Connection: keep-alive"),
                          app.composer.url)
        await pilot.pause()
        assert raw.marked_rows() == [1] and "netlab adds Host" in status_line(app)
        assert "Connection" not in status_line(app).split("netlab adds")[1]


async def test_a_body_typed_in_the_fields_gets_a_content_length_marked_as_netlabs(make_app, lab_server):
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        method = app.composer.query_one("#method", Input)
        method.focus()
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"POST")
        body = app.composer.query_one("#body", TextArea)
        body.focus()
        await pilot.pause()
        await pilot.press(*"hi")
        assert b"Content-Length: 2\r\n" in app.composer.data
        assert "netlab adds Host, Connection, Content-Length" in status_line(app)


async def test_the_cookie_the_jar_will_add_is_said(make_app, lab_server):
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        app.services.jar().add_string("sid=abc; lang=en", lab_server.url + "/")
        assert "Cookie" not in status_line(app)  # the jar box is off
        app.composer._set_opt("cookies", True)
        await pilot.pause()
        assert "Cookie from the jar (sid, lang)" in status_line(app) or \
            "Cookie from the jar (lang, sid)" in status_line(app)
        assert "abc" not in status_line(app)  # names only: the values are credentials
        # the user's own Cookie header wins: the jar adds nothing then
        app.composer.load(app.composer.data.replace(b"Connection: close", b"Cookie: mine=1"), app.composer.url)
        await pilot.pause()
        assert "from the jar" not in status_line(app)
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.request.header("cookie") == "mine=1"
