"""The TUI's workflow keys, driven by keys against the lab server on loopback: compare two
exchanges from the history (DiffScreen), export one (ExportScreen), .http files (open,
send one, send all, save), curl commands in the URL bar and out of the composer."""

from __future__ import annotations

import os
import stat

import pytest
from textual import events
from textual.widgets import Checkbox, DataTable, Input

from netlab.engine.curl import parse_curl, to_curl
from netlab.engine.export import FORMATS, bytes_literal, export_exchange
from netlab.engine.httpfile import parse_file
from netlab.ui.screens.diff import DiffScreen
from netlab.ui.screens.export import ExportScreen
from netlab.ui.screens.prompt import PromptScreen
from netlab.ui.screens.requestlist import RequestListScreen
from netlab.ui.widgets.lineview import LineView
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def status_line(app) -> str:
    return str(app.composer.query_one("#composer-status").render())


def diff_lines(app) -> list[tuple[str, str]]:
    """(plain text, style) of every line of the DiffScreen: the style of a line drawn in
    one style (a span over all of it), else ''."""
    view = app.screen.query_one("#diff-view", LineView)
    out = []
    for i in range(view.line_count):
        text = view._line(i)
        whole = [str(s.style) for s in text.spans if s.start == 0 and s.end >= len(text.plain)]
        out.append((text.plain, whole[0] if whole else ""))
    return out


async def send_raw(pilot, app, data: bytes, url: str):
    app.composer.load(data, url)
    return await send_and_wait(pilot, app)


async def open_history(pilot, app, rows: int) -> DataTable:
    await pilot.press("f6")
    await wait_for(pilot, lambda: app.screen.query("#history-table"), "the history screen")
    table = app.screen.query_one("#history-table", DataTable)
    await wait_for(pilot, lambda: table.row_count == rows, "the history list")
    table.focus()
    await pilot.pause()
    return table


async def answer(pilot, app, value: str) -> PromptScreen:
    """Type ``value`` into the prompt on top and press enter."""
    await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
    prompt = app.screen
    box = prompt.query_one("#prompt-input", Input)
    box.value = value
    box.focus()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    return prompt


def prompt_error(prompt) -> str:
    return str(prompt.query_one("#prompt-error").render())


# --------------------------------------------------------------------------- compare


