"""A cookie jar for netlab's exchanges: the standard library's ``http.cookiejar`` does the
parsing and the matching (domain, path, secure, expiry), this module only adapts netlab's
Request and Response to what it reads.

    jar = Jar()                          # or Jar.load("cookies.txt") (Netscape format, as curl)
    request = jar.apply(request)         # adds "Cookie: ..." for the cookies that match
    exchange = engine.send(request)
    jar.store(exchange)                  # its Set-Cookie lines go into the jar
    jar.cookies()                        # name, value, domain, path, expires, secure, set_by
    jar.save("cookies.txt")              # Netscape format, mode 0600, written atomically

The rules are cookiejar's ``DefaultCookiePolicy`` (what requests uses), made stricter in two
places where RFC 6265 and curl are: a cookie set without a Domain attribute goes back to
that host only (not to its subdomains), and a ``Secure`` cookie is accepted from https only.
Cookies from a Netscape file with expiry 0 (curl's session cookies) are session cookies,
and session cookies are saved with expiry 0 for curl to read back.
"""

from __future__ import annotations

import copy
import http.cookiejar
import os
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy, LoadError, MozillaCookieJar
from typing import TYPE_CHECKING, Any

from netlab.engine.errors import NetlabError
from netlab.engine.request import Request, host_port

if TYPE_CHECKING:
    from netlab.engine.session import Exchange

__all__ = ["Jar", "CookieInfo", "with_header", "ADDED_AFTER"]

_cookiejar: Any = http.cookiejar  # names its stubs leave out: eff_request_host, HTTPONLY_ATTR
HTTPONLY_ATTR: str = _cookiejar.HTTPONLY_ATTR  # how MozillaCookieJar marks an HttpOnly cookie ("#HttpOnly_")

# The headers a Cookie header from the jar goes after, when they lead the head (curl's order:
# Host, User-Agent, Accept, Accept-Encoding, then Cookie, then the user's own headers).
ADDED_AFTER = frozenset({"host", "user-agent", "accept", "accept-encoding"})


@dataclass(frozen=True, slots=True)
class CookieInfo:
    """One cookie in the jar, as the Cookies view and ``netlab send -v`` list it."""

    name: str
    value: str
    domain: str  # ".example.com": this domain and its subdomains; "example.com": that host only
    path: str
    expires: int | None  # epoch seconds; None: a session cookie
    secure: bool
    http_only: bool
    host_only: bool
    set_by: "Exchange | None" = None  # the exchange whose Set-Cookie made it (None: loaded, or -b)
    set_by_url: str | None = None


class _Policy(DefaultCookiePolicy):
    """requests' policy, plus: host-only cookies match their host alone (RFC 6265 5.3 step
    6, curl, browsers), and Secure cookies are refused from plain http (RFC 6265bis, curl)."""

    def __init__(self) -> None:
        super().__init__(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)

    def set_ok(self, cookie, request) -> bool:
        if cookie.secure and request.type != "https":
            return False
        return super().set_ok(cookie, request)


class _UrlRequest:
    """What http.cookiejar reads of a ``urllib.request.Request``, for a netlab Request."""

    def __init__(self, request: Request) -> None:
        self.type = request.scheme
        self.host = host_port(request.host, request.port)
        self.origin_req_host = request.host
        self.unverifiable = False
        self._url = f"{request.scheme}://{self.host}{request.target if request.target.startswith('/') else '/'}"
        self.added: str | None = None

    def get_full_url(self) -> str:
        return self._url

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def get_origin_req_host(self) -> str:
        return self.origin_req_host

    def is_unverifiable(self) -> bool:
        return False

    def has_header(self, name: str) -> bool:  # the jar always composes its header; the caller decides
        return False

    def get_header(self, name: str, default=None):
        return default

    def header_items(self) -> list:
        return []

    def add_unredirected_header(self, name: str, value: str) -> None:
        if name.lower() == "cookie":
            self.added = value


class _Headers:
    """What http.cookiejar reads of a response (``response.info()``)."""

    def __init__(self, headers) -> None:
        self._headers = headers

    def get_all(self, name: str, default=None):
        name = name.lower()
        found = [v for n, v in self._headers if n.lower() == name]
        return found or default

    def info(self) -> "_Headers":
        return self


def with_header(request: Request, name: str, value: str, *, raw_too: bool = False) -> Request:
    """``request`` rebuilt with one more header, placed after the Host, User-Agent, Accept and
    Accept-Encoding lines that lead its head (curl puts Cookie there).  Raw requests are
    returned as they are (their bytes are sent as given) unless ``raw_too``: then the line
    goes into the bytes at that place, with the head's own line ending (the TUI's composer
    builds every request as bytes)."""
    if request.is_raw:
        return _with_raw_header(request, name, value) if raw_too else request
    headers = list(request.headers)
    at = 0
    while at < len(headers) and headers[at][0].lower() in ADDED_AFTER:
        at += 1
    headers.insert(at, (name, value))
    return Request.from_url(request.url, request.method, headers, request.body)


def _with_raw_header(request: Request, name: str, value: str) -> Request:
    from netlab.engine.request import HEAD_END

    data = request.data
    end = HEAD_END.search(data)
    if end is None:
        return request  # no whole head: nothing to put a header into
    lines = data[:end.start()].split(b"\n")
    eol = b"\r\n" if lines[0].endswith(b"\r") else b"\n"
    lines = [line.rstrip(b"\r") for line in lines]
    at = 1  # after the request line, and the leading lines curl puts before Cookie
    while at < len(lines) and lines[at].split(b":", 1)[0].strip().decode("latin-1").lower() in ADDED_AFTER:
        at += 1
    lines.insert(at, f"{name}: {value}".encode("latin-1", "replace"))
    return Request.raw(eol.join(lines) + data[end.start():], request.url)


