"""Reading .http text into an HttpFile: the blocks between ``###`` lines, their ``# @``
settings, the request line, headers and body of each (the rules are in the package's
docstring)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from netlab.engine.errors import NetlabError
from netlab.engine.formats.httpfile.model import (
    EntryOptions,
    HttpEntry,
    HttpFile,
    HttpFileError,
    assemble,
    decode_raw,
)
from netlab.engine.formats.httpfile.variables import Variables
from netlab.engine.request import Request, format_host, is_token, parse_target, with_scheme
from netlab.engine.resolve import parse_pin

__all__ = ["parse_file", "parse_text", "FILE_REF"]

STANDARD_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"})
BODY_METHODS = ("POST", "PUT", "PATCH")

_LINE_SPLIT = re.compile(r"\r?\n")
_SEPARATOR = re.compile(r"^#{3,}")
_COMMENT = re.compile(r"^\s*(?:#|//)")
_META = re.compile(r"^\s*(?:#+|/{2,})\s*@([A-Za-z][\w-]*)(?:\s+(.*?))?\s*$")
_VAR_DEF = re.compile(r"^\s*@([^\s=]+)\s*=\s*(.*?)\s*$")
_RAW_LINE = re.compile(r"^#\|(.*)$")
FILE_REF = re.compile(r"^<(?:(@)(\w+)?)?\s+(.+?)\s*$")
_QUERY_CONT = re.compile(r"^\s*[&?]")
_METHOD_WORD = re.compile(r"^[A-Z][A-Z0-9_-]*$")
_VERSION = re.compile(r"\s+(HTTP/\S*)$", re.IGNORECASE)
_URL_OK = re.compile(r"[!#$&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")


def _encode_target(target: str) -> str:
    """The request target as written, with what a URL may not hold percent-encoded (as UTF-8);
    ``%XX`` escapes already there are kept."""
    out = []
    i, n = 0, len(target)
    while i < n:
        c = target[i]
        if c == "%" and _PCT.fullmatch(target, i, i + 3):
            out.append(target[i:i + 3])
            i += 3
            continue
        if _URL_OK.fullmatch(c):
            out.append(c)
        else:
            out.append("".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


@dataclass(slots=True)
class _Block:
    sep_line: int  # 0 for the text before the first separator
    name: str | None
    lines: list[tuple[int, str]] = field(default_factory=list)


def parse_file(path: str, *, variables: dict | None = None) -> HttpFile:
    """Read and parse a .http file; HttpFileError (a NetlabError) names the line at fault."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise HttpFileError(path, None, f"cannot read the file: {exc.strerror or exc}",
                            "check the path (a .http file is a REST Client / JetBrains request file)") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise HttpFileError(path, line, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return parse_text(text, path, variables=variables)


def parse_text(text: str, path: str | None = None, *, variables: dict | None = None,
               base_dir: str | None = None, _read_files: bool = True) -> HttpFile:
    """Parse .http text.  ``path`` is used in messages and to find ``< FILE`` bodies
    (``base_dir`` overrides the directory); ``variables`` are defined before the file's own."""
    if base_dir is None:
        base_dir = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    if text.startswith("\ufeff"):
        text = text[1:]
    blocks = [_Block(0, None)]
    for number, line in enumerate(_LINE_SPLIT.split(text), 1):
        if _SEPARATOR.match(line):
            name = line.lstrip("#").strip() or None
            blocks.append(_Block(number, name))
        else:
            blocks[-1].lines.append((number, line))
    # file variables: the lines before each request (REST Client: global to the file)
    definitions: dict[str, tuple[int, str]] = {}
    for block in blocks:
        for number, line in block.lines:
            if not line.strip() or _COMMENT.match(line):
                continue
            m = _VAR_DEF.match(line)
            if not m:
                break
            name = m.group(1)
            if name in definitions:
                raise HttpFileError(path, number, f"variable {name!r} is defined twice "
                                    f"(first on line {definitions[name][0]})",
                                    "file variables are global to the file: rename one")
            definitions[name] = (number, m.group(2))
    resolver = Variables(path, definitions, variables or {}, base_dir)
    for name, (number, _) in definitions.items():  # every definition, used or not: errors show now
        resolver.value(name, number)
    entries = []
    for block in blocks:
        entry = _parse_block(block, resolver, path, base_dir, _read_files)
        if entry is not None:
            entries.append(entry)
    return HttpFile(path, tuple(entries), dict(resolver.used))


def _meta_name(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @name NAME``: the request's name (an empty one keeps the ``###`` name)."""
    if value:
        opts["name"] = value


def _meta_raw(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @netlab-raw URL``: the request is the ``#|`` lines that follow, sent to URL as bytes."""
    if not value:
        raise err(number, "# @netlab-raw needs the URL the bytes go to (scheme, host and port)")
    opts["raw_url"] = (number, value)


def _meta_insecure(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @insecure [true|false]``: skip certificate checks."""
    if value.lower() not in ("", "true", "yes", "1", "false", "no", "0"):
        raise err(number, f"# @insecure takes no value (or true/false), not {value!r}")
    opts["insecure"] = value.lower() not in ("false", "no", "0")


def _meta_resolve(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @resolve HOST:PORT:ADDR``: one more address pin."""
    try:
        opts["resolve"].append(parse_pin(value))
    except NetlabError as exc:
        raise err(number, f"# @resolve: {exc.message}") from None


def _meta_path(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @unix-socket PATH`` / ``# @cacert PATH`` (a relative cacert is from the file's folder)."""
    if not value:
        raise err(number, f"# @{key} needs a path")
    value = os.path.expanduser(value)
    if key == "cacert" and not os.path.isabs(value):
        value = os.path.join(base_dir, value)
    opts["unix_socket" if key == "unix-socket" else "cafile"] = value


def _meta_dns_server(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @dns-server ADDR[:PORT]``: the resolver to ask."""
    from netlab.engine.dns import parse_dns_server

    try:
        opts["dns_server"] = parse_dns_server(value)
    except ValueError as exc:
        raise err(number, f"# @dns-server {value!r}: {exc}") from None


def _meta_timeout(opts: dict, key: str, value: str, number: int, base_dir, err) -> None:
    """``# @timeout N``: seconds; JetBrains' "N ms" / "N s" / "N m" too."""
    m = re.fullmatch(r"(\d+(?:\.\d*)?)\s*(ms|s|m)?", value)
    seconds = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)] if m else 0.0
    if not seconds > 0:
        raise err(number, f"# @timeout {value!r} is not a positive number of seconds")
    opts["timeout"] = seconds


# ``# @key`` comment -> the function that stores it in a block's ``opts``; other keys are ignored
_OPTION_METAS: dict[str, Callable[..., None]] = {
    "name": _meta_name, "netlab-raw": _meta_raw,
    "insecure": _meta_insecure, "resolve": _meta_resolve, "unix-socket": _meta_path,
    "cacert": _meta_path, "dns-server": _meta_dns_server, "timeout": _meta_timeout,
}


def _parse_block(block: _Block, resolver: Variables, path, base_dir, read_files) -> HttpEntry | None:
    """One request block: its ``# @`` options, then its raw bytes or its built request (None if empty)."""
    opts: dict = {"resolve": [], "name": block.name}
    raw_url: tuple[int, str] | None = None
    raw_content: list[str] = []
    content: list[tuple[int, str]] = []

    def err(line, message, hint=""):
        return HttpFileError(path, line, message, hint)

    for number, line in block.lines:
        if raw_url is not None:
            rm = _RAW_LINE.match(line)
            if rm:
                piece = rm.group(1)
                raw_content.append(piece[1:] if piece.startswith(" ") else piece)
                continue
        if not _COMMENT.match(line):
            content.append((number, line))
            continue
        m = _META.match(line)
        if not m:
            continue
        key, value = m.group(1).lower(), (m.group(2) or "").strip()
        if key in _OPTION_METAS:
            _OPTION_METAS[key](opts, key, value, number, base_dir, err)
            raw_url = opts.get("raw_url")
    options = EntryOptions(insecure=opts.get("insecure", False), cafile=opts.get("cafile"),
                           resolve=tuple(opts["resolve"]), unix_socket=opts.get("unix_socket"),
                           dns_server=opts.get("dns_server"), timeout=opts.get("timeout"))
    # leading empty lines and variable definitions
    while content and (not content[0][1].strip() or _VAR_DEF.match(content[0][1])):
        content.pop(0)
    if raw_url is not None:
        return _raw_entry(opts["name"], raw_url, raw_content, content, options, path, err)
    while content and not content[-1][1].strip():
        content.pop()
    if not content:
        return None
    return HttpEntry(opts["name"], _build(content, resolver, path, base_dir, read_files), content[0][0],
                     options, path)


def _raw_entry(name, raw_url: tuple[int, str], raw_content: list[str], content: list[tuple[int, str]],
               options: EntryOptions, path, err) -> HttpEntry:
    """A ``# @netlab-raw URL`` entry: the ``#|`` lines' bytes, sent as they are; nothing else allowed."""
    if content:
        number, line = content[0]
        raise err(number, f"a '# @netlab-raw' request holds only '#|' lines, not {line.strip()[:60]!r}",
                  "put other requests after a ### line")
    number, url = raw_url
    try:
        request = Request.raw(decode_raw("\n".join(raw_content)), url)
    except NetlabError as exc:
        raise err(number, exc.message) from None
    return HttpEntry(name, request, number, options, path)


def _build(content, resolver: Variables, path, base_dir, read_files) -> Request:
    def err(line, message, hint=""):
        return HttpFileError(path, line, message, hint)

    first_line, text = content[0]
    text = resolver.expand(text, first_line).strip()
    i = 1
    while i < len(content) and _QUERY_CONT.match(content[i][1]):  # a query continued on more lines
        text += resolver.expand(content[i][1], content[i][0]).strip()
        i += 1
    method, url, version = _request_line(text, first_line, err)
    header_lines: list[tuple[int, str]] = []
    while i < len(content) and content[i][1].strip():
        number, line = content[i]
        header_lines.append((number, resolver.expand(line, number).strip()))
        i += 1
    body_lines = content[i + 1:] if i < len(content) else []
    lines_out, host_value, content_type, have = _headers(header_lines, err)
    if url.startswith("/"):
        if not host_value:
            raise err(first_line, f"the URL {url!r} has no host and there is no Host header",
                      "write the whole URL (http://host:port/path) or add a Host header")
        port = host_value.rpartition(":")[2] if host_value.count(":") == 1 or host_value.startswith("[") else ""
        scheme = "https" if port in ("443", "8443") else "http"
        url = f"{scheme}://{host_value}{url}"
    try:
        t = parse_target(url)
    except NetlabError as exc:
        raise err(first_line, exc.message) from None
    if "host" not in have:
        lines_out.insert(0, f"Host: {format_host(t.host, t.port, t.scheme)}")
    body = _body(body_lines, content_type, resolver, path, base_dir, read_files)
    if "content-length" not in have and "transfer-encoding" not in have and (body or method in BODY_METHODS):
        lines_out.append(f"Content-Length: {len(body)}")
    return assemble(with_scheme(url), method, _encode_target(t.target), version, lines_out, body)


def _headers(header_lines: list[tuple[int, str]], err) -> tuple[list[str], str | None, str, set[str]]:
    """Check the expanded header lines; return them as sent (Basic credentials encoded), the first
    Host value, the first Content-Type (lower case) and the set of header names present."""
    lines_out = []
    host_value = None
    content_type = ""
    have = set()
    for number, line in header_lines:
        name, sep, rest = line.partition(":")
        if not sep or not is_token(name):
            raise err(number, f"not a header line: {line[:80]!r} (expected 'Name: value')",
                      "an empty line must separate the headers from the body")
        if "\r" in rest or "\n" in rest:
            raise err(number, f"header {name!r}: its value holds a line break (from a variable?)")
        lname = name.lower()
        have.add(lname)
        value = rest.strip()
        if lname == "host" and host_value is None:
            host_value = value
        elif lname == "content-type" and not content_type:
            content_type = value.lower()
        elif lname == "authorization":
            line = _basic_auth(name, value) or line
        lines_out.append(line)
    return lines_out, host_value, content_type, have


def _basic_auth(name: str, value: str) -> str | None:
    """``Authorization: Basic user:password`` (or ``user password``) as the header line with the
    credentials base64-encoded; None when the value is not plain Basic credentials."""
    m = re.match(r"(?i)^basic\s+(.+)$", value)
    if not m:
        return None
    creds = m.group(1).strip()
    user, colon, password = creds.partition(":")
    if not colon:
        parts = creds.split()
        if len(parts) != 2:
            return None
        user, password = parts
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"{name}: Basic {token}"


def _request_line(text: str, line: int, err) -> tuple[str, str, str]:
    method = "GET"
    rest = text
    m = re.match(r"^(\S+)\s+(.*)$", text)
    if m and (m.group(1).upper() in STANDARD_METHODS or _METHOD_WORD.match(m.group(1))):
        word = m.group(1)
        method = word.upper() if word.upper() in STANDARD_METHODS else word
        rest = m.group(2).strip()
    elif text.upper() in STANDARD_METHODS:
        raise err(line, f"no URL after the method {text!r}", "write METHOD URL, e.g. GET http://127.0.0.1:8080/ip")
    version = "HTTP/1.1"
    vm = _VERSION.search(rest)
    if vm:
        word = vm.group(1).upper()
        if word not in ("HTTP/1.1", "HTTP/1.0"):
            raise err(line, f"unsupported HTTP version {vm.group(1)!r}: netlab speaks HTTP/1.1 and HTTP/1.0")
        version = word
        rest = rest[:vm.start()].strip()
    if not rest:
        raise err(line, f"no URL in the request line {text!r}")
    return method, rest, version


def _body(body_lines, content_type: str, resolver: Variables, path, base_dir, read_files) -> bytes:
    while body_lines and not body_lines[-1][1].strip():
        body_lines = body_lines[:-1]
    if not body_lines:
        return b""
    form = content_type.startswith("application/x-www-form-urlencoded")
    eol = b"\r\n" if content_type.startswith("multipart/form-data") else b"\n"
    out = bytearray()
    for index, (number, line) in enumerate(body_lines):
        line = resolver.expand(line, number)
        if index:
            if not (form and line.startswith("&")):
                out += eol
        m = FILE_REF.match(line)
        if m:
            if not read_files:
                raise HttpFileError(path, number, "a file body is not allowed here")
            out += _read_body_file(m, number, resolver, path, base_dir)
        else:
            out += line.encode("utf-8")
    return bytes(out)


def _read_body_file(m: re.Match, number: int, resolver: Variables, path, base_dir) -> bytes:
    name = os.path.expanduser(m.group(3))
    full = name if os.path.isabs(name) else os.path.join(base_dir, name)
    try:
        with open(full, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise HttpFileError(path, number, f"cannot read the body file {full}: {exc.strerror or exc}",
                            "'< PATH' is relative to the .http file's directory") from None
    if not m.group(1):
        return data
    encoding = m.group(2) or "utf-8"
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise HttpFileError(path, number, f"cannot decode the body file {full} as {encoding}: {exc}") from None
    try:
        return resolver.expand(text, number).encode("utf-8")
    except HttpFileError as exc:
        raise HttpFileError(path, number, f"in the body file {full}: {exc.detail}", exc.hint) from None