async def test_mark_and_compare_two_real_exchanges(make_app, lab_server):
    base = lab_server.url
    host = base.removeprefix("http://")
    plain = f"GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    traced = f"GET /echo HTTP/1.1\r\nHost: {host}\r\nX-Trace: 2\r\nConnection: close\r\n\r\n".encode()
    redirect = f"GET /status/302 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    app = make_app(base + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        first = (await send_raw(pilot, app, plain, base + "/echo")).exchange
        second = (await send_raw(pilot, app, traced, base + "/echo")).exchange
        await send_raw(pilot, app, redirect, base + "/status/302")
        await wait_for(pilot, lambda: len(app.history_entries) == 3, "three history entries")
        ids = sorted(e.id for e in app.history_entries)  # oldest first: /echo, /echo + X-Trace, /status/302

        # d with nothing marked on the newer /echo: compared with the previous replay (the first /echo),
        # not with the /status/302 stored in between
        table = await open_history(pilot, app, 3)
        await pilot.press("down")  # row 0 is the newest (/status/302); row 1 the traced /echo
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff screen")
        screen = app.screen
        assert (screen.a_id, screen.b_id) == (ids[0], ids[1])
        assert screen.query_one("#diff-box").border_title == f"Compare #{ids[0]} → #{ids[1]}"
        lines = diff_lines(app)
        text = "\n".join(t for t, _ in lines)
        assert lines[0][0].split() == [f"#{ids[0]}", f"#{ids[1]}"]
        request = next(line for line in lines if line[0].startswith("request"))
        assert f"GET {base}/echo" in request[0] and "request bytes differ" in request[0]
        status = next(t for t, _ in lines if t.startswith("status"))
        assert status.split() == ["status", "200", "OK", "200", "OK"]
        size = next(t for t, _ in lines if t.startswith("size"))
        grown = len(traced) - len(plain)
        assert f"body {len(plain)} B" in size and f"body {len(traced)} B" in size and f"+{grown} B" in size
        for phase in ("dns", "connect", "send", "ttfb", "total"):
            row = next(t for t, _ in lines if t.split()[:1] == [phase])
            a_ms, b_ms = getattr(first.timings, phase), getattr(second.timings, phase)
            assert row.split()[-1] == f"{b_ms - a_ms:+.2f}"
        changed = [(t, s) for t, s in lines if t.startswith("~ ")]
        assert changed == [(f"~ Content-Length: {len(plain)} → {len(traced)}", "yellow")]
        assert "Date" not in text  # it changes on every replay: not compared
        body = lines[[t for t, _ in lines].index("response body") + 1:]
        assert ("+X-Trace: 2", "green") in body
        assert any(t.startswith("@@") and s == "cyan" for t, s in body)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#history-table"), "back to the history")

        # mark the /status/302 one (space), d on the first /echo: marked → current
        table = app.screen.query_one("#history-table", DataTable)
        table.move_cursor(row=0)
        await pilot.press("space")
        assert table.marked == ids[2]
        assert table.get_row_at(0)[0].plain == f"● {ids[2]}"
        assert "marked" in str(app.screen.query_one("#history-status").render())
        await pilot.press("down", "down", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the second diff screen")
        assert (app.screen.a_id, app.screen.b_id) == (ids[2], ids[0])
        lines = diff_lines(app)
        status = next(t for t, _ in lines if t.startswith("status"))
        assert "302 Found" in status and "200 OK" in status
        assert ("- Location: /", "red") in lines  # only the 302 had it
        await pilot.press("escape")
        # m unmarks (it toggles, like space)
        table = app.screen.query_one("#history-table", DataTable)
        table.move_cursor(row=0)
        await pilot.press("m")
        assert table.marked is None and table.get_row_at(0)[0].plain == str(ids[2])
        await pilot.press("escape")

        # the app's key: the last two exchanges
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the panes")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen), "the last-two diff")
        assert (app.screen.a_id, app.screen.b_id) == (ids[1], ids[2])
        assert ("+ Location: /", "green") in diff_lines(app)


async def test_compare_with_one_exchange_says_there_is_nothing_before(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await wait_for(pilot, lambda: len(app.history_entries) == 1, "the history entry")
        notes = []
        app.notify = lambda message, **kw: notes.append(message)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: notes, "the message")
        assert "two exchanges" in notes[0] and not isinstance(app.screen, DiffScreen)
        await open_history(pilot, app, 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: len(notes) == 2, "the second message")
        assert "nothing before it" in notes[1]


# ---------------------------------------------------------------------------- export


async def test_export_every_format_from_the_history(make_app, lab_server, tmp_path):
    url = lab_server.url + "/echo"
    host = lab_server.url.removeprefix("http://")
    data = (f"POST /echo HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer s3cret-token\r\n"
            f"Content-Length: 5\r\nConnection: close\r\n\r\nhello").encode()
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        ex = (await send_raw(pilot, app, data, url)).exchange
        await wait_for(pilot, lambda: len(app.history_entries) == 1, "the history entry")
        entry = app.history_entries[0].id

        async def chooser() -> ExportScreen:
            await open_history(pilot, app, 1)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "the export chooser")
            await wait_for(pilot, lambda: app.screen.results is not None, "the exports")
            await pilot.pause()
            return app.screen

        for index, fmt in enumerate(FORMATS):
            screen = await chooser()
            assert screen.source == f"exchange #{entry}"
            await pilot.press(*["down"] * index)
            assert screen.format == fmt
            expected = export_exchange(ex, fmt, source=f"exchange #{entry}")
            preview = screen.query_one("#export-preview", LineView).plain()
            await pilot.press("c" if index % 2 else "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen), "the copy")
            assert app.clipboard == expected.text, fmt
            assert "s3cret-token" not in app.clipboard and "s3cret-token" not in preview
            if fmt == "python-socket":
                masked = data.replace(b"Bearer s3cret-token", b"Bearer ********")
                assert bytes_literal(masked) in app.clipboard
            await pilot.press("escape")  # the history screen
            await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the panes")

        # show secrets (t), then save python-socket to a file
        screen = await chooser()
        await pilot.press("down", "down", "down", "t")
        assert screen.query_one("#export-secrets", Checkbox).value is True
        assert "s3cret-token" in screen.query_one("#export-preview", LineView).plain()
        await pilot.press("s")
        target = tmp_path / "exported.py"
        await answer(pilot, app, str(target))
        await wait_for(pilot, lambda: target.exists() and len(app.screen_stack) <= 2, "the saved file")
        saved = target.read_bytes()
        assert saved == export_exchange(ex, "python-socket", show_secrets=True, source=f"exchange #{entry}").data
        assert bytes_literal(data).encode() in saved
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600

        # saving over an existing file asks first; nothing is written until enter again
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the panes")
        target.write_bytes(b"keep me")
        screen = await chooser()
        await pilot.press("s")
        prompt = await answer(pilot, app, str(target))
        assert "exists" in prompt_error(prompt) and target.read_bytes() == b"keep me"
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.read_bytes() != b"keep me", "the replaced file")
        assert target.read_bytes() == data.replace(b"Bearer s3cret-token", b"Bearer ********")  # raw, masked


