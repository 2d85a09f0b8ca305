"""The response viewer's save (s, S), pager and editor (v, e) and clipboard (y, Y, C) keys,
driven with pilots against real peers on loopback; and once in a real terminal (tmux) to
see the screen handed to a pager and given back."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import uuid

import pytest
from textual.widgets import DataTable, Input

from netlab.ui.screens.prompt import PromptScreen
from tests.ui.conftest import HANG_GUARD, send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def _serve(tcp_peer, response: bytes):
    def handler(conn, peer):
        conn.sendall(response)

    return tcp_peer(handler)


def _response(body: bytes, ctype: bytes = b"text/plain", extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\n" + extra + b"Connection: close\r\n\r\n" + body)


def _toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _prompt(pilot, app, key: str) -> PromptScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), "the save prompt")
    await pilot.pause()
    return app.screen


async def _answer(pilot, screen: PromptScreen, value: str) -> None:
    screen.query_one(Input).value = value
    await pilot.press("enter")
    await pilot.pause()


def _error(screen: PromptScreen) -> str:
    return str(screen.query_one("#prompt-error").content)


# -- save ----------------------------------------------------------------------------------------

async def test_save_body_writes_the_exact_bytes_of_a_spilled_body(make_app, tcp_peer, tmp_path):
    body = bytes(range(256)) * (5 << 12)  # 5 MiB: the engine spills it to a temporary file
    peer = _serve(tcp_peer, _response(body, b"application/octet-stream"))
    app = make_app(peer.url + "/files/blob")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.response.body_store.spilled
        await pilot.press("f3")
        screen = await _prompt(pilot, app, "s")
        assert screen.query_one(Input).value == "blob.bin"  # from the URL, the suffix from the Content-Type
        out = tmp_path / "blob.bin"
        await _answer(pilot, screen, str(out))
        await wait_for(pilot, lambda: any("saved" in t for t in _toasts(app)), "the save")
        assert out.read_bytes() == body
        assert f"saved {len(body)} bytes (5.0 MiB) to {out}" in _toasts(app)[-1]
        assert not isinstance(app.screen, PromptScreen)


async def test_save_asks_before_replacing_and_names_the_path_in_errors(make_app, tcp_peer, tmp_path):
    body = b"new body\n"
    peer = _serve(tcp_peer, _response(body))
    app = make_app(peer.url + "/")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3")
        screen = await _prompt(pilot, app, "s")
        assert screen.query_one(Input).value == "127.0.0.1.txt"  # no path segment: the host
        # a directory that does not exist: said, naming it; the prompt stays with the text typed
        missing = tmp_path / "nope" / "out.txt"
        await _answer(pilot, screen, str(missing))
        assert app.screen is screen
        assert _error(screen) == f"cannot save to {missing}: the directory {missing.parent} does not exist"
        assert screen.query_one(Input).value == str(missing)
        # a directory
        await _answer(pilot, screen, str(tmp_path))
        assert _error(screen) == f"{tmp_path} is a directory: give a file name"
        # an existing file: the first enter asks, the file is untouched; the second replaces it
        old = tmp_path / "old.txt"
        old.write_bytes(b"keep me")
        await _answer(pilot, screen, str(old))
        assert app.screen is screen and _error(screen) == f"{old} exists: enter again to replace it, or change the name"
        assert old.read_bytes() == b"keep me"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("saved" in t for t in _toasts(app)), "the save")
        assert old.read_bytes() == body
        # no permission: the error names the path
        if os.geteuid() != 0:
            locked = tmp_path / "locked"
            locked.mkdir()
            locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
            target = locked / "out.txt"
        else:  # root writes anywhere a mode allows; /sys refuses new files even to root
            target = "/sys/netlab-test-out.txt"
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
                os.unlink(target)
                pytest.skip("no directory here refuses a new file to root")
            except PermissionError:
                pass
            except OSError:
                pytest.skip("no directory here refuses a new file to root")
        screen = await _prompt(pilot, app, "s")
        await _answer(pilot, screen, str(target))
        assert app.screen is screen and _error(screen) == f"cannot write {target}: Permission denied"


async def test_save_raw_response_keeps_the_chunked_framing(make_app, tcp_peer, tmp_path):
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    peer = _serve(tcp_peer, response)
    app = make_app(peer.url + "/page.html")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3")
        screen = await _prompt(pilot, app, "S")
        assert screen.query_one(Input).value == "page.raw"
        out = tmp_path / "page.raw"
        await _answer(pilot, screen, str(out))
        await wait_for(pilot, out.exists, "the raw file")
        await wait_for(pilot, lambda: any("saved" in t for t in _toasts(app)), "the save")
        assert out.read_bytes() == response
        # while the body file gets the body without the framing
        screen = await _prompt(pilot, app, "s")
        await _answer(pilot, screen, str(tmp_path / "page.html"))
        await wait_for(pilot, lambda: sum("saved" in t for t in _toasts(app)) == 2, "the second save")
        assert (tmp_path / "page.html").read_bytes() == b"hello, world"


async def test_a_gzip_body_is_saved_as_received(make_app, lab_server, tmp_path):
    app = make_app(lab_server.url + "/gzip")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        wire = prepared.exchange.response.body
        assert wire[:2] == b"\x1f\x8b"
        await pilot.press("f3")
        screen = await _prompt(pilot, app, "s")
        await _answer(pilot, screen, str(tmp_path / "g.json"))
        await wait_for(pilot, lambda: any("saved" in t for t in _toasts(app)), "the save")
        assert (tmp_path / "g.json").read_bytes() == wire


# -- pager and editor --------------------------------------------------------------------------------

def _recorder(tmp_path, name: str) -> tuple[str, os.PathLike]:
    """A program that copies the file it is given to NAME.out and its path to NAME.path."""
    script = tmp_path / f"{name}.sh"
    script.write_text(f'#!/bin/sh\ncp "$1" "{tmp_path}/{name}.out"\nprintf %s "$1" > "{tmp_path}/{name}.path"\n')
    script.chmod(0o755)
    return str(script), tmp_path / f"{name}.out"


async def test_pager_gets_escaped_text_and_editor_the_exact_bytes(make_app, tcp_peer, tmp_path, monkeypatch):
    body = b"line one\r\n\x1b[2J\x1b]0;owned\x07 two\r\n\xe2\x80\xae three \xc3\xa9\r\n"
    peer = _serve(tcp_peer, _response(body, b"text/plain; charset=utf-8"))
    pager, paged = _recorder(tmp_path, "pager")
    editor, edited = _recorder(tmp_path, "editor")
    monkeypatch.setenv("PAGER", pager)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor)
    app = make_app(peer.url + "/text")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3", "v")
        await wait_for(pilot, paged.exists, "the pager")
        assert paged.read_text() == "line one\n\\x1b[2J\\x1b]0;owned\\x07 two\n\\u202e three é\n"
        temp = (tmp_path / "pager.path").read_text()
        assert temp.endswith(".txt") and os.path.basename(temp).startswith("netlab-body-")
        await wait_for(pilot, lambda: not os.path.exists(temp), "the temporary file deleted")
        await pilot.press("e")
        await wait_for(pilot, edited.exists, "the editor")
        assert edited.read_bytes() == body
        temp = (tmp_path / "editor.path").read_text()
        await wait_for(pilot, lambda: not os.path.exists(temp), "the editor's temporary file deleted")
        await wait_for(pilot, lambda: any("closed; its temporary copy" in t for t in _toasts(app)), "the toast")
        # still running and answering keys
        await pilot.press("2")
        assert app.response.active_tab == "headers" and app.is_running
        await pilot.press("1", "y")
        assert app.clipboard.startswith("line one\n")


async def test_a_missing_pager_or_a_failing_one_is_said(make_app, tcp_peer, tmp_path, monkeypatch):
    peer = _serve(tcp_peer, _response(b"hi\n"))
    app = make_app(peer.url + "/")
    monkeypatch.setenv("PAGER", str(tmp_path / "no-such-pager") + " --flag")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3", "v")
        await wait_for(pilot, lambda: any("cannot run" in t for t in _toasts(app)), "the error")
        assert f"cannot run {tmp_path / 'no-such-pager'}: No such file or directory" in _toasts(app)
        monkeypatch.setenv("PAGER", "sh -c 'exit 3' --")
        await pilot.press("v")
        await wait_for(pilot, lambda: any("exited with status 3" in t for t in _toasts(app)), "the exit status")
        monkeypatch.setenv("PAGER", "'unclosed")
        await pilot.press("v")
        await wait_for(pilot, lambda: any("cannot read $PAGER" in t for t in _toasts(app)), "the bad $PAGER")


# -- clipboard -------------------------------------------------------------------------------------

async def test_copy_status_header_body_and_curl(make_app, tcp_peer):
    body = b"hello \x1b[31mred\x1b[0m\r\nsecond line\r\n"
    peer = _serve(tcp_peer, _response(body, extra=b"X-One: 1\r\nX-Two: two words\r\n"))
    url = peer.url + "/copy"
    request = (f"GET /copy HTTP/1.1\r\nHost: 127.0.0.1:{peer.port}\r\nAuthorization: Bearer s3cr3t-token\r\n"
               f"Cookie: session=abc123\r\nConnection: close\r\n\r\n").encode()
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        app.composer.load(request, url)
        await pilot.pause()
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.request.data == request
        written: list[str] = []
        app._driver.write = written.append  # what Textual sends the terminal: OSC 52, base64
        await pilot.press("f3", "Y")
        assert app.clipboard.startswith("HTTP/1.1 200 OK")
        # the Headers tab: y on the selected row copies "Name: value"
        await pilot.press("2")
        table = app.response.query_one("#resp-headers", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 3, "the headers")
        table.move_cursor(row=3)
        await pilot.press("y")
        assert app.clipboard == "X-Two: two words"
        await pilot.press("c")
        assert app.clipboard == "X-Two: two words"
        # the body, as text: control characters written out, so a paste cannot run them
        await pilot.press("1", "y")
        assert app.clipboard == "hello \\x1b[31mred\\x1b[0m\nsecond line\n"
        assert "control characters written as escapes" in _toasts(app)[-1]
        # the request as curl: secrets masked, and said
        await pilot.press("C")
        assert app.clipboard.startswith("curl ") and "s3cr3t" not in app.clipboard and "abc123" not in app.clipboard
        assert "Bearer ********" in app.clipboard
        assert "the values of Authorization, Cookie are masked" in _toasts(app)[-1]
        # every copy reached the terminal as OSC 52 with base64 only: no byte of the body raw
        osc = [w for w in written if w.startswith("\x1b]52;")]
        assert len(osc) == 5
        for w in osc:
            m = re.fullmatch(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07", w)
            assert m, repr(w)
        assert base64.b64decode(re.fullmatch(r"\x1b\]52;c;(.*)\x07", osc[3]).group(1)).decode() == \
            "hello \\x1b[31mred\\x1b[0m\nsecond line\n"


async def test_a_binary_body_is_not_copied_and_pages_as_a_hex_dump(make_app, lab_server, tmp_path, monkeypatch):
    from netlab.lab import lab_bytes

    pager, paged = _recorder(tmp_path, "pager")
    monkeypatch.setenv("PAGER", pager)
    app = make_app(lab_server.url + "/bytes/300")
    async with app.run_test(size=SIZE) as pilot:
        prepared = await send_and_wait(pilot, app)
        assert prepared.body_kind == "binary"
        await pilot.press("f3", "y")
        assert app.clipboard == ""
        assert "the body is binary (300 B): nothing copied" in _toasts(app)[-1]
        await pilot.press("v")
        await wait_for(pilot, paged.exists, "the pager")
        lines = paged.read_text().splitlines()
        data = lab_bytes(300)
        assert len(lines) == 19 and lines[0].startswith("00000000  " + data[:8].hex(" ") + "  " + data[8:16].hex(" "))
        assert lines[-1].startswith("00000120  " + data[288:296].hex(" "))


async def test_keys_before_any_response_say_so(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3", "s", "v", "y", "C")
        await pilot.pause()
        toasts = _toasts(app)
        assert "no response to save yet" in toasts and "no response to open yet" in toasts
        assert "no response to copy yet" in toasts and "no exchange to copy yet" in toasts
        assert not isinstance(app.screen, PromptScreen)


async def test_every_new_key_is_in_the_palette_and_the_help(make_app):
    from netlab.ui.commands import help_sections, system_commands

    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in system_commands(app, app.screen)}
        for title in ("Search", "Next match", "Prev match", "Save body", "Save raw", "Pager", "Editor", "Copy",
                      "Copy status", "Copy as curl"):
            assert f"Response: {title}" in titles
        rows = {keys: tooltip for keys, _, tooltip in dict(help_sections(type(app)))["Response"]}
        for keys in ("/", "n", "N", "s", "S", "v", "e", "y, c", "Y", "C"):
            assert rows[keys], keys


# -- a real terminal ---------------------------------------------------------------------------------

def _tmux(*args: str, socket_name: str) -> str:
    return subprocess.run(["tmux", "-L", socket_name, *args], capture_output=True, text=True, check=False,
                          timeout=HANG_GUARD).stdout


def test_pager_in_a_real_terminal_hands_the_screen_over_and_gets_it_back(lab_server, tmp_path):
    if shutil.which("tmux") is None or shutil.which("less") is None:
        pytest.skip("tmux and less are needed (scripts/test.sh installs tmux)")
    name = f"netlab-test-{uuid.uuid4().hex[:8]}"
    env = {"NETLAB_HISTORY": str(tmp_path / "h.sqlite3"), "NETLAB_SETTINGS": str(tmp_path / "none.toml"),
           "PAGER": "less", "LESS": "", "TERM": "xterm-256color"}
    command = " ".join(["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "netlab",
                        lab_server.url + "/ip"])

    def screen() -> str:
        return _tmux("capture-pane", "-p", "-t", name, socket_name=name)

    def until(condition, what: str) -> str:
        end = time.monotonic() + HANG_GUARD
        while time.monotonic() < end:
            shown = screen()
            if condition(shown):
                return shown
            time.sleep(0.1)
        raise AssertionError(f"gave up waiting for {what}; the screen:\n{screen()}")

    _tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-c", os.getcwd(), command, socket_name=name)
    try:
        until(lambda s: "Composer" in s and "/ip" in s, "the app")
        _tmux("send-keys", "-t", name, "C-j", socket_name=name)
        until(lambda s: "200 OK" in s, "the response")
        _tmux("send-keys", "-t", name, "F3", socket_name=name)
        time.sleep(0.3)
        _tmux("send-keys", "-t", name, "v", socket_name=name)
        paged = until(lambda s: "(END)" in s, "less")
        assert "127.0.0.1" in paged and "Composer" not in paged  # less has the whole screen
        _tmux("send-keys", "-t", name, "q", socket_name=name)
        until(lambda s: "Response" in s and "200 OK" in s and "(END)" not in s, "the app back")
        # and it answers keys: the Headers tab
        _tmux("send-keys", "-t", name, "2", socket_name=name)
        until(lambda s: "Content-Length" in s, "the Headers tab")
    finally:
        _tmux("kill-server", socket_name=name)


# -- the decoded body, streamed ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_iter_body_undoes_the_content_encoding_in_bounded_pieces(encoding):
    import gzip
    import zlib

    from netlab.ui.views.body import iter_body
    from tests.ui import fakes

    plain = b"".join(b"line %d of a compressible body\n" % i for i in range(100_000))
    if encoding == "gzip":
        wire = gzip.compress(plain)
    elif encoding == "deflate":
        wire = zlib.compress(plain)
    else:
        c = zlib.compressobj(wbits=-15)
        wire = c.compress(plain) + c.flush()
    name = encoding.removeprefix("raw-").encode()
    ex = fakes.exchange(b"HTTP/1.1 200 OK\r\nContent-Encoding: " + name + b"\r\nContent-Length: "
                        + str(len(wire)).encode() + b"\r\n\r\n" + wire)
    pieces = list(iter_body(ex.response, size=64 << 10))
    assert b"".join(pieces) == plain and max(map(len, pieces)) <= 64 << 10
    assert b"".join(iter_body(ex.response, decode=False)) == wire


def test_iter_body_stops_a_bomb_and_says_bad_data():
    import gzip

    from netlab.engine.errors import NetlabError
    from netlab.ui.views.body import iter_body
    from tests.ui import fakes

    bomb = gzip.compress(bytes(64 << 20))  # 64 MiB of zeros in about 64 KiB
    ex = fakes.exchange(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
                        + str(len(bomb)).encode() + b"\r\n\r\n" + bomb)
    with pytest.raises(NetlabError) as info:
        for _ in iter_body(ex.response, limit=8 << 20):
            pass
    assert info.value.phase == "limit" and "more than 8.0 MiB" in info.value.message
    bad = fakes.exchange(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!")
    with pytest.raises(NetlabError) as info:
        list(iter_body(bad.response))
    assert info.value.phase == "parse"
