"""netlab.engine.stack below the command line: the recorded streams cut into requests and
responses (byte-level framing, so mock streams are fine here), the header marks, and the
recorder on a real socket pair."""

from __future__ import annotations

import socket
import threading

from netlab.engine.stack import header_marks, run_stack
from netlab.engine.stack.record import Recorder
from netlab.engine.stack.wire import split_requests, split_responses


def test_requests_split_at_their_blank_line_and_content_length():
    a = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    b = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    c = b"GET /partial HTTP/1.1\r\nHo"
    assert split_requests(a + b + c) == [(0, a), (len(a), b), (len(a + b), c)]


def test_responses_framed_by_length_chunked_head_and_close():
    one = b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc"
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    two = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n"
    three = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"  # a HEAD: no body though it says 10
    four = b"HTTP/1.1 200 OK\r\n\r\nuntil the close"
    got = split_responses(one + interim + two + three + four, ["GET", "GET", "HEAD", "GET"])
    assert [(r.status, r.body) for r in got] == [(302, b"abc"), (200, b"abcde"), (200, b""),
                                                 (200, b"until the close")]
    assert got[1].head == two[:two.index(b"\r\n\r\n") + 4] and got[1].framed.endswith(b"0\r\nT: v\r\n\r\n")
    assert split_responses(b"HTTP/1.1 50", ["GET"])[0].status is None  # cut short: kept as it is


def test_header_marks_against_the_seed():
    seed = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    mine = b"GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\nconnection: keep-alive\r\n\r\n"
    assert header_marks(mine, seed) == [("~", b"GET /x HTTP/1.1"), (" ", b"Host: h"), ("+", b"User-Agent: u"),
                                        ("~", b"connection: keep-alive")]
    assert header_marks(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", seed)[-1] == ("-", b"Connection: close")


def test_the_recorder_keeps_what_a_socket_wrote_and_read_in_order():
    a, b = socket.socketpair()
    with a, b:
        rec = Recorder()
        rec.adopt(a)
        a.sendall(b"one")
        a.send(b"two")
        b.sendall(b"back")
        buf = bytearray(10)
        n = a.recv_into(buf)
        assert bytes(buf[:n]) == b"back"
        assert b.recv(10) == b"onetwo"  # the bytes still went out
        conn = rec.connections[0]
        assert conn.written == b"onetwo" and conn.read == b"back"
        assert [order for order, _ in conn.writes] == [0, 1] and conn.tls is None


def test_a_refused_connection_is_each_clients_error():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    results = run_stack(f"127.0.0.1:{port}/", timeout=2, clients=("socket", "http.client"))
    assert [r.client for r in results] == ["socket", "http.client"]
    assert all(r.error and "refused" in r.error.lower() for r in results)


def test_urllib3_retries_a_read_timeout_three_times_by_default():
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        [r] = run_stack(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.2, clients=("urllib3",))
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert r.connections == 4 and len(r.requests) == 4 and r.statuses == ()  # Retry(3): 1 + 3
    assert r.error.startswith("MaxRetryError: HTTPConnectionPool(") and "Read timed out" in r.error