async def test_export_the_exchange_shown_and_the_composers_request(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        ex = (await send_and_wait(pilot, app)).exchange
        await pilot.press("f3", "ctrl+n")  # the response viewer: its exchange
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "the chooser")
        await wait_for(pilot, lambda: app.screen.results is not None, "the exports")
        assert app.screen.request.data == ex.request.data
        await pilot.press("down", "down", "enter")  # curl
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen), "the copy")
        assert app.clipboard == to_curl(ex.request, ex.options) + "\n"
        # in the composer, ctrl+n exports the composer's request (not sent yet)
        app.composer.load_url(lab_server.url + "/headers")
        app.composer.focus_pane()
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), "the chooser")
        assert app.screen.source == "the composer's request"
        assert app.screen.request.data == app.composer.data


# ------------------------------------------------------------------------ .http files


def http_file(tmp_path, base: str) -> str:
    (tmp_path / "body.txt").write_bytes(b"line one\nline two\n")
    path = tmp_path / "requests.http"
    path.write_text(
        f"@base = {base}\n"
        "@who = netlab\n"
        "\n"
        "### my address\n"
        "GET {{base}}/ip\n"
        "\n"
        "### post-file\n"
        "POST {{base}}/echo\n"
        "Content-Type: text/plain\n"
        "X-Who: {{who}}\n"
        "\n"
        "< ./body.txt\n"
        "\n"
        "### created\n"
        "GET {{base}}/status/201\n"
    )
    return str(path)


async def test_open_a_http_file_send_one_and_all_and_save(make_app, lab_server, tmp_path):
    path = http_file(tmp_path, lab_server.url)
    parsed = parse_file(path)
    bad = tmp_path / "bad.http"
    bad.write_text("### one\nGET {{nowhere}}/ip\n")
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        # a parse error names the file and the line, in the prompt, with the path kept
        await pilot.press("ctrl+o")
        prompt = await answer(pilot, app, str(bad))
        assert isinstance(app.screen, PromptScreen)
        assert f"{bad}:2" in prompt_error(prompt) and "nowhere" in prompt_error(prompt)
        assert prompt.query_one("#prompt-input", Input).value == str(bad)
        await answer(pilot, app, path)
        await wait_for(pilot, lambda: isinstance(app.screen, RequestListScreen), "the request list")
        table = app.screen.query_one("#requests-table", DataTable)
        rows = [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [["1", "my address", "GET", lab_server.url + "/ip", "5"],
                        ["2", "post-file", "POST", lab_server.url + "/echo", "8"],
                        ["3", "created", "GET", lab_server.url + "/status/201", "15"]]

        # ctrl+j sends the selected entry: its variable and its < file body are in the bytes
        await pilot.press("down")
        before = app.response.prepared
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the send")
        ex = app.response.prepared.exchange
        assert len(app.screen_stack) == 1
        assert ex.request.data == parsed.entries[1].request.data
        assert b"\r\n\r\nline one\nline two" in ex.request.data and b"X-Who: netlab\r\n" in ex.request.data
        assert ex.response.body == ex.request.data  # /echo
        assert app.composer.data == ex.request.data

        # a sends every entry in order; the viewer ends on the last
        await wait_for(pilot, lambda: len(app.history_entries) == 1, "the first history entry")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the prompt")
        assert app.screen.query_one("#prompt-input", Input).value == path  # remembered
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestListScreen), "the request list")
        await pilot.press("a")
        await wait_for(pilot, lambda: len(app.history_entries) == 4 and app._cancel is None and not app._queue,
                       "three more exchanges")
        await wait_for(pilot, lambda: app.response.prepared.exchange.request.url.endswith("/status/201"),
                       "the last one shown")
        assert app.response.prepared.exchange.response.status == 201
        sent = sorted(app.history_entries, key=lambda e: e.started)[1:]
        assert [(e.method, e.url, e.status) for e in sent] == [
            ("GET", lab_server.url + "/ip", 200), ("POST", lab_server.url + "/echo", 200),
            ("GET", lab_server.url + "/status/201", 201)]

        # enter loads an entry into the composer without sending it
        await pilot.press("ctrl+o", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestListScreen), "the request list")
        await pilot.press("enter")  # the first entry
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the panes")
        assert app.composer.data == parsed.entries[0].request.data
        assert app.composer.url == lab_server.url + "/ip"
        assert "loaded my address" in status_line(app)
        assert len(app.history_entries) == 4

        # ctrl+s in the composer appends the request (### name) to the file; re-parsed, it is there
        app.composer.load((f"PUT /echo HTTP/1.1\r\nHost: {lab_server.url[7:]}\r\nContent-Length: 3\r\n\r\nabc"
                           ).encode(), lab_server.url + "/echo")
        app.composer.focus_pane()
        await pilot.pause()
        await pilot.press("ctrl+s")
        await answer(pilot, app, path)
        await answer(pilot, app, "put it")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1, "the panes")
        again = parse_file(path)
        assert [e.name for e in again.entries] == ["my address", "post-file", "created", "put it"]
        assert again.entries[-1].request.data == app.composer.data
        assert again.entries[1].request.data == parsed.entries[1].request.data  # the rest is untouched
        assert "saved to" in status_line(app)
        # into a new file: created, and the bad name is refused in the prompt
        fresh = tmp_path / "new.http"
        await pilot.press("ctrl+s")
        await answer(pilot, app, str(fresh))
        name_prompt = await answer(pilot, app, "bad\x01name")
        assert isinstance(app.screen, PromptScreen) and "one line of text" in prompt_error(name_prompt)
        await answer(pilot, app, "")
        await wait_for(pilot, lambda: fresh.exists(), "the new file")
        assert [e.request.data for e in parse_file(str(fresh)).entries] == [app.composer.data]
        assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600


