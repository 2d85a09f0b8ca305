"""The reader: feed it received bytes, it frames one response and says what happened
in steps -- small typed values (``InterimHead``, ``FinalHead``, ``BodyBytes``,
``MessageEnd``), as h11 says it in events.  The ones made per response or per read are
NamedTuples: immutable, typed and matched by class like frozen dataclasses, and about
half as dear to make, on the path every response takes; the end is one frozen value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import h11

from netlab.engine import defaults
from netlab.engine.errors import NetlabError
from netlab.engine.http1.chunked import TRAILER, ChunkedBody, declared_too_big
from netlab.engine.http1.head import (
    BLANK_LINE,
    EOM,
    LIMIT_HINT_HEAD,
    fake_request,
    has_close,
    hdrs,
    scan_head_strict,
    trailer_fields,
)
from netlab.engine.http1.response import Informational, Response
from netlab.engine.http1.store import SPILL_BYTES, BodyStore
from netlab.engine.request import is_token

MAX_HEADERS = defaults.MAX_HEADERS  # header lines in one response head, as curl allows
# One exchange's head bytes in all: every 1xx head, the final head and the trailer
# section (curl stops at 300 KiB of headers in total, MAX_HTTP_RESP_HEADER_SIZE), and
# how many interim (1xx) responses may come before the final one.  A larger per-head
# limit (max_header_bytes) raises the total with it.
HEAD_BYTES_TOTAL = 300 * 1024
MAX_INFORMATIONAL = 100
_LIMIT_HINT_INTERIM = ("a server that sends 100 Continue / 103 Early Hints heads without ever a final response is "
                       "misbehaving; the heads received are kept (-v, --json or the Raw tab show them)")
_LIMIT_HINT_BODY = ("raise --max-body BYTES if a body this large is expected; the bytes received so far are "
                    "kept (-o FILE saves them)")
_BYTEARRAY = re.compile(r"bytearray\((b(['\"]).*?(?<!\\)\2)\)")  # how h11 quotes a line


class InterimHead(NamedTuple):
    """A 1xx head came (``info``; it is in ``response.informational`` too)."""

    info: Informational


class FinalHead(NamedTuple):
    """The final head came: ``response`` has its status, headers and framing; the body follows."""

    response: Response


class BodyBytes(NamedTuple):
    """``size`` more body bytes (after transfer decoding) are in the response's body store."""

    size: int


@dataclass(frozen=True, slots=True)
class MessageEnd:
    """The response is complete."""


END = MessageEnd()
Step = InterimHead | FinalHead | BodyBytes | MessageEnd


