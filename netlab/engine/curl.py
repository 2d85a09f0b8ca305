"""curl commands in and out: ``parse_curl`` reads a pasted curl command into a Request and
Options; ``to_curl`` writes a command that makes the real curl send the same bytes.

Reading follows what a POSIX shell and curl do with the words:

- shell: ``'single'``, ``"double"`` (with ``\\`` escapes and ``$NAME``/``${NAME}`` taken from
  the environment; an unset one is an error), ``$'ANSI-C'`` (``\\n``, ``\\xHH``, ``\\uHHHH``...),
  backslashes, line continuations (``\\`` + newline), ``#`` comments, ``~/`` at the start of a
  word, a leading ``$ `` prompt.  One pipeline form is understood: ``printf 'FORMAT' | curl
  ... --data-binary @-`` (how ``to_curl`` passes a body holding NUL bytes, which no shell
  argument can).  Command substitution and other shell operators are errors.
- curl: the options below, short ones bundled (``-sSL``) or glued to their value (``-XPOST``).
  The request is built the way curl 7.88 builds it, header for header and in its order:
  ``Host``, ``Authorization`` (-u), ``User-Agent``, ``Accept: */*``, ``Accept-Encoding``
  (--compressed), ``Referer`` (-e), ``Cookie`` (-b), the -H headers in order, then
  ``Content-Length`` and ``Content-Type`` for a body.  A -H header replaces curl's own of that
  name (a custom Host keeps the first place); ``-H 'Name:'`` removes it; ``-H 'Name;'`` sends
  it empty.  Two differences, on purpose: the default User-Agent is netlab's, and
  ``--compressed`` asks for ``deflate, gzip`` only (what netlab can decode).

Options understood: -X/--request, --url and the URL, -H/--header (also ``@FILE``), -d/--data,
--data-ascii, --data-raw, --data-binary, --data-urlencode, --json, -G/--get, -I/--head,
-u/--user (Basic), --basic, --oauth2-bearer, -A/--user-agent, -e/--referer, -b/--cookie
(a cookie string, not a file), --compressed, -k/--insecure, --cacert, --resolve,
--unix-socket, --abstract-unix-socket, --connect-timeout (netlab's --timeout),
-m/--max-time, -0/--http1.0, --http1.1, --request-target, --path-as-is, -g/--globoff.
Options that change only what curl prints or saves (-s, -v, -i, -o, -w...) are accepted;
those netlab does not do (-L, --retry, --http2...) are accepted with a note; unknown
options and the ones netlab cannot honour (-F, -T, -x, --digest, cookie files...) are errors
naming the option and where it is (word N, line L, column C).

``to_curl`` writes every header as a -H in the request's order, suppresses curl's own
(``-H 'User-Agent:'``, ``-H 'Accept:'``, ``-H 'Content-Type:'``...) and sends the body with
--data-raw, so curl 7.88 sends netlab's bytes exactly (a test checks it against the real
curl binary).  What curl cannot send is refused with the reason: bare LF or CR line
endings, folded or malformed header lines, a header whose value is only blanks, a Host
header that is not the first one, Transfer-Encoding: chunked (curl would chunk the body
again), NUL bytes in the head.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote_plus as _urlquote
from urllib.parse import urlsplit

from netlab.engine.errors import NetlabError
from netlab.engine.httpfile import assemble
from netlab.engine.request import USER_AGENT, Request, Target, format_host, parse_target
from netlab.engine.resolve import parse_pin
from netlab.engine.secrets import mask_headers

__all__ = ["CurlCommand", "CurlError", "parse_curl", "to_curl", "looks_like_curl", "split_words", "Word",
           "COMPRESSED_ENCODINGS"]

COMPRESSED_ENCODINGS = "deflate, gzip"
EXPECT_THRESHOLD = 1 << 20  # curl adds Expect: 100-continue to bodies above 1 MiB
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BTOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CurlError(NetlabError):
    """A curl command netlab cannot read, or a request curl cannot send."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__("usage", message, hint if hint is not None else "")

    def __reduce__(self):
        return (CurlError, (self.message, self.hint))


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # the word after quoting; bytes that are not UTF-8 as surrogate escapes
    start: int  # offset of its first character in the command
    number: int  # 1-based index among the words (curl is word 1)
    line: int = 1
    column: int = 1
    operator: bool = False  # a shell operator such as |

    @property
    def where(self) -> str:
        return f"word {self.number}, line {self.line} column {self.column}"

    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")


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


# ------------------------------------------------------------------- shell words


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def split_words(text: str, environ: dict | None = None) -> list[Word]:
    """Split a command into words as a POSIX shell (bash) would, without running anything."""
    text = text.replace("\r\n", "\n")
    if "\0" in text:
        raise CurlError(f"curl command, line {_position(text, text.index(chr(0)))[0]}: it holds a NUL character, "
                        "which no shell word can")
    return _Lexer(text, os.environ if environ is None else environ).words()


