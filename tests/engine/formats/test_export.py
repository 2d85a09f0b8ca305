"""Exports of an exchange: raw, http, curl, python-socket, python-requests.

The python-socket script is run for real (sys.executable) against the lab server and nginx:
what it prints must be the response bytes the original exchange received (apart from the
Date header's value).  The python-requests script is run against the lab server's /echo."""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys

import pytest

from netlab.engine import Engine, NetlabError, Options, Request, parse_pin
from netlab.engine.formats.curl import parse_curl
from netlab.engine.formats.export import FORMATS, bytes_literal, export_exchange, export_request
from netlab.engine.formats.httpfile import parse_text
from netlab.engine.store.history import History

HAVE_REQUESTS = importlib.util.find_spec("requests") is not None
SECRET_REQUEST = dict(headers=["Authorization: Bearer tok-123", "Cookie: sid=abc", "X-Plain: visible"])


def send(request: Request, options: Options | None = None):
    with Engine() as engine:
        ex = engine.send(request, options=options or Options())
    assert ex.error is None, ex.error
    return ex


def received(ex) -> bytes:
    """The response bytes as the exchange received them: 1xx heads, the head, the body as
    framed on the wire (chunk sizes and trailers included)."""
    r = ex.response
    body = r.raw_body_store.getvalue() if r.framing == "chunked" and r.raw_body_store is not None else r.body
    return b"".join(i.raw for i in r.informational) + r.raw_head + body


def undated(data: bytes) -> bytes:
    return re.sub(rb"(?im)^Date: [^\r\n]*\r\n", b"Date: -\r\n", data)