class ResponseReader:
    """Feed it received bytes; it frames one response.

    ``feed`` returns a list of steps: InterimHead, FinalHead, BodyBytes, MessageEnd
    (``END``).  h11 errors become NetlabError('parse' or
    'limit'); the bytes received so far stay in ``response``.

    h11 parses every head (1xx and final), validates the framing headers and frames
    chunked bodies.  Once it has said a body is Content-Length- or close-delimited,
    the reader counts those bytes itself: there is nothing left to parse, and copying
    each byte through h11's buffers would cost most of the download throughput."""

    __slots__ = ("method", "request_close", "_h11", "max_header_bytes", "max_headers", "max_body_bytes", "response",
                 "_spill_at", "_pending", "_in_body", "_direct", "received", "done", "leftover", "_connection",
                 "_head_bytes", "_head_total", "_chunk")

    def __init__(self, method: str, *, request_close: bool = False, max_header_bytes: int = defaults.MAX_HEADER_BYTES,
                 max_body_bytes: int | None = None, body_path: str | None = None,
                 spill_at: int = SPILL_BYTES, max_headers: int = MAX_HEADERS) -> None:
        self.method = method or "GET"
        self.request_close = request_close
        self._h11: h11.Connection | None = None  # created when a head needs it (see _to_h11)
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.max_body_bytes = max_body_bytes
        self.response = Response(body_store=BodyStore(spill_at, body_path))
        self._spill_at = spill_at
        self._pending = bytearray()  # bytes not yet assigned to a head
        self._in_body = False
        self._direct: int | None = None  # bytes still expected (-1: until close) on the direct path
        self.received = 0
        self.done = False
        self.leftover = b""
        self._connection: str | None = None  # the Connection header's value, from the fast path

    @property
    def keep_alive(self) -> bool:
        """May the connection carry another request?  h11's rules, for both paths."""
        if not self.done or self.leftover:
            return False
        if self._direct is not None or self._chunk is not None:
            r = self.response
            return (r.framing in ("content-length", "none", "chunked") and r.http_version == "HTTP/1.1"
                    and not self.request_close and not has_close(self._connection)
                    and not (self.method == "CONNECT" and 200 <= r.status < 300))  # a tunnel now
        assert self._h11 is not None  # done, and neither our direct nor chunked path: h11 framed it
        return self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE

    def feed(self, data) -> list[Step]:
        self.received += len(data)
        if self.done:  # bytes after the end of the message, whichever path framed it
            self.leftover += bytes(data)
            return []
        if self._direct is not None:
            return self._feed_direct(data)
        if self._h11 is None:
            self._pending += data
            return self._fast_head()
        if self._chunk is not None:
            raw = self.response.raw_body_store
            assert raw is not None  # made with _chunk, for the chunked wire bytes
            raw.write(data)
            return self._feed_chunked(bytes(data))
        if not self._in_body:
            self._pending += data
        elif self.response.raw_body_store is not None:
            self.response.raw_body_store.write(data)
        self._h11.receive_data(data)
        return self._drain()

    def feed_eof(self) -> list[Step]:
        if self._direct is not None:
            if self._direct == -1:
                return self._end()
            raise self._truncated()
        if self._h11 is None:
            self._to_h11()
            assert self._h11 is not None
        if self._chunk is not None:
            if self.done:
                return []
            raise self._truncated()
        try:
            self._h11.receive_data(b"")
        except RuntimeError:
            pass
        return self._drain(eof=True)

    def _to_h11(self) -> None:
        """Hand the bytes so far to h11, which frames from here on."""
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=self.max_header_bytes)
        # Set here, not in __init__: only an exchange that needs h11 pays for them.
        self._head_bytes = 0  # the 1xx heads' bytes so far
        self._head_total = max(HEAD_BYTES_TOTAL, self.max_header_bytes)  # for all of them, final head and trailer
        self._chunk: ChunkedBody | None = None  # our own reading of a chunked body, once h11 has framed the head
        # h11 needs to have "sent" a request to expect a response: give it the shape of ours.
        self._h11.send(fake_request(self.method if is_token(self.method) else "GET", self.request_close))
        self._h11.send(EOM)
        if self._pending:
            self._h11.receive_data(bytes(self._pending))

    def _fast_head(self) -> list[Step]:
        """The common case, without h11's per-header machinery: one complete, strictly
        well-formed final head (CRLF lines, token names, plain values, a single numeric
        Content-Length, no Transfer-Encoding).  Anything else goes to h11.  A property
        test checks that whatever this accepts, h11 parses to the same result."""
        buf = self._pending
        if buf[:5] != b"HTTP/"[: len(buf)]:  # curl too gives up at once: no status line will come
            raise self._no_status_line()
        m = BLANK_LINE.search(buf)
        end = m.end() if m else len(buf)
        if end > self.max_header_bytes:
            raise self._head_too_big(len(buf))
        if m is None:
            return []
        crlf = m.group() == b"\n\r\n" and buf[m.start() - 1: m.start()] == b"\r"
        head = bytes(buf[:end])
        parsed = scan_head_strict(head) if crlf else None
        if parsed is None:
            self._to_h11()
            return self._drain()
        if end > 4 * self.max_headers and parsed[3].count("\r\n") >= self.max_headers:  # ("a:" CRLF is 4 bytes)
            raise self._too_many_headers(parsed[3].count("\r\n") + 1)
        r = self.response
        r.http_version, r.status, r.reason, r._header_text, r.content_length, self._connection = parsed
        r.framing = self._framing(r)
        r.raw_head = head
        rest = bytes(buf[end:])
        self._pending = bytearray()
        self._in_body = True
        steps: list[Step] = [FinalHead(r)]
        self.received -= len(rest)  # counted again by feed()
        if r.framing == "content-length":
            if self.max_body_bytes is not None and r.content_length > self.max_body_bytes:
                self.received += len(rest)
                raise self._declared_too_big(r.content_length, rest)
            self._direct = r.content_length
        elif r.framing == "close":
            self._direct = -1
        else:  # "none"
            self._direct = 0
        if self._direct == 0:
            self.received += len(rest)
            self.leftover = rest
            return steps + self._end()
        return steps + (self.feed(rest) if rest else [])

    def _feed_direct(self, data) -> list[Step]:
        if self.done:  # bytes after the end of the message
            self.leftover += bytes(data)
            return []
        want = self._direct
        assert want is not None  # feed() comes here only on the direct path
        if want >= 0 and len(data) >= want:
            body, rest = data[:want], data[want:]
        else:
            body, rest = data, b""
        store = self.response.body_store
        if body:
            store.write(body)
            if self.max_body_bytes is not None and store.size > self.max_body_bytes:
                raise self._too_big()
        if want >= 0:
            self._direct = want - len(body)
        steps: list[Step] = [BodyBytes(len(body))] if body else []
        if self._direct == 0:
            self.leftover = bytes(rest)
            steps += self._end()
        return steps

    def _feed_chunked(self, data: bytes) -> list[Step]:
        """A chunked body, read by ``ChunkedBody`` rather than by h11 (see chunked.py)."""
        c = self._chunk
        assert c is not None  # feed() comes here only on the chunked path
        body = c.feed(data)
        steps: list[Step] = [BodyBytes(body)] if body else []
        if c.state == TRAILER:
            return steps + self._on_trailer(c)
        return steps

    def _on_trailer(self, c: ChunkedBody) -> list[Step]:
        """The trailer section, counted with the exchange's heads; once complete, its
        fields are kept as received (forbidden ones included, see FORBIDDEN_TRAILERS)
        and the message ends."""
        section = c.section
        if section is None:  # still coming
            if self._head_bytes + len(c.buf) > self._head_total:
                raise self._heads_too_big(self._head_bytes + len(c.buf))
            return []
        self._head_bytes += len(section)
        if self._head_bytes > self._head_total:
            raise self._heads_too_big(self._head_bytes)
        r = self.response
        r.trailers = trailer_fields(section)
        if c.rest:
            raw = r.raw_body_store
            assert raw is not None  # made with _chunk, for the chunked wire bytes
            raw.truncate(raw.size - len(c.rest))
        self.leftover = c.rest
        return self._end()

    def _end(self) -> list[Step]:
        self.response.body_store.finish()
        self.response.complete = True
        self.done = True
        return [END]

    def _declared_too_big(self, size: int, arrived) -> NetlabError:
        assert self.max_body_bytes is not None  # called only when --max-body is set
        return declared_too_big(self.response.body_store, self.max_body_bytes, size, arrived)

    def _too_big(self) -> NetlabError:
        return NetlabError("limit", f"the body exceeds the limit of {self.max_body_bytes} bytes "
                           f"(stopped after {self.response.body_store.size} bytes)", _LIMIT_HINT_BODY)

    def _heads_too_big(self, total: int) -> NetlabError:
        """All head bytes of the exchange together (1xx heads, the final head, the trailer)
        passed ``_head_total``: each alone may be under the per-head limit."""
        self.keep_partial_head()
        n = len(self.response.informational)
        return NetlabError("limit", f"the heads of this response exceed {self._head_total} bytes in all "
                           f"({n} interim (1xx) head{'s' if n != 1 else ''} kept, {total} bytes of heads "
                           f"received)", LIMIT_HINT_HEAD)

    def _head_too_big(self, received: int) -> NetlabError:
        self.keep_partial_head()
        return NetlabError("limit", f"the response head exceeds the header limit of {self.max_header_bytes} bytes "
                           f"(stopped after {received} bytes of head)", LIMIT_HINT_HEAD)

    def _too_many_headers(self, count: int) -> NetlabError:
        self.keep_partial_head()  # the head is refused: its bytes stay viewable, unparsed
        return NetlabError("limit", f"the response head has {count} header lines, over the limit of "
                           f"{self.max_headers}", LIMIT_HINT_HEAD)

    def _no_status_line(self) -> NetlabError:
        """The reply does not start with ``HTTP/``: an HTTP/0.9-style reply (a bare body),
        a TLS record, or some other protocol.  The bytes so far stay in ``raw_head``."""
        self.keep_partial_head()
        start = bytes(self._pending[:40])
        if len(start) >= 3 and start[0] in (0x15, 0x16) and start[1] == 3:
            return NetlabError("parse", f"no HTTP status line: the reply is a TLS record ({start!r}): this port "
                               "speaks TLS", "use https:// for this port")
        return NetlabError("parse", f"no HTTP status line: the reply starts with {start!r} instead of 'HTTP/' "
                           "(an HTTP/0.9-style reply, a bare body with no head, or not HTTP at all)",
                           "netlab reads HTTP/1.0 and HTTP/1.1 replies only; the bytes received are kept "
                           "(-v, --json or the Raw tab show them)")

    def _unconsumed(self) -> int:
        assert self._h11 is not None  # called on the h11 path only
        return len(self._h11.trailing_data[0])

    def _take_pending(self) -> bytes:
        keep = self._unconsumed()
        raw = bytes(self._pending[: len(self._pending) - keep])
        del self._pending[: len(self._pending) - keep]
        return raw

    def _drain(self, eof: bool = False) -> list[Step]:
        """The steps of h11's events until it needs more bytes or the message (or its
        head, when the body is ours to read) ends; each kind of event is one method."""
        assert self._h11 is not None  # called on the h11 path only
        steps: list[Step] = []
        while True:
            try:
                ev = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise self._protocol_error(exc, eof) from None
            if ev is h11.NEED_DATA:
                self._check_need_data(eof)
                return steps
            if ev is h11.PAUSED:
                return steps + self._paused()
            t = type(ev)
            if t is h11.Data:
                assert isinstance(ev, h11.Data)  # t is type(ev): this tells a type checker
                steps.append(self._on_data(ev))
            elif t is h11.Response:
                assert isinstance(ev, h11.Response)
                steps.append(FinalHead(self._on_head(ev)))
                rest = self._start_body()
                if rest is not None:
                    return steps + rest
            elif t is h11.InformationalResponse:
                assert isinstance(ev, h11.InformationalResponse)
                steps.append(InterimHead(self._on_informational(ev)))
            elif t is h11.EndOfMessage:
                assert isinstance(ev, h11.EndOfMessage)
                return steps + self._on_end(ev)
            elif t is h11.ConnectionClosed:
                if not self.done:
                    raise self._truncated()
                return steps

    def _check_need_data(self, eof: bool) -> None:
        """h11 waits for bytes: after the close none will come; a head still coming is
        bounded with the exchange's other heads."""
        if eof and not self.done:
            raise self._truncated()
        if not self._in_body and self._head_bytes + len(self._pending) > self._head_total:
            raise self._heads_too_big(self._head_bytes + len(self._pending))

    def _paused(self) -> list[Step]:
        assert self._h11 is not None  # called on the h11 path only
        if self.response.status and self._in_body and not self.done:  # a 2xx to CONNECT: the tunnel follows
            self.leftover = bytes(self._h11.trailing_data[0])
            return self._end()
        return []

    def _on_data(self, ev: h11.Data) -> BodyBytes:
        store = self.response.body_store
        store.write(ev.data)
        if self.max_body_bytes is not None and store.size > self.max_body_bytes:
            raise self._too_big()
        return BodyBytes(len(ev.data))

    def _on_head(self, ev: h11.Response) -> Response:
        """The final head, as h11 parsed it, into the response; its bytes counted and bounded."""
        if len(ev.headers) > self.max_headers:
            raise self._too_many_headers(len(ev.headers))
        r = self.response
        r.http_version = "HTTP/" + ev.http_version.decode()
        r.status = ev.status_code
        r.reason = ev.reason.decode("latin-1")
        r.headers = hdrs(ev.headers.raw_items())
        self._connection = ",".join(v for n, v in r.headers if n.lower() == "connection").lower() or None
        cl = r.header("content-length")  # h11 has checked it: digits, and duplicates agree
        r.content_length = int(cl.split(",")[0]) if cl is not None else None
        r.framing = self._framing(r)
        r.raw_head = self._take_pending()
        if len(r.raw_head) > self.max_header_bytes:
            raise self._head_too_big(len(r.raw_head))
        self._head_bytes += len(r.raw_head)
        if self._head_bytes > self._head_total:
            raise self._heads_too_big(self._head_bytes)
        self._in_body = True
        return r

    def _start_body(self) -> list[Step] | None:
        """After the final head: a chunked, Content-Length or close-delimited body is read
        by this reader from here on (the steps of the bytes already here); None when h11
        goes on (no body)."""
        r = self.response
        if r.framing == "chunked":  # h11 has checked the head; the chunks are ours to read
            r.raw_body_store = BodyStore(self._spill_at)
            rest = bytes(self._pending)
            self._pending = bytearray()
            self._chunk = ChunkedBody(r.body_store, max_line=self.max_header_bytes, max_body=self.max_body_bytes)
            r.chunk_marks = self._chunk.marks
            self.received -= len(rest)  # counted again by feed()
            return self.feed(rest) if rest else []
        if r.framing not in ("content-length", "close"):
            return None
        if r.framing == "content-length" and self.max_body_bytes is not None:
            assert r.content_length is not None  # _framing says content-length only with one
            if r.content_length > self.max_body_bytes:
                raise self._declared_too_big(r.content_length, bytes(self._pending))
        rest = bytes(self._pending)
        self._pending = bytearray()
        self._direct = r.content_length if r.framing == "content-length" else -1
        self.received -= len(rest)  # counted again by feed()
        if self._direct == 0:
            self.received += len(rest)
            self.leftover = rest
            return self._end()
        return self.feed(rest) if rest else []

    def _on_informational(self, ev: h11.InformationalResponse) -> Informational:
        """A 1xx head, kept with its bytes; bounded alone, in number, and with the other heads."""
        r = self.response
        info = Informational(ev.status_code, ev.reason.decode("latin-1"), hdrs(ev.headers.raw_items()),
                             self._take_pending())
        if len(info.raw) > self.max_header_bytes:  # as for the final head, however the bytes came
            raise self._head_too_big(len(info.raw))
        if len(r.informational) >= MAX_INFORMATIONAL:
            self._pending[:0] = info.raw  # refused: its bytes stay viewable with the rest
            raise NetlabError("limit", f"the server sent more than {MAX_INFORMATIONAL} interim (1xx) responses "
                              "without a final one", _LIMIT_HINT_INTERIM)
        self._head_bytes += len(info.raw)
        if self._head_bytes > self._head_total:
            self._pending[:0] = info.raw
            raise self._heads_too_big(self._head_bytes)
        r.informational.append(info)
        return info

    def _on_end(self, ev: h11.EndOfMessage) -> list[Step]:
        assert self._h11 is not None  # called on the h11 path only
        r = self.response
        r.trailers = hdrs(ev.headers.raw_items())
        left = self._unconsumed()
        if r.raw_body_store is not None and left:
            r.raw_body_store.truncate(r.raw_body_store.size - left)
        self.leftover = self._h11.trailing_data[0]
        return self._end()

    def _framing(self, r: Response) -> str:
        if self.method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            return "none"
        if self.method == "CONNECT" and 200 <= r.status < 300:  # RFC 9110 9.3.6: no content, a tunnel follows
            return "none"
        if self._h11 is not None and "chunked" in (r.header("transfer-encoding") or "").lower():
            return "chunked"
        if r.content_length is not None:
            return "content-length"
        return "close"

    def keep_partial_head(self) -> None:
        """No valid head: keep what did arrive, so it can be shown."""
        if not self.response.status and not self.response.raw_head:
            self.response.raw_head = bytes(self._pending)

    def _truncated(self) -> NetlabError:
        r = self.response
        self.keep_partial_head()
        if not r.status:
            if self.received == 0:
                return NetlabError("receive", "the server closed the connection without sending a response")
            start = bytes(self._pending[:40])
            return NetlabError("parse", f"the connection closed after {self.received} bytes, before a complete "
                               f"response head (is this an HTTP server? the reply starts with {start!r})")
        if r.framing == "content-length":
            want = r.content_length
            return NetlabError("receive", f"the connection closed after {r.body_store.size} of {want} body bytes "
                               "(body shorter than its Content-Length)")
        if r.framing == "chunked":
            return NetlabError("receive", f"the connection closed in the middle of a chunked body "
                               f"(after {r.body_store.size} body bytes, no final 0-size chunk)")
        return NetlabError("receive", "the connection closed before the response was complete")

    def _protocol_error(self, exc: h11.RemoteProtocolError, eof: bool) -> NetlabError:
        text = _BYTEARRAY.sub(r"\1", str(exc))  # h11 quotes lines as bytearray(b'...')
        if "Receive buffer too long" in text or "too long" in text:
            where = "body framing line" if self._in_body else "response head"
            self.keep_partial_head()
            return NetlabError("limit", f"the {where} exceeds the header limit of {self.max_header_bytes} bytes",
                               LIMIT_HINT_HEAD)
        if eof:  # h11 objects to the close itself: the reply stopped short
            return self._truncated()
        if not self.response.status:
            self.keep_partial_head()
            head = bytes(self._pending[:40])
            return NetlabError("parse", f"invalid response head: {text} (the reply starts with {head!r})")
        return NetlabError("parse", f"invalid response: {text}")

