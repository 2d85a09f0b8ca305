"""The lab server itself: bind, listen, accept, one thread per connection, stop.

    socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen(128)
    accept() -> a thread reads each request (reader.py), routes it (routes.py) and
    sendall()s the response (responses.py) -> the next request on the same
    connection, or close

One thread serves each connection, up to ``max_connections``. When they are all taken,
a new connection takes the place of one that is only waiting (nginx reuses its idle
connections the same way): an idle keep-alive connection first (closed quietly), else
the new or head-reading one with the lowest byte rate (it gets 503); only when every
slot is busy (a body arriving, a response being sent) does the new connection get
``503``. So clients trickling bytes, or sending none, cannot lock a prompt client out.
A request head or body larger than ``max_request_bytes`` gets 431 or 413; a connection
idle between requests for ``idle_timeout`` seconds is closed; a request head not
complete ``header_timeout`` seconds after its first byte, or a whole request
``request_timeout`` seconds after it, gets 408.
"""

from __future__ import annotations

import heapq
import selectors
import socket
import threading
import time
from typing import Any, cast

from .address import bind_address
from .reader import EVICTION_ORDER, HEAD, NEW, RECV_SIZE, Evicted, PeerClosed, Reader
from .request import RequestError
from .responses import error_text, response_head, send_response
from .routes import dispatch

LINGER_SECONDS = 2.0  # after the last response: how long to read what the client sends
HEADER_TIMEOUT = 10.0  # a request head, from its first byte (nginx: client_header_timeout)


