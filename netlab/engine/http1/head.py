"""The grammar of a response head: the strict fast-path scan of a final head (checked
against h11 by a property test), header and trailer field lines, and the shape of our
request that h11's state machine needs."""

from __future__ import annotations

import re

import h11

from netlab.engine.errors import NetlabError

LIMIT_HINT_HEAD = ("a head this large means a misbehaving server; the bytes received are kept "
                   "(-v, --json or the Raw tab show them)")
BLANK_LINE = re.compile(rb"\n\r?\n")  # where h11 ends a head
# h11's header_field: token ":" OWS field-value OWS, a value of [^NUL whitespace] runs
# joined by spaces or tabs.
_FIELD_LINE = re.compile(rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*")
_FOLD = re.compile(rb"[ \t]+")


def hdrs(items) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in items]


def trailer_fields(section: bytes) -> list[tuple[str, str]]:
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


def has_close(value: str | None) -> bool:
    if not value:  # None or empty
        return False
    return "close" in value.lower() and any(t.strip().lower() == "close" for t in value.split(","))


EOM = h11.EndOfMessage()
_FAKE: dict[tuple[str, bool], h11.Request] = {}


def fake_request(method: str, close: bool) -> h11.Request:
    """The shape of our request for h11's state machine (events are immutable: cache them)."""
    req = _FAKE.get((method, close))
    if req is None:
        headers = [("Host", "netlab")] + ([("Connection", "close")] if close else [])
        req = _FAKE[(method, close)] = h11.Request(method=method, target="/", headers=headers)
    return req
