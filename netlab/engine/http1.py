"""Sans-IO framing of HTTP/1.x responses over h11: bytes in, steps out.

No socket is opened here (h11's ``receive_data`` / ``next_event`` style).  Next to the
parsed form the reader keeps the bytes exactly as received: each 1xx head, the final
head, and — for chunked framing, where the wire differs from the body — the raw body
with its chunk-size lines.  For Content-Length and close-delimited framing the wire
body *is* the body, so it is stored once.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import zlib
from dataclasses import dataclass

import h11

from netlab.engine.errors import NetlabError
from netlab.engine.request import find_header

__all__ = ["BodyStore", "Response", "ResponseReader", "SPILL_BYTES", "decode_content", "decode_into",
           "FORBIDDEN_TRAILERS", "HEAD_BYTES_TOTAL", "MAX_INFORMATIONAL"]

SPILL_BYTES = 4 * 1024 * 1024  # bodies above this go to a temporary file
MAX_HEADERS = 5000  # header lines in one response head, as curl allows
# One exchange's head bytes in all: every 1xx head, the final head and the trailer
# section (curl stops at 300 KiB of headers in total, MAX_HTTP_RESP_HEADER_SIZE), and
# how many interim (1xx) responses may come before the final one.  A larger per-head
# limit (max_header_bytes) raises the total with it.
HEAD_BYTES_TOTAL = 300 * 1024
MAX_INFORMATIONAL = 100
# Fields a trailer section must not carry (RFC 9110 section 6.5.1): what they say is
# needed before the content arrives -- message framing, routing, authentication,
# request modifiers, response control data, and the content's own format.  They are
# kept in ``Response.trailers`` (the bytes are what they are) and listed again in
# ``Response.trailers_forbidden``, so views mark them; netlab never acts on a trailer.
FORBIDDEN_TRAILERS = frozenset((
    "transfer-encoding", "content-length", "trailer", "te", "connection", "keep-alive", "proxy-connection",
    "upgrade",  # framing and connection handling
    "host",  # routing
    "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie",
    "cache-control", "expect", "max-forwards", "pragma", "range", "if-match", "if-none-match", "if-modified-since",
    "if-unmodified-since", "if-range",  # request modifiers: controls and conditionals
    "age", "expires", "location", "retry-after", "vary", "warning",  # response control data
    "content-encoding", "content-type", "content-range",  # how to read the content
))
_LIMIT_HINT_HEAD = ("a head this large means a misbehaving server; the bytes received are kept "
                    "(-v, --json or the Raw tab show them)")
_LIMIT_HINT_INTERIM = ("a server that sends 100 Continue / 103 Early Hints heads without ever a final response is "
                       "misbehaving; the heads received are kept (-v, --json or the Raw tab show them)")
_LIMIT_HINT_DECLARED = ("raise --max-body BYTES if a body this large is expected (--max-body 0: no limit); "
                        "the head and the body bytes that came with it are kept")
_LIMIT_HINT_BODY = ("raise --max-body BYTES if a body this large is expected; the bytes received so far are "
                    "kept (-o FILE saves them)")


class BodyStore:
    """Bytes kept in memory up to ``spill_at``, then in a temporary file.

    Given ``path``, writes go straight to that file (``-o FILE``)."""

    def __init__(self, spill_at: int = SPILL_BYTES, path: str | None = None) -> None:
        self.spill_at = spill_at
        self.size = 0
        self.path = path
        self._mem: bytearray | None = bytearray()
        self._file = open(path, "w+b") if path else None  # read back for sha256 / --json

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def write(self, data) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._mem += data
        if len(self._mem) > self.spill_at:
            self._file = tempfile.TemporaryFile(prefix="netlab-body-")
            self._file.write(self._mem)
            self._mem = None

    def truncate(self, size: int) -> None:
        if size >= self.size:
            return
        self.size = size
        if self._file is not None:
            self._file.flush()
            self._file.truncate(size)
            self._file.seek(size)
        else:
            assert self._mem is not None  # None only once spilled to a file
            del self._mem[size:]

    def finish(self) -> None:
        if self._file is not None:
            self._file.flush()

    def getvalue(self) -> bytes:
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            return bytes(self._mem)
        self._file.flush()
        data = _pread(self._file, self.size, 0)  # one copy in memory, not chunks and their join
        if len(data) < self.size:  # a read stops short of 2 GiB on Linux: the rest in chunks
            data += b"".join(_pread(self._file, min(1 << 20, self.size - n), n)
                             for n in range(len(data), self.size, 1 << 20))
        return data

    def head(self, n: int) -> bytes:
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            return bytes(self._mem[:n])
        self._file.flush()
        with open(self._file.fileno(), "rb", closefd=False) as f:
            f.seek(0)
            return f.read(n)

    def iter_chunks(self, size: int = 1 << 20):
        if self._file is None:
            assert self._mem is not None  # None only once spilled to a file
            yield bytes(self._mem)
            return
        self._file.flush()
        pos = 0
        while pos < self.size:
            chunk = _pread(self._file, min(size, self.size - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    def sha256(self) -> str:
        h = hashlib.sha256()
        for chunk in self.iter_chunks():
            h.update(chunk)
        return h.hexdigest()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _pread(f, n: int, offset: int) -> bytes:
    import os

    return os.pread(f.fileno(), n, offset)


DECODE_LIMIT = 256 << 20  # bytes a gzip/deflate body may decode to for display
_DECODE_IN = 64 * 1024  # compressed bytes given to zlib at a time (its unconsumed tail is copied per call)
_DECODE_OUT = 256 * 1024  # decoded bytes asked of zlib at a time


def decode_content(body: bytes, encoding: str | None, limit: int | None = None) -> bytes:
    """gzip / deflate decoding for display; raises NetlabError('parse') on bad data and
    NetlabError('limit') when the result would exceed ``limit`` bytes (a few hundred KB
    of gzip can decode to gigabytes: the decoder stops at the limit, not after).  Other
    encodings come back as they are."""
    out = BodyStore()
    try:
        if not decode_into(lambda: (body,), encoding, out, limit):
            return body
        return out.getvalue()
    finally:
        out.close()


def decode_into(chunks, encoding: str | None, out: BodyStore, limit: int | None = None) -> bool:
    """Undo a gzip / deflate Content-Encoding as a stream: ``chunks()`` gives the encoded
    bytes piece by piece (a store's ``iter_chunks``), the decoded bytes go to ``out``
    (a BodyStore: past its spill size they are in a temporary file, not in memory), a
    quarter MiB at a time.  So memory stays near one piece, whatever the body decodes to;
    ``out`` never holds more than ``limit`` bytes (default DECODE_LIMIT): the decoder
    stops there with NetlabError('limit'), and NetlabError('parse') on bad data.  Returns
    False, writing nothing, for an encoding it does not decode (identity, br, none)."""
    enc = (encoding or "").strip().lower()
    limit = DECODE_LIMIT if limit is None else limit
    tries: tuple[int, ...]
    if enc in ("gzip", "x-gzip"):
        tries = (16 + zlib.MAX_WBITS,)
    elif enc == "deflate":
        tries = (zlib.MAX_WBITS, -zlib.MAX_WBITS)  # zlib-wrapped, or raw deflate as some servers send
    else:
        return False
    last: Exception | None = None
    for wbits in tries:
        out.truncate(0)
        try:
            _inflate_into(chunks(), wbits, limit, enc, out)
            out.finish()
            return True
        except zlib.error as exc:
            last = exc
    out.truncate(0)
    raise NetlabError("parse", f"cannot decode {enc} body: {last}") from None


def _inflate_into(chunks, wbits: int, limit: int, enc: str, out: BodyStore) -> None:
    gzip = wbits > 16
    d = zlib.decompressobj(wbits)
    padding = False  # after the last gzip member: only NUL bytes may follow
    fed = False
    for chunk in chunks:
        fed = fed or len(chunk) > 0
        view = memoryview(chunk)
        for at in range(0, len(view), _DECODE_IN):
            data: memoryview | bytes = view[at: at + _DECODE_IN]
            while data:
                if d.eof:
                    if not gzip:
                        return  # bytes after a deflate stream are ignored, as before
                    if padding or not bytes(data).strip(b"\x00"):
                        if bytes(data).strip(b"\x00"):
                            raise zlib.error("bytes after the end of the compressed data")
                        padding = True
                        break
                    d = zlib.decompressobj(wbits)  # gzip allows several members one after another
                piece = d.decompress(data, _DECODE_OUT)
                _put(out, piece, limit, enc)
                data = d.unused_data if d.eof else d.unconsumed_tail
    if fed and not d.eof:  # (an empty body decodes to nothing)
        _put(out, d.flush(), limit, enc)  # what zlib still holds of the input it was given
        if not d.eof:
            raise zlib.error("truncated stream (the compressed data ends early)")


def _put(out: BodyStore, piece: bytes, limit: int, enc: str) -> None:
    if out.size + len(piece) > limit:
        out.write(piece[: limit - out.size])  # what was decoded up to the limit, never more
        raise NetlabError("limit", f"the {enc} body decodes to more than {limit} bytes (a compression "
                          "bomb?); it is shown as received", "save it with -o FILE and decode it yourself")
    if piece:
        out.write(piece)


@dataclass(slots=True)
class Informational:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    raw: bytes


class Response:
    """One response: the parsed head, the body store and the raw bytes.

    The header list of a head taken by the fast path is split out of the head text
    the first time someone asks for it (framing and keep-alive do not need it)."""

    __slots__ = ("http_version", "status", "reason", "_headers", "_header_text", "trailers", "framing",
                 "content_length", "raw_head", "informational", "body_store", "raw_body_store", "complete")

    def __init__(self, http_version: str = "", status: int = 0, reason: str = "",
                 headers: list[tuple[str, str]] | None = None, trailers: list[tuple[str, str]] | None = None,
                 framing: str = "", content_length: int | None = None, raw_head: bytes = b"",
                 informational: list[Informational] | None = None, body_store: BodyStore | None = None,
                 raw_body_store: BodyStore | None = None, complete: bool = False) -> None:
        self.http_version = http_version
        self.status = status
        self.reason = reason
        self._headers = [] if headers is None else headers
        self._header_text: str | None = None
        self.trailers = [] if trailers is None else trailers
        self.framing = framing  # content-length | chunked | close | none
        self.content_length = content_length
        self.raw_head = raw_head
        self.informational = [] if informational is None else informational
        self.body_store = BodyStore() if body_store is None else body_store
        self.raw_body_store = raw_body_store  # only for chunked framing
        self.complete = complete

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self._header_text is not None:
            self._headers = split_header_lines(self._header_text)
            self._header_text = None
        return self._headers

    @headers.setter
    def headers(self, value: list[tuple[str, str]]) -> None:
        self._headers = value
        self._header_text = None

    def __repr__(self) -> str:
        return f"Response({self.http_version} {self.status} {self.reason!r}, {self.framing}, {self.body_bytes} bytes)"

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    @property
    def body(self) -> bytes:
        """The message body after transfer decoding (chunks joined), before content decoding."""
        return self.body_store.getvalue()

    @property
    def body_bytes(self) -> int:
        return self.body_store.size

    @property
    def raw_body(self) -> bytes:
        """The body bytes exactly as on the wire (chunk-size lines included)."""
        store = self.raw_body_store or self.body_store
        return store.getvalue()

    @property
    def raw(self) -> bytes:
        """Everything received for this exchange: 1xx heads, head, wire body."""
        return b"".join(i.raw for i in self.informational) + self.raw_head + self.raw_body

    def decoded_body(self, limit: int | None = None) -> bytes:
        """The body with gzip/deflate Content-Encoding undone (for display), at most
        ``limit`` bytes of it (default ``DECODE_LIMIT``; NetlabError 'limit' beyond).
        Decoded as a stream from the body store into a store of its own (a temporary
        file past SPILL_BYTES), so the only whole copy in memory is the one returned."""
        out = BodyStore()
        try:
            if not decode_into(self.body_store.iter_chunks, self.header("content-encoding"), out, limit):
                return self.body
            return out.getvalue()
        finally:
            out.close()

    @property
    def trailers_forbidden(self) -> list[tuple[str, str]]:
        """The trailer fields RFC 9110 section 6.5.1 forbids (FORBIDDEN_TRAILERS), in
        order; they stay in ``trailers`` too, where views mark them: they never change
        how the message is framed or read."""
        return [(n, v) for n, v in self.trailers if n.lower() in FORBIDDEN_TRAILERS]


def _hdrs(items) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in items]


class ResponseReader:
    """Feed it received bytes; it frames one response.

    ``feed`` returns a list of steps: ("info", Informational), ("head", Response),
    ("data", nbytes), ("end", None).  h11 errors become NetlabError('parse' or
    'limit'); the bytes received so far stay in ``response``.

    h11 parses every head (1xx and final), validates the framing headers and frames
    chunked bodies.  Once it has said a body is Content-Length- or close-delimited,
    the reader counts those bytes itself: there is nothing left to parse, and copying
    each byte through h11's buffers would cost most of the download throughput."""

    __slots__ = ("method", "request_close", "_h11", "max_header_bytes", "max_headers", "max_body_bytes", "response",
                 "_spill_at", "_pending", "_in_body", "_direct", "received", "done", "leftover", "_connection",
                 "_head_bytes", "_head_total", "_chunk")

    def __init__(self, method: str, *, request_close: bool = False, max_header_bytes: int = 64 * 1024,
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
                    and not self.request_close and not _has_close(self._connection)
                    and not (self.method == "CONNECT" and 200 <= r.status < 300))  # a tunnel now
        assert self._h11 is not None  # done, and neither our direct nor chunked path: h11 framed it
        return self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE

    def feed(self, data) -> list[tuple]:
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

    def feed_eof(self) -> list[tuple]:
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
        self._chunk: _Chunked | None = None  # our own reading of a chunked body, once h11 has framed the head
        # h11 needs to have "sent" a request to expect a response: give it the shape of ours.
        self._h11.send(_fake_request(self.method if _is_token(self.method) else "GET", self.request_close))
        self._h11.send(_EOM)
        if self._pending:
            self._h11.receive_data(bytes(self._pending))

    def _fast_head(self) -> list[tuple]:
        """The common case, without h11's per-header machinery: one complete, strictly
        well-formed final head (CRLF lines, token names, plain values, a single numeric
        Content-Length, no Transfer-Encoding).  Anything else goes to h11.  A property
        test checks that whatever this accepts, h11 parses to the same result."""
        buf = self._pending
        if buf[:5] != b"HTTP/"[: len(buf)]:  # curl too gives up at once: no status line will come
            raise self._no_status_line()
        m = _BLANK_LINE.search(buf)
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
        steps: list[tuple] = [("head", r)]
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

    def _feed_direct(self, data) -> list[tuple]:
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
        steps: list[tuple] = [("data", len(body))] if body else []
        if self._direct == 0:
            self.leftover = bytes(rest)
            steps += self._end()
        return steps

    def _feed_chunked(self, data: bytes) -> list[tuple]:
        """A chunked body, read here rather than by h11: a chunk-size line is checked
        against --max-body as soon as it is complete (the body would exceed it: stop now),
        and the trailer section is metadata, never framing (its forbidden fields are kept
        and marked, see FORBIDDEN_TRAILERS).  The grammar is h11's: CRLF after the size
        line and after each chunk, a size of 1 to 20 hex digits, extensions ignored."""
        c = self._chunk
        assert c is not None  # feed() comes here only on the chunked path
        r = self.response
        store = r.body_store
        view = memoryview(data)
        n = len(data)
        pos = 0
        body = 0
        steps: list[tuple] = []
        while pos < n:
            state = c.state
            if state == _DATA:
                take = min(n - pos, c.left)
                store.write(view[pos: pos + take])
                pos += take
                body += take
                c.left -= take
                if not c.left:
                    c.state = _CRLF
            elif state == _SIZE:
                buf = c.buf
                if buf and buf[-1] == 13 and data[pos] == 10:  # the CRLF came in two pieces
                    line = bytes(buf) + b"\n"
                    pos += 1
                else:
                    i = data.find(b"\r\n", pos)
                    if i < 0:
                        buf += view[pos:]
                        if len(buf) > self.max_header_bytes:
                            raise self._framing_line_too_long()
                        break
                    line = bytes(buf) + data[pos: i + 2]
                    pos = i + 2
                buf.clear()
                size = self._chunk_size(line, view[pos:])
                if size:
                    c.state, c.left = _DATA, size
                else:
                    c.state, c.left = _TRAILER, 0
            elif state == _CRLF:
                buf = c.buf
                got = view[pos: pos + 2 - len(buf)]
                pos += len(got)
                buf += got
                if buf != b"\r\n"[: len(buf)]:
                    raise NetlabError("parse", f"invalid response: a chunk's data is followed by {bytes(buf)!r}, "
                                      "not by CRLF (the chunk-size line declared less than was sent?)")
                if len(buf) == 2:
                    buf.clear()
                    c.state = _SIZE
            else:  # _TRAILER
                return self._trailer(data, pos, body)
        if body:
            steps.append(("data", body))
        return steps

    def _chunk_size(self, line: bytes, after) -> int:
        """The size a complete chunk-size line declares; NetlabError('limit') when it would
        take the body over --max-body (checked before the syntax, so that the answer does
        not depend on how the line arrived), 'parse' when it is not h11's grammar."""
        digits = _HEX_RUN.match(line)
        if digits and self.max_body_bytes is not None:
            size = int(digits.group(), 16)
            done = self.response.body_store.size
            if done + size > self.max_body_bytes:
                raise self._declared_too_big(size, after[:size], chunk=True)
        if len(line) > self.max_header_bytes:
            raise self._framing_line_too_long()
        m = _CHUNK_LINE.fullmatch(line)
        if m is None:
            raise NetlabError("parse", f"invalid response: illegal chunk-size line {line[:40]!r} (a hexadecimal size, "
                              "optional ;extensions, CRLF)")
        return int(m.group(1), 16)

    def _framing_line_too_long(self) -> NetlabError:
        return NetlabError("limit", f"the body framing line exceeds the header limit of {self.max_header_bytes} bytes",
                           _LIMIT_HINT_HEAD)

    def _trailer(self, data: bytes, pos: int, body: int) -> list[tuple]:
        """The trailer section after the last chunk, up to its blank line (h11's rule:
        ``\n\r?\n``, or a blank line at once).  Bounded like a head, counted with the
        exchange's heads; its fields are kept as received, forbidden ones included."""
        c = self._chunk
        assert c is not None  # called from _feed_chunked
        r = self.response
        buf = c.buf
        buf += memoryview(data)[pos:]
        steps: list[tuple] = [("data", body)] if body else []
        if buf[:1] == b"\n":
            end = 1
        elif buf[:2] == b"\r\n":
            end = 2
        else:
            m = _BLANK_LINE.search(buf, c.left)
            if m is None:
                c.left = max(0, len(buf) - 2)  # where to search from next time
                if len(buf) > self.max_header_bytes:
                    raise NetlabError("limit", f"the trailer section exceeds the header limit of "
                                      f"{self.max_header_bytes} bytes", _LIMIT_HINT_HEAD)
                if self._head_bytes + len(buf) > self._head_total:
                    raise self._heads_too_big(self._head_bytes + len(buf))
                return steps
            end = m.end()
        section = bytes(buf[:end])
        rest = bytes(buf[end:])
        buf.clear()
        if len(section) > self.max_header_bytes:
            raise NetlabError("limit", f"the trailer section exceeds the header limit of {self.max_header_bytes} "
                              "bytes", _LIMIT_HINT_HEAD)
        self._head_bytes += len(section)
        if self._head_bytes > self._head_total:
            raise self._heads_too_big(self._head_bytes)
        r.trailers = _trailer_fields(section)
        if rest:
            raw = r.raw_body_store
            assert raw is not None  # made with _chunk, for the chunked wire bytes
            raw.truncate(raw.size - len(rest))
        self.leftover = rest
        return steps + self._end()

    def _end(self) -> list[tuple]:
        self.response.body_store.finish()
        self.response.complete = True
        self.done = True
        return [("end", None)]

    def _declared_too_big(self, size: int, arrived, chunk: bool = False) -> NetlabError:
        """The head (Content-Length) or a chunk-size line declares more than --max-body
        allows: stop now, as curl --max-filesize does, not after reading up to the limit.
        The body bytes that came with it are kept, up to the limit."""
        assert self.max_body_bytes is not None  # called only when --max-body is set
        store = self.response.body_store
        done = store.size
        if arrived:
            store.write(arrived[: self.max_body_bytes - done])
        if chunk:
            said = f"a chunk-size line declares {size} more bytes after {done}"
        else:
            said = f"the head declares {size} bytes (Content-Length)"
        return NetlabError("limit", f"the body exceeds the limit of {self.max_body_bytes} bytes: {said}; stopped "
                           f"without reading it", _LIMIT_HINT_DECLARED)

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
                           f"received)", _LIMIT_HINT_HEAD)

    def _head_too_big(self, received: int) -> NetlabError:
        self.keep_partial_head()
        return NetlabError("limit", f"the response head exceeds the header limit of {self.max_header_bytes} bytes "
                           f"(stopped after {received} bytes of head)", _LIMIT_HINT_HEAD)

    def _too_many_headers(self, count: int) -> NetlabError:
        self.keep_partial_head()  # the head is refused: its bytes stay viewable, unparsed
        return NetlabError("limit", f"the response head has {count} header lines, over the limit of "
                           f"{self.max_headers}", _LIMIT_HINT_HEAD)

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

    def _drain(self, eof: bool = False) -> list[tuple]:
        """The steps of h11's events until it needs more bytes or the message (or its
        head, when the body is ours to read) ends; each kind of event is one method."""
        assert self._h11 is not None  # called on the h11 path only
        steps: list[tuple] = []
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
                steps.append(("head", self._on_head(ev)))
                rest = self._start_body()
                if rest is not None:
                    return steps + rest
            elif t is h11.InformationalResponse:
                assert isinstance(ev, h11.InformationalResponse)
                steps.append(("info", self._on_informational(ev)))
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

    def _paused(self) -> list[tuple]:
        assert self._h11 is not None  # called on the h11 path only
        if self.response.status and self._in_body and not self.done:  # a 2xx to CONNECT: the tunnel follows
            self.leftover = bytes(self._h11.trailing_data[0])
            return self._end()
        return []

    def _on_data(self, ev: h11.Data) -> tuple:
        store = self.response.body_store
        store.write(ev.data)
        if self.max_body_bytes is not None and store.size > self.max_body_bytes:
            raise self._too_big()
        return ("data", len(ev.data))

    def _on_head(self, ev: h11.Response) -> Response:
        """The final head, as h11 parsed it, into the response; its bytes counted and bounded."""
        if len(ev.headers) > self.max_headers:
            raise self._too_many_headers(len(ev.headers))
        r = self.response
        r.http_version = "HTTP/" + ev.http_version.decode()
        r.status = ev.status_code
        r.reason = ev.reason.decode("latin-1")
        r.headers = _hdrs(ev.headers.raw_items())
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

    def _start_body(self) -> list[tuple] | None:
        """After the final head: a chunked, Content-Length or close-delimited body is read
        by this reader from here on (the steps of the bytes already here); None when h11
        goes on (no body)."""
        r = self.response
        if r.framing == "chunked":  # h11 has checked the head; the chunks are ours to read
            r.raw_body_store = BodyStore(self._spill_at)
            rest = bytes(self._pending)
            self._pending = bytearray()
            self._chunk = _Chunked()
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
        info = Informational(ev.status_code, ev.reason.decode("latin-1"), _hdrs(ev.headers.raw_items()),
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

    def _on_end(self, ev: h11.EndOfMessage) -> list[tuple]:
        assert self._h11 is not None  # called on the h11 path only
        r = self.response
        r.trailers = _hdrs(ev.headers.raw_items())
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
                               _LIMIT_HINT_HEAD)
        if eof:  # h11 objects to the close itself: the reply stopped short
            return self._truncated()
        if not self.response.status:
            self.keep_partial_head()
            head = bytes(self._pending[:40])
            return NetlabError("parse", f"invalid response head: {text} (the reply starts with {head!r})")
        return NetlabError("parse", f"invalid response: {text}")


