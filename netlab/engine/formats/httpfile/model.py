"""The values a .http file is read into (HttpFile, HttpEntry, EntryOptions), its error,
and ``assemble``: a Request from a request line, header lines and a body, exactly as written.
The format itself is described in netlab/engine/formats/httpfile/__init__.py."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from netlab.engine.defaults import TIMEOUT
from netlab.engine.errors import NetlabError
from netlab.engine.formats.pin import pin_text
from netlab.engine.rawtext import from_raw_text, to_raw_text
from netlab.engine.request import Request, host_port
from netlab.engine.resolve import Pin

__all__ = ["HttpFile", "HttpEntry", "EntryOptions", "HttpFileError", "assemble", "encode_raw", "decode_raw",
           "is_http_path", "HTTP_SUFFIXES", "DEFAULT_TIMEOUT"]

HTTP_SUFFIXES = (".http", ".rest")
DEFAULT_TIMEOUT = TIMEOUT  # the engine's (netlab/engine/defaults.py)


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
            out.append(f"# @resolve {pin_text(pin)}")
        if self.unix_socket:
            out.append(f"# @unix-socket {self.unix_socket}")
        if self.dns_server:
            out.append(f"# @dns-server {host_port(*self.dns_server)}")
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


# The composer's raw notation, shared (engine/rawtext.py).
encode_raw = to_raw_text
decode_raw = from_raw_text


def assemble(url: str, method: str, target: str, version: str, lines, body: bytes) -> Request:
    """A Request with exactly this request line, these header lines (as written, UTF-8,
    surrogate escapes for raw bytes) and body; ``url`` names where it goes."""
    parts = [f"{method} {target} {version}".encode("utf-8", "surrogateescape")]
    parts += [line.encode("utf-8", "surrogateescape") for line in lines]
    data = b"\r\n".join(parts) + b"\r\n\r\n" + bytes(body)
    return replace(Request.raw(data, url), is_raw=False)
