"""The lab server's endpoints: one handler per path, each returning a ``Response``.

Each handler takes (request, path argument, stop event) and returns a Response. Bad
input raises RequestError; ``dispatch`` answers it and the connection stays open. A
handler that waits (``/slow``, ``/stream?delay_ms``) gives up when the server stops.
"""

from __future__ import annotations

import gzip
import re
import threading
import zlib
from collections.abc import Callable, Iterator

from .request import DIGITS, LabRequest, RequestError
from .responses import (
    BLOCK_SIZE,
    SEND_SIZE,
    SERVER_SOFTWARE,
    Response,
    error_text,
    has_body,
    iter_lab_bytes,
    json_body,
    reason,
    text,
)

MAX_BYTES = 8 << 30  # /bytes/N: at most 8 GiB
MAX_STREAM_LINES = 100_000
MAX_DELAY_MS = 60_000  # /slow/MS and /stream?delay_ms=M are capped here
MAX_REDIRECTS = 1_000
_TRUE = {"", "1", "true", "yes", "on"}

_HELLO = """\
netlab lab server ({software}) - the other side of the lab.

  /               this text
  /ip             your IP address
  /echo           your request, byte for byte (any method)
  /headers        your request headers as JSON
  /status/CODE    a response with that status code
  /bytes/N        N deterministic bytes (?chunked=1, ?close=1)
  /stream/N       N JSON lines, chunked, with a trailer (?delay_ms=M)
  /slow/MS        answers after MS milliseconds
  /redirect/N     N redirects, then "done"
  /redirect-to    ?url=URL&status_code=3xx: one redirect to URL (default 302)
  /cookies        the cookies your request sent, as JSON
  /cookies/set    ?NAME=VALUE&...: Set-Cookie each, then a 302 to /cookies
  /gzip           a gzip-compressed JSON body
  /deflate        a deflate-compressed JSON body
"""


def _int_arg(arg: str, what: str, maximum: int) -> int:
    if not DIGITS.fullmatch(arg):
        raise RequestError(400, f"{what} must be a whole number, got {arg[:40]!r}")
    value = int(arg)
    if value > maximum:
        raise RequestError(400, f"{what} must be at most {maximum}, got {value}")
    return value


def _flag(request: LabRequest, name: str) -> bool:
    return any(value.lower() in _TRUE for value in request.params(name))


def _wait(stop: threading.Event, milliseconds: int) -> None:
    """Sleep, but give up the response if the server is stopping meanwhile."""
    if milliseconds and stop.wait(milliseconds / 1000):
        raise ConnectionAbortedError("lab server stopping")