_NO_SHELL = "netlab reads the command without a shell: write the value itself"


class _Lexer:
    """A shell's reading of one command into words.  ``i`` walks the text; ``buf`` collects the
    bytes of the word being read, which begins at ``start`` and exists once ``started`` (an empty
    quote starts one).  Each step reads one construct at ``i`` and moves past it: blanks end the
    word, ``#`` and ``~`` mean something at its start only, and _STEPS names the step for each
    character that opens a quote, an escape, an expansion or an operator; any other is itself."""

    def __init__(self, text: str, env: Mapping[str, str]) -> None:
        self.text, self.n, self.env = text, len(text), env
        i = 0
        while i < self.n and text[i] in " \t\n":
            i += 1
        if text.startswith("$ ", i) or text.startswith("$\t", i):
            i += 2  # a prompt pasted with the command
        self.i = self.start = i
        self.buf = bytearray()
        self.started = False
        self.found: list[Word] = []

    def words(self) -> list[Word]:
        while self.i < self.n:
            c = self.text[self.i]
            if c in " \t\n":
                self._finish()
                self.i += 1
                continue
            if not self.started:
                self.start = self.i
                if self._word_start(c):
                    continue
            _STEPS.get(c, _Lexer._literal)(self)
        self._finish()
        return self.found

    def fail(self, message: str, at: int, hint: str = "") -> CurlError:
        line, column = _position(self.text, at)
        return CurlError(f"curl command, line {line} column {column}: {message}", hint)

    def _finish(self) -> None:
        """End the word being read, if one was started."""
        if self.started:
            line, column = _position(self.text, self.start)
            self.found.append(Word(bytes(self.buf).decode("utf-8", "surrogateescape"), self.start,
                                   len(self.found) + 1, line, column))
        self.buf = bytearray()
        self.started = False

    def _add(self, piece: bytes, end: int) -> None:
        """Add ``piece`` to the word and go on at ``end``."""
        self.buf += piece
        self.started = True
        self.i = end

    def _word_start(self, c: str) -> bool:
        """A # comment (to the end of the line) or a ~ (the home directory) where a word starts;
        True when it was one."""
        text, i = self.text, self.i
        if c == "#":
            end = text.find("\n", i)
            self.i = self.n if end < 0 else end
            return True
        if c == "~" and (i + 1 == self.n or text[i + 1] in "/ \t\n"):
            self._add(os.path.expanduser("~").encode("utf-8", "surrogateescape"), i + 1)
            return True
        return False

    def _literal(self) -> None:
        self._add(self.text[self.i].encode("utf-8", "surrogateescape"), self.i + 1)

    def _backslash(self) -> None:
        """\\ + newline continues the line; \\ + any other character is that character."""
        text, i = self.text, self.i
        if i + 1 < self.n and text[i + 1] == "\n":
            self.i += 2
            return
        if i + 1 >= self.n:
            raise self.fail("the command ends with a backslash", i)
        self._add(text[i + 1].encode("utf-8", "surrogateescape"), i + 2)

    def _single(self) -> None:
        """'...': everything up to the next ' as it is."""
        close = self.text.find("'", self.i + 1)
        if close < 0:
            raise self.fail("a single quote is not closed", self.i)
        self._add(self.text[self.i + 1:close].encode("utf-8", "surrogateescape"), close + 1)

    def _dollar(self) -> None:
        """$'ANSI-C', $"..." (as "..."), $NAME and ${NAME}; $( is refused; a lone $ is itself."""
        after = self.text[self.i + 1:self.i + 2]
        if after == "'":
            self._add(b"", _ansi_c(self.text, self.i + 2, self.buf, self.fail))  # decodes into buf
        elif after == '"':
            self._double_quoted(2)
        elif self._expands(self.i):
            value, end = self._expand(self.i)
            self._add(value, end)
        elif after == "(":
            self._backquote()
        else:
            self._literal()

    def _double(self) -> None:
        self._double_quoted(1)

    def _double_quoted(self, opening: int) -> None:
        """"...": \\ escapes only $ ` " \\ and newline; $NAME and ${NAME} expand; `...` and $(...)
        are refused."""
        text, n = self.text, self.n
        i = self.i + opening
        self.started = True
        while True:
            if i >= n:
                raise self.fail('a double quote is not closed', self.start)
            d = text[i]
            if d == '"':
                self.i = i + 1
                return
            if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    self.buf += text[i + 1].encode()
                i += 2
            elif d == "$" and self._expands(i):
                value, i = self._expand(i)
                self.buf += value
            elif d == "`" or text.startswith("$(", i):
                raise self.fail("command substitution is not supported", i, _NO_SHELL)
            else:
                self.buf += d.encode("utf-8", "surrogateescape")
                i += 1

    def _backquote(self) -> None:
        raise self.fail("command substitution is not supported", self.i, _NO_SHELL)

    def _operator(self) -> None:
        """| & ; < > ( ) and their doubled forms: a word of their own, marked as an operator."""
        self._finish()
        text, i = self.text, self.i
        op = text[i:i + 2] if text[i:i + 2] in ("||", "&&", ";;", ">>", "<<") else text[i]
        line, column = _position(text, i)
        self.found.append(Word(op, i, len(self.found) + 1, line, column, operator=True))
        self.i += len(op)

    def _expands(self, at: int) -> bool:
        """Does the $ at ``at`` start $NAME or ${NAME}?"""
        return at + 1 < self.n and (self.text[at + 1] == "{" or _NAME.match(self.text, at + 1) is not None)

    def _expand(self, at: int) -> tuple[bytes, int]:
        """$NAME or ${NAME} at ``at`` (pointing at the $): its value and the index after it."""
        text = self.text
        if text.startswith("${", at):
            close = text.find("}", at + 2)
            name = text[at + 2:close] if close > 0 else ""
            if close < 0 or not _NAME.fullmatch(name):
                raise self.fail(f"unsupported expansion {text[at:at + 20]!r}", at, _NO_SHELL)
            end = close + 1
        else:
            m = _NAME.match(text, at + 1)
            assert m is not None  # _expands: a name follows the $
            name, end = m.group(0), m.end()
        if name not in self.env:
            raise self.fail(f"${name} is not set in netlab's environment", at,
                            "a shell would expand it: write the value into the command")
        return self.env[name].encode("utf-8", "surrogateescape"), end


