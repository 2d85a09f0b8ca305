"""What a client library really writes and reads at its socket, recorded in-process.

Each client opens its own sockets in its own way; right after it connected (and, for
https, finished the TLS handshake) the socket is handed to ``Recorder.adopt``, which
changes the socket object's class, in place, to a subclass of its own class whose
``send``/``sendall``/``write`` and ``recv``/``recv_into``/``read`` note the bytes and
call the real method.  Nothing else changes: the same file descriptor, timeout and TLS
state, and the library's code path is its own.  On a TLS socket the bytes noted are the
plaintext (what goes into and comes out of the TLS layer), never the ciphertext.

Only the outermost call is noted (``SSLSocket.sendall`` calls ``send``, ``recv_into``
calls ``read``): a byte is recorded once."""

from __future__ import annotations

import itertools
import socket
import ssl
from typing import Any, Callable


class Connection:
    """One connection a client opened: the bytes it wrote (each write with its order
    among every write of the recorder) and read, and its TLS facts."""

    __slots__ = ("index", "writes", "reads", "depth", "tls", "recorded", "_order")

    def __init__(self, index: int, order: itertools.count, tls: tuple[str, str] | None, recorded: bool) -> None:
        self.index = index
        self.writes: list[tuple[int, bytes]] = []  # (order among all writes, bytes)
        self.reads: list[bytes] = []
        self.depth = 0  # > 0 inside a recorded call: nested calls are not noted again
        self.tls = tls  # (version, cipher) of a TLS connection
        self.recorded = recorded  # False: a socket object of a kind we cannot watch
        self._order = order

    @property
    def written(self) -> bytes:
        return b"".join(data for _, data in self.writes)

    @property
    def read(self) -> bytes:
        return b"".join(self.reads)

    def note_write(self, data: bytes) -> None:
        if data:
            self.writes.append((next(self._order), data))

    def note_read(self, data: bytes) -> None:
        if data:
            self.reads.append(data)


class Recorder:
    """The connections of one client's run, in the order they were opened."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self._order = itertools.count()

    def adopt(self, sock: Any) -> None:
        """Record everything ``sock`` sends and receives from now on."""
        tls = None
        if isinstance(sock, ssl.SSLSocket):
            cipher = sock.cipher()
            tls = (sock.version() or "?", cipher[0] if cipher else "?")
        recorded = isinstance(sock, socket.socket)
        conn = Connection(len(self.connections), self._order, tls, recorded)
        self.connections.append(conn)
        if recorded:
            # named as its own class: a socket's repr (in some error messages) stays the same
            sock.__class__ = type(type(sock).__name__, (_Recording, type(sock)),
                                  {"__slots__": (), "_netlab_conn": conn})


def _view(data: Any) -> memoryview:
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _outgoing(conn: Connection, call: Callable[..., Any], data: Any, args: tuple) -> Any:
    if conn.depth:
        return call(data, *args)
    conn.depth += 1
    try:
        result = call(data, *args)
    finally:
        conn.depth -= 1
    view = _view(data)
    conn.note_write(bytes(view if result is None else view[:result]))  # sendall returns None: all of it
    return result


def _incoming(conn: Connection, call: Callable[..., Any], args: tuple, buffer: Any = None) -> Any:
    if conn.depth:
        return call(*args)
    conn.depth += 1
    try:
        result = call(*args)
    finally:
        conn.depth -= 1
    if isinstance(result, int):  # recv_into / read into a buffer: the count
        conn.note_read(bytes(_view(buffer)[:result]))
    else:
        conn.note_read(bytes(result))
    return result


class _Recording:
    """Mixed in front of a socket's own class (socket.socket or ssl.SSLSocket)."""

    __slots__ = ()
    _netlab_conn: Connection

    def send(self, data, *args):
        return _outgoing(self._netlab_conn, super().send, data, args)

    def sendall(self, data, *args):
        return _outgoing(self._netlab_conn, super().sendall, data, args)

    def write(self, data):  # ssl.SSLSocket only
        return _outgoing(self._netlab_conn, super().write, data, ())

    def recv(self, *args):
        return _incoming(self._netlab_conn, super().recv, args)

    def recv_into(self, buffer, *args):
        return _incoming(self._netlab_conn, super().recv_into, (buffer, *args), buffer)

    def read(self, *args):  # ssl.SSLSocket only: read(len, buffer=None)
        buffer = args[1] if len(args) > 1 else None
        return _incoming(self._netlab_conn, super().read, args, buffer)