def _hello(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    return text(200, _HELLO.format(software=SERVER_SOFTWARE))


def _ip(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    return text(200, f"{request.client[0]}\n")


def _echo(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    return Response(200, request.raw, [("Content-Type", "application/octet-stream")])


def _headers(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    body = json_body({"headers": [list(pair) for pair in request.headers]})
    return Response(200, body, [("Content-Type", "application/json")])


def _status(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    if not DIGITS.fullmatch(arg) or not 100 <= int(arg) <= 599:
        raise RequestError(400, f"status code must be 100-599, got {arg[:40]!r}")
    status = int(arg)
    headers = [("Location", "/")] if 300 <= status < 400 else []
    if not has_body(status):
        return Response(status, b"", headers)
    return text(status, f"{status} {reason(status)}\n", headers)


def _bytes(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    n = _int_arg(arg, "N", MAX_BYTES)
    chunked, close = _flag(request, "chunked"), _flag(request, "close")
    if chunked and close:
        raise RequestError(400, "choose one of chunked=1 and close=1")
    framing = "chunked" if chunked else "close" if close else "length"
    piece = BLOCK_SIZE if chunked else SEND_SIZE
    return Response(
        200, iter_lab_bytes(n, piece), [("Content-Type", "application/octet-stream")],
        length=n, framing=framing,
    )


def _stream(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    n = _int_arg(arg, "N", MAX_STREAM_LINES)
    delay = min(_int_arg((request.params("delay_ms") or ["0"])[-1], "delay_ms", 10**9),
                MAX_DELAY_MS)

    def lines() -> Iterator[bytes]:
        for i in range(n):
            if i:
                _wait(stop, delay)
            yield json_body({"id": i, "line": f"line {i + 1} of {n}"})

    return Response(
        200, lines(), [("Content-Type", "application/x-ndjson")],
        framing="chunked", trailers=[("X-Lines", str(n))], flush_each=True,
    )


def _slow(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    milliseconds = min(_int_arg(arg, "MS", 10**9), MAX_DELAY_MS)
    _wait(stop, milliseconds)
    return text(200, f"slept {milliseconds} ms\n")


def _redirect(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    n = _int_arg(arg, "N", MAX_REDIRECTS)
    if n == 0:
        return text(200, "done\n")
    location = f"/redirect/{n - 1}"
    return text(302, f"redirecting to {location}\n", [("Location", location)])


def _redirect_to(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    """httpbin's /redirect-to: any 3xx (``status_code``, default 302) to ``url``, as given."""
    urls = request.params("url")
    if not urls or not urls[-1]:
        raise RequestError(400, "url is required: /redirect-to?url=URL[&status_code=3xx]")
    location = urls[-1]
    if any(c in location for c in "\r\n\0"):
        raise RequestError(400, "url must not hold CR, LF or NUL")
    status = _int_arg((request.params("status_code") or ["302"])[-1], "status_code", 399)
    if status < 300:
        raise RequestError(400, f"status_code must be a 3xx, got {status}")
    return text(status, f"redirecting to {location}\n", [("Location", location)])


def _cookie_pairs(request: LabRequest) -> list[tuple[str, str]]:
    pairs = []
    for name, value in request.headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                key, _, val = part.strip().partition("=")
                if key:
                    pairs.append((key, val))
    return pairs


def _cookies(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    """The cookies the request sent (its Cookie headers), as JSON: {"cookies": {name: value}}."""
    body = json_body({"cookies": dict(_cookie_pairs(request))})
    return Response(200, body, [("Content-Type", "application/json")])


_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")  # RFC 6265 cookie-octets


def _cookies_set(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    """Set-Cookie for each query parameter (path /), then 302 to /cookies, as httpbin."""
    headers = []
    for name, value in request.query:
        if not _COOKIE_NAME.fullmatch(name) or not _COOKIE_VALUE.fullmatch(value):
            raise RequestError(400, f"not a cookie name and value: {name[:40]!r}={value[:40]!r}")
        headers.append(("Set-Cookie", f"{name}={value}; Path=/"))
    headers.append(("Location", "/cookies"))
    return text(302, "cookies set; redirecting to /cookies\n", headers)


def _compressed(request: LabRequest, flag: str, encoding: str) -> Response:
    data = json_body({flag: True, "method": request.method,
                      "headers": [list(pair) for pair in request.headers]})
    body = gzip.compress(data, mtime=0) if encoding == "gzip" else zlib.compress(data)
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    return Response(200, body, headers)


def _gzip(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    return _compressed(request, "gzipped", "gzip")


def _deflate(request: LabRequest, arg: str, stop: threading.Event) -> Response:
    return _compressed(request, "deflated", "deflate")


_Handler = Callable[[LabRequest, str, threading.Event], Response]

# Path pattern (whole path) -> handler; the first group, if any, is the handler's arg.
_ROUTES: list[tuple[re.Pattern[str], _Handler]] = [
    (re.compile(r"/"), _hello),
    (re.compile(r"/ip"), _ip),
    (re.compile(r"/echo"), _echo),
    (re.compile(r"/headers"), _headers),
    (re.compile(r"/status/([^/]*)"), _status),
    (re.compile(r"/bytes/([^/]*)"), _bytes),
    (re.compile(r"/stream/([^/]*)"), _stream),
    (re.compile(r"/slow/([^/]*)"), _slow),
    (re.compile(r"/redirect/([^/]*)"), _redirect),
    (re.compile(r"/redirect-to"), _redirect_to),
    (re.compile(r"/cookies"), _cookies),
    (re.compile(r"/cookies/set"), _cookies_set),
    (re.compile(r"/gzip"), _gzip),
    (re.compile(r"/deflate"), _deflate),
]


def dispatch(request: LabRequest, stop: threading.Event) -> Response:
    """The response of the endpoint the request's path names (404 if none does)."""
    path = request.path
    for pattern, handler in _ROUTES:
        if match := pattern.fullmatch(path):
            try:
                return handler(request, match.group(1) if match.groups() else "", stop)
            except RequestError as error:
                return text(error.status, error_text(error.status, error.reason))
            except OSError:
                raise  # the connection failed, or the server is stopping
            except Exception as error:  # a bug in a handler: say so, keep serving
                return text(500, error_text(500, f"{type(error).__name__}: {error}"))
    return text(404, error_text(404, f"no such endpoint {path[:200]!r} (try / for the list)"))