class LabServer:
    """A small threaded HTTP/1.1 server with keep-alive, for loopback use.

    ``host`` must be a loopback address or "localhost" unless ``public=True`` (then any
    IP address); see ``bind_address``. Limits: ``max_connections`` served at once (when
    all are taken, a new connection evicts an idle one or the new or head-reading one with
    the lowest byte rate, see ``_evict_one``; only when none is waiting does it get 503),
    ``max_request_bytes`` for a request head and for its body (431 / 413),
    ``idle_timeout`` seconds between requests on a keep-alive connection (then it is
    closed) and for each read or write, ``header_timeout`` seconds for a request head and
    ``request_timeout`` seconds for one whole request, both from its first byte (408;
    None: no limit)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        idle_timeout: float = 15.0,
        max_request_bytes: int = 1 << 20,
        max_connections: int = 256,
        request_timeout: float | None = 60.0,
        header_timeout: float | None = HEADER_TIMEOUT,
        public: bool = False,
    ) -> None:
        self.host = bind_address(host, public)  # raises BindRefused: nothing is bound
        self.public = public
        self.port = port
        self.idle_timeout = idle_timeout
        self.max_request_bytes = max_request_bytes
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.header_timeout = header_timeout
        self.evictions = 0  # connections that gave up their slot to a new one
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, Reader] = {}  # each holds a slot
        self._evicted: set[socket.socket] = set()  # gave up their slot, thread still ending
        self._threads: set[threading.Thread] = set()
        self._rejected: dict[socket.socket, float] = {}  # 503'd sockets -> close deadline

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connection_count(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._connections)

    def connection_phases(self) -> dict[str, int]:
        """How many connections hold a slot in each phase: "new" (no request yet), "head"
        (a request head arriving), "busy" (its body being read, or being answered), "idle"
        (keep-alive, between requests), "closing" (after the last response)."""
        with self._lock:
            phases: dict[str, int] = {}
            for reader in self._connections.values():
                phases[reader.phase] = phases.get(reader.phase, 0) + 1
            return phases

    # -- lifecycle

    def start(self) -> LabServer:
        """Bind, listen and serve in a daemon thread; returns self."""
        if self._listener is not None:
            raise RuntimeError("LabServer already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"netlab-lab-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the listening socket and live connections, join threads."""
        listener, wake_r, wake_w, accept_thread = self._listener, self._wake_r, self._wake_w, self._accept_thread
        if listener is None or self._stopping.is_set():
            return
        assert wake_r is not None and wake_w is not None and accept_thread is not None  # start() made them
        self._stopping.set()
        try:
            wake_w.send(b"x")
        except OSError:
            pass
        if accept_thread is not threading.current_thread():
            accept_thread.join()
        listener.close()
        with self._lock:
            for conn in [*self._connections, *self._evicted]:  # the owner closes it; wake it
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5.0)
        wake_r.close()
        wake_w.close()

    def serve_forever(self) -> None:
        """Serve until stop() is called or KeyboardInterrupt; starts the server if needed."""
        if self._listener is None:
            self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- accepting

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None  # start() made them before this thread
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ, "listen")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            try:
                while not self._stopping.is_set():
                    timeout = None
                    if self._rejected:
                        timeout = max(0.0, min(self._rejected.values()) - time.monotonic())
                    for key, _ in selector.select(timeout):
                        if key.data == "listen":
                            self._accept(selector)
                        elif key.data == "rejected":
                            # "rejected" keys hold the socket itself (see _reject)
                            self._drain_rejected(selector, cast(socket.socket, key.fileobj))
                    now = time.monotonic()
                    for conn, deadline in list(self._rejected.items()):
                        if deadline <= now:
                            self._close_rejected(selector, conn)
            finally:
                for conn in list(self._rejected):
                    self._close_rejected(selector, conn)

    def _accept(self, selector: selectors.BaseSelector) -> None:
        assert self._listener is not None  # only the accept loop calls this, after start()
        try:
            conn, address = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError:  # e.g. out of file descriptors: back off a little
            self._stopping.wait(0.05)
            return
        with self._lock:
            admitted = len(self._connections) < self.max_connections or self._evict_one()
            if admitted:
                reader = Reader(conn, self.max_request_bytes, self.idle_timeout,
                                self.request_timeout, self.header_timeout, self._lock)
                reader.peek_unread()  # what it sent before accept(): a prompt client's head
                thread = threading.Thread(
                    target=self._serve_connection, args=(conn, address, reader),
                    name=f"netlab-lab-conn-{self.port}-{address[1]}", daemon=True,
                )
                self._connections[conn] = reader
                self._threads.add(thread)
        if admitted:
            thread.start()
        else:
            self._reject(selector, conn)

    def _evict_one(self) -> bool:
        """With the lock held and every slot taken: free the slot of the connection that
        is making the least progress. A connection answering an error goes first, then
        an idle keep-alive one (the longest idle), then the new or head-reading one with
        the lowest byte rate (bytes of its head so far, counting those already waiting
        when it was accepted, per second since its head began or since accept, at least
        RATE_FLOOR s), the oldest among equals: a dripping client loses to a prompt one,
        whose whole head arrives at once, even before its thread has read it. One reading
        a body or being answered is never chosen. False if every connection is busy."""
        waiting = [r for r in self._connections.values() if r.phase in EVICTION_ORDER]
        if not waiting:
            return False
        now = time.monotonic()
        ranked = heapq.nsmallest(
            8, waiting, key=lambda r: (EVICTION_ORDER[r.phase], r.progress(now), r.since)
        )
        # The ranking counts what each thread has read; one whose client has sent more
        # that its thread has not read yet (the thread is waiting for the CPU, not the
        # client) is passed over for the next.
        victim = next((r for r in ranked if r.phase not in (NEW, HEAD) or not r.peek_unread()),
                      ranked[0])
        victim.evict()
        del self._connections[victim.sock]
        self._evicted.add(victim.sock)
        self.evictions += 1
        return True

    def _reject(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        """Answer 503 without a thread; read and drop what the client sends for a while,
        so closing does not reset the connection before the client reads the answer."""
        body = b"too many connections, try again later\n"
        head = response_head(503, [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Retry-After", "1"), ("Connection", "close"),
        ])
        try:
            conn.setblocking(False)
            conn.send(head + body)  # a fresh socket's send buffer takes this at once
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        if len(self._rejected) >= self.max_connections:
            conn.close()
            return
        self._rejected[conn] = time.monotonic() + LINGER_SECONDS
        selector.register(conn, selectors.EVENT_READ, "rejected")

    def _drain_rejected(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        try:
            if conn.recv(RECV_SIZE):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close_rejected(selector, conn)

    def _close_rejected(self, selector: selectors.BaseSelector, conn: socket.socket) -> None:
        self._rejected.pop(conn, None)
        try:
            selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    # -- one connection

    def _serve_connection(self, conn: socket.socket, address: tuple[Any, ...], reader: Reader) -> None:
        linger = False
        try:
            conn.settimeout(self.idle_timeout)
            while not self._stopping.is_set():
                if not reader.wait_for_request():
                    break  # client closed, or idle for idle_timeout
                try:
                    request = reader.read_request(address)
                except RequestError as error:
                    self._send_error(conn, error.status, error.reason)
                    linger = True
                    break
                except TimeoutError:
                    self._send_error(conn, 408, "timed out waiting for the rest of the request")
                    linger = True
                    break
                if not send_response(conn, request, dispatch(request, self._stopping), self._stopping):
                    linger = True
                    break
        except Evicted:  # another connection has this slot now
            if reader.phase == HEAD:
                self._send_evicted(conn)
        except (OSError, PeerClosed):
            pass  # reset by the client, or shut down by stop()
        finally:
            if linger:
                reader.closing()
                linger_close(conn)
            with self._lock:
                self._connections.pop(conn, None)
                self._evicted.discard(conn)
                self._threads.discard(threading.current_thread())
            conn.close()

    def _send_evicted(self, conn: socket.socket) -> None:
        """A 503 for a request head cut off to make room (never waits: the client may not
        be reading), then the connection is closed without lingering."""
        body = error_text(503, "the server is full and this request head was the slowest "
                               "to arrive; another connection took its place").encode()
        try:
            conn.setblocking(False)
            conn.send(response_head(503, [
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                ("Retry-After", "1"), ("Connection", "close"),
            ]) + body)
        except OSError:
            pass

    def _send_error(self, conn: socket.socket, status: int, reason: str) -> None:
        body = error_text(status, reason).encode()
        conn.sendall(response_head(status, [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Connection", "close"),
        ]) + body)


def linger_close(conn: socket.socket) -> None:
    """Half-close, then read what the client still sends (for up to LINGER_SECONDS),
    so that closing with unread data does not reset the connection (RST) before the
    client has read our last response."""
    deadline = time.monotonic() + LINGER_SECONDS
    try:
        conn.shutdown(socket.SHUT_WR)
        while (remaining := deadline - time.monotonic()) > 0:
            conn.settimeout(remaining)
            if not conn.recv(RECV_SIZE):
                break
    except OSError:
        pass
