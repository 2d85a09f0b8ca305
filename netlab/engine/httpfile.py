""".http files (the VS Code REST Client / JetBrains HTTP Client format): read and write.

A file holds requests separated by lines that start with ``###`` (the rest of that line
names the request, as JetBrains does; ``# @name NAME`` names it too, as REST Client does)::

    @host = 127.0.0.1:8080
    @token = abc

    ### get my address
    GET http://{{host}}/ip

    ### post-json
    # @name post-json
    POST http://{{host}}/echo HTTP/1.1
    Content-Type: application/json
    Authorization: Bearer {{token}}

    {"hello": "world"}

    ###
    PUT http://{{host}}/echo
    Content-Type: application/octet-stream

    < ./payload.bin

How netlab reads it (REST Client's rules, where it has them):

- The request line is ``[METHOD] URL [HTTP/1.x]``: the method defaults to GET, the version
  to HTTP/1.1.  Lines right after it that start with ``?`` or ``&`` continue the URL's query.
  A URL that starts with ``/`` takes its host from the Host header.  Characters a URL may not
  hold (spaces, non-ASCII) are percent-encoded, existing ``%XX`` escapes are kept.
- Header lines follow (``Name: value``, sent as written), then an empty line, then the body,
  which runs to the next ``###`` line; empty lines at its end are dropped.  Body lines join
  with LF (CR LF for ``multipart/form-data``; for ``application/x-www-form-urlencoded`` a line
  starting with ``&`` joins the previous one directly).  A body line ``< PATH`` is replaced by
  that file's bytes (``<@ PATH`` substitutes variables in it first); PATH is relative to the
  .http file.
- Lines starting with ``#`` or ``//`` (after optional blanks) are comments *everywhere*, body
  included, as in REST Client.  ``# @key value`` comments before a request are settings:
  ``@name``; netlab's ``@insecure``, ``@cacert PATH``, ``@resolve HOST:PORT:ADDR``,
  ``@unix-socket PATH``, ``@dns-server ADDR[:PORT]``, ``@timeout SECONDS``; others (REST
  Client's ``@note``, ``@no-redirect``...) are ignored.
- ``@name = value`` lines (outside bodies) define file variables, used as ``{{name}}`` in the
  request line, headers and body.  They are global to the file, as in REST Client; a value
  may use other variables and the escapes ``\\n \\r \\t``.  Defining a name twice, an undefined
  ``{{name}}`` and a cycle are errors naming the line.  System variables: ``{{$guid}}``,
  ``{{$randomInt MIN MAX}}``, ``{{$timestamp [OFFSET UNIT]}}``, ``{{$datetime rfc1123|iso8601
  [OFFSET UNIT]}}``, ``{{$localDatetime ...}}``, ``{{$processEnv [%]NAME}}``, ``{{$dotenv
  [%]NAME}}`` (a .env file beside the .http file).
- ``Authorization: Basic USER:PASSWORD`` (or ``USER PASSWORD``) is base64-encoded, as REST
  Client does.

What netlab sends: the head exactly as written.  netlab adds only what HTTP/1.1 needs and
the file left out: ``Host`` (first) and ``Content-Length`` (last) when there is a body or the
method is POST, PUT or PATCH.  No User-Agent, no Accept: write them if you want them.  The
head is encoded as UTF-8, as the composer does.

Writing: ``write_entry(request)`` gives the text of one entry, starting with ``###``, that
``parse_text`` reads back to the same request bytes, going to the same scheme, host and port.
A request the format cannot carry as written (bare LF line endings, a missing Host, bytes
that are not UTF-8, a body ending in a newline, a body line that looks like a comment, ``{{``...)
is written in netlab's raw form: a ``# @netlab-raw URL`` line followed by ``#|`` lines holding
the exact bytes in the composer's raw-view notation (``\\r\\n`` written out, a backslash
``\\\\``, ``\\xNN`` for other bytes: engine/rawtext.py, the one notation).  Being
comments, raw entries are skipped by other tools.
"""

