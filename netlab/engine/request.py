"""Request: the exact bytes that will go on the wire, and where they go.

``Request.from_url`` builds HTTP/1.1 bytes from a URL, method, headers and body.
Every header the engine adds (Host, User-Agent, Accept, Content-Length) is part of
``headers`` and of ``data`` before anything is sent: nothing is added later.
``Request.raw`` takes bytes and sends them exactly as given, malformed or not;
its URL only names the scheme, host and port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from netlab import __version__
from netlab.engine.defaults import DEFAULT_PORTS, HEAD_END_PATTERN, TOKEN_PATTERN
from netlab.engine.errors import NetlabError

__all__ = ["Request", "Target", "parse_target", "encode_target", "USER_AGENT", "format_host", "find_header",
           "TOKEN_PATTERN", "HEAD_END", "is_token", "with_scheme", "host_port"]

USER_AGENT = f"netlab/{__version__}"
_BREAKS = re.compile("[\r\n\x00]")  # would end a header line early (injection) or cut it short
_NOT_IN_TARGET = re.compile("[\x00-\x20\x7f-\U0010ffff]")  # not allowed in a request-target: percent-encoded
_NOT_IN_HOST = re.compile("[\x00-\x20\x7f]")
_TOKEN_TEXT = re.compile(TOKEN_PATTERN)
_TOKEN_BYTES = re.compile(TOKEN_PATTERN.encode("ascii"))
HEAD_END = re.compile(HEAD_END_PATTERN)  # where a head ends: the first empty line (CR LF or bare LF)


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    target: str  # path + query, as in the request line


def is_token(text: str | bytes) -> bool:
    """Is ``text`` an HTTP token (a method, a header name)?  The whole of it: a pattern
    ending in "$" would let a final "\\n" through."""
    if isinstance(text, bytes):
        return _TOKEN_BYTES.fullmatch(text) is not None
    return _TOKEN_TEXT.fullmatch(text) is not None


def with_scheme(url: str) -> str:
    """``url`` with ``http://`` in front when it names no scheme, the way curl reads it."""
    return url if "://" in url else "http://" + url


def host_port(host: str, port: int | str | None = None) -> str:
    """``host`` in brackets when it is an IPv6 address, then ``:port`` when one is given:
    ``[::1]:8080``, ``example.com:443``, ``[::1]``."""
    h = f"[{host}]" if ":" in host else host
    return h if port is None else f"{h}:{port}"


def format_host(host: str, port: int, scheme: str) -> str:
    """The Host header value: brackets for IPv6, port only when not the default."""
    return host_port(host, None if DEFAULT_PORTS.get(scheme) == port else port)


def parse_target(url: str) -> Target:
    """Split a URL into scheme, host, port and request target.

    A URL without a scheme gets ``http://`` the way curl does it."""
    if not isinstance(url, str) or not url.strip():
        raise NetlabError("usage", "no URL given")
    url = with_scheme(url.strip())
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NetlabError("usage", f"bad URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise NetlabError("usage", f"unsupported scheme {scheme!r} in {url!r} (use http or https)")
    host = parts.hostname
    if not host:
        raise NetlabError("usage", f"no host in URL {url!r}")
    if not host.isascii():  # an internationalised name: its ASCII (punycode) form, as curl sends it
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise NetlabError("usage", f"the host {host!r} in URL {url!r} is not a valid host name: {exc}") from None
    if not host or _NOT_IN_HOST.search(host):
        raise NetlabError("usage", f"the host {host!r} in URL {url!r} is empty or contains a space or a "
                                   "control character")
    target = parts.path or "/"
    if parts.query or url.split("#", 1)[0].endswith("?"):  # http://h/? keeps its empty query, as curl sends it
        target += "?" + parts.query
    return Target(scheme, host, port if port is not None else DEFAULT_PORTS[scheme], encode_target(target))


def encode_target(target: str) -> str:
    """Percent-encode what cannot stand in a request line (spaces, control characters,
    non-ASCII as UTF-8), as urllib3 and browsers do; everything else (``%XX`` included)
    is kept as written."""
    if not _NOT_IN_TARGET.search(target):
        return target
    return _NOT_IN_TARGET.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogatepass")),
                              target)


