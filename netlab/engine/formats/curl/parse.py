"""A curl command into the Request and Options it asks for (``parse_curl``).

The words (lexer.py) are read as curl reads its options (options.py): short ones bundled
(``-sSL``) or glued to their value (``-XPOST``).  The request is built the way curl 7.88
builds it, header for header and in its order: ``Host``, ``Authorization`` (-u),
``User-Agent``, ``Accept: */*``, ``Accept-Encoding`` (--compressed), ``Referer`` (-e),
``Cookie`` (-b), the -H headers in order, then ``Content-Length`` and ``Content-Type`` for
a body.  A -H header replaces curl's own of that name (a custom Host keeps the first place);
``-H 'Name:'`` removes it; ``-H 'Name;'`` sends it empty.  Two differences, on purpose: the
default User-Agent is netlab's, and ``--compressed`` asks for ``deflate, gzip`` only (what
netlab can decode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from netlab.engine.errors import NetlabError
from netlab.engine.formats.curl.lexer import CurlError, Word, printf_bytes, split_words
from netlab.engine.formats.curl.options import State, read_options
from netlab.engine.formats.httpfile.model import assemble
from netlab.engine.request import USER_AGENT, Request, Target, format_host, is_token, parse_target, with_scheme

__all__ = ["CurlCommand", "parse_curl", "looks_like_curl", "COMPRESSED_ENCODINGS"]

COMPRESSED_ENCODINGS = "deflate, gzip"


@dataclass(frozen=True, slots=True)
class CurlCommand:
    """What a curl command asks for."""

    request: Request
    options: object  # netlab.engine.session.Options
    compressed: bool = False  # --compressed: show the decoded body
    notes: tuple[str, ...] = ()  # options accepted but not honoured, and why
    given: frozenset = frozenset()  # Options fields the command set: "timeout" (--connect-timeout), "deadline"
    words: tuple[Word, ...] = field(default=(), repr=False)


def looks_like_curl(text: str) -> bool:
    """Is this pasted text a curl command (rather than a URL)?"""
    t = text.lstrip()
    if t.startswith("$ "):
        t = t[2:].lstrip()
    first = re.split(r"\s", t, maxsplit=1)[0] if t else ""
    return _is_curl(first) or (first == "printf" and re.search(r"\|\s*curl\s", t) is not None)


def _is_curl(word: str) -> bool:
    return word in ("curl", "curl.exe") or (word.endswith("/curl") and "://" not in word)


def parse_curl(text: str, *, extra_args=(), stdin: bytes | None = None, environ: dict | None = None) -> CurlCommand:
    """Read a curl command.  ``extra_args`` are more curl words added at its end (how
    ``netlab send --curl CMD -H ...`` adds to a command); ``stdin`` is what ``@-`` reads when
    no ``printf ... |`` gives it.  Raises CurlError (a NetlabError) naming the option and
    where it is."""
    if not isinstance(text, str) or not text.strip():
        raise CurlError("the curl command is empty")
    words = split_words(text, environ)
    if not words:
        raise CurlError("the curl command is empty")
    # printf 'FORMAT' | curl ...
    if words[0].text == "printf" and not words[0].operator:
        if len(words) < 4 or words[2].text != "|" or not words[2].operator or words[1].operator:
            raise CurlError(f"only `printf 'FORMAT' | curl ...` is understood before curl ({words[0].where})")
        stdin = printf_bytes(words[1].data(), words[1])
        words = words[3:]
    for w in words:
        if w.operator:
            raise CurlError(f"shell operator {w.text!r} at {w.where}: paste one curl command",
                            "quote URLs that hold & or ; (a shell would split the command there)")
    first = words[0]
    if not _is_curl(first.text):
        raise CurlError(f"a curl command starts with 'curl', not {first.text[:40]!r} ({first.where})")
    extra = [Word(str(a), -1, len(words) + k + 1, 0, 0) for k, a in enumerate(extra_args)]
    state = State()
    read_options(list(words[1:]) + extra, state, stdin)
    request = _build(state)
    from netlab.engine.session import Options

    options = Options(insecure=state.insecure, cafile=state.cafile, resolve=tuple(state.pins),
                      unix_socket=state.unix_socket,
                      timeout=state.timeout if state.timeout is not None else Options().timeout,
                      deadline=state.deadline)
    given = frozenset(k for k, v in (("timeout", state.timeout), ("deadline", state.deadline)) if v is not None)
    return CurlCommand(request, options, state.compressed, tuple(state.notes), given, tuple(words))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, as curl applies it to URL paths (unless --path-as-is)."""
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./"):
            path = path[2:]
        elif path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if out:
                out.pop()
        elif path == "/..":
            path = "/"
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            m = re.match(r"/?[^/]*", path)
            assert m is not None  # every part of the pattern is optional
            out.append(m.group(0))
            path = path[m.end():]
    return "".join(out)


def _build(st: State) -> Request:
    """The request curl 7.88 builds from the options in ``st``, header for header."""
    url_word = _the_url(st)
    url, body = _url_and_body(st, url_word.text)
    try:
        t = parse_target(url)
    except NetlabError as exc:
        raise CurlError(f"{exc.message} ({url_word.where})") from None
    target = st.request_target if st.request_target is not None else _target(url, url_word, st.path_as_is)
    method = st.method or ("HEAD" if st.head else "POST" if body is not None else "GET")
    version = "HTTP/1.0" if st.http10 else "HTTP/1.1"
    lines = _header_lines(st, _custom_headers(st), t, body)
    return assemble(with_scheme(url), method, target, version, lines, body or b"")