from __future__ import annotations

import base64
import calendar
import datetime as _dt
import os
import random
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from netlab.engine.errors import NetlabError
from netlab.engine.rawtext import from_raw_text, to_raw_text
from netlab.engine.request import Request, format_host, parse_target
from netlab.engine.resolve import Pin, parse_pin

__all__ = [
    "HttpFile",
    "HttpEntry",
    "EntryOptions",
    "HttpFileError",
    "parse_text",
    "parse_file",
    "write_entry",
    "append_entry",
    "assemble",
    "encode_raw",
    "decode_raw",
    "is_http_path",
    "HTTP_SUFFIXES",
]

HTTP_SUFFIXES = (".http", ".rest")
DEFAULT_TIMEOUT = 10.0
STANDARD_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"})
BODY_METHODS = ("POST", "PUT", "PATCH")

_LINE_SPLIT = re.compile(r"\r?\n")
_SEPARATOR = re.compile(r"^#{3,}")
_COMMENT = re.compile(r"^\s*(?:#|//)")
_META = re.compile(r"^\s*(?:#+|/{2,})\s*@([A-Za-z][\w-]*)(?:\s+(.*?))?\s*$")
_VAR_DEF = re.compile(r"^\s*@([^\s=]+)\s*=\s*(.*?)\s*$")
_RAW_LINE = re.compile(r"^#\|(.*)$")
_FILE_REF = re.compile(r"^<(?:(@)(\w+)?)?\s+(.+?)\s*$")
_VAR_REF = re.compile(r"\{\{(.+?)\}\}")
_QUERY_CONT = re.compile(r"^\s*[&?]")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_METHOD_WORD = re.compile(r"^[A-Z][A-Z0-9_-]*$")
_VERSION = re.compile(r"\s+(HTTP/\S*)$", re.IGNORECASE)
_URL_OK = re.compile(r"[!#$&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
# characters a written .http file must not hold in literal form (they do not survive editors,
# or would be read differently): controls other than TAB, C1 controls, line separators, BOM
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\r]")


class HttpFileError(NetlabError):
    """Bad input in a .http file: the message starts with ``PATH:LINE:``."""

    def __init__(self, path: str | None, line: int | None, message: str, hint: str | None = None) -> None:
        where = path or "<text>"
        if line:
            where += f":{line}"
        super().__init__("usage", f"{where}: {message}", hint if hint is not None else "")
        self.path = path
        self.line = line
        self.detail = message

    def __reduce__(self):
        return (HttpFileError, (self.path, self.line, self.detail, self.hint))


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class EntryOptions:
    """Send options written in a .http entry (``# @insecure``, ``# @resolve ...``)."""

    insecure: bool = False
    cafile: str | None = None
    resolve: tuple[Pin, ...] = ()
    unix_socket: str | None = None
    dns_server: tuple[str, int] | None = None
    timeout: float | None = None

    def apply(self, base=None):
        """These settings over ``base`` (an engine Options; default Options())."""
        from netlab.engine.session import Options

        base = base if base is not None else Options()
        return replace(
            base,
            insecure=base.insecure or self.insecure,
            cafile=self.cafile if self.cafile is not None else base.cafile,
            resolve=self.resolve + tuple(base.resolve),
            unix_socket=self.unix_socket if self.unix_socket is not None else base.unix_socket,
            dns_server=self.dns_server if self.dns_server is not None else base.dns_server,
            timeout=self.timeout if self.timeout is not None else base.timeout,
        )

    @classmethod
    def from_options(cls, options) -> "EntryOptions":
        """The part of an engine Options that a .http entry can carry."""
        if options is None:
            return cls()
        timeout = options.timeout if options.timeout != DEFAULT_TIMEOUT else None
        return cls(insecure=bool(options.insecure), cafile=options.cafile, resolve=tuple(options.resolve),
                   unix_socket=options.unix_socket, dns_server=options.dns_server, timeout=timeout)

    def lines(self) -> list[str]:
        out = []
        if self.insecure:
            out.append("# @insecure")
        if self.cafile:
            out.append(f"# @cacert {self.cafile}")
        for pin in self.resolve:
            port = "*" if pin.port is None else str(pin.port)
            addrs = ",".join(f"[{a}]" if ":" in a else a for a in pin.addresses)
            out.append(f"# @resolve {pin.host}:{port}:{addrs}")
        if self.unix_socket:
            out.append(f"# @unix-socket {self.unix_socket}")
        if self.dns_server:
            host, dns_port = self.dns_server
            out.append(f"# @dns-server {f'[{host}]' if ':' in host else host}:{dns_port}")
        if self.timeout is not None:
            out.append(f"# @timeout {self.timeout:g}")
        return out