# the step for each character that is not itself in a word
_STEPS: dict[str, Callable[[_Lexer], None]] = {
    "\\": _Lexer._backslash, "'": _Lexer._single, '"': _Lexer._double, "$": _Lexer._dollar,
    "`": _Lexer._backquote, **dict.fromkeys("|&;<>()", _Lexer._operator),
}


_ANSI_SIMPLE = {"a": 7, "b": 8, "e": 27, "E": 27, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11,
                "\\": 92, "'": 39, '"': 34, "?": 63}


def _ansi_c(text: str, i: int, buf: bytearray, fail) -> int:
    """Decode a $'...' body starting at ``i`` into ``buf``; returns the index after the quote."""
    n = len(text)
    begin = i - 2
    start = len(buf)
    while True:
        if i >= n:
            raise fail("a $'...' quote is not closed", begin)
        c = text[i]
        if c == "'":
            cut = buf.find(b"\0", start)
            if cut >= 0:  # bash ends the string at a NUL byte
                del buf[cut:]
            return i + 1
        if c != "\\" or i + 1 >= n:
            buf += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        e = text[i + 1]
        if e in _ANSI_SIMPLE:
            buf.append(_ANSI_SIMPLE[e])
            i += 2
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", text[i + 1:i + 4])
            assert m is not None  # text[i + 1] is an octal digit
            buf.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        elif e == "x":
            m = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2:i + 4])
            if not m:
                buf += b"\\x"
                i += 2
                continue
            buf.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
        elif e in "uU":
            size = 4 if e == "u" else 8
            m = re.match(r"[0-9A-Fa-f]{1,%d}" % size, text[i + 2:i + 2 + size])
            if not m:
                buf += b"\\" + e.encode()
                i += 2
                continue
            try:
                buf += chr(int(m.group(0), 16)).encode("utf-8")
            except (ValueError, UnicodeEncodeError):
                raise fail(f"bad \\{e} escape", i) from None
            i += 2 + len(m.group(0))
        elif e == "c" and i + 2 < n:
            buf.append(ord(text[i + 2]) & 0x1F)
            i += 3
        else:
            buf += ("\\" + e).encode("utf-8", "surrogateescape")
            i += 2


def _printf(fmt: bytes, word: Word) -> bytes:
    """What ``printf FORMAT`` writes, for the escapes ``to_curl`` uses (and a few more)."""
    out = bytearray()
    i, n = 0, len(fmt)
    simple = {ord("\\"): 92, ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13,
              ord("t"): 9, ord("v"): 11, ord('"'): 34, ord("'"): 39}
    while i < n:
        c = fmt[i]
        if c == 0x5C and i + 1 < n:  # backslash
            e = fmt[i + 1]
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            m = re.match(rb"[0-7]{1,3}", fmt[i + 1:i + 4])
            if m:
                out.append(int(m.group(0), 8) & 0xFF)
                i += 1 + len(m.group(0))
                continue
            out.append(c)
            i += 1
            continue
        if c == 0x25:  # %
            if fmt[i + 1:i + 2] == b"%":
                out.append(0x25)
                i += 2
                continue
            raise CurlError(f"printf at {word.where}: only %% is supported in the format (no arguments)")
        out.append(c)
        i += 1
    return bytes(out)


