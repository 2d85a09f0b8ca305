"""The lab server's connections (netlab/lab/server.py): keep-alive, idle and request
timeouts, the connection cap, stop(), IPv6; and the package's own rule: standard library only."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from netlab.lab import LabServer
from tests.lab.client import (
    CURL,
    TIMEOUT,
    RawClient,
    curl,
    dripping,
    exchange,
    get,
    needs_curl,
    split_response,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------- keep-alive


def test_two_requests_on_one_socket(server):
    client = RawClient(server)
    try:
        for _ in range(2):
            client.send(get("/ip"))
            status, headers, body = client.read_response()
            assert (status, body) == (200, b"127.0.0.1\n")
            assert "connection" not in headers
        client.send(get("/ip", "Connection: close\r\n"))
        status, headers, body = client.read_response()
        assert headers["connection"] == "close"
        assert client.read_until_close() == b""
    finally:
        client.close()


def test_http10_closes_unless_keep_alive(server):
    data = exchange(server, b"GET /ip HTTP/1.0\r\n\r\n")
    status_line, headers, body = split_response(data)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert body == b"127.0.0.1\n"

    client = RawClient(server)
    try:
        client.send(b"GET /ip HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, body = client.read_response()
        assert headers["connection"] == "keep-alive"
        client.send(b"GET /ip HTTP/1.0\r\n\r\n")
        assert client.read_response()[2] == b"127.0.0.1\n"
        assert client.read_until_close() == b""
    finally:
        client.close()


@needs_curl
def test_curl_reuses_the_connection(server):
    result = curl(
        "-w", "%{num_connects} %{local_port}\\n", "-o", "/dev/null", "-o", "/dev/null",
        server.url + "/ip", server.url + "/headers",
    )
    (first_connects, first_port), (second_connects, second_port) = (
        line.split() for line in result.stdout.decode().splitlines()
    )
    assert (first_connects, second_connects) == ("1", "0")
    assert first_port == second_port


def test_idle_connection_is_closed():
    with LabServer(idle_timeout=0.2) as lab:
        client = RawClient(lab)
        try:
            client.send(get("/ip"))
            assert client.read_response()[0] == 200
            assert client.read_until_close() == b""  # closed by the server, not by TIMEOUT
        finally:
            client.close()


def test_partial_request_times_out_with_408():
    with LabServer(idle_timeout=0.2) as lab:
        client = RawClient(lab)
        try:
            client.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\n")
            status, headers, _ = client.read_response()
            assert status == 408
            assert headers["connection"] == "close"
        finally:
            client.close()


# ------------------------------------------------------------- limits and lifecycle


def test_connections_beyond_the_cap_get_503_when_every_slot_is_busy():
    with LabServer(max_connections=1) as lab:
        first = RawClient(lab)
        try:
            first.send(get("/stream/2?delay_ms=60000"))
            assert first.read_head()[0] == 200  # its thread is answering it (until stop)
            status_line, headers, body = split_response(exchange(lab, get("/ip")))
            assert status_line == "HTTP/1.1 503 Service Unavailable"
            assert headers["connection"] == "close"
            assert lab.connection_count == 1 and lab.evictions == 0
            assert first.read_line() == b"%x" % len(b'{"id": 0, "line": "line 1 of 2"}\n')
        finally:
            first.close()



def test_a_new_connection_takes_the_slot_of_an_idle_keep_alive_one():
    """As nginx reuses idle keep-alive connections when it runs out: the idle one is closed
    quietly (a keep-alive client retries on a new connection) instead of a 503."""
    with LabServer(max_connections=1) as lab:
        first = RawClient(lab)
        try:
            first.send(get("/ip"))
            assert first.read_response()[0] == 200
            wait_for(lambda: lab.connection_phases() == {"idle": 1}, "idle")
            response = split_response(exchange(lab, get("/ip", "Connection: close\r\n")))
            assert (response[0], response[2]) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
            assert first.read_until_close() == b""  # closed, without a response
            assert lab.evictions == 1
        finally:
            first.close()


def test_many_concurrent_clients(server):
    results = []

    def fetch():
        results.append(split_response(exchange(server, get("/ip", "Connection: close\r\n")))[2])

    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [b"127.0.0.1\n"] * 20


def test_stop_closes_live_connections_and_ends_waiting_handlers():
    lab = LabServer().start()
    idle, waiting = RawClient(lab), RawClient(lab)
    try:
        idle.send(get("/ip"))
        assert idle.read_response()[0] == 200
        waiting.send(get("/stream/2?delay_ms=60000"))
        assert waiting.read_head()[0] == 200
        first_chunk = waiting.read_exact(int(waiting.read_line(), 16) + 2)
        assert json.loads(first_chunk)["id"] == 0  # its handler now waits 60 s
        lab.stop()
        assert idle.read_until_close() == b""
        assert waiting.read_until_close() == b""  # the stream was cut, not finished
        prefix = f"netlab-lab-conn-{lab.port}-"
        assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]
        assert lab.connection_count == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", lab.port), timeout=TIMEOUT)
    finally:
        idle.close()
        waiting.close()
    lab.stop()  # idempotent


def test_stop_without_start_is_harmless():
    LabServer().stop()


def test_url_and_port():
    with LabServer() as lab:
        assert lab.port > 0
        assert lab.url == f"http://127.0.0.1:{lab.port}"


def test_ipv6_loopback():
    try:
        lab = LabServer("::1").start()
    except OSError as error:
        pytest.skip(f"cannot bind ::1 on this machine: {error}")
    try:
        assert lab.url == f"http://[::1]:{lab.port}"
        status_line, _, body = split_response(exchange(lab, get("/ip", "Connection: close\r\n")))
        assert status_line == "HTTP/1.1 200 OK"
        assert body == b"::1\n"
        if os.path.exists(CURL):
            assert curl("-g", lab.url + "/ip").stdout == b"::1\n"
    finally:
        lab.stop()


# ------------------------------------------------------------- request deadlines


def test_request_trickled_past_the_request_timeout_gets_408():
    """Bytes arrive faster than the idle timeout, but the request never ends."""
    with LabServer(idle_timeout=2.0, request_timeout=0.5) as lab:
        client = RawClient(lab)
        try:
            with dripping(client):
                status, headers, body = client.read_response()
            assert status == 408
            assert headers["connection"] == "close"
            assert b"did not arrive within 0.5 s" in body
        finally:
            client.close()


def test_request_timeout_does_not_bound_writing_the_response():
    """A request that arrived in pieces (the read timeout was cut to the request deadline)
    is answered under the idle timeout: a client slow to read still gets the whole body."""
    n = 32 << 20  # more than the loopback socket buffers hold
    with LabServer(idle_timeout=10.0, request_timeout=1.0) as lab:
        client = RawClient(lab)
        try:
            client.send(f"GET /bytes/{n} HTTP/1.1\r\n".encode())
            threading.Event().wait(0.05)
            client.send(b"Host: lab\r\nConnection: close\r\n\r\n")
            threading.Event().wait(2.5)  # not reading: the server's sendall waits meanwhile
            status, headers = client.read_head()
            received = len(client.buf)
            while data := client.sock.recv(1 << 20):
                received += len(data)
            assert (status, received) == (200, n)
        finally:
            client.close()


def test_request_timeout_does_not_cut_an_idle_keep_alive_wait_short():
    """The request deadline runs from a request's first byte, not across the idle wait."""
    with LabServer(idle_timeout=5.0, request_timeout=0.3) as lab:
        client = RawClient(lab)
        try:
            client.send(get("/ip"))
            assert client.read_response()[0] == 200
            threading.Event().wait(0.6)  # idle longer than request_timeout, shorter than idle_timeout
            client.send(get("/ip"))
            assert client.read_response()[2] == b"127.0.0.1\n"
        finally:
            client.close()


# ------------------------------------------------------- standard library only


def test_standard_library_only():
    """Importing the lab server pulls in nothing outside the standard library and netlab.lab
    (not even the client engine), and its files import nothing else, lazily or not."""
    code = (
        "import sys, netlab.lab; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich', 'h11'}), "
        "sorted(m for m in sys.modules if m.startswith('netlab.') and not m.startswith('netlab.lab')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=30, check=True)
    assert result.stdout.strip() == "[] []"
    imported = set()
    for path in (REPO / "netlab" / "lab").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:  # relative: netlab.lab itself
                imported.add((node.module or "").split(".")[0])
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}