@dataclass(frozen=True, slots=True)
class HttpEntry:
    """One request of a .http file."""

    name: str | None
    request: Request
    line: int  # 1-based: the request line (or the ``# @netlab-raw`` line)
    options: EntryOptions = field(default_factory=EntryOptions)
    path: str | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.request.method} {self.request.url}"

    def options_for(self, base=None):
        """An engine Options for sending this entry: its settings over ``base``."""
        return self.options.apply(base)


@dataclass(frozen=True, slots=True)
class HttpFile:
    path: str | None
    entries: tuple[HttpEntry, ...]
    variables: dict = field(default_factory=dict)  # name -> value of every file variable

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def find(self, name: str) -> HttpEntry:
        """The entry named ``name`` (exact, then ignoring case), or the N-th entry for a
        number N that is no entry's name; HttpFileError listing the entries otherwise."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        folded = name.casefold()
        for entry in self.entries:
            if entry.name is not None and entry.name.casefold() == folded:
                return entry
        if name.isdigit() and 1 <= int(name) <= len(self.entries):
            return self.entries[int(name) - 1]
        raise HttpFileError(self.path, None, f"no request named {name!r}; {self.describe()}")

    def describe(self) -> str:
        if not self.entries:
            return "the file holds no requests"
        items = [f"{i}. {e.name or '(unnamed)'} (line {e.line}: {e.request.method} {e.request.url})"
                 for i, e in enumerate(self.entries, 1)]
        return "the requests are: " + "; ".join(items)


def is_http_path(text: str | None) -> bool:
    """Does a `netlab send` argument name a .http file rather than a URL?  It ends in
    ``.http``, or it is an existing file ending in ``.rest``; a URL with ``://`` never is."""
    if not text or "://" in text:
        return False
    lower = text.lower()
    if lower.endswith(".http"):
        return True
    return lower.endswith(".rest") and os.path.isfile(text)


# --------------------------------------------------------------- the raw notation


# The composer's raw notation, shared (engine/rawtext.py).
encode_raw = to_raw_text
decode_raw = from_raw_text


def _raw_lines(data: bytes) -> list[str]:
    lines = encode_raw(data).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        if line.endswith(" "):  # editors strip trailing blanks: write the last one out
            line = line[:-1] + "\\x20"
        out.append(f"#| {line}" if line else "#|")
    return out or ["#|"]


# ------------------------------------------------------------------- building bytes


def assemble(url: str, method: str, target: str, version: str, lines, body: bytes) -> Request:
    """A Request with exactly this request line, these header lines (as written, UTF-8,
    surrogate escapes for raw bytes) and body; ``url`` names where it goes."""
    parts = [f"{method} {target} {version}".encode("utf-8", "surrogateescape")]
    parts += [line.encode("utf-8", "surrogateescape") for line in lines]
    data = b"\r\n".join(parts) + b"\r\n\r\n" + bytes(body)
    return replace(Request.raw(data, url), is_raw=False)


def _encode_target(target: str) -> str:
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


