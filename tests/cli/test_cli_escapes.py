"""The CLI's human output never passes a peer's bytes to the terminal raw.

A raw TCP peer answers with terminal escapes (clear screen, window title, OSC 8 link,
OSC 52 clipboard write, cursor and title reports), C1 controls, bidi and zero-width
characters and Rich markup in its reason phrase, header values, body and chunked
trailer; a real dnsmasq serves a TXT record carrying them; a real process is named
with them (prctl) and a Unix socket path holds them.  `netlab send` (default and -v),
`replay`, `history`, `dns` and `conns` must print them as visible escapes: no ESC, BEL
or C1 character taken from the peer, no bidi or zero-width character, and every byte
valid UTF-8.  Run in-process (run_cli) and as real subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import HANG_GUARD, free_port, read_request_head, short_tmpdir
from tests.hostile import ESC_SEQ, ESC_SEQ_SHOWN, HOSTILE_HEAD, MARKUP, UNICODE_SHOWN, chunked, hostile_body

BODY = hostile_body(3)
HOSTILE = HOSTILE_HEAD + chunked(BODY)

#: what must never be printed: ESC, BEL, C1, bidi and zero-width characters, and the
#: replacement character (a byte that was not UTF-8 went out raw)
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\x85", "\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\ufffd")


def assert_clean(*texts: str) -> None:
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text, f"{bad!r} printed: ...{text[max(0, text.find(bad) - 40):][:80]!r}..."
        controls = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
        assert not controls, f"control characters printed: {controls!r}"


@pytest.fixture
def hostile(tcp_peer):
    return tcp_peer(lambda conn, _peer: conn.sendall(HOSTILE))


#: ESC_SEQ as the raw notation writes it (send -v, the Raw tab): as ESC_SEQ_SHOWN, but the
#: backslash of each OSC string terminator (ESC then a backslash) is written as two
ESC_SEQ_RAW = (r"\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x.test\x1b\\link\x1b]8;;\x1b\\"
               r"\x1b]52;c;cHduZWQ=\x07\x1b[6n\x1b[21t")


def assert_body_shown(out: str, err: str) -> None:
    """send -v: the head on stderr only (in the raw notation), the body on stdout, the
    trailer on stderr."""
    assert "HTTP/1.1" not in out and "X-Evil" not in out and "X-Trailer" not in out
    assert "first " + MARKUP + " " + ESC_SEQ_SHOWN + " " + UNICODE_SHOWN in out.splitlines()
    assert "< HTTP/1.1 200 OK " + ESC_SEQ_RAW + r"\x9b\x85 " + MARKUP + r"\r\n" in err.splitlines()
    assert "< X-Evil: " + ESC_SEQ_RAW + r"\x9b2J\x85\r\n" in err.splitlines()
    assert "* trailer: X-Trailer: " + ESC_SEQ_SHOWN + r"\x9b [bold]t[/bold]" in err.splitlines()


def assert_response_shown(out: str) -> None:
    lines = out.splitlines()
    assert lines[0] == "HTTP/1.1 200 OK " + ESC_SEQ_SHOWN + r"\x9b\x85 " + MARKUP
    assert "X-Evil: " + ESC_SEQ_SHOWN + r"\x9b2J\x85" in lines
    assert "X-Markup: " + MARKUP in lines
    assert "first " + MARKUP + " " + ESC_SEQ_SHOWN + " " + UNICODE_SHOWN in lines
    assert lines[-1] == "X-Trailer: " + ESC_SEQ_SHOWN + r"\x9b [bold]t[/bold]"


# -- send, replay, history -----------------------------------------------------------------------

def test_send_prints_the_peer_escaped(run_cli, hostile):
    code, out, err = run_cli("send", hostile.url + "/")
    assert code == 0, err
    assert_clean(out, err)
    assert_response_shown(out)


def test_send_verbose_shows_both_directions_escaped(run_cli, hostile):
    code, out, err = run_cli("send", "-v", hostile.url + "/")
    assert code == 0, err
    assert_clean(out, err)
    assert_body_shown(out, err)
    code, out, err = run_cli("send", "-v", "-i", hostile.url + "/")  # -i: the head on stdout too
    assert code == 0, err
    assert_clean(out, err)
    assert_response_shown(out)
    assert "< X-Evil: " + ESC_SEQ_RAW + r"\x9b2J\x85\r\n" in err.splitlines()


def test_send_verbose_tells_a_byte_from_its_escape(run_cli, tcp_peer):
    """Byte 0xf6 is written ``\\xf6``; the four characters ``\\xf6`` are written ``\\\\xf6``."""
    peer = tcp_peer(lambda conn, _peer: conn.sendall(
        b"HTTP/1.1 200 OK\r\nX-Both: \xf6 \\xf6 \\\r\nContent-Length: 0\r\n\r\n"))
    code, out, err = run_cli("send", "-v", "--no-history", "-H", "X-Sent: C:\\new\\x41", peer.url + "/")
    assert code == 0, err
    assert_clean(out, err)
    lines = err.splitlines()
    assert "< X-Both: \\xf6 \\\\xf6 \\\\\\r\\n" in lines
    assert "> X-Sent: C:\\\\new\\\\x41\\r\\n" in lines
    assert peer.received[0].count(b"X-Sent: C:\\new\\x41\r\n") == 1  # what went out: one backslash each


def test_send_as_a_real_process(run_cli_subprocess, hostile):
    for args in ((), ("-v",)):
        code, out, err = run_cli_subprocess("send", *args, hostile.url + "/")
        assert code == 0, err
        assert_clean(out, err)  # (the fixture decodes with errors="replace": a raw byte shows as U+FFFD)
        if args:
            assert_body_shown(out, err)
        else:
            assert_response_shown(out)


def test_send_json_has_no_raw_control_characters(run_cli, hostile):
    code, out, err = run_cli("send", "--json", hostile.url + "/")
    assert code == 0, err
    assert_clean(out, err)
    doc = json.loads(out)
    assert ESC_SEQ in doc["response"]["raw_head"]  # lossless, as JSON escapes


@pytest.mark.parametrize("reply, quoted", [
    (b"HTTP/1.1 200 OK\r\nX-\x1b]0;pwned\x07: v\r\nContent-Length: 0\r\n\r\n", r"\x1b]0;pwned\x07"),
    (b"\x1b]0;pwned\x07\x1b[2J\x9b [bold red]not http[/bold red]\r\n\r\n", r"\x1b]0;pwned\x07"),
], ids=["bad-header-name", "not-http"])
def test_errors_that_quote_the_peer(run_cli, tcp_peer, reply, quoted):
    peer = tcp_peer(lambda conn, _peer: conn.sendall(reply))
    for args in ((), ("-v",)):
        code, out, err = run_cli("send", *args, peer.url + "/")
        assert code == 1
        assert_clean(out, err)
        assert "netlab: parse failed:" in err and quoted in err


def test_replay_and_history(run_cli, run_cli_subprocess, hostile, tmp_path):
    code, _out, err = run_cli("send", hostile.url + "/")
    assert code == 0, err
    for args in (("replay", "last"), ("replay", "last", "-v"), ("replay", "last", "-v", "-i")):
        code, out, err = run_cli(*args)
        assert code == 0, err
        assert_clean(out, err)
        if args[-1] == "-v":
            assert_body_shown(out, err)
        else:
            assert_response_shown(out)
    code, out, err = run_cli("history", "show", "last")  # the stored exchange, in full
    assert code == 0, err
    assert_clean(out, err)
    assert "< X-Evil: " + ESC_SEQ_RAW + r"\x9b2J\x85\r\n" in out.splitlines()
    assert "X-Evil: " + ESC_SEQ_SHOWN + r"\x9b2J\x85" in out.splitlines()
    code, out, err = run_cli("history", "show", "last", "--json")
    assert code == 0, err
    assert_clean(out, err)
    assert ESC_SEQ in json.loads(out)["response"]["raw_head"]
    code, out, err = run_cli_subprocess("replay", "last")
    assert code == 0, err
    assert_clean(out, err)
    assert_response_shown(out)
    # a request whose method carries escapes: listed escaped
    raw = tmp_path / "request.http"
    raw.write_bytes(b"G\x1b]0;pwned\x07T /[bold]x[/bold] HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    code, out, err = run_cli("send", "--raw", str(raw), hostile.url + "/")
    assert code == 0, err
    assert_clean(out, err)
    for run in (run_cli, run_cli_subprocess):
        code, out, err = run("history")
        assert code == 0, err
        assert_clean(out, err)
        newest = out.splitlines()[1]
        assert r"g\x1b]0;pwned\x07t" in newest.lower()  # (the store may upper-case a method)
    code, out, err = run_cli("replay", "last", "-v")
    assert code == 0, err
    assert_clean(out, err)
    assert r"\x1b]0;" in err.splitlines()[0].lower()  # "* replaying #N: G\x1b]0;... "


# -- Unix socket paths ---------------------------------------------------------------------------

@contextlib.contextmanager
def unix_peer(response: bytes):
    tmp = short_tmpdir("netlab-hb-")
    path = os.path.join(tmp, "\x1b]0;pw\x07[b]x\u202e.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)

    def serve() -> None:
        while True:
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
        yield tmp, path
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        shutil.rmtree(tmp, ignore_errors=True)


def test_unix_socket_paths(run_cli):
    with unix_peer(HOSTILE) as (tmp, path):
        code, out, err = run_cli("send", "-v", "--unix-socket", path, "http://localhost/")
        assert code == 0, err
        assert_clean(out, err)
        assert_body_shown(out, err)
        assert r"\x1b]0;pw\x07[b]x\u202e.sock" in err
        # the listening socket, in the connection table
        code, out, err = run_cli("conns", "--kind", "unix")
        assert code == 0, err
        assert_clean(out, err)
        assert r"/\x1b]0;pw\x07[b]x\u202e.sock" in out
        # a path that does not exist: the error quotes it, escaped
        missing = os.path.join(tmp, "\x1b[2J\x9bgone\x07.sock")
        code, out, err = run_cli("send", "--unix-socket", missing, "http://localhost/")
        assert code == 1
        assert_clean(out, err)
        assert r"\x1b[2J\x9bgone\x07.sock" in err


# -- conns: a real process named with escapes ------------------------------------------------------

NAMED = (
    "import ctypes, socket, sys\n"
    "name = b'\\x1b]0;pw\\x07\\x9b[b]x'\n"
    "ok = ctypes.CDLL(None, use_errno=True).prctl(15, ctypes.c_char_p(name), 0, 0, 0) == 0\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
    "print(s.getsockname()[1] if ok else 'noprctl', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def named_listener():
    """A child process named (prctl PR_SET_NAME) ESC ] 0 ; p w BEL 0x9b [ b ] x, listening
    on 127.0.0.1; its port.  The 0x9b byte is not UTF-8: psutil gives it as a surrogate."""
    if not sys.platform.startswith("linux"):
        pytest.skip("process names are set with prctl(PR_SET_NAME): Linux only")
    proc = subprocess.Popen([sys.executable, "-c", NAMED], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            pytest.skip(f"prctl(PR_SET_NAME) did not work here: {line!r}")
        yield int(line)
    finally:
        proc.stdin.close()
        proc.wait(timeout=HANG_GUARD)
        proc.stdout.close()


def test_conns_prints_process_names_escaped(run_cli, run_cli_subprocess, named_listener):
    for run in (run_cli, run_cli_subprocess):
        code, out, err = run("conns", "--port", named_listener)
        assert code == 0, err
        assert_clean(out, err)
        [row] = [line for line in out.splitlines() if f"127.0.0.1:{named_listener}" in line]
        assert "LISTEN" in row and row.endswith(r"/\x1b]0;pw\x07\x9b[b]x")


# -- dns: a real dnsmasq serving a hostile TXT record --------------------------------------------------

TXT = "\x1b]0;pwned\x07\x1b[2J\u009b\u202e [bold red]red[/bold red] [link=http://evil.test]x[/link]"


@pytest.fixture(scope="module")
def hostile_dnsmasq():
    """dnsmasq on 127.0.0.1 with txt.hb.test TXT carrying escapes, C1, bidi and markup."""
    exe = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)
    if exe is None:
        pytest.skip("dnsmasq not installed: run the README test command as root to apt-get it")
    import dns.message
    import dns.query

    workdir = short_tmpdir("netlab-hb-dnsmasq-")
    proc = port = None
    for _attempt in range(5):
        port = free_port(socket.SOCK_DGRAM)
        proc = subprocess.Popen(
            [exe, "--conf-file=/dev/null", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
             "--no-resolv", "--no-hosts", "--keep-in-foreground", f"--pid-file={workdir}/dnsmasq.pid",
             f"--txt-record=txt.hb.test,{TXT}", "--local=/test/",
             *(["--user=root"] if os.geteuid() == 0 else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + HANG_GUARD
        while time.monotonic() < end and proc.poll() is None:
            try:
                dns.query.udp(dns.message.make_query("txt.hb.test", "TXT"), "127.0.0.1", port=port, timeout=0.5)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        if proc.poll() is None:
            break
        proc.wait(timeout=HANG_GUARD)
    else:
        pytest.fail("dnsmasq did not start on a loopback port")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=HANG_GUARD)
    shutil.rmtree(workdir, ignore_errors=True)


def test_dns_txt_with_escapes(run_cli, run_cli_subprocess, hostile_dnsmasq):
    server = f"@127.0.0.1:{hostile_dnsmasq}"
    for run in (run_cli, run_cli_subprocess):
        for extra in ((), ("+short",)):
            code, out, err = run("dns", "txt.hb.test", "TXT", server, *extra)
            assert code == 0, err
            assert_clean(out, err)
            [line] = [x for x in out.splitlines() if "[bold red]red[/bold red]" in x]
            # dnspython writes every byte that is not printable ASCII as \DDD (decimal)
            assert r"\027]0;pwned" in line and r"\027[2J" in line
            assert r"\194\155" in line and r"\226\128\174" in line  # C1 CSI and U+202E, as UTF-8 bytes
            assert "[link=http://evil.test]x[/link]" in line
