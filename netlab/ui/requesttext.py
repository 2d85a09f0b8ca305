"""The composer's two views of one request, and the lossless text form of raw bytes.

The raw view is a text area that holds the exact bytes of the request with every line
ending written out.  ``to_raw_text`` and ``from_raw_text`` convert between bytes and
that text without loss (``from_raw_text(to_raw_text(b)) == b`` for all bytes):

- ``\\r\\n``, ``\\n``, ``\\r``, ``\\t`` and ``\\\\`` stand for CR LF, LF, CR, TAB and a backslash;
  ``\\xNN`` for any other byte that is a control character or not valid UTF-8;
- a real line break in the text after a written-out ``\\n`` is only layout; a real line
  break anywhere else (the user pressed Enter) is CR LF, the HTTP line ending.

The structured view (method, URL, headers, body) is parsed from and rebuilt into the
same bytes with ``split_request`` / ``build_request``.  No engine import here: this
module is on the first frame's import path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from netlab.engine.rawtext import from_raw_text, to_raw_text  # the one raw notation
from netlab.engine.text import safe_text

__all__ = [
    "Fields",
    "to_raw_text",
    "from_raw_text",
    "split_request",
    "build_request",
    "classic_request",
    "host_header",
    "origin_of",
    "target_of",
    "get_header",
    "set_header",
    "lint",
]

_HEAD_END = re.compile(rb"\r?\n\r?\n")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Fields:
    """The structured view: what the user edits as method, URL, headers and body."""

    method: str
    url: str
    headers: str  # "Name: value" lines
    body: str
    version: str = "HTTP/1.1"


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL (``http://`` added when missing), or "" if unparseable."""
    url = url.strip()
    if not url:
        return ""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return ""
    if not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def target_of(url: str) -> str:
    """The request target (path and query) of a URL, "/" when it has no path."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    target = parts.path or "/"
    return target + ("?" + parts.query if parts.query else "")


def host_header(url: str) -> str | None:
    """The Host header value for a URL: no port when it is the scheme's default."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not host:
        return None
    scheme = parts.scheme.lower()
    port = port if port is not None else DEFAULT_PORTS.get(scheme)
    h = f"[{host}]" if ":" in host else host
    return h if DEFAULT_PORTS.get(scheme) == port else f"{h}:{port}"


def classic_request(url: str) -> bytes:
    """The hand-written request every tutorial starts with."""
    host = host_header(url) or "localhost"
    return (f"GET {target_of(url)} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").encode("utf-8")


def _visible(s: str) -> str:
    """What a field box may show: control and bidi/zero-width characters written out
    (tab, LF and CR stay: the boxes show line breaks)."""
    return safe_text(s, keep_cr=True)


def split_request(data: bytes, url: str) -> Fields:
    """Best-effort structured view of request bytes, which may be malformed on purpose.
    Control and bidi characters come out as visible escapes (``\\x1b``): the fields are
    shown in a terminal; the Raw view is the lossless one."""
    data = bytes(data)
    m = _HEAD_END.search(data)
    head, body = (data[: m.start()], data[m.end():]) if m else (data, b"")
    lines = re.split(r"\r?\n", head.decode("utf-8", "backslashreplace"))
    parts = lines[0].split(" ") if lines else []
    method = parts[0] if parts else ""
    target = parts[1] if len(parts) > 1 else ""
    version = " ".join(parts[2:]) if len(parts) > 2 else ""
    if target.startswith(("http://", "https://")):
        new_url = target
    else:
        origin = origin_of(url) or url.rstrip("/")
        new_url = origin + (target if target.startswith("/") else ("/" + target if target and target != "*" else "/"))
    return Fields(_visible(method), _visible(new_url), _visible("\n".join(lines[1:])),
                  _visible(body.decode("utf-8", "backslashreplace")), _visible(version))


def build_request(fields: Fields) -> bytes:
    """Structured view → request bytes: request line, header lines, blank line, body."""
    target = target_of(fields.url)
    line = " ".join(p for p in (fields.method, target, fields.version) if p)
    headers = [h.rstrip("\r") for h in fields.headers.split("\n") if h.strip()]
    head = line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode("utf-8") + fields.body.encode("utf-8")


def get_header(headers: str, name: str) -> str | None:
    """The value of the first ``name:`` line in the headers text."""
    want = name.lower()
    for line in headers.split("\n"):
        n, sep, v = line.partition(":")
        if sep and n.strip().lower() == want:
            return v.strip()
    return None


def set_header(headers: str, name: str, value: str) -> str:
    """Set the first ``name:`` line to ``value`` (appending the header when absent)."""
    want = name.lower()
    lines = headers.split("\n") if headers else []
    for i, line in enumerate(lines):
        n, sep, _ = line.partition(":")
        if sep and n.strip().lower() == want:
            lines[i] = f"{n}: {value}"
            return "\n".join(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    lines.append(f"{name}: {value}")
    return "\n".join(lines)


def lint(data: bytes) -> list[str]:
    """Short warnings about request bytes a server would trip over (they are still sent)."""
    if not data:
        return ["empty request"]
    out: list[str] = []
    m = _HEAD_END.search(data)
    if m is None:
        out.append("no blank line ends the head: the server will wait for more")
    head = data[: m.start()] if m else data
    body = data[m.end():] if m else b""
    if re.search(rb"(?<!\r)\n", data[: m.end()] if m else data):
        out.append("bare LF line endings")
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers.setdefault(name.strip().lower(), value.strip())
    if lines[0].endswith(b"HTTP/1.1") and b"host" not in headers:
        out.append("no Host header (HTTP/1.1 requires one)")
    cl = headers.get(b"content-length")
    if cl is not None:
        if not cl.isdigit():
            out.append("Content-Length is not a number")
        elif int(cl) != len(body) and m is not None:
            out.append(f"Content-Length {int(cl)} but the body has {len(body)} bytes")
    elif body and b"transfer-encoding" not in headers:
        out.append("a body without Content-Length: the server will not read it")
    return out