# --------------------------------------------------------------------- curl options


_SHORT = {"X": "--request", "H": "--header", "d": "--data", "G": "--get", "I": "--head", "u": "--user",
          "A": "--user-agent", "e": "--referer", "b": "--cookie", "k": "--insecure", "m": "--max-time",
          "0": "--http1.0", "g": "--globoff", "s": "--silent", "S": "--show-error", "v": "--verbose",
          "i": "--include", "L": "--location", "o": "--output", "O": "--remote-name", "w": "--write-out",
          "D": "--dump-header", "f": "--fail", "N": "--no-buffer", "#": "--progress-bar", "4": "--ipv4",
          "6": "--ipv6", "c": "--cookie-jar", "F": "--form", "T": "--upload-file", "x": "--proxy",
          "E": "--cert", "K": "--config", "n": "--netrc", "r": "--range", "z": "--time-cond",
          "U": "--proxy-user", "C": "--continue-at", "j": "--junk-session-cookies", "q": "--disable",
          "Z": "--parallel", "R": "--remote-time", "J": "--remote-header-name", "l": "--list-only",
          "2": "--sslv2", "3": "--sslv3", "1": "--tlsv1", "V": "--version", "h": "--help", "M": "--manual"}

# long option -> takes a value?
_HANDLED = {
    "--request": True, "--url": True, "--header": True, "--data": True, "--data-ascii": True,
    "--data-raw": True, "--data-binary": True, "--data-urlencode": True, "--json": True, "--get": False,
    "--head": False, "--user": True, "--basic": False, "--oauth2-bearer": True, "--user-agent": True,
    "--referer": True, "--cookie": True, "--compressed": False, "--insecure": False, "--cacert": True,
    "--resolve": True, "--unix-socket": True, "--abstract-unix-socket": True, "--connect-timeout": True,
    "--max-time": True, "--http1.0": False, "--http1.1": False, "--request-target": True,
    "--path-as-is": False, "--globoff": False,
}
# accepted, nothing to do: they change only what curl prints or saves
_QUIET = {
    "--silent": False, "--show-error": False, "--verbose": False, "--include": False, "--output": True,
    "--remote-name": False, "--write-out": True, "--dump-header": True, "--progress-bar": False,
    "--no-progress-meter": False, "--no-buffer": False, "--trace": True, "--trace-ascii": True,
    "--trace-time": False, "--stderr": True, "--styled-output": False, "--no-styled-output": False,
    "--create-dirs": False, "--output-dir": True, "--remote-header-name": False, "--remote-time": False,
    "--fail-early": False, "--no-keepalive": False, "--tcp-nodelay": False, "--raw": False,
    "--no-compressed": False, "--no-insecure": False, "--no-globoff": False,
}
# accepted with a note: curl would do something netlab does not
_NOTED = {
    "--location": (False, "netlab does not follow redirects: the 3xx response is shown"),
    "--location-trusted": (False, "netlab does not follow redirects: the 3xx response is shown"),
    "--max-redirs": (True, "netlab does not follow redirects"),
    "--post301": (False, "netlab does not follow redirects"),
    "--post302": (False, "netlab does not follow redirects"),
    "--post303": (False, "netlab does not follow redirects"),
    "--fail": (False, "netlab's exit status is 0 for every HTTP response"),
    "--fail-with-body": (False, "netlab's exit status is 0 for every HTTP response"),
    "--retry": (True, "netlab sends once"),
    "--retry-delay": (True, "netlab sends once"),
    "--retry-max-time": (True, "netlab sends once"),
    "--retry-connrefused": (False, "netlab sends once"),
    "--retry-all-errors": (False, "netlab sends once"),
    "--http2": (False, "netlab speaks HTTP/1.1"),
    "--http2-prior-knowledge": (False, "netlab speaks HTTP/1.1"),
    "--http3": (False, "netlab speaks HTTP/1.1"),
    "--http3-only": (False, "netlab speaks HTTP/1.1"),
    "--ipv4": (False, "netlab tries every address of the name, in order"),
    "--ipv6": (False, "netlab tries every address of the name, in order"),
    "--cookie-jar": (True, "netlab keeps no cookie jar (the response's Set-Cookie headers are shown)"),
    "--keepalive-time": (True, "the kernel's keep-alive settings are used"),
    "--limit-rate": (True, "netlab reads as fast as it can"),
    "--speed-limit": (True, "netlab has no speed limit"),
    "--speed-time": (True, "netlab has no speed limit"),
    "--tlsv1": (False, "netlab lets OpenSSL pick the TLS version"),
    "--tlsv1.0": (False, "netlab lets OpenSSL pick the TLS version"),
    "--tlsv1.1": (False, "netlab lets OpenSSL pick the TLS version"),
    "--tlsv1.2": (False, "netlab lets OpenSSL pick the TLS version"),
    "--tlsv1.3": (False, "netlab lets OpenSSL pick the TLS version"),
    "--tls-max": (True, "netlab lets OpenSSL pick the TLS version"),
    "--ssl-reqd": (False, "use an https:// URL for TLS"),
    "--ssl": (False, "use an https:// URL for TLS"),
    "--parallel": (False, "netlab sends one request"),
    "--tr-encoding": (False, "netlab does not ask for a transfer encoding"),
}
_UNSUPPORTED = {
    "--form": "multipart forms are not supported; build the body in the composer (or a .http file)",
    "--form-string": "multipart forms are not supported; build the body in the composer (or a .http file)",
    "--upload-file": "uploads (PUT of a file) are not supported; use --data-binary @FILE -X PUT",
    "--proxy": "proxies are not supported", "--proxy-user": "proxies are not supported",
    "--socks5": "proxies are not supported", "--socks5-hostname": "proxies are not supported",
    "--preproxy": "proxies are not supported", "--proxytunnel": "proxies are not supported",
    "--cert": "TLS client certificates are not supported", "--key": "TLS client certificates are not supported",
    "--cert-type": "TLS client certificates are not supported", "--capath": "give a CA file with --cacert",
    "--digest": "Digest authentication needs a challenge round trip; netlab sends one request",
    "--ntlm": "NTLM authentication is not supported", "--negotiate": "Negotiate authentication is not supported",
    "--anyauth": "only Basic authentication (-u) is supported", "--aws-sigv4": "AWS signatures are not supported",
    "--config": "curl config files are not read", "--netrc": ".netrc is not read", "--netrc-file": ".netrc is not read",
    "--netrc-optional": ".netrc is not read", "--range": "write the Range header with -H 'Range: bytes=...'",
    "--time-cond": "write If-Modified-Since with -H", "--continue-at": "write the Range header with -H",
    "--connect-to": "use --resolve HOST:PORT:ADDR", "--interface": "binding a local interface is not supported",
    "--local-port": "the kernel picks the local port", "--dns-servers": "use netlab send --dns-server",
    "--doh-url": "use netlab send --dns-server", "--next": "netlab sends one request per command",
    "--variable": "curl variables are not supported", "--expand-data": "curl variables are not supported",
    "--disable": "curl config files are not read", "--list-only": "FTP is not supported",
    "--junk-session-cookies": "netlab keeps no cookie jar", "--version": "not a request",
    "--help": "not a request", "--manual": "not a request", "--sslv2": "not supported", "--sslv3": "not supported",
}


