"""One response as received: the parsed head, the body store and the raw bytes."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from netlab.engine.http1.chunked import Chunk, chunk_marks
from netlab.engine.http1.decode import decode_into
from netlab.engine.http1.head import split_header_lines
from netlab.engine.http1.store import BodyStore
from netlab.engine.request import find_header

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
                 "content_length", "raw_head", "informational", "body_store", "raw_body_store", "complete",
                 "chunk_marks")

    def __init__(self, http_version: str = "", status: int = 0, reason: str = "",
                 headers: list[tuple[str, str]] | None = None, trailers: list[tuple[str, str]] | None = None,
                 framing: str = "", content_length: int | None = None, raw_head: bytes = b"",
                 informational: list[Informational] | None = None, body_store: BodyStore | None = None,
                 raw_body_store: BodyStore | None = None, complete: bool = False,
                 chunk_marks: array | None = None) -> None:
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
        # Where the chunks are in the wire body, as the reader framed them (see chunks()):
        # None until known (a response kept in the history is framed again when asked).
        self.chunk_marks = chunk_marks

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

    def chunks(self) -> Iterator[Chunk]:
        """Each chunk of a chunked body as framed on the wire, in order: where its size
        line starts in ``raw_body``, that line's length and the chunk's size (the last
        one 0, its trailer section after it).  The place of the first CHUNK_MARKS chunks
        is kept; bytes after the last chunk given (a cut-off or malformed body) are not
        framed.  Nothing for other framings."""
        marks = self.chunk_marks
        if marks is None:
            if self.framing != "chunked" or self.raw_body_store is None:
                return
            marks = self.chunk_marks = chunk_marks(self.raw_body_store.iter_chunks())
        for i in range(0, len(marks), 3):
            yield Chunk(marks[i], marks[i + 1], marks[i + 2])

    @property
    def trailers_forbidden(self) -> list[tuple[str, str]]:
        """The trailer fields RFC 9110 section 6.5.1 forbids (FORBIDDEN_TRAILERS), in
        order; they stay in ``trailers`` too, where views mark them: they never change
        how the message is framed or read."""
        return [(n, v) for n, v in self.trailers if n.lower() in FORBIDDEN_TRAILERS]