# ------------------------------------------------------------------------------ curl


async def test_paste_a_curl_command_into_the_url_bar(make_app, lab_server):
    port = lab_server.port
    command = (f"curl -H 'X-A: 1' -d 'a=b' -u me:pw --resolve lab.test:{port}:127.0.0.1 "
               f"http://lab.test:{port}/echo")
    expected = parse_curl(command)
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        url = app.composer.query_one("#url", Input)
        url.focus()
        await pilot.pause()
        url.post_message(events.Paste(command))
        await wait_for(pilot, lambda: app.composer.data == expected.request.data, "the curl command loaded")
        assert url.value == f"http://lab.test:{port}/echo"
        assert app.composer.opt["resolve"] == f"lab.test:{port}:127.0.0.1"
        assert "loaded the curl command" in status_line(app)
        prepared = await send_and_wait(pilot, app)  # the pin takes it to the lab server
        assert prepared.exchange.response.body == expected.request.data

        # several lines with \ continuations, and -k: all of it is read, not just the first line
        multi = (f"curl -k -X PUT \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{{\"x\": 1}}' \\\n"
                 f"  {lab_server.url}/echo\n")
        url.post_message(events.Paste(multi))
        await wait_for(pilot, lambda: app.composer.data == parse_curl(multi).request.data, "the multi-line command")
        assert app.composer.opt["insecure"] is True and app.composer.data.startswith(b"PUT /echo HTTP/1.1\r\n")

        # typed, then enter: loaded (not sent)
        typed = f"curl -A probe/1 {lab_server.url}/headers"
        url.value = typed
        await pilot.pause()
        assert "a curl command: enter loads it" in status_line(app)
        sends = len(app.history_entries)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.composer.data == parse_curl(typed).request.data, "the typed command")
        assert url.value == lab_server.url + "/headers" and app._cancel is None
        assert len(app.history_entries) == sends