class Jar:
    """A cookie jar for a session (the CLI's one command, the TUI's whole session).
    Thread-safe: cookiejar locks itself, and so does the record of who set what."""

    def __init__(self) -> None:
        self._jar = CookieJar(_Policy())
        self._set_by: dict[tuple[str, str, str], Exchange] = {}
        self._lock = threading.Lock()

    # -- filling it ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str, *, missing_ok: bool = True) -> "Jar":
        """A jar holding the cookies of a Netscape-format file (curl's -c, MozillaCookieJar).
        A missing file gives an empty jar when ``missing_ok`` (as curl's -b FILE does);
        an unreadable or malformed one raises NetlabError("usage")."""
        jar = cls()
        jar.add_file(path, missing_ok=missing_ok)
        return jar

    def add_file(self, path: str, *, missing_ok: bool = True) -> bool:
        """Add the cookies of a Netscape-format file; False when it does not exist (and
        ``missing_ok``)."""
        reader = MozillaCookieJar()
        try:
            with warnings.catch_warnings():  # a malformed line: LoadError below, not cookiejar's traceback
                warnings.simplefilter("ignore")
                reader.load(path, ignore_discard=True, ignore_expires=True)
        except FileNotFoundError:
            if missing_ok:
                return False
            raise NetlabError("usage", f"no cookie file {path!r}") from None
        except (LoadError, ValueError, UnicodeDecodeError) as exc:
            raise NetlabError("usage", f"{path!r} is not a Netscape-format cookie file: {exc}",
                              "write it with curl -c FILE, or give the cookies as -b 'NAME=VALUE; ...'") from None
        except OSError as exc:
            raise NetlabError("usage", f"cannot read the cookie file {path!r}: {exc.strerror or exc}") from None
        now = time.time()
        for c in reader:
            if c.expires == 0:  # curl's session cookie
                c.expires, c.discard = None, True
            if c.is_expired(int(now)):
                continue
            self._jar.set_cookie(c)
        return True

    def add_string(self, text: str, url: str) -> list[str]:
        """``-b 'NAME=VALUE; NAME2=VALUE2'``: session cookies of ``url``'s host (host-only,
        path /), sent wherever the jar's rules send them.  Returns the names added."""
        request = Request.from_url(url)
        _host, erhn = _cookiejar.eff_request_host(_UrlRequest(request))
        names = []
        for part in text.split(";"):
            name, sep, value = part.strip().partition("=")
            name = name.strip()
            if not part.strip():
                continue
            if not sep or not name:
                raise NetlabError("usage", f"cookie {part.strip()!r} is not NAME=VALUE")
            self._jar.set_cookie(Cookie(0, name, value.strip(), None, False, erhn, False, False, "/", True,
                                        False, None, True, None, None, {}))
            names.append(name)
        return names

    # -- using it ------------------------------------------------------------------------
    def header_for(self, request: Request) -> str | None:
        """The Cookie header value the jar has for ``request`` (None: no cookie matches)."""
        adapter: Any = _UrlRequest(request)
        self._jar.add_cookie_header(adapter)
        return adapter.added

    def apply(self, request: Request) -> Request:
        """``request`` with the jar's Cookie header added, unless it has a Cookie header of
        its own (the user's wins, as in requests) or is raw bytes (sent as given)."""
        if request.is_raw or request.header("cookie") is not None:
            return request
        value = self.header_for(request)
        return request if value is None else with_header(request, "Cookie", value)

    def store(self, exchange: "Exchange") -> list[str]:
        """Take the Set-Cookie lines of ``exchange``'s response into the jar (those the
        rules accept; an expired one removes its cookie).  Returns the names stored."""
        r = exchange.response
        if r is None or not r.status:
            return []
        headers = r.headers
        if not any(n.lower() in ("set-cookie", "set-cookie2") for n, _ in headers):
            return []
        req: Any = _UrlRequest(exchange.request)
        response: Any = _Headers(headers)
        stored = []
        with self._lock:
            for c in self._jar.make_cookies(response, req):  # a removal happens in here
                if any(k.lower() == "httponly" for k in getattr(c, "_rest", {})):
                    c.set_nonstandard_attr(HTTPONLY_ATTR, "")  # so save() marks it, as curl does
                self._jar.set_cookie_if_ok(c, req)
                if any(x is c for x in self._jar):
                    self._set_by[(c.domain, c.path, c.name)] = exchange
                    stored.append(c.name)
        return stored

    def cookies(self) -> list[CookieInfo]:
        """Every cookie in the jar that has not expired."""
        self._jar.clear_expired_cookies()
        with self._lock:
            out = []
            for c in self._jar:
                ex = self._set_by.get((c.domain, c.path, c.name))
                out.append(CookieInfo(c.name, c.value or "", c.domain, c.path, c.expires, bool(c.secure),
                                      c.has_nonstandard_attr(HTTPONLY_ATTR), not c.domain_specified, ex,
                                      ex.request.url if ex is not None else None))
            return out

    def __len__(self) -> int:
        return len(self._jar)

    def clear(self) -> None:
        with self._lock:
            self._jar.clear()
            self._set_by.clear()

    # -- saving it -----------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write the jar in the Netscape format curl reads (session cookies with expiry 0),
        mode 0600, atomically (a temporary file beside it, then renamed).  OSError on failure."""
        self._jar.clear_expired_cookies()
        out = MozillaCookieJar()
        for c in self._jar:
            c = copy.copy(c)
            if c.expires is None:
                c.expires = 0
            out.set_cookie(c)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".netlab-cookies-", dir=directory)  # 0600
        os.close(fd)
        try:
            out.save(tmp, ignore_discard=True, ignore_expires=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
