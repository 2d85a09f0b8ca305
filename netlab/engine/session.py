"""The Engine: resolve → connect → TLS → send → receive, one step at a time, in the open.

``Engine.send`` is blocking and thread-safe.  Each step emits an event (see events.py)
through ``on_event`` and adds to the returned ``Exchange``; a failure stops the steps,
is recorded as ``exchange.error`` (a NetlabError naming its phase), and everything
received up to then stays in the exchange.  Idle connections are kept per origin and
reused for the next request unless either side said ``Connection: close``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from netlab.engine import defaults
from netlab.engine import events as ev
from netlab.engine.errors import NetlabError
from netlab.engine.http1 import (
    MAX_HEADERS,
    SPILL_BYTES,
    BodyBytes,
    FinalHead,
    InterimHead,
    Response,
    ResponseReader,
    Step,
)
from netlab.engine.request import Request
from netlab.engine.resolve import Pin, Resolution, parse_pin, resolve
from netlab.engine.transport import Conn, TLSInfo, idle_dead, open_tcp, open_unix, start_tls

__all__ = ["Engine", "Options", "Exchange", "Timings", "ConnectionInfo", "CancelToken"]

RECV_SIZE = 256 * 1024
HEAD_TIMEOUT = defaults.HEAD_TIMEOUT  # s: Options.head_timeout's default, request sent -> final head received
DEFAULT_MAX_BODY = defaults.MAX_BODY
TEXT_BODY_LIMIT = defaults.TEXT_BODY_LIMIT  # --json carries the body as text up to this size


@dataclass(frozen=True, slots=True)
class Options:
    timeout: float = defaults.TIMEOUT  # connect, and each read
    deadline: float | None = None  # whole exchange (like curl --max-time)
    head_timeout: float | None = HEAD_TIMEOUT  # request sent -> whole response head received; None: no limit
    insecure: bool = False
    cafile: str | None = None
    resolve: tuple[Pin, ...] = ()
    unix_socket: str | None = None
    dns_server: tuple[str, int] | None = None
    max_header_bytes: int = defaults.MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS  # header lines in one head (curl's limit)
    max_body_bytes: int | None = DEFAULT_MAX_BODY
    spill_bytes: int = SPILL_BYTES
    reuse: bool = True
    keylog: str | None = None  # append the TLS session keys here (SSLKEYLOGFILE format), for Wireshark

    def with_pins(self, *texts: str) -> "Options":
        return replace(self, resolve=self.resolve + tuple(parse_pin(t) for t in texts))

    def checked(self, names: dict[str, str] | None = None) -> "Options":
        """These options when every value is within its rule (netlab/limits.py: finite,
        positive where it must be, bounded); else NetlabError("usage") naming the option
        (by ``names[field]`` when given, e.g. {"deadline": "--max-time"}) and the value."""
        from netlab.limits import OptionValueError, check_options

        try:
            return check_options(self, names)
        except OptionValueError as exc:
            raise NetlabError("usage", str(exc)) from None


@dataclass(slots=True)
class Timings:
    dns: float = 0.0
    connect: float = 0.0
    tls: float = 0.0
    send: float = 0.0
    ttfb: float = 0.0
    download: float = 0.0
    total: float = 0.0

    def to_dict(self) -> dict:
        return {k: round(getattr(self, k), 3) for k in ("dns", "connect", "tls", "send", "ttfb", "download", "total")}


@dataclass(slots=True)
class ConnectionInfo:
    family: str
    local: tuple[str, int]
    remote: tuple[str, int]
    reused: bool
    rtt_ms: float | None

    def to_dict(self) -> dict:
        return {"family": self.family, "local": list(self.local), "remote": list(self.remote),
                "reused": self.reused, "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 3)}


@dataclass(slots=True, eq=False)
class Exchange:
    request: Request
    options: Options
    dns: Resolution | None = None
    connection: ConnectionInfo | None = None
    tls: TLSInfo | None = None
    response: Response | None = None
    timings: Timings = field(default_factory=Timings)
    error: NetlabError | None = None
    started: float = 0.0  # wall clock (time.time()) when the send began
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (address, why it failed)
    bytes_received: int = 0
    keep_alive: bool = False  # the connection went back to the pool
    # The kernel's struct tcp_info at the exchange's end: its bytes (parsed when read) or,
    # for an exchange from the history, the parsed numbers.
    tcp_info_raw: bytes | dict | None = None
    # Following redirects (netlab.engine.redirects.follow): the hops before this exchange, in
    # order, each a whole exchange ([]: none were needed); None: this send did not follow them.
    redirects: list[Exchange] | None = None
    # What following or the cookie jar did to this exchange's request (a method changed to GET,
    # credentials dropped for a new origin, a Cookie header added); None: neither was in play.
    notes: list[str] | None = None

    @property
    def tcp_info(self) -> dict | None:
        """rtt, cwnd, MSS, retransmits, segments and bytes of the exchange's connection
        (``ss -ti``'s numbers), as the JSON's ``tcp_info``."""
        raw = self.tcp_info_raw
        if isinstance(raw, (bytes, bytearray)):
            from netlab.engine.capture.tcpinfo import parse

            return parse(bytes(raw))
        return raw

    @property
    def ok(self) -> bool:
        return self.error is None and self.response is not None and self.response.complete

    def to_dict(self) -> dict:
        """The JSON shape of ``netlab send --json``.  Raw bytes are given as Latin-1 text
        (one character per byte, lossless)."""
        req = self.request
        r = self.response
        response = None
        if r is not None and (r.status or r.raw_head):  # a reply that was not HTTP still shows its bytes
            body = None
            if r.body_bytes <= TEXT_BODY_LIMIT:
                try:
                    body = r.body.decode("utf-8")
                except UnicodeDecodeError:
                    body = None
            response = {
                "http_version": r.http_version,
                "status": r.status,
                "reason": r.reason,
                "headers": [[n, v] for n, v in r.headers],
                "framing": r.framing,
                "body_bytes": r.body_bytes,
                "body_sha256": r.body_store.sha256(),
                "body": body,
                "raw_head": r.raw_head.decode("latin-1"),
            }
        doc: dict = {
            "request": {"method": req.method, "url": req.url, "host": req.host, "port": req.port,
                        "scheme": req.scheme, "bytes": len(req.data), "raw": req.data.decode("latin-1")},
            "dns": self.dns.to_dict() if self.dns else None,
            "connection": self.connection.to_dict() if self.connection else None,
            "tls": self.tls.to_dict() if self.tls else None,
            "response": response,
            "timings_ms": self.timings.to_dict(),
            "tcp_info": self.tcp_info,
            "error": self.error.to_dict() if self.error else None,
        }
        if self.notes is not None:  # keys of a send that followed redirects or kept cookies only
            doc["notes"] = list(self.notes)
        if self.redirects is not None:
            doc["redirects"] = [hop.to_dict() for hop in self.redirects]
        return doc


class CancelToken:
    """Lets another thread stop an exchange: ``cancel()`` interrupts a blocking read."""

    def __init__(self) -> None:
        self.cancelled = False
        self._conn: Conn | None = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._conn is not None:
                self._conn.abort()

    def _attach(self, conn: Conn | None) -> None:
        with self._lock:
            self._conn = conn
            if conn is not None and self.cancelled:
                conn.abort()

    def check(self) -> None:
        if self.cancelled:
            raise NetlabError("cancelled", "cancelled by the user")

    def _attach_checked(self, conn: Conn) -> None:
        """Attach a socket about to connect (a cancel then ends the wait for the SYN-ACK);
        raise if the cancel came first."""
        self._attach(conn)
        self.check()


_local = threading.local()


def _recv_buffer() -> memoryview:
    """One receive buffer per thread, reused across exchanges (allocating 256 KiB each time
    costs more than a whole keep-alive round trip on loopback)."""
    view = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(RECV_SIZE))
    return view


_NO_ANSWER_HINT = ("the server dropped the connection without answering: if this port speaks TLS, use https://; "
                   "else see the server's log")


class _Deadline:
    """The per-step timeout, cut short by the overall deadline (``Options.deadline``)."""

    __slots__ = ("timeout", "deadline", "end", "short")

    def __init__(self, timeout: float, deadline: float | None) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.end = None if deadline is None else time.monotonic() + deadline
        self.short = False  # the last next() gave what was left of the deadline, not the timeout

    def next(self) -> float:
        if self.end is None:
            return self.timeout
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.passed("before the exchange completed")
        self.short = left < self.timeout
        return min(self.timeout, left)

    def passed(self, during: str) -> NetlabError:
        return NetlabError("timeout", f"the overall deadline of {self.deadline:g} s (--max-time) passed {during}",
                           "raise --max-time, or check why the server is this slow")

    def timed_out(self, err: NetlabError, during: str) -> NetlabError:
        """A step given ``next()`` timed out: the deadline's message when it was the shorter."""
        if err.phase == "timeout" and self.short:
            return self.passed(during)
        return err


class _Run:
    """One exchange on its way through the steps (checkout, connect, roundtrip): what it
    sends, with which options, where it records, who listens, its clock and its cancel."""

    __slots__ = ("request", "opts", "ex", "emit", "clock", "cancel", "body_path", "first")

    def __init__(self, request: Request, opts: Options, ex: Exchange, emit: Callable[[ev.Event], None] | None,
                 clock: _Deadline, cancel: CancelToken | None, body_path: str | None) -> None:
        self.request = request
        self.opts = opts
        self.ex = ex
        self.emit = emit
        self.clock = clock
        self.cancel = cancel
        self.body_path = body_path
        self.first: float | None = None  # when the response's first byte came (this roundtrip)


class Engine:
    """The shared socket engine.  One per app; ``send`` may be called from many threads."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._pool: dict[tuple, list[Conn]] = {}
        self._lock = threading.Lock()
        self._live: set[Conn] = set()
        self._closed = False

    # -- public -------------------------------------------------------------------------
    def send(self, request: Request, on_event: Callable[[ev.Event], None] | None = None, *,
             options: Options | None = None, cancel: CancelToken | None = None,
             body_path: str | None = None) -> Exchange:
        """Send ``request`` and read one response.  Never raises NetlabError: it is
        recorded in ``exchange.error`` together with whatever was received."""
        opts = options or self.options
        emit = on_event  # events are built only when someone listens
        ex = Exchange(request=request, options=opts, started=time.time())
        t0 = time.monotonic()
        x = _Run(request, opts, ex, emit, _Deadline(opts.timeout, opts.deadline), cancel, body_path)
        conn: Conn | None = None
        try:
            if cancel:
                cancel.check()
            conn = self._checkout(x, opts.reuse)
            try:
                self._roundtrip(x, conn)
            except NetlabError as err:
                if not _retryable(ex, err):
                    raise
                # A pooled connection the server had already closed: retry once on a new one.
                self._discard(conn)
                conn = None
                ex.response = None
                ex.connection = None
                ex.attempts.append(((ex.dns.used or "") if ex.dns else "", f"reused connection failed: {err.message}"))
                conn = self._checkout(x, False)
                self._roundtrip(x, conn)
        except NetlabError as err:
            if cancel and cancel.cancelled and err.phase != "cancelled":
                err = NetlabError("cancelled", f"cancelled by the user during {err.phase}")
            ex.error = err.with_traceback(None)  # the frames would hold the exchange in a cycle
            if conn is not None:
                self._discard(conn)
                conn = None
            if emit:
                emit(ev.Failed(t=time.monotonic(), phase=err.phase, message=err.message))
        except BaseException:
            if conn is not None:  # a bug or an interrupt: never leave the connection checked out
                self._discard(conn)
                conn = None
            raise
        finally:
            if cancel:
                cancel._attach(None)
            ex.timings.total = (time.monotonic() - t0) * 1000
        if conn is not None:
            self._checkin(conn, ex)
        if ex.error is None and ex.response is not None:
            if emit:
                emit(ev.Complete(t=time.monotonic(), status=ex.response.status,
                                 body_bytes=ex.response.body_bytes, total_ms=ex.timings.total))
        return ex

    def own_sockets(self) -> set[tuple[tuple[str, int], tuple[str, int]]]:
        """(local, remote) of every connection this engine holds open (in use or idle)."""
        with self._lock:
            return {(c.local, c.remote) for c in self._live}

    def sweep(self) -> int:
        """Close the idle pooled connections whose peer closed them (or reset them, or sent
        bytes nobody asked for); returns how many.  Without this a server's idle timeout
        leaves our end in CLOSE_WAIT until the next request to that origin finds it dead
        (``_checkout`` checks before reuse too).  Never blocks: one poll() with timeout 0
        over the idle sockets, then close().  Meant for a timer (the TUI runs it every
        second) and costs nothing on the send path."""
        with self._lock:
            if not self._pool:
                return 0
            dead = idle_dead([c for idle in self._pool.values() for c in idle])
            if dead:
                gone = set(dead)
                for key in list(self._pool):
                    keep = [c for c in self._pool[key] if c not in gone]
                    if keep:
                        self._pool[key] = keep
                    else:
                        del self._pool[key]
                self._live -= gone
        for conn in dead:
            conn.close()
        return len(dead)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for lst in self._pool.values() for c in lst]
            self._pool.clear()
        for c in conns:
            self._discard(c)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- steps ----------------------------------------------------------------------------
    @staticmethod
    def _key(request: Request, opts: Options) -> tuple:
        return (request.scheme, request.host.lower(), request.port, opts.unix_socket, opts.cafile,
                opts.insecure, opts.resolve, opts.dns_server)

    def _checkout(self, x: _Run, reuse: bool) -> Conn:
        """An idle pooled connection to the same origin that is still alive (when ``reuse``),
        else a new one."""
        request, ex, emit, cancel = x.request, x.ex, x.emit, x.cancel
        key = self._key(request, x.opts)
        if reuse:
            while True:
                with self._lock:
                    idle = self._pool.get(key)
                    conn = idle.pop() if idle else None
                if conn is None:
                    break
                if conn.is_idle_alive():
                    now = time.monotonic()
                    conn.uses += 1
                    if conn.reused_dns is None or conn.reused_dns.name != request.host:
                        conn.reused_dns = Resolution(request.host, [conn.remote[0]], "reused", None, 0.0,
                                                     conn.remote[0])
                    ex.dns = conn.reused_dns  # the same for every reuse: made once
                    ex.connection = ConnectionInfo(conn.family, conn.local, conn.remote, True, conn.rtt_ms())
                    ex.tls = conn.tls
                    if emit:
                        emit(ev.Connected(t=now, family=conn.family, local=conn.local, remote=conn.remote,
                                          reused=True, rtt_ms=ex.connection.rtt_ms))
                    if cancel:
                        cancel._attach(conn)
                    return conn
                self._discard(conn)
        conn = self._connect(x)
        conn.key = key
        with self._lock:
            self._live.add(conn)
        return conn

    def _connect(self, x: _Run) -> Conn:
        """A new connection: the Unix socket, or the first address of the name that answers;
        then TLS for https."""
        conn = self._open_unix(x) if x.opts.unix_socket else self._open_tcp(x)
        if x.cancel:
            x.cancel._attach(conn)
        ex = x.ex
        ex.connection = ConnectionInfo(conn.family, conn.local, conn.remote, False, conn.rtt_ms())
        if x.emit:
            x.emit(ev.Connected(t=time.monotonic(), family=conn.family, local=conn.local, remote=conn.remote,
                                reused=False, rtt_ms=ex.connection.rtt_ms))
        if x.request.scheme == "https":
            self._handshake(x, conn)
        return conn

    @staticmethod
    def _open_unix(x: _Run) -> Conn:
        path = x.opts.unix_socket
        assert path is not None  # _connect comes here only with a Unix socket
        x.ex.dns = Resolution(path, [path], "unix", used=path)
        if x.emit:  # events go out before a step's clock starts: a slow listener is not timed
            x.emit(ev.Connecting(t=time.monotonic(), address=path, port=0, family="AF_UNIX"))
        t1 = time.monotonic()
        try:
            conn = open_unix(path, x.clock.next())
        except NetlabError as err:
            raise x.clock.timed_out(err, f"while connecting to Unix socket {path}") from None
        x.ex.timings.connect = (time.monotonic() - t1) * 1000
        return conn

    def _open_tcp(self, x: _Run) -> Conn:
        return self._first_answering(x, self._resolve(x))

    @staticmethod
    def _resolve(x: _Run) -> Resolution:
        request, emit = x.request, x.emit
        if emit:
            emit(ev.Resolving(t=time.monotonic(), name=request.host, port=request.port))
        t1 = time.monotonic()
        try:
            res = resolve(request.host, request.port, pins=x.opts.resolve, timeout=x.clock.next(),
                          dns_server=x.opts.dns_server)
        except NetlabError as err:
            raise x.clock.timed_out(err, f"while resolving {request.host}") from None
        x.ex.dns = res
        t2 = time.monotonic()
        x.ex.timings.dns = (t2 - t1) * 1000
        if emit:
            emit(ev.Resolved(t=t2, name=res.name, addresses=tuple(res.addresses), source=res.source,
                             server=res.server, elapsed_ms=res.elapsed_ms))
        return res

    @staticmethod
    def _first_answering(x: _Run, res: Resolution) -> Conn:
        """Connect to each address in turn; the first that answers is the connection, each
        failure is recorded (``res.failed``, ``ex.attempts``); none: the last failure."""
        port, emit, cancel, clock = x.request.port, x.emit, x.cancel, x.clock
        last: NetlabError | None = None
        for addr in res.addresses:
            if cancel:
                cancel.check()
            if emit:
                emit(ev.Connecting(t=time.monotonic(), address=addr, port=port,
                                   family="AF_INET6" if ":" in addr else "AF_INET"))
            t3 = time.monotonic()
            try:
                opened = open_tcp(addr, port, clock.next(), cancel and cancel._attach_checked)
            except NetlabError as err:
                if cancel:
                    cancel.check()  # the cancel ended this connect: not a failed address
                err = last = clock.timed_out(err, f"while connecting to {addr} port {port}")
                res.failed.append((addr, err.message))
                x.ex.attempts.append((addr, err.message))
                if emit:
                    emit(ev.ConnectFailed(t=time.monotonic(), address=addr, port=port, message=err.message))
                continue
            res.used = addr
            x.ex.timings.connect = (time.monotonic() - t3) * 1000
            return opened
        assert last is not None
        if len(res.addresses) > 1:
            raise NetlabError(last.phase, f"{last.message} (tried {len(res.addresses)} addresses: "
                              f"{', '.join(res.addresses)})", last.hint)
        raise last

    @staticmethod
    def _handshake(x: _Run, conn: Conn) -> None:
        clock = x.clock
        t4 = time.monotonic()
        step = clock.next()
        conn.settimeout(step)
        try:
            info = start_tls(conn, x.request.host, cafile=x.opts.cafile, insecure=x.opts.insecure,
                             keylog=x.opts.keylog)
        except NetlabError as err:
            if err.phase != "timeout" or clock.short:
                raise clock.timed_out(err, f"during the TLS handshake with {conn.remote_text}") from None
            raise NetlabError("timeout", f"the TLS handshake with {conn.remote_text} did not complete within "
                              f"{step:g} s", "the server accepted the connection but does not answer TLS: "
                              "is this port speaking plain HTTP (use http://)?") from None
        x.ex.timings.tls = (time.monotonic() - t4) * 1000
        x.ex.tls = info
        if x.emit:
            x.emit(ev.TLSDone(t=time.monotonic(), version=info.version, cipher=info.cipher, alpn=info.alpn,
                              verified=info.verified))

    def _roundtrip(self, x: _Run, conn: Conn) -> None:
        """Send the request on ``conn`` and read its response into ``x.ex``."""
        reader = _new_reader(x)  # before sending: an output file that cannot be written stops the exchange unsent
        t = x.ex.timings
        conn.settimeout(x.clock.next())
        t1 = time.monotonic()
        conn.sendall(x.request.data)
        t2 = time.monotonic()
        t.send = (t2 - t1) * 1000
        if x.emit:
            x.emit(ev.RequestSent(t=t2, nbytes=len(x.request.data)))
        x.ex.response = reader.response
        x.first = None
        try:
            self._receive(x, conn, reader, t2)
        except NetlabError as err:
            if err.phase == "receive" and not reader.received and x.request.scheme == "http":
                raise NetlabError("receive", err.message, _NO_ANSWER_HINT) from None
            raise
        finally:
            reader.response.body_store.finish()
            if not reader.done:
                reader.keep_partial_head()  # a head cut short by a timeout or reset stays viewable
            x.ex.bytes_received = reader.received
            x.ex.tcp_info_raw = conn.tcp_info_raw()  # one getsockopt, before the socket is pooled or closed
            if x.first is not None:
                t.download = (time.monotonic() - x.first) * 1000
        x.ex.keep_alive = reader.keep_alive

    @staticmethod
    def _receive(x: _Run, conn: Conn, reader: ResponseReader, sent: float) -> None:
        """Read until the reader has framed the whole response (``sent``: when the request
        was sent).  Per read: one recv_into and one feed; the rest is per exchange."""
        t, emit, clock, head_timeout = x.ex.timings, x.emit, x.clock, x.opts.head_timeout
        view = _recv_buffer()
        first = None
        expected = None
        # The head's own deadline, from the request sent to the final head received (1xx
        # heads do not stop it): a peer trickling a byte at a time passes every read
        # timeout.  ``now`` is the clock the loop reads anyway (no extra call per read).
        head_end = None if head_timeout is None else sent + head_timeout
        now = sent
        while not reader.done:
            wait = clock.next()
            head_short = False
            if head_end is not None and not reader.response.status:
                wait, head_short = _head_wait(head_end - now, wait, head_timeout, reader)
            conn.settimeout(wait)
            try:
                n = conn.recv_into(view)
            except NetlabError as err:
                if err.phase == "timeout":
                    raise _read_timeout(clock, head_short, head_timeout, reader) from None
                raise
            now = time.monotonic()
            if first is None and n:  # an EOF (a cancel's shutdown, a close) is no first byte
                first = x.first = now
                t.ttfb = (now - sent) * 1000
            steps = reader.feed(view[:n]) if n else reader.feed_eof()
            body = 0
            for step in steps:
                if isinstance(step, BodyBytes):
                    body += step.size
                else:  # a head: once per head, not per read
                    expected = _head_step(emit, step, now, expected)
            if body and emit:
                emit(ev.BodyChunk(t=now, size=body, total=reader.response.body_store.size, expected=expected))
            if not n and not reader.done:  # feed_eof raises when incomplete; belt and braces
                raise NetlabError("receive", "the connection closed before the response was complete")

    # -- pool -----------------------------------------------------------------------------
    def _checkin(self, conn: Conn, ex: Exchange) -> None:
        """Back to the pool when the reader saw a complete response that leaves the
        connection open (h11's keep-alive rules: neither side said close, HTTP/1.1)."""
        if not (ex.keep_alive and ex.options.reuse and not self._closed):
            ex.keep_alive = False
            self._discard(conn)
            return
        conn.idle_since = time.monotonic()
        with self._lock:
            self._pool.setdefault(conn.key, []).append(conn)

    def _discard(self, conn: Conn) -> None:
        with self._lock:
            self._live.discard(conn)
        conn.close()


def _head_late(head_timeout: float, received: int) -> NetlabError:
    return NetlabError("timeout", f"the response head did not arrive within the head deadline of {head_timeout:g} s "
                       f"after the request was sent ({received} bytes received)",
                       "raise --head-timeout SECONDS (the settings file's head_timeout; 0: no head deadline) if the "
                       "server is slow to answer; --max-time bounds the whole exchange")


def _nothing_received(ex: Exchange) -> bool:
    return ex.bytes_received == 0


def _retryable(ex: Exchange, err: NetlabError) -> bool:
    """A pooled connection the server had already closed: it failed on sending or before
    a byte of the response came.  Worth one retry on a new connection."""
    return bool(ex.connection and ex.connection.reused and err.phase in ("send", "receive")
                and (ex.response is None or not ex.response.status) and _nothing_received(ex))


def _new_reader(x: _Run) -> ResponseReader:
    opts = x.opts
    try:
        return ResponseReader(x.request.method, request_close=x.request.wants_close,
                              max_header_bytes=opts.max_header_bytes, max_body_bytes=opts.max_body_bytes,
                              body_path=x.body_path, spill_at=opts.spill_bytes, max_headers=opts.max_headers)
    except OSError as exc:
        raise NetlabError("receive", f"cannot write the body to {x.body_path}: {exc.strerror or exc}",
                          "check the output path (-o): its directory must exist and be writable") from None


def _head_wait(left: float, wait: float, head_timeout: float | None,
               reader: ResponseReader) -> tuple[float, bool]:
    """The next read's timeout while the head is awaited (``left``: of the head deadline),
    and whether the head deadline is what cuts it short."""
    if left <= 0:
        assert head_timeout is not None  # a head deadline is set
        raise _head_late(head_timeout, reader.received)
    if left < wait:
        return left, True
    return wait, False


def _read_timeout(clock: _Deadline, head_short: bool, head_timeout: float | None,
                  reader: ResponseReader) -> NetlabError:
    """A read timed out: which limit passed -- the head deadline, the overall deadline,
    or the per-read timeout."""
    step = "the response head" if not reader.response.status else "the body"
    if head_short:
        assert head_timeout is not None  # head_short only with a head deadline
        return _head_late(head_timeout, reader.received)
    if clock.short:
        return clock.passed(f"while waiting for {step} (after {reader.received} bytes)")
    return NetlabError("timeout", f"no data for {clock.timeout:g} s while waiting for {step} "
                       f"(after {reader.received} bytes)")


def _head_step(emit: Callable[[ev.Event], None] | None, step: Step, now: float,
               expected: int | None) -> int | None:
    """A reader step other than data: the final head (its event, and the body size it
    declares, returned), a 1xx head (its event), or the end."""
    match step:
        case FinalHead(response=r):
            expected = r.content_length if r.framing == "content-length" else None
            if emit:
                emit(ev.ResponseHead(t=now, http_version=r.http_version, status=r.status,
                                     reason=r.reason, headers=tuple(r.headers), framing=r.framing))
        case InterimHead(info=info):
            if emit:
                emit(ev.InformationalHead(t=now, status=info.status, reason=info.reason))
    return expected