@dataclass
class _State:
    urls: list = field(default_factory=list)
    method: str | None = None
    headers: list = field(default_factory=list)  # (Word, text)
    data: list = field(default_factory=list)  # bytes pieces, joined with &
    json: bool = False
    get: bool = False
    head: bool = False
    auth: str | None = None  # the Authorization value from -u / --oauth2-bearer
    user_agent: str | None = None  # None: the default; "": none
    referer: str | None = None
    cookie: str | None = None
    compressed: bool = False
    insecure: bool = False
    cafile: str | None = None
    pins: list = field(default_factory=list)
    unix_socket: str | None = None
    timeout: float | None = None
    deadline: float | None = None
    http10: bool = False
    request_target: str | None = None
    path_as_is: bool = False
    notes: list = field(default_factory=list)


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
        stdin = _printf(words[1].data(), words[1])
        words = words[3:]
    for w in words:
        if w.operator:
            raise CurlError(f"shell operator {w.text!r} at {w.where}: paste one curl command",
                            "quote URLs that hold & or ; (a shell would split the command there)")
    first = words[0]
    if not _is_curl(first.text):
        raise CurlError(f"a curl command starts with 'curl', not {first.text[:40]!r} ({first.where})")
    extra = [Word(str(a), -1, len(words) + k + 1, 0, 0) for k, a in enumerate(extra_args)]
    state = _State()
    _read_options(list(words[1:]) + extra, state, stdin)
    request = _build(state)
    from netlab.engine.session import Options

    options = Options(insecure=state.insecure, cafile=state.cafile, resolve=tuple(state.pins),
                      unix_socket=state.unix_socket,
                      timeout=state.timeout if state.timeout is not None else Options().timeout,
                      deadline=state.deadline)
    given = frozenset(k for k, v in (("timeout", state.timeout), ("deadline", state.deadline)) if v is not None)
    return CurlCommand(request, options, state.compressed, tuple(state.notes), given, tuple(words))


