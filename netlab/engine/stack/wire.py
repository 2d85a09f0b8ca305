"""The recorded byte streams of a connection cut into its requests and responses.

HTTP/1.1 without pipelining: the n-th request written on a connection is answered by
the n-th final response read on it.  Requests end at their blank line plus any
Content-Length body; responses are framed as RFC 9112 says (no body for HEAD, 1xx, 204
and 304; chunked; Content-Length; else up to the close).  Interim (1xx) responses are
skipped.  A stream cut short gives what it has: a partial request or response is kept."""

from __future__ import annotations

import re
from typing import NamedTuple

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$")
_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})")


class WireResponse(NamedTuple):
    head: bytes  # status line and headers, through the blank line
    status: int | None
    body: bytes  # the body as carried (chunked framing removed, content coding kept)
    framed: bytes = b""  # the body's bytes as read, chunked framing included


def split_requests(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, bytes) of each request written on one connection."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        m = _HEAD_END.search(data, pos)
        if m is None:
            out.append((pos, data[pos:]))
            break
        length = _CONTENT_LENGTH.search(data, pos, m.start() + 1)
        stop = min(len(data), m.end() + (int(length.group(1)) if length else 0))
        out.append((pos, data[pos:stop]))
        pos = stop
    return out


def request_method(request: bytes) -> str:
    return request.split(b" ", 1)[0].decode("latin-1")


def header_value(head: bytes, name: str) -> str | None:
    """The first value of header ``name`` in a message head (None if absent)."""
    for line in head.split(b"\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name.lower().encode("latin-1"):
            return value.strip().decode("latin-1")
    return None


def _dechunk(data: bytes, pos: int) -> tuple[bytes, int]:
    """The chunked body starting at ``pos`` and where it (with its trailer) ends."""
    body = bytearray()
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            return bytes(body), len(data)
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(body), len(data)
        pos = eol + 1
        if size == 0:
            end = _HEAD_END.search(b"\r\n" + data[pos:])  # the trailer section ends with a blank line
            return bytes(body), len(data) if end is None else pos + end.end() - 2
        body += data[pos:pos + size]
        pos += size
        pos += 2 if data[pos:pos + 2] == b"\r\n" else 1 if data[pos:pos + 1] == b"\n" else 0


def _body(data: bytes, start: int, head: bytes, status: int | None, method: str) -> tuple[bytes, int]:
    if method == "HEAD" or status in (204, 304):
        return b"", start
    coding = (header_value(head, "Transfer-Encoding") or "").lower()
    if coding.endswith("chunked"):
        return _dechunk(data, start)
    length = header_value(head, "Content-Length")
    if length is not None and length.isdigit():
        stop = min(len(data), start + int(length))
        return data[start:stop], stop
    return data[start:], len(data)


def split_responses(data: bytes, methods: list[str]) -> list[WireResponse]:
    """The final responses read on one connection, one per request method in ``methods``."""
    out: list[WireResponse] = []
    pos = 0
    while pos < len(data) and len(out) < max(len(methods), 1):
        m = _HEAD_END.search(data, pos)
        if m is None:
            head = data[pos:]
            partial = _STATUS.match(head)
            out.append(WireResponse(head, int(partial.group(1)) if partial else None, b""))
            break
        head = data[pos:m.end()]
        found = _STATUS.match(head)
        status = int(found.group(1)) if found else None
        if status is not None and 100 <= status < 200:
            pos = m.end()
            continue
        method = methods[len(out)] if len(out) < len(methods) else "GET"
        body, stop = _body(data, m.end(), head, status, method)
        out.append(WireResponse(head, status, body, data[m.end():stop]))
        pos = stop
    return out


def header_marks(request: bytes, baseline: bytes) -> list[tuple[str, bytes]]:
    """Each line of ``request``'s head, marked against ``baseline``'s: ``+`` a header the
    baseline does not have, ``~`` one it has with another value (or another request
    line), `` `` the same; then ``-`` for each baseline header missing here."""
    def lines(message: bytes) -> list[bytes]:
        m = _HEAD_END.search(message)
        head = message[:m.start()] if m else message
        return [ln.rstrip(b"\r") for ln in head.split(b"\n")]

    def fields(head_lines: list[bytes]) -> dict[bytes, list[bytes]]:
        out: dict[bytes, list[bytes]] = {}
        for ln in head_lines[1:]:
            key, _, value = ln.partition(b":")
            out.setdefault(key.strip().lower(), []).append(value.strip())
        return out

    mine, theirs = lines(request), lines(baseline)
    base = fields(theirs)
    marked = [(" " if mine[:1] == theirs[:1] else "~", mine[0] if mine else b"")]
    for ln in mine[1:]:
        key, _, value = ln.partition(b":")
        values = base.get(key.strip().lower())
        marked.append(("+" if values is None else " " if value.strip() in values else "~", ln))
    own = fields(mine)
    marked += [("-", ln) for ln in theirs[1:] if ln.partition(b":")[0].strip().lower() not in own]
    return marked
