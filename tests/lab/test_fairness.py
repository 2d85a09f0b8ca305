"""Issue 12.9: slow clients cannot lock others out of the lab server.

A server with a thread per connection has a fixed number of slots. Clients that open
connections and then send a request head one byte at a time (or nothing at all) can take
every slot; the lab server used to answer everyone else 503 for as long as they kept it
up. Now a request head has its own deadline (``header_timeout``, nginx's
client_header_timeout) and a full server gives a new connection the slot of the one
making the least progress (an idle keep-alive one first, then the slowest head) instead
of refusing the new one.

Everything here is deterministic: the slow clients are raw sockets driven by one thread,
the tests wait for conditions under a generous guard, and no assertion reads a clock.
"""

from __future__ import annotations

import resource
import selectors
import socket
import threading

import pytest

from netlab.lab import LabServer
from tests.lab.client import TIMEOUT, RawClient, dripping, exchange, get, split_response, wait_for

SLOTS = 32
SLOW = 64  # slow clients: twice the slots


@pytest.fixture(autouse=True)
def _enough_descriptors():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 8 * SLOW:
        pytest.skip(f"ulimit -n is {soft}: these tests open about {4 * SLOW} sockets")


class SlowClients:
    """``n`` connections to ``lab`` that each send one byte of a request head that never
    ends, every ``interval`` seconds (``silent``: connect and send nothing), from one
    thread. They do not reconnect. What each receives is kept; close() closes them all."""

    HEAD = b"GET /ip HTTP/1.1\r\nHost: lab\r\nX-Pad: " + b"a" * 100_000

    def __init__(self, lab: LabServer, n: int, interval: float = 0.1, silent: bool = False) -> None:
        self.interval = interval
        self.silent = silent
        self.lock = threading.Lock()
        self.socks: list[socket.socket] = []
        self.sent = [0] * n
        self.received = [b""] * n
        self.closed = [False] * n
        self._stop = threading.Event()
        try:
            for _ in range(n):
                sock = socket.create_connection((lab.host, lab.port), timeout=TIMEOUT)
                sock.setblocking(False)
                self.socks.append(sock)
        except BaseException:
            self.close()
            raise
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            for i, sock in enumerate(self.socks):
                selector.register(sock, selectors.EVENT_READ, i)
            while not self._stop.is_set():
                for i, sock in enumerate(self.socks):  # one byte each
                    if self.closed[i] or self.silent:
                        continue
                    try:
                        self.sent[i] += sock.send(self.HEAD[self.sent[i]:self.sent[i] + 1])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self._closed(selector, i)
                for key, _ in selector.select(self.interval):  # then wait, reading answers
                    i = key.data
                    try:
                        data = self.socks[i].recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    with self.lock:
                        self.received[i] += data
                    if not data:
                        self._closed(selector, i)

    def _closed(self, selector: selectors.BaseSelector, i: int) -> None:
        with self.lock:
            self.closed[i] = True
        try:
            selector.unregister(self.socks[i])
        except (KeyError, ValueError):
            pass

    def closed_count(self) -> int:
        with self.lock:
            return sum(self.closed)

    def answers(self) -> list[bytes]:
        """The first line of what each closed connection received (b"" if nothing)."""
        with self.lock:
            return [self.received[i].split(b"\r\n", 1)[0] for i in range(len(self.socks))
                    if self.closed[i]]

    def is_open(self, i: int) -> bool:
        with self.lock:
            return not self.closed[i]

    def close(self) -> None:
        self._stop.set()
        if hasattr(self, "_thread"):
            self._thread.join(TIMEOUT)
        for sock in self.socks:
            sock.close()


@pytest.fixture
def closing():
    """Things to close after the test, whatever happens."""
    things: list = []
    yield things
    for thing in reversed(things):
        thing.stop() if isinstance(thing, LabServer) else thing.close()


def ok_ip(lab: LabServer) -> tuple[str, bytes]:
    status_line, _, body = split_response(exchange(lab, get("/ip", "Connection: close\r\n")))
    return status_line, body


# ------------------------------------------------------------------ the lock-out


@pytest.mark.parametrize("silent", [False, True], ids=["dripping", "silent"])
def test_normal_requests_are_served_while_slow_clients_fill_every_slot(closing, silent):
    """Twice as many slow clients as slots; every normal request still gets 200."""
    lab = LabServer(max_connections=SLOTS).start()
    closing.append(lab)
    slow = SlowClients(lab, SLOW, silent=silent)
    closing.append(slow)
    # Every slow connection has been accepted: the slots are full of them, the rest were
    # turned away (each evicted an older one; before the fix, 503).
    wait_for(lambda: slow.closed_count() == SLOW - SLOTS and lab.connection_count == SLOTS,
             "full of slow clients")
    phase = "new" if silent else "head"
    wait_for(lambda: lab.connection_phases() == {phase: SLOTS}, f"all {phase}")
    for _ in range(10):
        assert ok_ip(lab) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
    # The first normal request took the slot of a slow client (later ones may find the
    # slot of an earlier one free, or take it while it closes); none was refused.
    wait_for(lambda: slow.closed_count() > SLOW - SLOTS, "a slow client closed")
    assert lab.evictions > SLOW - SLOTS
    answers = slow.answers()
    if silent:  # a connection that has sent nothing is closed without a word
        assert set(answers) == {b""}
    else:  # one cut off inside its head is told why
        assert b"HTTP/1.1 503 Service Unavailable" in answers
        assert set(answers) <= {b"", b"HTTP/1.1 503 Service Unavailable"}


