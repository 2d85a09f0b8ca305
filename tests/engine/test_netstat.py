"""The connection table against real loopback sockets of this very process."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import tempfile
import threading

import psutil
import pytest

from netlab.engine import Engine, Request
from netlab.engine import netstat
from netlab.engine.netstat import ConnRow, Snapshot, diff, format_addr, is_own, snapshot

HANG_GUARD = 30.0
ME = os.getpid()
MY_NAME = psutil.Process().name()
CLOSING = {"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSING"}  # active closer's side after close()


def _find(snap: Snapshot, proto: str, local, remote=None, pid=...) -> list[ConnRow]:
    return [r for r in snap.rows if r.proto == proto and r.local == tuple(local)
            and (r.remote == (tuple(remote) if remote is not None else None))
            and (pid is ... or r.pid == pid)]


@pytest.fixture
def pair():
    """A listening socket, a client connected to it and the accepted server side."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    client = socket.create_connection(listener.getsockname(), timeout=HANG_GUARD)
    accepted, _ = listener.accept()
    accepted.settimeout(HANG_GUARD)
    socks = [listener, client, accepted]
    yield listener, client, accepted
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def test_snapshot_finds_listener_and_connected_pair(pair):
    listener, client, accepted = pair
    snap = snapshot()
    assert snap.notice is None
    assert snap.elapsed_ms >= 0 and snap.taken > 0
    lport = listener.getsockname()
    [listen_row] = _find(snap, "tcp", lport, None)
    assert listen_row.state == "LISTEN" and listen_row.pid == ME and listen_row.process == MY_NAME
    [client_row] = _find(snap, "tcp", client.getsockname(), client.getpeername())
    assert client_row.state == "ESTABLISHED" and client_row.pid == ME and client_row.process == MY_NAME
    [server_row] = _find(snap, "tcp", accepted.getsockname(), accepted.getpeername())
    assert server_row.state == "ESTABLISHED" and server_row.pid == ME
    assert client_row.key == ("tcp", client.getsockname(), client.getpeername(), ME)
    assert len({r.key for r in snap.rows}) == len(snap.rows)  # keys are unique: usable as table row keys


def test_diff_after_closing_one_side(pair):
    listener, client, accepted = pair
    before = snapshot().by_key()
    client_key = ("tcp", client.getsockname(), client.getpeername(), ME)
    server_key = ("tcp", accepted.getsockname(), accepted.getpeername(), ME)
    assert before[client_key].state == before[server_key].state == "ESTABLISHED"
    client.close()
    assert accepted.recv(10) == b""  # the FIN has arrived: the server side is in CLOSE_WAIT now
    after = snapshot().by_key()
    added, removed, changed = diff(before, after)
    # The closed client socket has no process any more: its keyed row is gone ...
    assert client_key in removed
    # ... and (while it lingers in FIN_WAIT2/TIME_WAIT) it is back without a pid.
    lingering = [r for r in added if r.local == client_key[1] and r.remote == client_key[2]]
    assert all(r.pid is None and r.state in CLOSING for r in lingering)
    # The server side kept its key and changed state.
    [server_now] = [r for r in changed if r.key == server_key]
    assert server_now.state == "CLOSE_WAIT"
    assert ("tcp", listener.getsockname(), None, ME) not in removed
    assert all(r.key not in before for r in added)


def test_diff_is_by_key():
    a = ConnRow("tcp", ("127.0.0.1", 1), ("127.0.0.1", 2), "ESTABLISHED", 5, "x")
    b = ConnRow("udp", ("127.0.0.1", 53), None, "NONE", 6, "dns")
    a2 = ConnRow("tcp", ("127.0.0.1", 1), ("127.0.0.1", 2), "CLOSE_WAIT", 5, "x")
    c = ConnRow("tcp6", ("::1", 80), None, "LISTEN", None, None)
    old = netstat.by_key([a, b])
    new = netstat.by_key([a2, c])
    assert diff(old, new) == ([c], [b.key], [a2])
    assert diff(old, old) == ([], [], [])


