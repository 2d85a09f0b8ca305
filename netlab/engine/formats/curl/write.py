"""A Request into a curl command that makes the real curl send the same bytes (``to_curl``).

``to_curl`` writes every header as a -H in the request's order, suppresses curl's own
(``-H 'User-Agent:'``, ``-H 'Accept:'``, ``-H 'Content-Type:'``...) and sends the body with
--data-raw, so curl 7.88 sends netlab's bytes exactly (a test checks it against the real
curl binary).  What curl cannot send is refused with the reason: bare LF or CR line
endings, folded or malformed header lines, a header whose value is only blanks, a Host
header that is not the first one, Transfer-Encoding: chunked (curl would chunk the body
again), NUL bytes in the head.
"""

from __future__ import annotations

import re

from netlab.engine.defaults import TIMEOUT
from netlab.engine.formats.curl.lexer import CurlError
from netlab.engine.formats.pin import pin_text
from netlab.engine.request import HEAD_END, Request, format_host, is_token
from netlab.engine.secrets import mask_headers

__all__ = ["to_curl", "quote", "EXPECT_THRESHOLD"]

EXPECT_THRESHOLD = 1 << 20  # curl adds Expect: 100-continue to bodies above 1 MiB
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")
_URL_SAFE_TARGET = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$")
_DOT_SEGMENT = re.compile(r"(^|/)\.\.?(/|$)")


