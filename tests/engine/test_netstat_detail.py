"""The connection table's row detail (issue 14, part 3): one socket's ``tcp_info`` from
sock_diag (INET_DIAG_INFO, what ``ss -ti`` prints) — also for another user's socket and
without privileges — and the owning process's ancestry (htop's tree), on real loopback
sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from netlab.engine.netstat import ConnRow, snapshot
from netlab.engine.netstat.detail import ancestry, row_detail
from netlab.engine.netstat.sockdiag import tcp_details, tcp_state

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sock_diag is Linux's")


@pytest.fixture
def pair():
    """A connected loopback pair that has carried 5 bytes one way and 7 the other."""
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    client.sendall(b"hello")
    assert peer.recv(16) == b"hello"
    peer.sendall(b"goodbye")
    assert client.recv(16) == b"goodbye"
    time.sleep(0.05)  # the last ACKs
    yield client, peer
    for s in (client, peer, server):
        s.close()


def test_tcp_details_read_the_sockets_tcp_info(pair):
    client, _peer = pair
    found = tcp_details(client.getsockname(), client.getpeername())
    assert found is not None and found["state"] == "ESTABLISHED"
    assert found["state"] == tcp_state(client.getsockname(), client.getpeername())
    info = found["tcp_info"]
    assert info["bytes_acked"] == 5 + 1 and info["bytes_received"] == 7  # (the SYN counts as one acked byte)
    assert info["segs_out"] >= 3 and info["segs_in"] >= 3 and info["total_retrans"] == 0
    assert info["rtt_ms"] > 0 and info["snd_cwnd"] >= 1 and info["snd_mss"] > 0


def test_no_such_socket_is_none(pair):
    client, _peer = pair
    port = client.getsockname()[1]
    assert tcp_details(("127.0.0.1", port), ("127.0.0.1", 1)) is None


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to run a lookup as another user (setpriv)")
def test_another_users_lookup_gets_the_tcp_info_without_privileges(pair):
    """As ``ss -ti`` does for a plain user: nobody reads root's socket's tcp_info."""
    client, _peer = pair
    code = ("import sys, json; from netlab.engine.netstat.sockdiag import tcp_details; "
            f"print(json.dumps(tcp_details({client.getsockname()!r}, {client.getpeername()!r})))")
    out = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=30, cwd=os.getcwd(),
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.returncode == 0, out.stderr
    import json

    found = json.loads(out.stdout)
    assert found["state"] == "ESTABLISHED" and found["tcp_info"]["bytes_received"] == 7


def test_ancestry_runs_from_the_oldest_process_to_this_one():
    chain, error = ancestry(os.getpid())
    assert error is None
    assert chain[-1][0] == os.getpid() and chain[-2][0] == os.getppid()
    assert chain[0][0] == 1 or len(chain) >= 2
    gone, error = ancestry(2 ** 22 + 12345)
    assert gone == () and "exited" in error


def test_row_detail_of_a_real_row(pair):
    client, _peer = pair
    snap = snapshot()
    row = next(r for r in snap.rows if r.local == client.getsockname() and r.remote == client.getpeername())
    detail = row_detail(row)
    assert detail.key == row.key and detail.chain[-1][0] == os.getpid()
    assert detail.tcp_info is not None and detail.tcp_info["bytes_received"] == 7 and detail.info_error is None
    listener = row_detail(ConnRow("tcp", ("127.0.0.1", 1), None, "LISTEN", None, None))
    assert listener.tcp_info is None and "listening" in listener.info_error and "no pid" in listener.chain_error
    udp = row_detail(ConnRow("udp", ("127.0.0.1", 53), None, "NONE", os.getpid(), "python"))
    assert udp.tcp_info is None and "UDP" in udp.info_error
    waiting = row_detail(ConnRow("tcp", ("127.0.0.1", 2), ("127.0.0.1", 3), "TIME_WAIT", None, None))
    assert "TIME_WAIT" in waiting.chain_error