def test_udp_and_unix_rows(tmp_path):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    sockdir = tempfile.mkdtemp(prefix="nl-ns-", dir="/tmp")  # AF_UNIX paths are short
    path = os.path.join(sockdir, "lab.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        unix.bind(path)
        unix.listen(1)
        [urow] = _find(snapshot("udp"), "udp", udp.getsockname(), None)
        assert urow.state == "NONE" and urow.pid == ME
        all_rows = snapshot("all")
        assert _find(all_rows, "udp", udp.getsockname(), None)
        [xrow] = _find(snapshot("unix"), "unix", (path, 0), None)
        # psutil reports no state for Unix sockets on Linux (/proc/net/unix has none it maps)
        assert xrow.state == ("NONE" if psutil.LINUX else xrow.state) and xrow.pid == ME
        assert xrow.process == MY_NAME
        assert format_addr(xrow.local) == path and format_addr(xrow.remote) == "*"
    finally:
        udp.close()
        unix.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.rmdir(sockdir)


class _KeepAlive(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"own socket\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_engine_sockets_are_tagged_as_own():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        engine = Engine()
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{port}/"))
        assert ex.ok and ex.keep_alive, ex.error
        local, remote = ex.connection.local, ex.connection.remote
        own = engine.own_sockets()
        assert own == {(local, remote)}

        snap = snapshot()
        [row] = _find(snap, "tcp", local, remote)
        assert row.state == "ESTABLISHED" and row.pid == ME
        assert is_own(row, own)
        [peer_side] = _find(snap, "tcp", remote, local)  # the server's end of the same connection
        assert not is_own(peer_side, own)
        [listen_row] = _find(snap, "tcp", ("127.0.0.1", port), None)
        assert not is_own(listen_row, own)
        tagged = [r for r in snap.rows if is_own(r, own)]
        assert tagged == [row]

        engine.close()  # we close first: our side lingers in FIN_WAIT2 / TIME_WAIT without a pid
        assert engine.own_sockets() == set()
        after = snapshot()
        [closed] = _find(after, "tcp", local, remote)
        assert closed.state in CLOSING | {"ESTABLISHED"} and closed.pid in (None, ME)
        assert not is_own(closed, engine.own_sockets())
        assert is_own(closed, {(ex.connection.local, ex.connection.remote)})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_is_own_normalises_addresses():
    row = ConnRow("tcp6", ("::ffff:127.0.0.1", 40000), ("::ffff:127.0.0.1", 80), "ESTABLISHED", ME, "py")
    assert is_own(row, {(("127.0.0.1", 40000), ("127.0.0.1", 80))})
    assert not is_own(row, {(("127.0.0.1", 40001), ("127.0.0.1", 80))})
    v6 = ConnRow("tcp6", ("::1", 5), ("0:0::1", 6), "ESTABLISHED", ME, "py")
    assert is_own(v6, {(("0::1", 5), ("::1", 6))})
    assert not is_own(ConnRow("tcp", ("127.0.0.1", 80), None, "LISTEN", ME, "py"), {(("127.0.0.1", 80), ("", 0))})
    assert not is_own(row, set())


def test_access_denied_falls_back_to_own_sockets(pair, monkeypatch):
    listener, client, _ = pair

    def denied(kind="inet"):
        raise psutil.AccessDenied(pid=None, msg="not allowed (test)")

    monkeypatch.setattr(psutil, "net_connections", denied)
    snap = snapshot()
    assert snap.notice and "AccessDenied" in snap.notice
    assert {r.pid for r in snap.rows} == {ME}
    assert _find(snap, "tcp", listener.getsockname(), None)[0].process == MY_NAME
    assert _find(snap, "tcp", client.getsockname(), client.getpeername())[0].state == "ESTABLISHED"


def test_one_process_scan_per_snapshot(pair, monkeypatch):
    calls = []
    real = psutil.process_iter

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(psutil, "process_iter", counting)
    snap = snapshot()
    assert len(snap.rows) >= 3
    assert len(calls) == 1


def test_format_addr():
    assert format_addr(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert format_addr(("::1", 80)) == "[::1]:80"
    assert format_addr(None) == "*"
    assert format_addr(("/run/x.sock", 0)) == "/run/x.sock"
    assert format_addr(("", 0)) == "(unnamed)"
    assert format_addr(("0.0.0.0", 0)) == "0.0.0.0:*"