def _where(w: Word) -> str:
    return "in the options added to the command" if w.start < 0 else w.where


def _read_options(words: list[Word], st: _State, stdin: bytes | None) -> None:
    i = 0
    while i < len(words):
        w = words[i]
        t = w.text
        i += 1
        if t.startswith("--") and len(t) > 2:
            name = t
            if "=" in name and name.split("=", 1)[0] in {**_HANDLED, **_QUIET, **_NOTED}:
                raise CurlError(f"unknown curl option {name!r} ({_where(w)}): curl takes the value as the "
                                f"next word: {name.split('=', 1)[0]} VALUE")
            takes = _takes_value(name, w)
            value = None
            if takes:
                if i >= len(words):
                    raise CurlError(f"curl option {name} needs a value ({_where(w)})")
                value = words[i]
                i += 1
            _apply(name, value, w, st, stdin)
        elif t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                letter = t[j]
                long_name = _SHORT.get(letter)
                if long_name is None:
                    raise CurlError(f"unknown curl option -{letter} ({_where(w)})")
                name = long_name
                j += 1
                value = None
                if _takes_value(name, w, f"-{letter} ({name})"):
                    if j < len(t):
                        value = replace(w, text=t[j:])
                    elif i < len(words):
                        value = words[i]
                        i += 1
                    else:
                        raise CurlError(f"curl option -{letter} ({name}) needs a value ({_where(w)})")
                    _apply(name, value, w, st, stdin)
                    break
                _apply(name, None, w, st, stdin)
        else:
            st.urls.append(w)


def _takes_value(name: str, w: Word, shown: str | None = None) -> bool:
    for table in (_HANDLED, _QUIET):
        if name in table:
            return table[name]
    if name in _NOTED:
        return _NOTED[name][0]
    if name in _UNSUPPORTED:
        raise CurlError(f"curl option {shown or name} is not supported by netlab ({_where(w)}): "
                        f"{_UNSUPPORTED[name]}")
    raise CurlError(f"unknown curl option {shown or name} ({_where(w)})", "see `man curl`; netlab reads the options "
                    "that shape the request (-X, -H, -d, -u, -k, --resolve...)")


def _read_file(spec: str, w: Word, stdin: bytes | None, what: str) -> bytes:
    if spec == "-":
        if stdin is None:
            raise CurlError(f"{what} @- reads standard input, which netlab does not have here ({_where(w)})",
                            "give the data in the command, or pipe it: printf '...' | curl ...")
        return stdin
    path = os.path.expanduser(spec)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CurlError(f"{what} @{spec}: cannot read the file: {exc.strerror or exc} ({_where(w)})") from None


@dataclass(frozen=True, slots=True)
class _Given:
    """One curl option as read: its long name, its value (None for an option without one), the
    word that named it (where errors point) and what ``@-`` reads."""

    name: str
    value: Word | None
    word: Word
    stdin: bytes | None

    @property
    def text(self) -> str:
        return self.value.text if self.value is not None else ""

    @property
    def argument(self) -> Word:
        """The value of an option that takes one (_read_options always passes it)."""
        assert self.value is not None
        return self.value


def _apply(name: str, value: Word | None, w: Word, st: _State, stdin: bytes | None) -> None:
    """Record one curl option in ``st``: quiet ones change nothing, noted ones add a note, the
    rest go to their handler in _HANDLERS."""
    if name in _QUIET:
        return
    if name in _NOTED:
        st.notes.append(f"{name} ignored: {_NOTED[name][1]}")
        return
    if name in _FLAGS:
        setattr(st, _FLAGS[name], True)
        return
    handler = _HANDLERS.get(name)
    if handler is not None:  # --http1.1, --globoff, --basic: what netlab does anyway
        handler(_Given(name, value, w, stdin), st)


def _header(o: _Given, st: _State) -> None:
    """-H 'Name: value', or -H @FILE: one header per non-blank line of the file."""
    if not o.text.startswith("@"):
        st.headers.append((o.argument, o.text))
        return
    for line in _read_file(o.text[1:], o.argument, o.stdin, "-H").decode("utf-8", "surrogateescape").splitlines():
        if line.strip():
            st.headers.append((o.argument, line.rstrip("\r")))


