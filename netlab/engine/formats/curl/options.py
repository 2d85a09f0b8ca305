"""curl's options: the tables that say which exist and which take a value, and what each
one does to the State a command is read into.

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
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import quote_plus as _urlquote

from netlab.engine.errors import NetlabError
from netlab.engine.formats.curl.lexer import CurlError, Word
from netlab.engine.resolve import parse_pin

__all__ = ["State", "read_options"]

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
class State:
    """What the options of one command ask for, as they are read."""

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


def read_options(words: list[Word], st: State, stdin: bytes | None) -> None:
    i = 0
    while i < len(words):
        w = words[i]
        t = w.text
        i += 1
        if t.startswith("--") and len(t) > 2:
            name = t
            if "=" in name and name.split("=", 1)[0] in {**_HANDLED, **_QUIET, **_NOTED}:
                raise CurlError(f"unknown curl option {name!r} ({w.where}): curl takes the value as the "
                                f"next word: {name.split('=', 1)[0]} VALUE")
            takes = _takes_value(name, w)
            value = None
            if takes:
                if i >= len(words):
                    raise CurlError(f"curl option {name} needs a value ({w.where})")
                value = words[i]
                i += 1
            _apply(name, value, w, st, stdin)
        elif t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                letter = t[j]
                long_name = _SHORT.get(letter)
                if long_name is None:
                    raise CurlError(f"unknown curl option -{letter} ({w.where})")
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
                        raise CurlError(f"curl option -{letter} ({name}) needs a value ({w.where})")
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
        raise CurlError(f"curl option {shown or name} is not supported by netlab ({w.where}): "
                        f"{_UNSUPPORTED[name]}")
    raise CurlError(f"unknown curl option {shown or name} ({w.where})", "see `man curl`; netlab reads the options "
                    "that shape the request (-X, -H, -d, -u, -k, --resolve...)")


def _read_file(spec: str, w: Word, stdin: bytes | None, what: str) -> bytes:
    if spec == "-":
        if stdin is None:
            raise CurlError(f"{what} @- reads standard input, which netlab does not have here ({w.where})",
                            "give the data in the command, or pipe it: printf '...' | curl ...")
        return stdin
    path = os.path.expanduser(spec)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CurlError(f"{what} @{spec}: cannot read the file: {exc.strerror or exc} ({w.where})") from None


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


def _apply(name: str, value: Word | None, w: Word, st: State, stdin: bytes | None) -> None:
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


def _header(o: _Given, st: State) -> None:
    """-H 'Name: value', or -H @FILE: one header per non-blank line of the file."""
    if not o.text.startswith("@"):
        st.headers.append((o.argument, o.text))
        return
    for line in _read_file(o.text[1:], o.argument, o.stdin, "-H").decode("utf-8", "surrogateescape").splitlines():
        if line.strip():
            st.headers.append((o.argument, line.rstrip("\r")))


def _data(o: _Given, st: State) -> None:
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


def _basic_auth(o: _Given, st: State) -> None:
    """-u USER:PASSWORD (without a password curl would prompt for one)."""
    if ":" not in o.text:
        raise CurlError(f"-u {o.text!r} has no :PASSWORD; curl would prompt for one, netlab cannot "
                        f"({o.word.where})", "write -u USER:PASSWORD")
    st.auth = "Basic " + base64.b64encode(o.argument.data()).decode("ascii")


def _referer(o: _Given, st: State) -> None:
    """-e URL, where a trailing ;auto (set the Referer when following redirects) means nothing here."""
    ref = o.text[:-5] if o.text.endswith(";auto") else o.text
    st.referer = ref or None


def _cookie(o: _Given, st: State) -> None:
    """-b 'name=value; ...'; without a = curl reads it as a cookie file."""
    if "=" not in o.text:
        raise CurlError(f"-b {o.text!r} names a cookie file, which netlab does not read ({o.word.where})",
                        "give the cookies themselves: -b 'name=value; other=value'")
    st.cookie = o.text


def _resolve(o: _Given, st: State) -> None:
    """--resolve [+]HOST:PORT:ADDR as a pin; -HOST:PORT (forget a cached entry) is noted."""
    text = o.text[1:] if o.text.startswith("+") else o.text
    if text.startswith("-"):
        st.notes.append(f"--resolve {o.text} ignored: removing a cached entry means nothing to netlab")
        return
    try:
        st.pins.append(parse_pin(text))
    except NetlabError as exc:
        raise CurlError(f"{exc.message} ({o.word.where})") from None


def _seconds(o: _Given, st: State) -> None:
    """--connect-timeout (netlab's timeout) and -m/--max-time (its deadline): positive seconds."""
    try:
        seconds = float(o.text)
        if not seconds > 0:
            raise ValueError
    except ValueError:
        raise CurlError(f"{o.name} {o.text!r} is not a positive number of seconds ({o.word.where})") from None
    if o.name == "--connect-timeout":
        st.timeout = seconds
    else:
        st.deadline = seconds


def _set_method(o: _Given, st: State) -> None:
    st.method = o.text


def _set_bearer(o: _Given, st: State) -> None:
    st.auth = f"Bearer {o.text}"


def _set_user_agent(o: _Given, st: State) -> None:
    st.user_agent = o.text


def _set_cafile(o: _Given, st: State) -> None:
    st.cafile = os.path.expanduser(o.text)


def _set_unix_socket(o: _Given, st: State) -> None:
    st.unix_socket = o.text


def _set_abstract_unix_socket(o: _Given, st: State) -> None:
    st.unix_socket = "\0" + o.text


def _set_request_target(o: _Given, st: State) -> None:
    st.request_target = o.text


# options that only switch something on: the State field they set
_FLAGS = {"--get": "get", "--head": "head", "--compressed": "compressed", "--insecure": "insecure",
          "--http1.0": "http10", "--path-as-is": "path_as_is"}

_HANDLERS: dict[str, Callable[[_Given, State], None]] = {
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
