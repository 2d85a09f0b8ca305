"""A chunked body, framed as it arrives: size lines, data, CRLFs and the trailer
section, with where each chunk sits in the wire body.

The grammar is h11's: CRLF after the size line and after each chunk, a size of 1 to
20 hex digits, extensions ignored, a trailer section up to its blank line.  It is read
here rather than by h11: a chunk-size line is checked against --max-body as soon as it
is complete (the body would exceed it: stop now), and the trailer section is metadata,
never framing.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Iterable
from typing import NamedTuple

from netlab.engine.errors import NetlabError
from netlab.engine.http1.head import BLANK_LINE, LIMIT_HINT_HEAD
from netlab.engine.http1.store import BodyStore

SIZE, DATA, CRLF, TRAILER = range(4)  # where a chunked body is
_HEX_RUN = re.compile(rb"[0-9A-Fa-f]+")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*\r\n")  # h11's chunk_header
# The chunks whose place is kept: a chunk takes at least 6 bytes on the wire ("1\r\nx\r\n"),
# so these cover more than the first MiB of any chunked body (what the Raw tab shows)
# in at most 4.8 MB, however many tiny chunks a server sends after them.
CHUNK_MARKS = 200_000
_LIMIT_HINT_DECLARED = ("raise --max-body BYTES if a body this large is expected (--max-body 0: no limit); "
                        "the head and the body bytes that came with it are kept")


class Chunk(NamedTuple):
    """Where one chunk sits in the wire body (``Response.raw_body``): its size line at
    ``start``, ``line`` bytes long (extensions and CRLF included), then ``size`` data
    bytes and their CRLF.  The last chunk has size 0; the trailer section and its blank
    line follow its size line up to the end of the wire body."""

    start: int
    line: int
    size: int


def declared_too_big(store: BodyStore, max_body: int, size: int, arrived, chunk: bool = False) -> NetlabError:
    """The head (Content-Length) or a chunk-size line declares more than --max-body
    allows: stop now, as curl --max-filesize does, not after reading up to the limit.
    The body bytes that came with it are kept, up to the limit."""
    done = store.size
    if arrived:
        store.write(arrived[: max_body - done])
    if chunk:
        said = f"a chunk-size line declares {size} more bytes after {done}"
    else:
        said = f"the head declares {size} bytes (Content-Length)"
    return NetlabError("limit", f"the body exceeds the limit of {max_body} bytes: {said}; stopped "
                       f"without reading it", _LIMIT_HINT_DECLARED)


class ChunkedBody:
    """Where the reading of a chunked body is: ``state`` (SIZE, DATA, CRLF, TRAILER),
    ``left`` (bytes left in the chunk; in the trailer, where to search from), ``buf``
    (a size line, CRLF or trailer section still incomplete).  The body's bytes go to
    ``store`` (None: frame only); ``marks`` holds (start, line, size) of each chunk, flat,
    for the first CHUNK_MARKS chunks; ``wire``: the wire bytes fed before this feed.
    Once the trailer section is complete, ``section`` is it and ``rest`` what came after."""

    __slots__ = ("state", "left", "buf", "store", "max_line", "max_body", "marks", "wire", "section", "rest")

    def __init__(self, store: BodyStore | None, *, max_line: int, max_body: int | None) -> None:
        self.state = SIZE
        self.left = 0
        self.buf = bytearray()
        self.store = store
        self.max_line = max_line  # a size line's or the trailer section's bytes at most
        self.max_body = max_body  # None, or with a store
        self.marks = array("Q")
        self.wire = 0
        self.section: bytes | None = None
        self.rest = b""

    def feed(self, data: bytes) -> int:
        """Frame ``data``, the next wire bytes; the body bytes it held.  In the TRAILER
        state afterwards, the caller looks at ``section`` (None: still incomplete)."""
        view = memoryview(data)
        n = len(data)
        pos = 0
        body = 0
        store = self.store
        while pos < n:
            state = self.state
            if state == DATA:
                take = min(n - pos, self.left)
                if store is not None:
                    store.write(view[pos: pos + take])
                pos += take
                body += take
                self.left -= take
                if not self.left:
                    self.state = CRLF
            elif state == SIZE:
                at = self._size_line(data, view, pos)
                if at < 0:
                    break
                pos = at
            elif state == CRLF:
                pos = self._crlf(view, pos)
            else:  # TRAILER
                self._trailer(view[pos:])
                break
        self.wire += n
        return body

    def _size_line(self, data: bytes, view: memoryview, pos: int) -> int:
        """Read a chunk-size line from ``pos``: where the chunk's data starts, or -1 when
        the line is not complete yet (kept in ``buf``)."""
        buf = self.buf
        if buf and buf[-1] == 13 and data[pos] == 10:  # the CRLF came in two pieces
            line = bytes(buf) + b"\n"
            pos += 1
        else:
            i = data.find(b"\r\n", pos)
            if i < 0:
                buf += view[pos:]
                if len(buf) > self.max_line:
                    raise self.framing_line_too_long()
                return -1
            line = bytes(buf) + data[pos: i + 2]
            pos = i + 2
        buf.clear()
        size = self._chunk_size(line, view[pos:])
        if len(self.marks) < 3 * CHUNK_MARKS:
            self.marks.extend((self.wire + pos - len(line), len(line), size))
        if size:
            self.state, self.left = DATA, size
        else:
            self.state, self.left = TRAILER, 0
        return pos

    def _chunk_size(self, line: bytes, after) -> int:
        """The size a complete chunk-size line declares; NetlabError('limit') when it would
        take the body over --max-body (checked before the syntax, so that the answer does
        not depend on how the line arrived), 'parse' when it is not h11's grammar."""
        digits = _HEX_RUN.match(line)
        if digits and self.max_body is not None:
            assert self.store is not None  # a body limit comes with a store
            size = int(digits.group(), 16)
            if self.store.size + size > self.max_body:
                raise declared_too_big(self.store, self.max_body, size, after[:size], chunk=True)
        if len(line) > self.max_line:
            raise self.framing_line_too_long()
        m = _CHUNK_LINE.fullmatch(line)
        if m is None:
            raise NetlabError("parse", f"invalid response: illegal chunk-size line {line[:40]!r} (a hexadecimal size, "
                              "optional ;extensions, CRLF)")
        return int(m.group(1), 16)

    def _crlf(self, view: memoryview, pos: int) -> int:
        """The CRLF after a chunk's data, perhaps in two pieces: where the next size line starts."""
        buf = self.buf
        got = view[pos: pos + 2 - len(buf)]
        buf += got
        if buf != b"\r\n"[: len(buf)]:
            raise NetlabError("parse", f"invalid response: a chunk's data is followed by {bytes(buf)!r}, "
                              "not by CRLF (the chunk-size line declared less than was sent?)")
        if len(buf) == 2:
            buf.clear()
            self.state = SIZE
        return pos + len(got)

    def _trailer(self, data: memoryview) -> None:
        """The trailer section after the last chunk, up to its blank line (h11's rule:
        ``\\n\\r?\\n``, or a blank line at once), bounded like a head."""
        buf = self.buf
        buf += data
        if buf[:1] == b"\n":
            end = 1
        elif buf[:2] == b"\r\n":
            end = 2
        else:
            m = BLANK_LINE.search(buf, self.left)
            if m is None:
                self.left = max(0, len(buf) - 2)  # where to search from next time
                if len(buf) > self.max_line:
                    raise self.trailer_too_big()
                return
            end = m.end()
        section = bytes(buf[:end])
        self.rest = bytes(buf[end:])
        buf.clear()
        if len(section) > self.max_line:
            raise self.trailer_too_big()
        self.section = section

    def framing_line_too_long(self) -> NetlabError:
        return NetlabError("limit", f"the body framing line exceeds the header limit of {self.max_line} bytes",
                           LIMIT_HINT_HEAD)

    def trailer_too_big(self) -> NetlabError:
        return NetlabError("limit", f"the trailer section exceeds the header limit of {self.max_line} bytes",
                           LIMIT_HINT_HEAD)


def chunk_marks(pieces: Iterable[bytes]) -> array:
    """The ``marks`` of a chunked wire body kept earlier (a history entry's), framed again
    by the same code that read it; up to where its framing ends or fails."""
    body = ChunkedBody(None, max_line=sys.maxsize, max_body=None)
    try:
        for piece in pieces:
            body.feed(piece)
            if body.state == TRAILER:
                break
    except NetlabError:
        pass  # the chunks before the bad line are placed; the rest is not framed
    return body.marks