_BLANK_LINE = re.compile(rb"\n\r?\n")  # where h11 ends a head
_SIZE, _DATA, _CRLF, _TRAILER = range(4)  # where a chunked body is
_HEX_RUN = re.compile(rb"[0-9A-Fa-f]+")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")  # h11's chunk_header
# h11's header_field: token ":" OWS field-value OWS, a value of [^NUL whitespace] runs
# joined by spaces or tabs.
_FIELD_LINE = re.compile(rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*")
_FOLD = re.compile(rb"[ \t]+")


class _Chunked:
    """Where the reading of a chunked body is: ``state`` (_SIZE, _DATA, _CRLF, _TRAILER),
    ``left`` (bytes left in the chunk; in the trailer, where to search from), ``buf``
    (a size line, CRLF or trailer section still incomplete)."""

    __slots__ = ("buf", "left", "state")

    def __init__(self) -> None:
        self.state = _SIZE
        self.left = 0
        self.buf = bytearray()


def _trailer_fields(section: bytes) -> list[tuple[str, str]]:
    """(name, value) of a complete trailer section (ending with its blank line), as h11
    reads header lines: obs-folded lines joined with a space; NetlabError('parse') for a
    line that is not a field.  Names and values as received, in order."""
    lines = section.split(b"\n")[:-2]
    fields: list[tuple[str, str]] = []
    last: bytes | None = None
    for line in [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]:
        fold = _FOLD.match(line)
        if fold:
            if last is None:
                raise NetlabError("parse", f"invalid response: the trailer section starts with a continuation line "
                                  f"{line[:40]!r}")
            last += b" " + line[fold.end():]
            continue
        if last is not None:
            fields.append(_trailer_field(last))
        last = line
    if last is not None:
        fields.append(_trailer_field(last))
    return fields


def _trailer_field(line: bytes) -> tuple[str, str]:
    m = _FIELD_LINE.fullmatch(line)
    if m is None:
        raise NetlabError("parse", f"invalid response: illegal trailer line {line[:40]!r}")
    return m.group(1).decode("latin-1"), m.group(2).decode("latin-1")
_BYTEARRAY = re.compile(r"bytearray\((b(['\"]).*?(?<!\\)\2)\)")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([2-5][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?\r\n")
# A header line as h11 accepts it: token ":" OWS field-value OWS, where field-value is
# visible characters with inner runs of space/tab.  Any run of [\t\x20-\x7e\x80-\xff]
# splits uniquely into OWS, such a value and OWS, so the plain character class says the
# same thing as the grammar without its backtracking.
_FIELDS = re.compile(rb"(?:[-!#$%&'*+.^_`|~0-9a-zA-Z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*\r\n")


def scan_head_strict(head: bytes):
    """(http_version, status, reason, header_text, content_length, connection) for a
    strictly well-formed final head, else None (meaning: let h11 decide).  ``head`` ends
    with the blank line; ``header_text`` is the header lines (Latin-1, CRLF-separated)
    for ``split_header_lines``; ``connection`` is the lowercased Connection value, or
    None.  One regex checks every header line at once; the rest is str methods on the
    lowercased text (this runs once per response: it is kept to C-level calls)."""
    m = _STATUS_LINE.match(head)
    if m is None or not _FIELDS.fullmatch(head, m.end()):
        return None
    text = head[m.end():-4].decode("latin-1")
    low = "\r\n" + text.lower() + "\r\n"
    if "\r\ntransfer-encoding:" in low:
        return None
    length = None
    count = low.count("\r\ncontent-length:")
    if count:
        if count > 1:
            return None
        value = _field(low, "\r\ncontent-length:")
        if not value.isdigit() or not value.isascii() or len(value) > 18:
            return None
        length = int(value)
    count = low.count("\r\nconnection:")
    connection: str | None
    if count > 1:
        connection = ",".join(v for n, v in split_header_lines(text) if n.lower() == "connection").lower()
    else:
        connection = _field(low, "\r\nconnection:") if count else None
    reason = (m.group(3) or b"").decode("latin-1")
    return "HTTP/1." + m.group(1).decode(), int(m.group(2)), reason, text, length, connection


def _field(low: str, key: str) -> str:
    start = low.index(key) + len(key)
    return low[start: low.index("\r\n", start)].strip(" \t")


def split_header_lines(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs of header lines already checked by ``scan_head_strict``."""
    if not text:
        return []
    return [(n, v.strip(" \t")) for n, _, v in [line.partition(":") for line in text.split("\r\n")]]


def parse_head_strict(head: bytes):
    """(http_version, status, reason, headers, content_length), or None: the fast path's
    reading of a head with the header list split out (the property test's view of it)."""
    scanned = scan_head_strict(head)
    if scanned is None:
        return None
    version, status, reason, text, length, _ = scanned
    return version, status, reason, split_header_lines(text), length


def _has_close(value: str | None) -> bool:
    if not value:  # None or empty
        return False
    return "close" in value.lower() and any(t.strip().lower() == "close" for t in value.split(","))


_EOM = h11.EndOfMessage()
_FAKE: dict[tuple[str, bool], h11.Request] = {}


def _fake_request(method: str, close: bool) -> h11.Request:
    """The shape of our request for h11's state machine (events are immutable: cache them)."""
    req = _FAKE.get((method, close))
    if req is None:
        headers = [("Host", "netlab")] + ([("Connection", "close")] if close else [])
        req = _FAKE[(method, close)] = h11.Request(method=method, target="/", headers=headers)
    return req


def _is_token(s: str) -> bool:
    return bool(s) and all(33 <= ord(c) < 127 and c not in '()<>@,;:\\"/[]?={} \t' for c in s)
