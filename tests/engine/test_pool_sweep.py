"""The keep-alive pool closes its end of a connection the peer closed (no CLOSE_WAIT left).

When a server closes an idle keep-alive connection, the kernel moves our end to
CLOSE_WAIT and keeps it there until we close it.  ``Engine.sweep()`` finds such idle
sockets (one poll with timeout 0) and closes them; live ones stay pooled and are reused.
Real peers on loopback: the lab server with a short idle timeout (``closing_lab``), and
``tcp_peer`` scripted as a TCP and as a TLS peer.  psutil shows the kernel's view of this process's sockets.
"""

from __future__ import annotations

import ssl
import threading
import time

import pytest

from netlab.engine import Engine, Options, Request
from tests.conftest import HANG_GUARD, read_request_head, tcp_state

OK_KEEP_ALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def wait_until(condition, what: str) -> None:
    end = time.monotonic() + HANG_GUARD
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def fresh_engine():
    with Engine() as e:
        yield e


def pooled_pair(engine: Engine, url: str):
    ex = engine.send(Request.from_url(url))
    assert ex.ok and ex.keep_alive, ex.error
    pair = (tuple(ex.connection.local), tuple(ex.connection.remote))
    assert engine.own_sockets() == {pair}
    return pair


def test_sweep_closes_the_socket_the_lab_server_closed(closing_lab, fresh_engine):
    pair = pooled_pair(fresh_engine, closing_lab.url + "/ip")
    # The server's idle timeout runs out and it closes: our end is left in CLOSE_WAIT.
    wait_until(lambda: tcp_state(*pair) == "CLOSE_WAIT", "the server to close the idle connection")
    assert tcp_state(*pair) == "CLOSE_WAIT"  # the state the sweep is for: it stays until we close

    assert fresh_engine.sweep() == 1
    assert fresh_engine.own_sockets() == set()
    assert tcp_state(*pair) != "CLOSE_WAIT"  # closed by us: gone, or LAST_ACK for a moment
    assert fresh_engine.sweep() == 0  # nothing left to sweep

    again = fresh_engine.send(Request.from_url(closing_lab.url + "/ip"))
    assert again.ok and not again.connection.reused  # the pool did not hand out the dead one


def test_sweep_keeps_a_live_connection_for_reuse(lab_server, fresh_engine):
    pair = pooled_pair(fresh_engine, lab_server.url + "/ip")
    assert fresh_engine.sweep() == 0
    assert tcp_state(*pair) == "ESTABLISHED"
    ex = fresh_engine.send(Request.from_url(lab_server.url + "/ip"))
    assert ex.ok and ex.connection.reused and tuple(ex.connection.local) == pair[0]


def test_sweep_only_closes_the_dead_ones(closing_lab, lab_server, fresh_engine):
    dead = pooled_pair(fresh_engine, closing_lab.url + "/ip")
    live_ex = fresh_engine.send(Request.from_url(lab_server.url + "/ip"))
    live = (tuple(live_ex.connection.local), tuple(live_ex.connection.remote))
    wait_until(lambda: tcp_state(*dead) == "CLOSE_WAIT", "the short-idle server to close")
    assert fresh_engine.sweep() == 1
    assert fresh_engine.own_sockets() == {live}
    assert tcp_state(*live) == "ESTABLISHED" and tcp_state(*dead) != "CLOSE_WAIT"


def test_sweep_closes_a_connection_with_stray_bytes(tcp_peer, fresh_engine):
    """A peer that writes while the connection is idle: not reusable (the bytes would be
    read as the next response), so the sweep closes it, as the check before reuse does."""
    wrote = threading.Event()

    def handler(conn, peer):
        conn.sendall(OK_KEEP_ALIVE)
        time.sleep(0.05)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # nobody asked
        wrote.set()
        peer.stop.wait(HANG_GUARD)

    peer = tcp_peer(handler)
    pair = pooled_pair(fresh_engine, peer.url + "/")
    assert wrote.wait(HANG_GUARD)
    wait_until(lambda: fresh_engine.sweep() == 1, "the sweep to see the stray bytes")
    assert fresh_engine.own_sockets() == set()
    assert tcp_state(*pair) != "ESTABLISHED"


def test_sweep_closes_a_tls_connection_the_server_closed(tmp_path, tcp_peer, fresh_engine):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    close_now = threading.Event()

    def handler(conn, peer):
        with ctx.wrap_socket(conn, server_side=True) as tls:
            read_request_head(tls)
            tls.sendall(OK_KEEP_ALIVE)
            close_now.wait(HANG_GUARD)  # then the server's idle timeout: it closes

    peer = tcp_peer(handler, read_request=False)  # the handler reads the head inside TLS
    opts = Options(cafile=str(ca_path))
    ex = fresh_engine.send(Request.from_url(f"https://localhost:{peer.port}/"), options=opts)
    assert ex.ok and ex.keep_alive and ex.tls is not None, ex.error
    pair = (tuple(ex.connection.local), tuple(ex.connection.remote))
    assert fresh_engine.sweep() == 0  # idle and alive (after any session tickets were read)
    close_now.set()
    wait_until(lambda: tcp_state(*pair) in ("CLOSE_WAIT", None), "the TLS server to close")
    assert fresh_engine.sweep() == 1
    assert fresh_engine.own_sockets() == set()
    assert tcp_state(*pair) != "CLOSE_WAIT"


def test_sweep_on_an_empty_or_closed_engine():
    engine = Engine()
    assert engine.sweep() == 0
    engine.close()
    assert engine.sweep() == 0