def quote(word: str | bytes) -> str:
    """A shell word for ``word``: bare when safe, '...' when printable, $'...' otherwise.
    ``str`` may hold surrogate escapes for bytes that are not UTF-8."""
    if isinstance(word, bytes):
        word = word.decode("utf-8", "surrogateescape")
    if "\0" in word:
        raise CurlError("a shell word cannot hold a NUL byte")
    if word and _SAFE_WORD.match(word):
        return word
    if "'" not in word and not any(_needs_escape(c) for c in word):
        return f"'{word}'"
    out = []
    for c in word:
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif _needs_escape(c):
            out.append("".join(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogatepass")))
        else:
            out.append(c)
    return "$'" + "".join(out) + "'"


def _needs_escape(c: str) -> bool:
    o = ord(c)
    return o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or o in (0x2028, 0x2029, 0xFEFF)


def _printf_format(body: bytes) -> str:
    out = []
    for b in body:
        if b == 0x25:
            out.append("%%")
        elif b == 0x5C:
            out.append("\\\\")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b < 0x7F and b != 0x27:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "'" + "".join(out) + "'"


_EXPORT_HINT = "export it as raw or python-socket instead"
_Header = tuple[str, str, str]  # (lower name, name, whole line)


def to_curl(request: Request, options=None, show_secrets: bool = False, *, width: int = 100) -> str:
    """A curl command that sends ``request``'s exact bytes (with ``options``: -k, --cacert,
    --resolve, --unix-socket, timeouts).  Authorization, Proxy-Authorization and Cookie
    values are masked unless ``show_secrets``.  CurlError says why when curl cannot send
    these bytes.  Lines are joined with `` \\`` continuations when longer than ``width``."""
    head, body = _split_message(request.data)
    lines = head.split(b"\r\n")
    method, target, version = _request_line(lines[0])
    headers = [_header_field(raw) for raw in lines[1:]]
    _check_host(headers)
    _check_framing(headers)
    if not show_secrets:
        headers = _masked(headers)
    names = [n for n, _, _ in headers]
    args = _method_args(method, body) + _version_args(version, request.scheme)
    args += _header_args(headers, names, request)
    body_args, pipe = _body_args(body, names)
    args += body_args
    if options is not None:
        args += _option_args(options)
    url, target_args = _url_args(request, target)
    words = ["curl"] + args + target_args + [quote(url)]
    return _layout(pipe, words, width)


def _split_message(data: bytes) -> tuple[bytes, bytes]:
    """The head and the body of a request's bytes.  Refuses a head curl cannot write: one
    not ended by an empty line, one holding a NUL byte, one with bare LF or CR line endings."""
    end = data.find(b"\r\n\r\n")
    loose = HEAD_END.search(data)
    if loose is not None and (end < 0 or loose.start() < end) and loose.group() != b"\r\n\r\n":
        end = loose.start()  # the head ends early, at a bare line ending: the check below says so
    if end < 0:
        raise CurlError("curl cannot send this request: no empty line (CR LF CR LF) ends its head", _EXPORT_HINT)
    head, body = data[:end], data[end + 4:]
    if loose is not None and loose.start() == end:
        body = data[loose.end():]
    if b"\0" in head:
        raise CurlError("curl cannot send this request: its head holds a NUL byte", _EXPORT_HINT)
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head):
        raise CurlError("curl cannot send this request: its head has bare LF or CR line endings "
                        "(curl always writes CR LF)", _EXPORT_HINT)
    return head, body


def _request_line(line: bytes) -> tuple[str, str, bytes]:
    """Method, target and version of a request line curl can write (any target: --request-target
    carries it)."""
    m = re.fullmatch(rb"([^ ]+) (.+) (HTTP/1\.[01])", line)
    if not m or not is_token(m.group(1)):
        raise CurlError(f"curl cannot send this request line: {line[:80].decode('latin-1')!r} "
                        "(curl writes METHOD TARGET HTTP/1.x)", _EXPORT_HINT)
    return m.group(1).decode("ascii"), m.group(2).decode("utf-8", "surrogateescape"), m.group(3)


def _header_field(raw: bytes) -> _Header:
    """One header line as (lower name, name, line), if -H can send it: 'Name: value', not
    folded, and not a value of only blanks (-H 'Name: ' removes a header in curl)."""
    raw_name, colon, rest = raw.partition(b":")
    if not colon or not is_token(raw_name):
        raise CurlError(f"curl cannot send the header line {raw[:60].decode('latin-1')!r} "
                        "(folded, or not 'Name: value')", _EXPORT_HINT)
    if rest and not rest.strip(b" \t"):
        raise CurlError(f"curl cannot send the header {raw_name.decode()!r} with a value of only blanks "
                        "(-H 'Name: ' removes a header in curl)", _EXPORT_HINT)
    name = raw_name.decode("ascii")
    return name.lower(), name, raw.decode("utf-8", "surrogateescape")


def _check_host(headers: list[_Header]) -> None:
    """curl writes at most one Host header, spelled "Host", and always first."""
    hosts = [i for i, (n, _, _) in enumerate(headers) if n == "host"]
    if len(hosts) > 1:
        raise CurlError("curl cannot send two Host headers", _EXPORT_HINT)
    if hosts and headers[hosts[0]][1] != "Host":
        raise CurlError(f"curl always spells the Host header 'Host', not {headers[hosts[0]][1]!r}", _EXPORT_HINT)
    if hosts and hosts[0] != 0:
        raise CurlError("curl always sends Host as the first header; this request has it in place "
                        f"{hosts[0] + 1}", _EXPORT_HINT)


def _check_framing(headers: list[_Header]) -> None:
    """A body already chunked by hand would be chunked again by curl."""
    for n, _, line in headers:
        if n == "transfer-encoding" and "chunked" in line.lower():
            raise CurlError("curl cannot send a hand-chunked body: with Transfer-Encoding: chunked it chunks "
                            "the body again", _EXPORT_HINT)


def _masked(headers: list[_Header]) -> list[_Header]:
    """The headers with secret values masked; a line whose value is kept stays as written."""
    masked = mask_headers([(name, line[len(name) + 1:].strip(" \t")) for _, name, line in headers])
    return [(n, name, line if line[len(name) + 1:].strip(" \t") == value else f"{name}: {value}")
            for (n, name, line), (_, value) in zip(headers, masked)]


def _method_args(method: str, body: bytes) -> list[str]:
    """-X unless curl picks the method itself: POST with a body, GET without, HEAD for -I."""
    if body:
        return [] if method == "POST" else ["-X", quote(method)]
    if method == "HEAD":
        return ["-I"]
    return [] if method == "GET" else ["-X", quote(method)]


def _version_args(version: bytes, scheme: str) -> list[str]:
    """--http1.0, or --http1.1 over TLS (where curl might choose HTTP/2 by ALPN)."""
    if version == b"HTTP/1.0":
        return ["--http1.0"]
    return ["--http1.1"] if scheme == "https" else []


def _header_args(headers: list[_Header], names: list[str], request: Request) -> list[str]:
    """A -H per header in the request's order, after a Host only when curl's own would differ;
    curl's own Host, User-Agent and Accept suppressed when the request has none."""
    args: list[str] = []
    if "host" in names:  # _check_host: then it is the first
        if headers[0][2] != f"Host: {format_host(request.host, request.port, request.scheme)}":
            args += ["-H", quote(headers[0][2])]
    else:
        args += ["-H", "'Host:'"]
    for n, name, line in headers:
        if n != "host":
            args += ["-H", quote(f"{name};" if line == f"{name}:" else line)]
    return args + _suppressed(names, "User-Agent", "Accept")


def _suppressed(names: list[str], *own: str) -> list[str]:
    """-H 'Name:' for each of curl's own headers that the request does not have."""
    args: list[str] = []
    for name in own:
        if name.lower() not in names:
            args += ["-H", f"'{name}:'"]
    return args


def _body_args(body: bytes, names: list[str]) -> tuple[list[str], str]:
    """The options that send ``body`` as it is, and the ``printf ... | `` it is piped from
    when it holds NUL bytes (which no shell word can)."""
    if not body:
        return [], ""
    args = _suppressed(names, "Content-Length", "Content-Type")
    if len(body) > EXPECT_THRESHOLD:
        args += _suppressed(names, "Expect")
    if b"\0" in body:
        return args + ["--data-binary", "@-"], f"printf {_printf_format(body)} | "
    return args + ["--data-raw", quote(body)], ""


def _option_args(options) -> list[str]:
    """The connection options (netlab.engine.session.Options) as curl's."""
    args: list[str] = []
    if options.insecure:
        args.append("-k")
    if options.cafile:
        args += ["--cacert", quote(options.cafile)]
    for pin in options.resolve:
        args += ["--resolve", quote(pin_text(pin))]
    if options.unix_socket:
        if options.unix_socket.startswith("\0"):
            args += ["--abstract-unix-socket", quote(options.unix_socket[1:])]
        else:
            args += ["--unix-socket", quote(options.unix_socket)]
    if options.timeout != TIMEOUT:
        args += ["--connect-timeout", f"{options.timeout:g}"]
    if options.deadline is not None:
        args += ["--max-time", f"{options.deadline:g}"]
    return args


def _url_args(request: Request, target: str) -> tuple[str, list[str]]:
    """The URL, and --request-target when curl would not send the target as written in it
    (characters a URL cannot hold, dot segments curl would remove)."""
    origin = request.origin
    if _URL_SAFE_TARGET.match(target) and not _DOT_SEGMENT.search(target.partition("?")[0]):
        return origin + target, []
    return origin, ["--request-target", quote(target)]


def _layout(pipe: str, words: list[str], width: int) -> str:
    """One line when it fits in ``width``, else one option (with its value) per line."""
    one_line = pipe + " ".join(words)
    if len(one_line) <= width:
        return one_line
    groups: list[str] = []
    k = 1
    while k < len(words):
        w = words[k]
        if w.startswith("-") and w not in ("-I", "-k", "--http1.0", "--http1.1") and k + 1 < len(words):
            groups.append(f"{w} {words[k + 1]}")
            k += 2
        else:
            groups.append(w)
            k += 1
    return pipe + "curl " + " \\\n  ".join(groups)
