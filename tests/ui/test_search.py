"""Search in the response viewer (/, n, N) across the Body, Raw and Hex tabs.

The Search objects are checked directly (what matches, what is highlighted, in which
columns of a hex line); the pilots send real responses from a scripted peer on loopback
and drive the keys: search as you type, the jump to the first match at or after the
screen, n/N with wrap-around notes, tab switches, escape, a multi-MiB body (the result
only: nothing here is timed) and hostile bytes that must stay escaped when highlighted.
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import Input

from netlab.ui.views.hexdump import hex_lines
from netlab.ui.views.lines import Lines
from netlab.ui.views.search import HIT, HIT_NOW, SEARCH_CAP, Search, hex_query
from netlab.ui.widgets.lineview import LineView
from tests.ui.conftest import send_and_wait, wait_for

SIZE = (120, 40)


# -- the Search objects ------------------------------------------------------------------------

def _text_lines(*lines: str) -> Lines:
    return Lines.of([Text(line) for line in lines])


def test_text_search_ignores_case_unless_asked():
    lines = _text_lines("Needle in a haystack", "no", "needle NEEDLE")
    found, capped = Search(lines, "needle").find()
    assert found == [(0, 0, 6), (2, 0, 6), (2, 7, 13)] and not capped
    found, _ = Search(lines, "NEEDLE", match_case=True).find()
    assert found == [(2, 7, 13)]


def test_text_search_is_plain_text_not_a_pattern():
    lines = _text_lines("a.c abc (x)", "a*")
    assert Search(lines, "a.c").find()[0] == [(0, 0, 3)]
    assert Search(lines, "(x)").find()[0] == [(0, 8, 11)]
    assert Search(lines, "a*").find()[0] == [(1, 0, 2)]


def test_spans_mark_every_match_and_the_current_one():
    lines = _text_lines("ab ab ab")
    s = Search(lines, "ab")
    spans = s.spans(0, "ab ab ab", current=(0, 3, 5))
    assert spans == [(0, 2, HIT), (3, 5, HIT_NOW), (6, 8, HIT)]


@pytest.mark.parametrize("query, expected", [
    ("48 54", b"HT"), ("4854", b"HT"), ("0x0d0a", b"\r\n"), ("  ff  ", b"\xff"), ("DE ad", b"\xde\xad"),
    ("485", None), ("4 854", None), ("hello", None), ("0x", None), ("", None), ("48 5", None),
])
def test_hex_query(query, expected):
    assert hex_query(query) == expected


def test_hex_search_finds_text_in_the_ascii_column_and_bytes_in_the_hex_column():
    data = b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhttp and HTTP"
    lines = hex_lines(data)
    plain = [lines.line(i).plain for i in range(lines.count)]
    # as text, any case: the three "http"
    s = Search(lines, "http")
    found, _ = s.find()
    assert [(m[1], m[2]) for m in found] == [(0, 4), (30, 34), (39, 43)]
    # each match is highlighted in both columns: its hex digits and its characters
    spans = s.spans(0, plain[0])
    assert [plain[0][a:b] for a, b, _ in spans] == ["48 54 54 50", "HTTP"]
    # written as hex bytes: "48 54" finds the bytes H T (and, as text, nothing)
    s = Search(lines, "48 54")
    found, _ = s.find()
    assert [(m[1], m[2]) for m in found] == [(0, 2), (39, 41)]
    assert "as the bytes 48 54" in s.describe()
    assert [plain[0][a:b] for a, b, _ in s.spans(0, plain[0])] == ["48 54", "HT"]
    # CR LF as bytes, across the gap in the middle of the hex column (bytes 7-8 of line 1)
    s = Search(lines, "0d0a")
    found, _ = s.find()
    assert [(m[1], m[2]) for m in found] == [(15, 17), (26, 28), (28, 30)]


def test_hex_match_across_two_lines_is_highlighted_on_both():
    data = b"x" * 14 + b"NEEDLE" + b"y" * 20  # bytes 14-19: the end of line 0, the start of line 1
    lines = hex_lines(data)
    s = Search(lines, "needle")
    (match,), _ = s.find()
    assert match == (0, 14, 20)
    first, second = lines.line(0).plain, lines.line(1).plain
    assert [first[a:b] for a, b, _ in s.spans(0, first, match)] == ["4e 45", "NE"]
    assert [second[a:b] for a, b, _ in s.spans(1, second, match)] == ["45 44 4c 45", "EDLE"]
    assert {style for _, _, style in s.spans(1, second, match)} == {HIT_NOW}


def test_hex_text_match_is_case_insensitive_for_ascii_only():
    lines = hex_lines(b"Abc aBC \xc3\xa9 \xc3\x89")
    assert len(Search(lines, "abc").find()[0]) == 2
    assert len(Search(lines, "abc", match_case=True).find()[0]) == 0
    assert len(Search(lines, "é").find()[0]) == 1  # UTF-8 bytes, exactly


def test_the_list_of_matches_is_capped():
    lines = hex_lines(bytes(SEARCH_CAP + 10))
    found, capped = Search(lines, "00").find()
    assert capped and len(found) == SEARCH_CAP


def test_a_replaced_search_stops():
    lines = _text_lines(*["needle"] * 5000)
    assert Search(lines, "needle").find(stop=lambda: True) is None


# -- in the app ----------------------------------------------------------------------------------

def _serve(tcp_peer, body: bytes, ctype: bytes = b"text/plain"):
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n" + body)

    def handler(conn, peer):
        conn.sendall(response)

    return tcp_peer(handler), response


def _bar(app):
    return app.response.search_bar


async def _search(pilot, app, query: str, what: str = "the search") -> None:
    await pilot.press("slash", *query)
    await wait_for(pilot, lambda: _bar(app) is not None and _bar(app).status.startswith(("match", "no match")), what)


def _row(view: LineView, index: int) -> str:
    """What line ``index`` of a view draws (its segments' text, the styles dropped)."""
    strip = view._cache.get(index)
    return "".join(seg.text for seg in strip) if strip is not None else ""


BODY = "".join(f"line {i:03d}{' needle' if i in (50, 120, 180) else ''}\n" for i in range(200)).encode()


@pytest.mark.anyio
async def test_search_as_you_type_from_the_screen_then_n_and_N_wrap(make_app, tcp_peer):
    peer, _ = _serve(tcp_peer, BODY)
    app = make_app(peer.url + "/lines")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3", "f11", "1")
        view = app.response.query_one("#body-view", LineView)
        view.scroll_to(y=100, animate=False, immediate=True)
        await pilot.pause()
        await _search(pilot, app, "NEEDLE")
        # the first match at or after the top line on screen (100): line 120
        assert _bar(app).status == "match 2 of 3"
        assert view.current_match == (120, 9, 15)
        assert view.scroll_y <= 120 < view.scroll_y + view.scrollable_content_region.height
        await pilot.press("enter")  # keep the search, back to the view
        await wait_for(pilot, lambda: view.has_focus, "the view's focus")
        await pilot.press("n")
        assert _bar(app).status == "match 3 of 3" and view.current_match[0] == 180
        await pilot.press("n")
        assert _bar(app).status == "match 1 of 3 · wrapped to the top" and view.current_match[0] == 50
        assert view.scroll_y <= 50 < view.scroll_y + view.scrollable_content_region.height
        await pilot.press("N")
        assert _bar(app).status == "match 3 of 3 · wrapped to the bottom" and view.current_match[0] == 180
        # every visible match is highlighted, the current one differently
        await pilot.pause()
        strip = view._cache.get(180)
        styles = {str(seg.style) for seg in strip if seg.text == "needle"}
        assert any("#5fd7ff" in s for s in styles), styles
        # the app is responsive: the Headers tab, and back
        await pilot.press("2")
        assert app.response.active_tab == "headers"


@pytest.mark.anyio
async def test_no_match_escape_clears_and_a_tab_switch_searches_the_new_tab(make_app, tcp_peer):
    peer, _ = _serve(tcp_peer, BODY)
    app = make_app(peer.url + "/lines")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3", "f11", "1")
        await _search(pilot, app, "zzz")
        assert _bar(app).status == "no match for 'zzz'"
        await pilot.press("backspace", "backspace", "backspace", *"line 19")
        await wait_for(pilot, lambda: _bar(app).status.startswith("match"), "the new query's matches")
        assert _bar(app).status == "match 1 of 10"
        await pilot.press("enter")
        # Raw: the same query, the raw view's lines (line endings written out)
        await pilot.press("3")
        raw = app.response.query_one("#resp-raw", LineView)
        await wait_for(pilot, lambda: raw.matches is not None, "the raw view's search")
        assert _bar(app).status.startswith("match") and len(raw.matches) == 10
        assert app.response.query_one("#body-view", LineView).query == ""  # the body's highlights are gone
        # Headers cannot be searched: said in the search line
        await pilot.press("2")
        assert _bar(app).status == "nothing to search in the Headers tab"
        await pilot.press("3", "slash", "escape")
        assert not _bar(app).display and raw.query == "" and raw.matches is None
        await pilot.press("n")
        await pilot.pause()
        assert any("no search here" in str(n.message) for n in app._notifications)


@pytest.mark.anyio
async def test_hex_tab_finds_text_and_hex_bytes_in_a_multi_mib_body(make_app, tcp_peer):
    """A 6 MiB body (spilled to a temporary file by the engine): the Hex tab's search
    runs over its bytes in a worker; the count and the jumps are checked, not the time."""
    size = 6 << 20
    filler = b"abcdefghijklmnop" * (size // 16)
    body = bytearray(filler)
    where = [100, (3 << 20) + 5, size - 40]
    for at in where:
        body[at:at + 6] = b"NEEDLE"
    peer, response = _serve(tcp_peer, bytes(body), b"application/octet-stream")
    head = len(response) - size
    app = make_app(peer.url + "/big")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.response.body_store.spilled
        await pilot.press("f3", "f11", "4")
        hexv = app.response.query_one("#resp-hex", LineView)
        await _search(pilot, app, "needle", "the hex search")
        assert _bar(app).status == "match 1 of 3"
        assert [m[1] for m in hexv.matches] == [head + at for at in where]
        await pilot.press("enter", "n")
        line = (head + where[1]) // 16
        assert hexv.current_match[0] == line
        assert hexv.scroll_y <= line < hexv.scroll_y + hexv.scrollable_content_region.height
        await pilot.pause()
        shown = _row(hexv, line)
        assert "4e 45" in shown or "NE" in shown
        # the same bytes written in hex
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"4e 45 45 44 4c 45")
        await wait_for(pilot, lambda: hexv.query == "4e 45 45 44 4c 45" and hexv.matches is not None, "the hex query")
        assert [m[1] for m in hexv.matches] == [head + at for at in where]
        # from the line on screen when / was pressed: the second one
        await wait_for(pilot, lambda: _bar(app).status == "match 2 of 3", "the hex query's status")
        assert hexv.current_match[1] == head + where[1]


@pytest.mark.anyio
async def test_highlights_keep_hostile_bytes_escaped(make_app, tcp_peer):
    body = b"clear \x1b[2J here\n[bold]markup[/bold] \x1b]52;c;aGk=\x07 \xe2\x80\xae rtl\n"
    peer, _ = _serve(tcp_peer, body)
    app = make_app(peer.url + "/evil")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3", "f11", "1")
        view = app.response.query_one("#body-view", LineView)
        await _search(pilot, app, "x1b[2J")
        assert _bar(app).status == "match 1 of 1"
        await pilot.pause()
        first = _row(view, 0)
        assert "\\x1b[2J" in first and "\x1b" not in first
        await pilot.press("ctrl+a", "ctrl+k", *"[bold]")
        await wait_for(pilot, lambda: view.query == "[bold]" and view.matches is not None, "the markup query")
        assert _bar(app).status == "match 1 of 1"
        await pilot.pause()
        second = _row(view, 1)
        assert second.startswith("[bold]markup[/bold] \\x1b]52;c;aGk=\\x07 \\u202e rtl")
        assert not any(c in second for c in "\x1b\x07\u202e")
        _bar(app).query_one(Input).value = "zz\x1b[1m"  # a pasted escape: the search line shows it escaped
        await wait_for(pilot, lambda: _bar(app).status.startswith("no match"), "the no-match line")
        assert "\x1b" not in _bar(app).status
