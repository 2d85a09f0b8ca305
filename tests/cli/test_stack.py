"""`netlab stack URL`: the same GET through socket, http.client, urllib, urllib3 and
requests, each one's bytes recorded at its own socket.

The claims are checked against real peers on loopback: a recording peer written here
(plain and TLS) that keeps every byte it received, and the lab server for redirects and
gzip.  Each client's reported request bytes must be the bytes that library sends when it
is called directly, in this test, against the same peer — and the bytes the peer got."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request

import pytest

from netlab.cli import main
from netlab.engine.stack import CLIENT_NAMES, MISSING_HINT

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
JSON_KEYS = {"client", "version", "requests", "responses", "statuses", "connections", "redirects", "decompressed",
             "elapsed_ms", "error", "tls"}


class RecordingPeer:
    """An HTTP/1.1 peer on 127.0.0.1 (TLS with ``context``) that answers every request
    head with ``response``, keeps the connection open unless the request says close, and
    records every byte each connection sent it (the plaintext, under TLS)."""

    def __init__(self, response: bytes = OK, context: ssl.SSLContext | None = None) -> None:
        self.response = response
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytearray] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/stack") -> str:
        return f"{'https' if self.context else 'http'}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        got = bytearray()
        with self._lock:
            self.received.append(got)
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            pending = b""
            while data := conn.recv(65536):
                got += data
                pending += data
                while b"\r\n\r\n" in pending:
                    head, _, pending = pending.partition(b"\r\n\r\n")
                    conn.sendall(self.response)
                    if b"\r\nconnection: close" in head.lower():
                        return
        except OSError:
            pass
        finally:
            conn.close()

    def take(self) -> list[bytes]:
        """Every request received so far (each head through its blank line), and forget them."""
        with self._lock:
            streams, self.received = [bytes(b) for b in self.received], []
        out = []
        for stream in streams:
            out += [part + b"\r\n\r\n" for part in stream.split(b"\r\n\r\n")[:-1]]
        return out

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def peer(no_proxy):
    p = RecordingPeer()
    yield p
    p.close()


@pytest.fixture
def tls_peer(no_proxy, monkeypatch, tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_path))  # ssl's default contexts (socket, http.client, urllib, urllib3)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))  # requests trusts its own bundle unless told
    p = RecordingPeer(context=context)
    yield p
    p.close()


def stack_json(capsys, *argv: str) -> tuple[int, dict[str, dict]]:
    capsys.readouterr()
    rc = main(["stack", *argv, "--json", "--timeout", "5"])
    out = capsys.readouterr().out
    results = json.loads(out)
    assert [r["client"] for r in results] == list(CLIENT_NAMES)
    return rc, {r["client"]: r for r in results}


def direct_requests(peer: RecordingPeer, url: str) -> dict[str, list[bytes]]:
    """What each library itself sends for a GET of ``url``, called directly against ``peer``."""
    import requests
    import urllib3

    seen: dict[str, list[bytes]] = {}
    peer.take()
    host, port = "127.0.0.1", peer.port
    raw = socket.create_connection((host, port), timeout=5)  # the seed's few lines
    if url.startswith("https"):
        raw = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
    with raw:
        raw.sendall(f"GET /stack HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        while raw.recv(4096):
            pass
    seen["socket"] = peer.take()
    import http.client

    cls = http.client.HTTPSConnection if url.startswith("https") else http.client.HTTPConnection
    conn = cls(host, port, timeout=5)
    conn.request("GET", "/stack")
    conn.getresponse().read()
    conn.close()
    seen["http.client"] = peer.take()
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()
    seen["urllib"] = peer.take()
    manager = urllib3.PoolManager()
    manager.request("GET", url, timeout=5)
    manager.clear()
    seen["urllib3"] = peer.take()
    requests.get(url, timeout=5)
    seen["requests"] = peer.take()
    return seen


def _check_same_bytes(capsys, peer: RecordingPeer) -> dict[str, dict]:
    url = peer.url()
    direct = direct_requests(peer, url)
    rc, results = stack_json(capsys, url)
    on_wire = peer.take()
    assert rc == 0
    for name in CLIENT_NAMES:
        r = results[name]
        assert r["error"] is None, (name, r["error"])
        reported = [text.encode("latin-1") for text in r["requests"]]
        assert reported == direct[name], name  # byte for byte what the library sends on its own
        assert r["statuses"] == [200] and r["redirects"] == 0 and r["connections"] == 1
        assert r["responses"] == [OK[:-2].decode("latin-1")]
    all_reported = sorted(t.encode("latin-1") for r in results.values() for t in r["requests"])
    assert all_reported == sorted(on_wire)  # and what the peer got, no more, no less
    return results


def test_each_client_reports_the_bytes_it_sends_when_called_directly(capsys, peer):
    results = _check_same_bytes(capsys, peer)
    assert results["socket"]["requests"] == [f"GET /stack HTTP/1.1\r\nHost: 127.0.0.1:{peer.port}\r\n"
                                             "Connection: close\r\n\r\n"]
    assert "User-Agent: python-requests/" in results["requests"]["requests"][0]
    assert "User-Agent: Python-urllib/" in results["urllib"]["requests"][0]
    assert all(r["tls"] is None for r in results.values())


def test_https_records_the_plaintext_at_the_tls_layer(capsys, tls_peer):
    results = _check_same_bytes(capsys, tls_peer)
    for r in results.values():
        assert r["tls"] and r["tls"][0]["version"].startswith("TLS")
    capsys.readouterr()
    assert main(["stack", tls_peer.url(), "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "plaintext" in out and "TLS: TLSv1." in out


def test_redirects_followed_by_requests_urllib_and_urllib3_not_by_socket_or_http_client(capsys, lab_server,
                                                                                       no_proxy):
    rc, results = stack_json(capsys, f"http://127.0.0.1:{lab_server.port}/redirect/1")
    assert rc == 0
    for name in ("socket", "http.client"):
        assert results[name]["statuses"] == [302] and results[name]["redirects"] == 0
        assert len(results[name]["requests"]) == 1
    for name in ("urllib", "urllib3", "requests"):
        r = results[name]
        assert r["statuses"] == [302, 200] and r["redirects"] == 1, name
        assert [t.split("\r\n", 1)[0] for t in r["requests"]] == ["GET /redirect/1 HTTP/1.1",
                                                                   "GET /redirect/0 HTTP/1.1"]
    assert results["urllib"]["connections"] == 2  # urllib sends Connection: close: a new connection per hop
    assert results["requests"]["connections"] == 1  # requests' pool reuses the keep-alive connection
    assert "Location: /redirect/0" in results["requests"]["responses"][0]


def test_decompressed_by_requests_and_urllib3_only(capsys, lab_server, no_proxy):
    _, results = stack_json(capsys, f"http://127.0.0.1:{lab_server.port}/gzip")
    assert {name: r["decompressed"] for name, r in results.items()} == {
        "socket": False, "http.client": False, "urllib": False, "urllib3": True, "requests": True}
    assert all("Content-Encoding: gzip" in r["responses"][0] for r in results.values())


def test_json_shape(capsys, peer):
    _, results = stack_json(capsys, peer.url())
    for r in results.values():
        assert set(r) == JSON_KEYS
        assert isinstance(r["version"], str) and isinstance(r["elapsed_ms"], float) and r["elapsed_ms"] > 0
        assert all(isinstance(t, str) for t in r["requests"] + r["responses"])
        assert all(isinstance(s, int) for s in r["statuses"])
        assert isinstance(r["connections"], int) and isinstance(r["redirects"], int)
        assert isinstance(r["decompressed"], bool)
    import requests

    assert results["requests"]["version"] == requests.__version__


@pytest.mark.parametrize("hidden", ["requests", "urllib3"])
def test_a_missing_library_says_how_to_install_it(capsys, peer, monkeypatch, hidden):
    monkeypatch.setitem(sys.modules, hidden, None)  # `import hidden` now raises ImportError
    if hidden == "urllib3":
        monkeypatch.setitem(sys.modules, "requests", None)  # requests needs urllib3
    rc, results = stack_json(capsys, peer.url())
    assert rc == 0  # the installed ones ran
    assert results[hidden]["error"] == MISSING_HINT == "not installed: pip install 'netlab[stack]'"
    assert results[hidden]["version"] is None and results[hidden]["requests"] == []
    assert results["http.client"]["statuses"] == [200]
    capsys.readouterr()
    main(["stack", peer.url()])
    out = capsys.readouterr().out
    assert MISSING_HINT in out
    assert [ln for ln in out.splitlines() if ln.startswith(hidden + " ")][-1].split()[1:3] == ["-", "-"]


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://127.0.0.1/", "unsupported scheme 'ftp'"),
    ("http://127.0.0.1:99999/", "Port out of range"),
    ("http:///path", "no host in URL"),
    ("", "no URL given"),
])
def test_a_bad_url_is_a_usage_error_naming_the_problem(capsys, url, why):
    assert main(["stack", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("netlab: stack: ") and why in err


def test_human_output_marks_added_headers_and_escapes_the_network(capsys, no_proxy):
    evil = (b"HTTP/1.1 200 O\x1b]0;owned\x07K\x1b[31m\r\nX-Evil: \x1b[2J\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\nok")
    p = RecordingPeer(response=evil)
    try:
        assert main(["stack", p.url(), "--timeout", "5"]) == 0
    finally:
        p.close()
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07K\\x1b[31m" in out
    blocks = out.split("\n== ")
    requests_block = next(b for b in blocks if b.startswith("requests "))
    assert "  + User-Agent: python-requests/" in requests_block
    assert "  ~ Connection: keep-alive" in requests_block
    assert f"    Host: 127.0.0.1:{p.port}" in requests_block
    http_client_block = next(b for b in blocks if b.startswith("http.client "))
    assert "  + Accept-Encoding: identity" in http_client_block and "  - Connection: close" in http_client_block
    table = out.splitlines()[-6:]
    assert table[0].split() == ["client", "version", "requests", "connections", "redirects", "status",
                                "decompressed", "ms"]
    assert [row.split()[0] for row in table[1:]] == list(CLIENT_NAMES)


def test_a_client_that_fails_is_reported_and_the_exit_status_is_1(capsys, no_proxy):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now: every client is refused
    rc, results = stack_json(capsys, f"http://127.0.0.1:{port}/")
    assert rc == 1
    for r in results.values():
        assert r["error"] and r["statuses"] == [] and r["connections"] == 0
    assert "ConnectionRefusedError" in results["socket"]["error"]


def test_the_first_frame_imports_nothing_of_stack():
    code = ("import sys\nfrom netlab.cli import main\nimport netlab.ui.app\n"
            "print([m for m in sys.modules if 'stack' in m and m.startswith('netlab')])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "[]", p.stderr