# ---------------------------------------------------------------------- variables


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _offset(now: _dt.datetime, words: list[str], err) -> _dt.datetime:
    if not words:
        return now
    if len(words) != 2:
        raise err("expected OFFSET UNIT (e.g. -1 d) after the format")
    try:
        amount = int(words[0])
    except ValueError:
        raise err(f"offset {words[0]!r} is not a whole number") from None
    unit = words[1]
    if unit in ("y", "M"):
        months = amount * (12 if unit == "y" else 1)
        total = now.month - 1 + months
        year, month = now.year + total // 12, total % 12 + 1
        day = min(now.day, calendar.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day)
    if unit not in _UNITS:
        raise err(f"unknown unit {unit!r} (use y, M, w, d, h, m, s or ms)")
    return now + _dt.timedelta(seconds=amount * _UNITS[unit])


class _Variables:
    """File variables (global to the file), resolved on first use."""

    def __init__(self, path: str | None, definitions: dict, given: dict, base_dir: str) -> None:
        self.path = path
        self.defs = definitions  # name -> (line, raw value)
        self.given = dict(given)
        self.done: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.stack: list[str] = []
        self.base_dir = base_dir
        self._dotenv: dict[str, str] | None = None

    def error(self, line: int | None, message: str, hint: str = "") -> HttpFileError:
        return HttpFileError(self.path, line, message, hint)

    def value(self, name: str, line: int) -> str:
        if name in self.given:
            self.used[name] = self.given[name]
            return self.given[name]
        if name in self.done:
            return self.done[name]
        if name not in self.defs:
            if re.match(r"^[^.\s]+\.(?:request|response)\.", name):
                raise self.error(line, f"{{{{{name}}}}}: request variables (NAME.response...) are not supported",
                                 "netlab sends one request at a time; copy the value into a file variable")
            raise self.error(line, f"undefined variable {{{{{name}}}}}",
                             f"define it in the file with a line '@{name} = value'")
        if name in self.stack:
            cycle = " -> ".join(self.stack[self.stack.index(name):] + [name])
            raise self.error(self.defs[name][0], f"variable {name!r} refers to itself: {cycle}")
        self.stack.append(name)
        try:
            def_line, raw = self.defs[name]
            value = self.expand(raw, def_line, unescape=True)
        finally:
            self.stack.pop()
        self.done[name] = self.used[name] = value
        return value

    def expand(self, text: str, line: int, unescape: bool = False) -> str:
        if "{{" not in text:
            return _unescape(text) if unescape else text
        out = []
        pos = 0
        for m in _VAR_REF.finditer(text):
            literal = text[pos:m.start()]
            out.append(_unescape(literal) if unescape else literal)
            ref = m.group(1).strip()
            out.append(self.system(ref, line) if ref.startswith("$") else self.value(ref, line))
            pos = m.end()
        tail = text[pos:]
        out.append(_unescape(tail) if unescape else tail)
        return "".join(out)

    def system(self, ref: str, line: int) -> str:
        """The value of a system variable such as ``{{$guid}}`` or ``{{$datetime iso8601 1 d}}``."""
        words = ref.split()
        name, args = words[0], words[1:]

        def err(message: str) -> HttpFileError:
            return self.error(line, f"{{{{{ref}}}}}: {message}")

        handler = self._SYSTEM.get(name)
        if handler is None:
            raise err("this system variable is not supported by netlab")
        return handler(self, name, args, line, err)

    def _sys_guid(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$guid}}``: a fresh random UUID."""
        return str(uuid.uuid4())

    def _sys_random_int(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$randomInt MIN MAX}}``: a whole number in [MIN, MAX)."""
        try:
            low, high = int(args[0]), int(args[1])
        except (IndexError, ValueError):
            raise err("expected two whole numbers: {{$randomInt MIN MAX}}") from None
        if high <= low:
            raise err("MAX must be greater than MIN")
        return str(random.randrange(low, high))

    def _sys_timestamp(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$timestamp [OFFSET UNIT]}}``: Unix seconds, optionally shifted."""
        now = _offset(_dt.datetime.now(_dt.timezone.utc), args, err)
        return str(int(now.timestamp()))

    def _sys_datetime(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$datetime|$localDatetime rfc1123|iso8601 [OFFSET UNIT]}}``: now, UTC or local."""
        if not args or args[0] not in ("rfc1123", "iso8601"):
            raise err("expected the format rfc1123 or iso8601 (custom formats are not supported)")
        now = _dt.datetime.now(_dt.timezone.utc)
        if name == "$localDatetime":
            now = now.astimezone()
        now = _offset(now, args[1:], err)
        if args[0] == "rfc1123":
            if name == "$datetime":
                return now.strftime("%a, %d %b %Y %H:%M:%S GMT")
            return now.strftime("%a, %d %b %Y %H:%M:%S %z")
        if name == "$datetime":
            return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        return now.isoformat(timespec="milliseconds")

    def _sys_env(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$processEnv NAME}}`` / ``{{$dotenv NAME}}``; ``%NAME`` names a file variable
        that holds the name."""
        if len(args) != 1:
            raise err(f"expected one name: {{{{{name} NAME}}}}")
        key = args[0]
        if key.startswith("%"):
            key = self.value(key[1:], line)
        if name == "$processEnv":
            if key not in os.environ:
                raise err(f"the environment variable {key!r} is not set")
            return os.environ[key]
        env = self.dotenv()
        if key not in env:
            raise err(f"{key!r} is not in {os.path.join(self.base_dir, '.env')}")
        return env[key]

    # system variable name -> the method that computes it
    _SYSTEM: dict[str, Callable[..., str]] = {
        "$guid": _sys_guid, "$randomInt": _sys_random_int, "$timestamp": _sys_timestamp,
        "$datetime": _sys_datetime, "$localDatetime": _sys_datetime,
        "$processEnv": _sys_env, "$dotenv": _sys_env,
    }

    def dotenv(self) -> dict[str, str]:
        if self._dotenv is None:
            self._dotenv = {}
            try:
                with open(os.path.join(self.base_dir, ".env"), encoding="utf-8") as f:
                    for text in f:
                        text = text.strip()
                        if not text or text.startswith("#") or "=" not in text:
                            continue
                        key, _, value = text.partition("=")
                        value = value.strip()
                        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                            value = value[1:-1]
                        self._dotenv[key.strip()] = value
            except (OSError, UnicodeDecodeError):
                pass
        return self._dotenv


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    it = iter(text)
    for c in it:
        if c == "\\":
            nxt = next(it, "")
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)


# ------------------------------------------------------------------------ parsing


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
    resolver = _Variables(path, definitions, variables or {}, base_dir)
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


def _parse_block(block: _Block, resolver: _Variables, path, base_dir, read_files) -> HttpEntry | None:
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


def _build(content, resolver: _Variables, path, base_dir, read_files) -> Request:
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
    url_shown = url if "://" in url else "http://" + url
    if "host" not in have:
        lines_out.insert(0, f"Host: {format_host(t.host, t.port, t.scheme)}")
    body = _body(body_lines, content_type, resolver, path, base_dir, read_files)
    if "content-length" not in have and "transfer-encoding" not in have and (body or method in BODY_METHODS):
        lines_out.append(f"Content-Length: {len(body)}")
    return assemble(url_shown, method, _encode_target(t.target), version, lines_out, body)


def _headers(header_lines: list[tuple[int, str]], err) -> tuple[list[str], str | None, str, set[str]]:
    """Check the expanded header lines; return them as sent (Basic credentials encoded), the first
    Host value, the first Content-Type (lower case) and the set of header names present."""
    lines_out = []
    host_value = None
    content_type = ""
    have = set()
    for number, line in header_lines:
        name, sep, rest = line.partition(":")
        if not sep or not _TOKEN.match(name):
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


def _body(body_lines, content_type: str, resolver: _Variables, path, base_dir, read_files) -> bytes:
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
        m = _FILE_REF.match(line)
        if m:
            if not read_files:
                raise HttpFileError(path, number, "a file body is not allowed here")
            out += _read_body_file(m, number, resolver, path, base_dir)
        else:
            out += line.encode("utf-8")
    return bytes(out)


def _read_body_file(m: re.Match, number: int, resolver: _Variables, path, base_dir) -> bytes:
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


# ------------------------------------------------------------------------ writing


def write_entry(request: Request, name: str | None = None, options=None) -> str:
    """The text of one .http entry, starting with a ``###`` line, that ``parse_text`` reads
    back to ``request``'s exact bytes, scheme, host and port.  ``options`` (an engine Options
    or EntryOptions) adds the settings it can carry (``# @insecure``, ``# @resolve``...)."""
    if name is not None:
        name = name.strip()
        if _UNSAFE_TEXT.search(name) or "\n" in name:
            raise NetlabError("usage", f"a request name is one line of text, not {name!r}")
    if options is not None and not isinstance(options, EntryOptions):
        options = EntryOptions.from_options(options)
    head = [f"### {name}" if name else "###"] + (options.lines() if options is not None else [])
    literal = _literal_lines(request)
    if literal is not None:
        text = "\n".join(head + literal) + "\n"
        if _reads_back(text, request):
            return text
    origin = f"{request.scheme}://{format_host(request.host, request.port, request.scheme)}"
    return "\n".join(head + [f"# @netlab-raw {origin}"] + _raw_lines(request.data)) + "\n"


def _literal_lines(request: Request) -> list[str] | None:
    data = request.data
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head, body = data[:end], data[end + 4:]
    try:
        head_text = head.decode("utf-8")
        body_text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = head_text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[1].startswith("/"):
        return None
    method, target, version = parts
    url = f"{request.scheme}://{format_host(request.host, request.port, request.scheme)}{target}"
    out = [f"{method} {url}" + ("" if version == "HTTP/1.1" else f" {version}")] + lines[1:]
    if body_text:
        ctype = (request.header("content-type") or "").lower()
        eol = "\r\n" if ctype.startswith("multipart/form-data") else "\n"
        out += [""] + body_text.split(eol)
    text = "\n".join(out)
    if "{{" in text or _UNSAFE_TEXT.search(text):
        return None
    if any(_FILE_REF.match(line) for line in out):
        return None
    return out


def _reads_back(text: str, request: Request) -> bool:
    try:
        parsed = parse_text(text, _read_files=False)
    except NetlabError:
        return False
    if len(parsed.entries) != 1:
        return False
    r = parsed.entries[0].request
    return (r.data, r.scheme, r.host.lower(), r.port) == (request.data, request.scheme, request.host.lower(),
                                                          request.port)


def append_entry(path: str, request: Request, name: str | None = None, options=None) -> int:
    """Append ``request`` to the .http file at ``path`` (created 0600 when missing; written
    atomically, keeping its mode and line endings).  Returns the new entry's first line."""
    try:
        with open(path, "rb") as f:
            existing = f.read().decode("utf-8")
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        existing, mode = "", 0o600
    except (OSError, UnicodeDecodeError) as exc:
        raise HttpFileError(path, None, f"cannot read the file to append to it: {exc}") from None
    entry = write_entry(request, name, options)
    crlf = "\r\n" in existing
    if existing and not existing.endswith("\n"):
        existing += "\r\n" if crlf else "\n"
    sep = ("\r\n" if crlf else "\n") if existing.strip() else ""
    if not existing.strip():
        existing = ""
    first_line = existing.count("\n") + (2 if sep else 1)
    if crlf:
        entry = entry.replace("\n", "\r\n")
    text = existing + sep + entry
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".netlab-", suffix=".http", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise HttpFileError(path, None, f"cannot write the file: {exc.strerror or exc}") from None
    return first_line