def _the_url(st: State) -> Word:
    """The one URL: netlab sends one request per command."""
    if not st.urls:
        raise CurlError("the curl command has no URL")
    if len(st.urls) > 1:
        raise CurlError(f"the curl command has {len(st.urls)} URLs ({st.urls[1].text!r} at {st.urls[1].where}); "
                        "netlab sends one request", "keep one URL, or check the quoting of an option's value")
    return st.urls[0]


def _url_and_body(st: State, url: str) -> tuple[str, bytes | None]:
    """The URL and the body: the -d pieces joined with &, which -G moves into the query."""
    body = b"&".join(st.data) if st.data else None
    if st.head and body is not None and not st.get:
        raise CurlError("-I (HEAD) and -d cannot be combined (curl refuses it too)")
    if st.get and body is not None:
        return url + ("&" if "?" in url else "?") + body.decode("utf-8", "surrogateescape"), None
    return url, body


def _target(url: str, url_word: Word, path_as_is: bool) -> str:
    """The path and query as written: curl 7.88 sends non-ASCII bytes as they are, and removes
    dot segments unless --path-as-is."""
    parts = urlsplit(with_scheme(url))
    # An empty query stays: curl 7.88 sends http://h/? as "GET /? HTTP/1.1" (urlsplit
    # drops the lone "?"; a "?" before any "#" can only start the query).
    has_query = bool(parts.query) or "?" in url.partition("#")[0]
    path, q, query = parts.path or "/", "?" if has_query else "", parts.query
    if not path_as_is:
        path = _remove_dot_segments(path) or "/"
    target = path + q + query
    if any(c in target for c in " \t\r\n") or "\0" in target:
        raise CurlError(f"the URL holds a blank or a control character ({url_word.where}); curl "
                        "rejects it too", "percent-encode it (%20 for a space)")
    return target


def _custom_headers(st: State) -> list[tuple[str, str | None]]:
    """The -H headers as (lower name, line, or None to remove curl's own), then what --json
    adds after them unless -H gave it (as curl 7.88 does)."""
    custom = [_custom_header(word, h) for word, h in st.headers]
    if st.json:
        given = {n for n, _ in custom}
        if "content-type" not in given:
            custom.append(("content-type", "Content-Type: application/json"))
        if "accept" not in given:
            custom.append(("accept", "Accept: application/json"))
    return custom


def _custom_header(word: Word, h: str) -> tuple[str, str | None]:
    """One -H: 'Name: value' sends it, 'Name:' removes curl's own, 'Name;' sends it empty."""
    if "\r" in h or "\n" in h or "\0" in h:
        raise CurlError(f"-H {h[:40]!r}: a header holds a line break or NUL ({word.where})")
    name, colon, rest = h.partition(":")
    if colon:
        if not is_token(name):
            raise CurlError(f"-H {h[:60]!r}: {name!r} is not a header name ({word.where})")
        return name.lower(), h if rest.strip(" \t") else None
    if h.endswith(";") and is_token(h[:-1]):
        return h[:-1].lower(), h[:-1] + ":"
    raise CurlError(f"-H {h[:60]!r} is not 'Name: value' ({word.where}); curl would silently "
                    "leave it out", "write -H 'Name: value', -H 'Name;' for an empty value")


def _header_lines(st: State, custom: list[tuple[str, str | None]], t: Target, body: bytes | None) -> list[str]:
    """The head's lines in curl's order: Host, curl's own headers that -H did not name, the -H
    headers, then Content-Length and Content-Type for a body."""
    named = {n for n, _ in custom}
    ua = USER_AGENT if st.user_agent is None else st.user_agent
    own = [
        ("authorization", f"Authorization: {st.auth}" if st.auth else None),
        ("user-agent", f"User-Agent: {ua}" if ua else None),
        ("accept", "Accept: */*"),
        ("accept-encoding", f"Accept-Encoding: {COMPRESSED_ENCODINGS}" if st.compressed else None),
        ("referer", f"Referer: {st.referer}" if st.referer else None),
        ("cookie", f"Cookie: {st.cookie}" if st.cookie else None),
    ]
    if body is not None:
        framing = [("content-length", f"Content-Length: {len(body)}"),
                   ("content-type", "Content-Type: application/x-www-form-urlencoded")]
    else:
        framing = []
    return (_host_line(custom, t)
            + [line for n, line in own if line is not None and n not in named]
            + [line for n, line in custom if line is not None and n != "host"]
            + [line for n, line in framing if n not in named])


def _host_line(custom: list[tuple[str, str | None]], t: Target) -> list[str]:
    """curl's Host, or the -H one in its place (always spelled "Host"); none after -H 'Host:'."""
    host_line = next((line for n, line in custom if n == "host" and line is not None), None)
    if host_line is not None:
        return ["Host:" + host_line.partition(":")[2]]
    if any(n == "host" for n, _ in custom):
        return []
    return [f"Host: {format_host(t.host, t.port, t.scheme)}"]