def _data(o: _Given, st: _State) -> None:
    """-d, --data-ascii, --data-binary, --data-raw and --json: a piece of the body; @FILE reads
    it (except with --data-raw), without its line breaks for -d and --data-ascii."""
    if o.text.startswith("@") and o.name != "--data-raw":
        data = _read_file(o.text[1:], o.argument, o.stdin, o.name)
        if o.name in ("--data", "--data-ascii"):  # curl strips line breaks from -d @FILE
            data = data.replace(b"\r", b"").replace(b"\n", b"")
    else:
        data = o.argument.data()
    st.data.append(data)
    if o.name == "--json":
        st.json = True


def _basic_auth(o: _Given, st: _State) -> None:
    """-u USER:PASSWORD (without a password curl would prompt for one)."""
    if ":" not in o.text:
        raise CurlError(f"-u {o.text!r} has no :PASSWORD; curl would prompt for one, netlab cannot "
                        f"({_where(o.word)})", "write -u USER:PASSWORD")
    st.auth = "Basic " + base64.b64encode(o.argument.data()).decode("ascii")


def _referer(o: _Given, st: _State) -> None:
    """-e URL, where a trailing ;auto (set the Referer when following redirects) means nothing here."""
    ref = o.text[:-5] if o.text.endswith(";auto") else o.text
    st.referer = ref or None


def _cookie(o: _Given, st: _State) -> None:
    """-b 'name=value; ...'; without a = curl reads it as a cookie file."""
    if "=" not in o.text:
        raise CurlError(f"-b {o.text!r} names a cookie file, which netlab does not read ({_where(o.word)})",
                        "give the cookies themselves: -b 'name=value; other=value'")
    st.cookie = o.text


def _resolve(o: _Given, st: _State) -> None:
    """--resolve [+]HOST:PORT:ADDR as a pin; -HOST:PORT (forget a cached entry) is noted."""
    text = o.text[1:] if o.text.startswith("+") else o.text
    if text.startswith("-"):
        st.notes.append(f"--resolve {o.text} ignored: removing a cached entry means nothing to netlab")
        return
    try:
        st.pins.append(parse_pin(text))
    except NetlabError as exc:
        raise CurlError(f"{exc.message} ({_where(o.word)})") from None


def _seconds(o: _Given, st: _State) -> None:
    """--connect-timeout (netlab's timeout) and -m/--max-time (its deadline): positive seconds."""
    try:
        seconds = float(o.text)
        if not seconds > 0:
            raise ValueError
    except ValueError:
        raise CurlError(f"{o.name} {o.text!r} is not a positive number of seconds ({_where(o.word)})") from None
    if o.name == "--connect-timeout":
        st.timeout = seconds
    else:
        st.deadline = seconds


def _set_method(o: _Given, st: _State) -> None:
    st.method = o.text


def _set_bearer(o: _Given, st: _State) -> None:
    st.auth = f"Bearer {o.text}"


def _set_user_agent(o: _Given, st: _State) -> None:
    st.user_agent = o.text


def _set_cafile(o: _Given, st: _State) -> None:
    st.cafile = os.path.expanduser(o.text)


def _set_unix_socket(o: _Given, st: _State) -> None:
    st.unix_socket = o.text


def _set_abstract_unix_socket(o: _Given, st: _State) -> None:
    st.unix_socket = "\0" + o.text


def _set_request_target(o: _Given, st: _State) -> None:
    st.request_target = o.text


# options that only switch something on: the _State field they set
_FLAGS = {"--get": "get", "--head": "head", "--compressed": "compressed", "--insecure": "insecure",
          "--http1.0": "http10", "--path-as-is": "path_as_is"}

_HANDLERS: dict[str, Callable[[_Given, _State], None]] = {
    "--request": _set_method,
    "--url": lambda o, st: st.urls.append(o.value),
    "--header": _header,
    "--data": _data, "--data-ascii": _data, "--data-binary": _data, "--data-raw": _data, "--json": _data,
    "--data-urlencode": lambda o, st: st.data.append(_urlencode_arg(o.argument, o.stdin)),
    "--user": _basic_auth,
    "--oauth2-bearer": _set_bearer,
    "--user-agent": _set_user_agent,
    "--referer": _referer,
    "--cookie": _cookie,
    "--cacert": _set_cafile,
    "--resolve": _resolve,
    "--unix-socket": _set_unix_socket,
    "--abstract-unix-socket": _set_abstract_unix_socket,
    "--connect-timeout": _seconds, "--max-time": _seconds,
    "--request-target": _set_request_target,
}


