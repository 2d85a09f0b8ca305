"""One request as the lab server received it, and the strict parsing of its head.

The server parses requests itself, strictly as RFC 9112 asks of a server: bare LF line
endings and HTTP/1.0 are accepted; what sections 2.2, 3, 5, 6 and 7 say to reject - a
folded or space-before-colon header, a bare CR, a NUL, an ambiguous body length, no
Host - raises ``RequestError`` (400, or 505 for a version other than 1.x), which the
server answers before it closes the connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_LINE_END = re.compile(r"\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(r"([^ ]+) ([^ ]+) ([^ ]+)")  # exactly one SP between (RFC 9112 3)
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters other than HTAB
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.%~_\-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")
_HEAD_TAIL = re.compile(r"\r?\n\r?\n\Z")
_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
DIGITS = re.compile(r"[0-9]{1,20}")  # a whole number: Content-Length, or a path argument

Headers = tuple[tuple[str, str], ...]


class RequestError(Exception):
    """A request the server answers with an error status (a bad request, or bad input)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class LabRequest:
    """One request as the lab server received it."""

    method: str
    target: str  # as in the request line
    path: str  # the target's path ("/bytes/10")
    query: tuple[tuple[str, str], ...]  # the target's query, decoded, in order
    version: str  # "HTTP/1.1", "HTTP/1.0"
    headers: Headers  # as received: order, case and duplicates kept
    body: bytes  # decoded (chunked framing removed)
    raw: bytes  # head and body exactly as on the wire
    client: tuple[Any, ...]  # the peer address from accept()
    force_close: bool = False  # close after the response whatever the headers say

    def header(self, name: str) -> str | None:
        """The values of header ``name`` joined by ", ", or None."""
        return header_value(self.headers, name)

    def params(self, name: str) -> list[str]:
        """The values of query parameter ``name``."""
        return [value for key, value in self.query if key == name]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("Connection") or "").split(",")}
        if self.force_close or "close" in tokens:
            return False
        return self.version != "HTTP/1.0" or "keep-alive" in tokens


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The values of header ``name`` (any case) joined by ", ", or None."""
    values = [v for k, v in headers if k.lower() == name.lower()]
    return ", ".join(values) if values else None


def split_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and query of a request target (origin-form "/a?b" or absolute-form)."""
    try:
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as error:
        raise RequestError(400, f"malformed request target: {error}") from None
    path = parts.path or ("/" if parts.scheme else target)
    return path, tuple(query)


def parse_field_line(line: str) -> tuple[str, str]:
    """One header (or trailer) field line, as RFC 9110 5 and RFC 9112 5 allow it."""
    if line[:1] in (" ", "\t"):  # obs-fold, or whitespace before the first field
        raise RequestError(400, f"folded header line (obsolete line folding is not accepted): "
                                f"{line[:200]!r}")
    name, colon, value = line.partition(":")
    if not colon:
        raise RequestError(400, f"header line without a colon: {line[:200]!r}")
    if not _TOKEN.fullmatch(name):
        what = "whitespace before the colon" if name.rstrip(" \t") != name else "invalid field name"
        raise RequestError(400, f"{what}: {name[:200]!r}")
    value = value.strip(" \t")
    if bad := _CTL.search(value):
        char = {"\x00": "NUL", "\r": "a bare CR"}.get(bad.group(), repr(bad.group()))
        raise RequestError(400, f"{char} in the value of header {name[:100]!r}")
    return name, value


def parse_head(head: bytes) -> tuple[str, str, str, Headers]:
    """Request line and header fields from a head; strict (RFC 9112 sections 2-5),
    raises RequestError(400/505). Lines may end in CRLF or a bare LF (section 2.2)."""
    text = _HEAD_TAIL.sub("", head.decode("latin-1"), count=1)
    lines = _LINE_END.split(text)
    if any("\r" in line for line in lines):
        raise RequestError(400, "a bare CR (not followed by LF) in the request head")
    method, target, version = _parse_request_line(lines[0])
    headers = tuple(parse_field_line(line) for line in lines[1:])
    _check_host(headers, version)
    return method, target, version, headers


def _parse_request_line(line: str) -> tuple[str, str, str]:
    """METHOD SP TARGET SP VERSION, each part checked (RFC 9112 section 3)."""
    if not (match := _REQUEST_LINE.fullmatch(line)):
        raise RequestError(400, f"malformed request line (METHOD SP TARGET SP VERSION): "
                                f"{line[:200]!r}")
    method, target, version = match.groups()
    if not _TOKEN.fullmatch(method):
        raise RequestError(400, f"malformed method: {method[:40]!r}")
    if not (version_match := _VERSION.fullmatch(version)):
        raise RequestError(400, f"malformed HTTP version: {version[:40]!r}")
    if _CTL.search(target) or "\t" in target:
        raise RequestError(400, f"control character in the request target: {target[:200]!r}")
    if not (target.startswith("/") or _ABSOLUTE.match(target)
            or (method == "OPTIONS" and target == "*") or method == "CONNECT"):
        raise RequestError(400, f"request target is not a path (/...) or an absolute URL: "
                                f"{target[:200]!r}")
    if version_match.group(1) != "1":
        raise RequestError(505, f"HTTP version not supported: {version}")
    return method, target, version


def _check_host(headers: Headers, version: str) -> None:
    """Exactly one valid Host header; HTTP/1.0 may leave it out (RFC 9112 section 3.2)."""
    hosts = [value for name, value in headers if name.lower() == "host"]
    if len(hosts) > 1:
        raise RequestError(400, "more than one Host header (RFC 9112 section 3.2)")
    if not hosts and version != "HTTP/1.0":
        raise RequestError(400, "no Host header: HTTP/1.1 requires one (RFC 9112 section 3.2)")
    if hosts and not _HOST.fullmatch(hosts[0]):
        raise RequestError(400, f"invalid Host header: {hosts[0][:200]!r}")