def test_without_eviction_the_same_slow_clients_lock_everyone_out(closing, monkeypatch):
    """The control: the same load with eviction switched off is the reported bug (503)."""
    monkeypatch.setattr(LabServer, "_evict_one", lambda self: False)
    lab = LabServer(max_connections=SLOTS).start()
    closing.append(lab)
    slow = SlowClients(lab, SLOW)
    closing.append(slow)
    wait_for(lambda: slow.closed_count() == SLOW - SLOTS and lab.connection_count == SLOTS,
             "full of slow clients")
    assert ok_ip(lab)[0] == "HTTP/1.1 503 Service Unavailable"


# -------------------------------------------------------------- which one goes


def test_an_idle_keep_alive_connection_goes_before_a_slow_head(closing):
    lab = LabServer(max_connections=2).start()
    closing.append(lab)
    slow = SlowClients(lab, 1)
    closing.append(slow)
    idle = RawClient(lab)
    closing.append(idle)
    idle.send(get("/ip"))
    assert idle.read_response()[0] == 200
    wait_for(lambda: lab.connection_phases() == {"head": 1, "idle": 1}, "one head, one idle")
    assert ok_ip(lab) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
    assert idle.read_until_close() == b""  # closed quietly: a keep-alive client reconnects
    assert slow.is_open(0)


def test_the_slowest_head_goes_first(closing):
    """Of two unfinished heads, the one with the lower byte rate gives up its slot (and
    is told so with a 503); the other one finishes and is served."""
    lab = LabServer(max_connections=2).start()
    closing.append(lab)
    fast = RawClient(lab)
    closing.append(fast)
    fast.send(b"GET /ip HTTP/1.1\r\nHost: lab\r\nX-Pad: " + b"a" * 2000 + b"\r\n")
    slow = SlowClients(lab, 1, interval=1.0)
    closing.append(slow)
    wait_for(lambda: lab.connection_phases() == {"head": 2}, "two heads arriving")
    assert ok_ip(lab) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
    wait_for(lambda: slow.closed_count() == 1, "the slow head closed")
    assert slow.answers() == [b"HTTP/1.1 503 Service Unavailable"]
    fast.send(b"Connection: close\r\n\r\n")
    assert fast.read_response()[::2] == (200, b"127.0.0.1\n")


def test_a_request_whose_body_is_arriving_is_never_evicted(closing):
    lab = LabServer(max_connections=1).start()
    closing.append(lab)
    upload = RawClient(lab)
    closing.append(upload)
    upload.send(b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 10\r\n\r\nhello")
    wait_for(lambda: lab.connection_phases() == {"busy": 1}, "reading the body")
    assert ok_ip(lab)[0] == "HTTP/1.1 503 Service Unavailable"
    upload.send(b"world")
    status, _, body = upload.read_response()
    assert status == 200 and body.endswith(b"\r\n\r\nhelloworld")
    assert lab.evictions == 0


# ------------------------------------------------------------- the head deadline


def test_a_head_trickled_past_the_header_timeout_gets_408(closing):
    """Each line arrives well within the idle timeout and no whole-request deadline is
    set: only the head's own deadline ends it."""
    lab = LabServer(idle_timeout=5.0, request_timeout=None, header_timeout=0.5).start()
    closing.append(lab)
    client = RawClient(lab)
    closing.append(client)
    with dripping(client):
        status, headers, body = client.read_response()
    assert status == 408 and headers["connection"] == "close"
    assert b"the request head did not arrive within 0.5 s" in body


def test_the_header_timeout_does_not_bound_the_body(closing):
    """The head arrives at once; the body, slower than header_timeout, is still read."""
    lab = LabServer(idle_timeout=5.0, request_timeout=30.0, header_timeout=0.2).start()
    closing.append(lab)
    client = RawClient(lab)
    closing.append(client)
    client.send(b"POST /echo HTTP/1.1\r\nHost: lab\r\nContent-Length: 4\r\n\r\n")
    for byte in b"body":
        threading.Event().wait(0.1)  # four pieces: together longer than header_timeout
        client.send(bytes([byte]))
    status, _, body = client.read_response()
    assert status == 200 and body.endswith(b"\r\n\r\nbody")


def test_the_header_timeout_runs_from_a_heads_first_byte_not_across_an_idle_wait(closing):
    lab = LabServer(idle_timeout=5.0, header_timeout=0.2).start()
    closing.append(lab)
    client = RawClient(lab)
    closing.append(client)
    client.send(get("/ip"))
    assert client.read_response()[0] == 200
    threading.Event().wait(0.5)  # idle longer than header_timeout, shorter than idle_timeout
    client.send(get("/ip"))
    assert client.read_response()[2] == b"127.0.0.1\n"


def test_header_timeout_none_means_no_head_deadline():
    with LabServer(header_timeout=None) as lab:
        assert lab.header_timeout is None
        assert ok_ip(lab) == ("HTTP/1.1 200 OK", b"127.0.0.1\n")