def _urlencode_arg(value: Word, stdin: bytes | None) -> bytes:
    """curl's --data-urlencode forms: content, =content, name=content, @file, name@file."""
    text = value.text
    eq = text.find("=")
    at = text.find("@")
    if eq >= 0 and (at < 0 or eq < at):
        name, content = text[:eq], value.data()[len(text[:eq + 1].encode("utf-8", "surrogateescape")):]
    elif at >= 0:
        name = text[:at]
        content = _read_file(text[at + 1:], value, stdin, "--data-urlencode")
    else:
        name, content = "", value.data()
    encoded = _urlquote(content, safe="-._~").encode("ascii")  # a space as +, like curl 7.88
    return (name.encode("utf-8", "surrogateescape") + b"=" + encoded) if name else encoded


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


def _build(st: _State) -> Request:
    """The request curl 7.88 builds from the options in ``st``, header for header."""
    url_word = _the_url(st)
    url, body = _url_and_body(st, url_word.text)
    try:
        t = parse_target(url)
    except NetlabError as exc:
        raise CurlError(f"{exc.message} ({_where(url_word)})") from None
    target = st.request_target if st.request_target is not None else _target(url, url_word, st.path_as_is)
    method = st.method or ("HEAD" if st.head else "POST" if body is not None else "GET")
    version = "HTTP/1.0" if st.http10 else "HTTP/1.1"
    lines = _header_lines(st, _custom_headers(st), t, body)
    shown = url if "://" in url else "http://" + url
    return assemble(shown, method, target, version, lines, body or b"")


def _the_url(st: _State) -> Word:
    """The one URL: netlab sends one request per command."""
    if not st.urls:
        raise CurlError("the curl command has no URL")
    if len(st.urls) > 1:
        raise CurlError(f"the curl command has {len(st.urls)} URLs ({st.urls[1].text!r} at {_where(st.urls[1])}); "
                        "netlab sends one request", "keep one URL, or check the quoting of an option's value")
    return st.urls[0]


def _url_and_body(st: _State, url: str) -> tuple[str, bytes | None]:
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
    parts = urlsplit(url if "://" in url else "http://" + url)
    # An empty query stays: curl 7.88 sends http://h/? as "GET /? HTTP/1.1" (urlsplit
    # drops the lone "?"; a "?" before any "#" can only start the query).
    has_query = bool(parts.query) or "?" in url.partition("#")[0]
    path, q, query = parts.path or "/", "?" if has_query else "", parts.query
    if not path_as_is:
        path = _remove_dot_segments(path) or "/"
    target = path + q + query
    if any(c in target for c in " \t\r\n") or "\0" in target:
        raise CurlError(f"the URL holds a blank or a control character ({_where(url_word)}); curl "
                        "rejects it too", "percent-encode it (%20 for a space)")
    return target


def _custom_headers(st: _State) -> list[tuple[str, str | None]]:
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
        raise CurlError(f"-H {h[:40]!r}: a header holds a line break or NUL ({_where(word)})")
    name, colon, rest = h.partition(":")
    if colon:
        if not _TOKEN.match(name):
            raise CurlError(f"-H {h[:60]!r}: {name!r} is not a header name ({_where(word)})")
        return name.lower(), h if rest.strip(" \t") else None
    if h.endswith(";") and _TOKEN.match(h[:-1]):
        return h[:-1].lower(), h[:-1] + ":"
    raise CurlError(f"-H {h[:60]!r} is not 'Name: value' ({_where(word)}); curl would silently "
                    "leave it out", "write -H 'Name: value', -H 'Name;' for an empty value")


def _header_lines(st: _State, custom: list[tuple[str, str | None]], t: Target, body: bytes | None) -> list[str]:
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


# ------------------------------------------------------------------------- to_curl


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
    loose = re.search(rb"\r?\n\r?\n", data)
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
    if not m or not _BTOKEN.match(m.group(1)):
        raise CurlError(f"curl cannot send this request line: {line[:80].decode('latin-1')!r} "
                        "(curl writes METHOD TARGET HTTP/1.x)", _EXPORT_HINT)
    return m.group(1).decode("ascii"), m.group(2).decode("utf-8", "surrogateescape"), m.group(3)


def _header_field(raw: bytes) -> _Header:
    """One header line as (lower name, name, line), if -H can send it: 'Name: value', not
    folded, and not a value of only blanks (-H 'Name: ' removes a header in curl)."""
    raw_name, colon, rest = raw.partition(b":")
    if not colon or not _BTOKEN.match(raw_name):
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
    from netlab.engine.history import pin_text

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
    if options.timeout != 10.0:
        args += ["--connect-timeout", f"{options.timeout:g}"]
    if options.deadline is not None:
        args += ["--max-time", f"{options.deadline:g}"]
    return args


def _url_args(request: Request, target: str) -> tuple[str, list[str]]:
    """The URL, and --request-target when curl would not send the target as written in it
    (characters a URL cannot hold, dot segments curl would remove)."""
    origin = f"{request.scheme}://{format_host(request.host, request.port, request.scheme)}"
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