def _header_list(headers: Iterable[tuple[str, str]] | Mapping[str, str] | Iterable[str]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition(":")
            if not sep:
                raise NetlabError("usage", f"header {item!r} has no ':' (expected 'Name: value')")
            item = (name.strip(), value.strip(" \t"))
        name, value = item
        if not isinstance(name, str) or not isinstance(value, str):
            raise NetlabError("usage", f"header {item!r}: the name and the value must be text")
        if _BREAKS.search(name):
            raise NetlabError("usage", f"header name {name!r} contains {_what(name)}: refused, it would break the "
                                       "header line (header injection); send such bytes on purpose with --raw")
        if not name or not is_token(name.encode("latin-1", "replace")):
            raise NetlabError("usage", f"invalid header name {name!r} (letters, digits and !#$%&'*+-.^_`|~ only)")
        if _BREAKS.search(value):
            raise NetlabError("usage", f"the value of header {name!r} contains {_what(value)}: refused, it would "
                                       "break the header line (header injection); send such bytes on purpose "
                                       "with --raw")
        out.append((name, value))
    return out


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    scheme: str
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    data: bytes  # the exact bytes sent on the wire
    is_raw: bool = False

    @classmethod
    def from_url(cls, url: str, method: str = "GET", headers=(), body: bytes | str = b"") -> "Request":
        t = parse_target(url)
        method = method.upper()
        if not method or not is_token(method.encode("latin-1", "replace")):
            raise NetlabError("usage", f"invalid method {method!r} (a token: letters, digits and !#$%&'*+-.^_`|~)")
        if isinstance(body, str):
            try:
                body = body.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise NetlabError("usage", f"the body holds text that cannot be UTF-8 encoded: {exc.reason}") from None
        given = _header_list(headers)
        have = {n.lower() for n, _ in given}
        added: list[tuple[str, str]] = []
        if "host" not in have:
            added.append(("Host", format_host(t.host, t.port, t.scheme)))
        if "user-agent" not in have:
            added.append(("User-Agent", USER_AGENT))
        if "accept" not in have:
            added.append(("Accept", "*/*"))
        if "content-length" not in have and "transfer-encoding" not in have:
            if body or method in ("POST", "PUT", "PATCH"):
                added.append(("Content-Length", str(len(body))))
        all_headers = tuple(added + given)
        head = f"{method} {t.target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in all_headers) + "\r\n"
        try:
            data = head.encode("latin-1") + body
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start:exc.end]
            raise NetlabError("usage", f"request head holds a character that is not Latin-1: {bad!r}") from None
        return cls(method, url, t.scheme, t.host, t.port, t.target, all_headers, body, data, False)

    @classmethod
    def raw(cls, data: bytes | str, url: str) -> "Request":
        """Exact bytes, sent as given. ``url`` gives the scheme, host and port."""
        if isinstance(data, str):
            try:
                data = data.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise NetlabError("usage", "raw request text holds a character that is not one byte (Latin-1): "
                                           f"{exc.object[exc.start:exc.end]!r}; give the bytes instead") from None
        t = parse_target(url)
        method, target, headers, body = parse_request_bytes(data)
        return cls(method or "", url, t.scheme, t.host, t.port, target or t.target, headers, body, bytes(data), True)

    @property
    def head(self) -> bytes:
        end = _head_end(self.data)
        return self.data[:end] if end >= 0 else self.data

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    @property
    def wants_close(self) -> bool:
        value = self.header("connection")
        if not value:  # None or empty
            return False
        return "close" in value.lower()

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{format_host(self.host, self.port, self.scheme)}"


def find_header(headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive) in (name, value) pairs."""
    name = name.lower()
    size = len(name)
    for n, v in headers:
        if len(n) == size and n.lower() == name:
            return v
    return None


def _head_end(data: bytes) -> int:
    m = re.search(rb"\r?\n\r?\n", data)
    return m.end() if m else -1


def parse_request_bytes(data: bytes) -> tuple[str, str, tuple[tuple[str, str], ...], bytes]:
    """Best-effort reading of raw request bytes (which may be malformed on purpose):
    method, target, headers and body.  Never raises."""
    end = _head_end(data)
    head, body = (data[:end], data[end:]) if end >= 0 else (data, b"")
    lines = re.split(rb"\r?\n", head)
    first = lines[0].decode("latin-1") if lines else ""
    parts = first.split()
    method = parts[0].upper() if parts else ""
    target = parts[1] if len(parts) > 1 else ""
    headers = []
    for line in lines[1:]:
        if not line.strip():
            continue
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            headers.append((name.strip(), value.strip(" \t")))  # OWS, as HTTP defines it
    return method, target, tuple(headers), body


def _what(text: str) -> str:
    found = [w for c, w in (("\r", "a CR"), ("\n", "an LF"), ("\x00", "a NUL")) if c in text]
    return " and ".join(found) or "a line break"