async def test_a_bad_curl_command_keeps_the_text_and_says_where(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        before = app.composer.data
        url = app.composer.query_one("#url", Input)
        url.focus()
        await pilot.pause()
        bad = "curl -F file=@x.bin http://127.0.0.1:9/upload"
        url.value = bad
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        status = status_line(app)
        assert url.value == bad and "-F" in status and "word 2" in status, status
        assert app.composer.data == before  # the request is untouched
        await pilot.press("ctrl+j")  # send: the same error, nothing sent
        await pilot.pause()
        assert app._cancel is None and app.response.prepared is None and url.value == bad
        # a bad multi-line paste stays in the URL bar, as one line
        url.post_message(events.Paste("curl \\\n  --unknown-option http://127.0.0.1:9/\n"))
        await wait_for(pilot, lambda: "--unknown-option" in url.value, "the pasted text")
        assert url.value == "curl --unknown-option http://127.0.0.1:9/"
        assert "--unknown-option" in status_line(app)
        # a paste that is not a curl command is Input's usual paste
        url.value = ""
        url.post_message(events.Paste(lab_server.url + "/ip"))
        await wait_for(pilot, lambda: url.value == lab_server.url + "/ip", "the plain paste")


async def test_copy_the_request_as_curl_and_paste_it_back(make_app, lab_server):
    host = lab_server.url.removeprefix("http://")
    data = (f"POST /echo HTTP/1.1\r\nHost: {host}\r\nX-Tab: a\tb\r\nContent-Length: 7\r\n\r\n"
            "it's ok").encode()
    app = make_app(lab_server.url + "/echo")
    async with app.run_test(size=SIZE) as pilot:
        app.composer.load(data, lab_server.url + "/echo")
        app.composer.pin("127.0.0.1")
        url = app.composer.query_one("#url", Input)
        url.focus()
        await pilot.pause()
        await pilot.press("ctrl+y")
        request, options = app.composer.build()
        assert app.clipboard == to_curl(request, options)
        assert "copied as a curl command" in status_line(app)
        copied = app.clipboard
        app.composer.load_url(lab_server.url + "/ip")  # something else
        app.composer._set_opt("resolve", "")
        url.post_message(events.Paste(copied))
        await wait_for(pilot, lambda: app.composer.data == data, "the same bytes back")
        assert app.composer.opt["resolve"] == f"127.0.0.1:{lab_server.port}:127.0.0.1"
        # credentials are masked in the copy, and the status line says so
        app.composer.load(data.replace(b"X-Tab: a\tb\r\n", b"Authorization: Bearer tok\r\n"),
                          lab_server.url + "/echo")
        await pilot.press("ctrl+y")
        assert "Bearer ********" in app.clipboard and "tok'" not in app.clipboard
        assert "Authorization masked" in status_line(app)


def test_diff_lines_escape_what_the_peer_sent():
    """Header names and values, reasons and body lines from the network reach the
    DiffScreen escaped: no terminal escape, no markup is interpreted (plain Text)."""
    from netlab.ui.screens.diff import diff_texts
    from tests.ui import fakes

    a = fakes.exchange()
    b = fakes.exchange(fakes.JSON_RESPONSE.replace(b"200 OK", b"200 [bold]OK[/bold]"))
    b.response.headers  # split the head out, then add hostile values
    b.response._headers = list(b.response._headers) + [("X-Evil", "\x1b]0;pwned\x07\x1b[2J"), ("X-\u202eName", "v")]
    b.response.body_store = type(a.response.body_store)()
    b.response.body_store.write(b"line\x1b[31m red\n")
    b.response.body_store.finish()
    lines = diff_texts(a, b, 1, 2)
    text = "\n".join(t.plain for t in lines)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "+ X-Evil: \\x1b]0;pwned\\x07\\x1b[2J" in text and "\\u202e" in text
    assert "200 [bold]OK[/bold]" in text  # markup stays text
    assert "+line\\x1b[31m red" in text


async def test_loading_while_the_url_bar_has_focus_keeps_the_bytes_exact(make_app, lab_server):
    """The fields show control bytes escaped; that display must never be written back
    into the request just because the URL bar had focus when the request was loaded."""
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        url_box = app.composer.query_one("#url", Input)
        url_box.focus()
        await pilot.pause()
        data = (b"GET /a\x1bb HTTP/1.1\r\nHost: x.test\r\nX-C: \x1b]0;t\x07\r\nConnection: close\r\n\r\n")
        app.composer.load(data, lab_server.url + "/a")
        for _ in range(3):
            await pilot.pause()
        assert url_box.has_focus and url_box.value.endswith("/a\\x1bb")
        assert app.composer.data == data  # not rebuilt from the escaped display
        await pilot.press("end", "z")  # a real edit is still an edit
        await wait_for(pilot, lambda: app.composer.data != data, "the edit to reach the bytes")
        assert b"HTTP/1.1\r\n" in app.composer.data