def run_script(text: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", text], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


# ------------------------------------------------------------------ every format


def test_every_format_masks_secrets_unless_asked(lab_server):
    r = Request.from_url(f"http://127.0.0.1:{lab_server.port}/echo", "POST", body=b"x=1", **SECRET_REQUEST)
    ex = send(r)
    for fmt in FORMATS:
        masked = export_exchange(ex, fmt)
        assert b"tok-123" not in masked.data and b"sid=abc" not in masked.data, fmt
        assert b"visible" in masked.data and b"********" in masked.data, fmt
        assert any("masked the value of Authorization, Cookie" in n for n in masked.notes), fmt
        shown = export_exchange(ex, fmt, show_secrets=True)
        assert b"tok-123" in shown.data and b"sid=abc" in shown.data, fmt
        assert not shown.notes or fmt == "python-requests"


def test_raw_http_and_curl_exports_give_the_same_bytes_back(lab_server):
    r = Request.from_url(f"http://127.0.0.1:{lab_server.port}/echo?q=1", "PUT", body=b'{"a": "\xc3\xa9"}',
                         **SECRET_REQUEST)
    opts = Options(insecure=True, resolve=(parse_pin(f"lab.test:{lab_server.port}:127.0.0.1"),), timeout=4)
    raw = export_request(r, opts, "raw", show_secrets=True)
    assert raw.data == r.data and raw.suffix == ".txt"
    http = export_request(r, opts, "http", show_secrets=True, name="put it")
    entry = parse_text(http.text).entries[0]
    assert entry.request.data == r.data and entry.name == "put it"
    assert entry.options.insecure and entry.options.timeout == 4 and entry.options.resolve == opts.resolve
    curl = export_request(r, opts, "curl", show_secrets=True)
    c = parse_curl(curl.text)
    assert c.request.data == r.data and c.options.resolve == opts.resolve and c.options.insecure


def test_unknown_format_and_curl_refusal():
    r = Request.raw(b"GET / HTTP/1.1\nHost: h\n\n", "http://h/")
    with pytest.raises(NetlabError, match="unknown export format 'xml'"):
        export_request(r, None, "xml")
    with pytest.raises(NetlabError, match="bare LF"):
        export_request(r, None, "curl")
    assert export_request(r, None, "raw").data == r.data  # raw and the scripts still carry it
    assert "Host: h\\n" in export_request(r, None, "python-socket").text


def test_bytes_literal_shows_line_endings():
    assert bytes_literal(b"") == 'b""'
    assert bytes_literal(b'GET / HTTP/1.1\r\n\r\n"\\\x00\xff') == (
        '(\n    b"GET / HTTP/1.1\\r\\n"\n    b"\\r\\n"\n    b"\\"\\\\\\x00\\xff"\n)')
    for data in (b"", b"abc", bytes(range(256)), b"a\nb\r\n" * 40):
        assert eval(bytes_literal(data)) == data  # noqa: S307 - our own literal


# ----------------------------------------------------------------- python-socket


@pytest.mark.parametrize("method, path, headers, body", [
    ("GET", "/echo", ["Connection: close"], b""),
    ("POST", "/echo", [], b"hello\r\nworld\x00\xff"),  # keep-alive: the script reads Content-Length
    ("GET", "/bytes/3000?chunked=1", [], b""),
    ("GET", "/stream/3", [], b""),  # chunked with a trailer
    ("GET", "/bytes/500?close=1", [], b""),  # ended by close
    ("GET", "/status/204", [], b""),
    ("HEAD", "/bytes/10", [], b""),
    ("GET", "/status/404", ["X-Odd: \x1b[31m"], b""),
])
def test_python_socket_script_prints_what_the_exchange_received(lab_server, method, path, headers, body):
    r = Request.from_url(f"http://127.0.0.1:{lab_server.port}{path}", method, headers, body)
    ex = send(r)
    script = export_exchange(ex, "python-socket", show_secrets=True, source="a test").text
    assert "import ssl" not in script and "import requests" not in script
    assert re.search(r"^import socket$", script, re.M)
    p = run_script(script)
    assert p.returncode == 0, p.stderr.decode()
    assert undated(p.stdout) == undated(received(ex))
    assert b"* connected: local ('127.0.0.1'" in p.stderr and f"* sent {len(r.data)} bytes".encode() in p.stderr


def test_python_socket_script_sends_raw_bytes_exactly(lab_server):
    data = f"GET /echo HTTP/1.1\nHost: 127.0.0.1:{lab_server.port}\nX:  odd \n\n".encode()
    ex = send(Request.raw(data, f"http://127.0.0.1:{lab_server.port}/"))
    assert ex.response.body == data
    p = run_script(export_exchange(ex, "python-socket").text)
    assert p.returncode == 0, p.stderr.decode()
    assert undated(p.stdout) == undated(received(ex))
    assert p.stdout.endswith(data)


def test_python_socket_script_over_tls_with_a_pin_and_a_ca(nginx):
    # nginx's certificate names localhost; the pin makes the script connect to 127.0.0.1 without
    # resolving the name, and it still sends localhost as the TLS server name
    r = Request.raw(f"GET /hello.txt HTTP/1.1\r\nHost: localhost:{nginx.tls_port}\r\n\r\n",
                    f"https://localhost:{nginx.tls_port}/")
    opts = Options(cafile=nginx.ca_path, resolve=(parse_pin(f"localhost:{nginx.tls_port}:127.0.0.1"),))
    ex = send(r, opts)
    assert ex.response.status == 200
    script = export_exchange(ex, "python-socket").text
    assert "import ssl" in script and "ADDRESS = '127.0.0.1'" in script and "CAFILE = " in script
    assert "server_hostname=HOST" in script
    p = run_script(script)
    assert p.returncode == 0, p.stderr.decode()
    assert undated(p.stdout) == undated(received(ex))
    assert b"* TLS TLSv1.3" in p.stderr or b"* TLS TLSv1.2" in p.stderr


def test_python_socket_script_verifies_unless_insecure(nginx):
    r = Request.from_url(f"https://localhost:{nginx.tls_port}/hello.txt")
    ex = send(r, Options(insecure=True))
    script = export_exchange(ex, "python-socket").text
    assert "VERIFY = False" in script
    p = run_script(script)
    assert p.returncode == 0, p.stderr.decode()
    assert undated(p.stdout) == undated(received(ex))
    strict = script.replace("VERIFY = False", "VERIFY = True")  # the trustme CA is not in the system store
    p = run_script(strict)
    assert p.returncode != 0 and b"CERTIFICATE_VERIFY_FAILED" in p.stderr


def test_python_socket_script_over_a_unix_socket(nginx):
    r = Request.from_url("http://localhost/hello.txt", headers=["Connection: close"])
    ex = send(r, Options(unix_socket=nginx.unix_path))
    script = export_exchange(ex, "python-socket").text
    assert f"UNIX_SOCKET = {nginx.unix_path!r}" in script and "socket.AF_UNIX" in script
    p = run_script(script)
    assert p.returncode == 0, p.stderr.decode()
    assert undated(p.stdout) == undated(received(ex))


def test_python_socket_script_says_when_the_reply_is_cut_short(tcp_peer):
    peer = tcp_peer(lambda conn, _: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
    r = Request.from_url(peer.url + "/")
    script = export_request(r, Options(), "python-socket").text
    p = run_script(script)
    assert p.returncode == 1
    assert b"closed the connection before the response was complete" in p.stderr
    assert p.stdout == b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"


# --------------------------------------------------------------- python-requests


@pytest.mark.skipif(not HAVE_REQUESTS, reason="requests is not installed (the bench extra)")
@pytest.mark.parametrize("method, body, headers", [
    ("POST", b'{"a": 1}', ["Content-Type: application/json", "X-Dup: 1", "X-Dup: 2"]),
    ("GET", b"", ["Connection: close"]),
    ("DELETE", b"\x00\x01bin\r\n", []),
])
def test_python_requests_script_sends_the_same_method_path_and_body(lab_server, method, body, headers):
    r = Request.from_url(f"http://127.0.0.1:{lab_server.port}/echo?x=1&y=%20", method, headers, body)
    ex = send(r)
    result = export_exchange(ex, "python-requests", show_secrets=True)
    text = result.text
    assert "requests.request(" in text and "allow_redirects=False" in text
    p = run_script(text)
    assert p.returncode == 0, p.stderr.decode()
    status, _, echoed = p.stdout.partition(b"\n\n")
    assert status.startswith(b"HTTP/1.1 200 OK")
    line = echoed.split(b"\r\n", 1)[0]
    assert line == f"{method} /echo?x=1&y=%20 HTTP/1.1".encode()
    if b"\x00" not in body:  # the script prints response.text; bytes: the next test
        assert echoed.split(b"\r\n\r\n", 1)[1] == body
    if method == "POST":
        assert b"X-Dup: 1, 2\r\n" in echoed  # requests sends a header once: the values joined


@pytest.mark.skipif(not HAVE_REQUESTS, reason="requests is not installed (the bench extra)")
def test_python_requests_body_bytes_arrive_exactly(lab_server):
    body = bytes(range(256))
    ex = send(Request.from_url(f"http://127.0.0.1:{lab_server.port}/echo", "PUT", body=body))
    text = export_exchange(ex, "python-requests").text.replace('print(response.text, end="")',
                                                               "sys.stdout.buffer.write(response.content)")
    p = run_script("import sys\n" + text)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.endswith(b"\r\n\r\n" + body)


def test_python_requests_comments_list_the_header_differences():
    pytest.importorskip("requests", reason="requests is not installed (the bench extra)")

    r = Request.raw(b"POST /x HTTP/1.1\r\nHost: h:81\r\nUser-Agent: mine\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nab",
                    "http://h:81/")
    text = export_request(r, None, "python-requests").text
    added = text.split("# requests adds these headers itself; the exchange did not send them")[1].split("# To")[0]
    for name in ("Accept-Encoding", "Accept:", "Connection: keep-alive"):
        assert name in added
    assert "User-Agent" not in added  # the exchange sent its own
    computed = text.split("# The exchange sent these too; requests computes them")[1]
    assert "#   Host: h:81  (from the URL)" in computed and "#   Content-Length: 2  (from data)" in computed
    assert "'User-Agent': 'mine'" in text and "'X-A': '1'" in text and "'Host'" not in text
    assert "not all well-formed" not in text
    odd = export_request(Request.raw(b"GET / HTTP/1.1\nHost: h\n\n", "http://h/"), None, "python-requests").text
    assert "not all well-formed HTTP" in odd


def test_requests_default_list_without_requests(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_requests(name, *args, **kwargs):
        if name == "requests" or name.startswith("requests."):
            raise ImportError("no requests here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_requests)
    text = export_request(Request.raw(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/"), None,
                          "python-requests").text
    assert "(requests 2.x's defaults)" in text and "#   User-Agent: python-requests/2.x" in text


def test_requests_export_notes_what_requests_cannot_do():
    r = Request.from_url("http://lab.test:8080/")
    pinned = export_request(r, Options(resolve=(parse_pin("lab.test:8080:127.0.0.1"),)), "python-requests")
    assert any("no --resolve" in n for n in pinned.notes) and "--resolve lab.test:8080 -> 127.0.0.1" in pinned.text
    unix = export_request(r, Options(unix_socket="/run/x.sock"), "python-requests")
    assert any("Unix socket" in n for n in unix.notes)


# -------------------------------------------------------------------------- CLI


def _stored(lab_server, run_cli, *args) -> int:
    code, out, err = run_cli("send", f"http://127.0.0.1:{lab_server.port}/echo", *args)
    assert code == 0, err
    with History() as history:
        return history.last_id()


def test_cli_history_export_every_format(lab_server, run_cli, tmp_path):
    ident = _stored(lab_server, run_cli, "-H", "Authorization: Bearer tok-9", "-d", "a=1")
    code, out, err = run_cli("history", "export", ident, "--as", "curl")
    assert code == 0, err
    assert "Bearer ********" in out and "tok-9" not in out and "masked the value of Authorization" in err
    assert parse_curl(out).request.data.endswith(b"\r\n\r\na=1")
    code, out, err = run_cli("history", "export", "last", "--as", "http", "--show-secrets")
    assert code == 0 and "tok-9" in out
    assert parse_text(out).entries[0].name == f"history-{ident}"
    code, out, err = run_cli("history", "export", ident, "--as", "raw")
    assert code == 0 and out.startswith("POST /echo HTTP/1.1\r\n") and "Bearer ********" in out
    target = tmp_path / "client.py"
    code, out, err = run_cli("history", "export", f"#{ident}", "--as", "python-socket", "--show-secrets",
                             "-o", target)
    assert code == 0 and out == "" and f"wrote {target.stat().st_size} bytes" in err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    p = subprocess.run([sys.executable, str(target)], capture_output=True, timeout=60)
    assert p.returncode == 0 and b"\r\nAuthorization: Bearer tok-9\r\n" in p.stdout and p.stdout.endswith(b"a=1")
    code, out, err = run_cli("history", "export", ident, "--as", "python-requests")
    assert code == 0 and "requests.request('POST'" in out


def test_cli_history_export_errors_and_listing_still_works(lab_server, run_cli, tmp_path):
    code, out, err = run_cli("history", "export", "999999", "--as", "raw")
    assert code == 2 and "no exchange with id 999999" in err
    code, out, err = run_cli("history", "export", "abc")
    assert code == 2 and "is not an exchange id" in err
    code, out, err = run_cli("history", "export", "1", "--as", "xml")
    assert code == 2 and "invalid choice" in err
    raw_file = tmp_path / "bare-lf.req"
    raw_file.write_bytes(f"GET /echo HTTP/1.1\nHost: 127.0.0.1:{lab_server.port}\n\n".encode())
    code, out, err = run_cli("send", "--raw", raw_file, f"http://127.0.0.1:{lab_server.port}")
    assert code == 0, err
    code, out, err = run_cli("history", "export", "last", "--as", "curl")
    assert code == 1 and "curl cannot send this request: its head has bare LF" in err and "python-socket" in err
    code, out, err = run_cli("history")
    assert code == 0 and out.startswith("ID")
    code, out, err = run_cli("history", "--json", "--limit", "1")
    assert code == 0 and out.lstrip().startswith("[")
