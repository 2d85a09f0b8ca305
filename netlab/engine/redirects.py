"""Following redirects, each hop a whole exchange (``netlab send -L``, the TUI's "follow
redirects" option): what requests' ``resolve_redirects`` does above urllib3, in the open.

    from netlab.engine.redirects import follow
    final = follow(engine, request, jar=Jar(), max_redirects=30)
    for hop in final.redirects + [final]:      # each an Exchange: DNS, connection, bytes, timings
        hop.response.status, hop.notes

The rules (RFC 9110 15.4, as requests and curl apply them):

- A response is followed when its status is 301, 302, 303, 307 or 308 (requests' set).
- 303 turns any method but HEAD into GET; 302 does too (browsers, requests); 301 turns POST
  into GET; 307 and 308 repeat the method and the body.  When the method becomes GET the
  body goes, and with it Content-Length, Content-Type and Transfer-Encoding.
- ``Location`` resolves against the current URL (``urllib.parse.urljoin``: relative,
  absolute-path and scheme-relative forms); Host follows the new URL.
- When the origin (scheme, host, port) changes, Authorization, Proxy-Authorization and the
  user's own Cookie header are dropped for the rest of the chain, and the hop's ``notes``
  say so.  Cookies from the jar follow the jar's own rules at every hop.
- The chain ends with an error on the last exchange, every hop kept: a redirect without a
  usable Location (phase ``parse``); more than ``max_redirects`` redirects (``limit``, as
  requests' TooManyRedirects and curl's --max-redirs); a loop (``limit``): the next request
  would be byte for byte one already sent in this chain (same method, URL, headers, cookies
  and body), so a deterministic server would answer it the same way again.  A revisit whose
  cookies changed is not a loop (a login that sets a cookie and redirects back).
- ``Options.deadline`` (--max-time) bounds the whole chain, as curl's --max-time does.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable
from urllib.parse import urljoin

from netlab.engine.errors import NetlabError
from netlab.engine.request import Request, format_host

if TYPE_CHECKING:
    from netlab.engine import events as ev
    from netlab.engine.cookies import Jar
    from netlab.engine.session import CancelToken, Engine, Exchange, Options

__all__ = ["follow", "REDIRECT_STATUSES", "DEFAULT_MAX_REDIRECTS", "next_method", "is_redirect", "JAR_ADDED",
           "JAR_STORED", "used_jar"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_MAX_REDIRECTS = 30  # requests' Session.max_redirects (curl's default is 50)
_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})
_CREDENTIALS = ("Authorization", "Proxy-Authorization", "Cookie")
JAR_ADDED = "Cookie added by the jar"  # how the notes open when the jar did something
JAR_STORED = "stored in the jar from Set-Cookie"


def is_redirect(ex: "Exchange") -> bool:
    r = ex.response
    return r is not None and r.status in REDIRECT_STATUSES


def next_method(status: int, method: str) -> str:
    """The method of the request that follows a ``status`` answer to ``method``."""
    if status in (302, 303) and method != "HEAD":
        return "GET"
    if status == 301 and method == "POST":
        return "GET"
    return method


def _url(request: Request) -> str:
    """The URL a request went to, from what was sent (a raw request's target too)."""
    target = request.target if request.target.startswith("/") else "/"
    return f"{request.scheme}://{format_host(request.host, request.port, request.scheme)}{target}"


def _origin(request: Request) -> tuple[str, str, int]:
    return (request.scheme, request.host.lower(), request.port)


def _location(ex: "Exchange") -> str:
    r = ex.response
    assert r is not None
    value = r.header("location")
    if value is None or not value.strip():
        raise NetlabError("parse", f"the {r.status} {r.reason} response has no Location header: there is no "
                          "next hop to follow", "the server's redirect is incomplete; -v shows its head")
    value = value.strip()
    try:  # a Location in UTF-8 arrives as Latin-1 text (requests reads it back the same way)
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return value


def next_request(sent: Request, ex: "Exchange") -> tuple[Request, list[str]]:
    """The request that follows ``ex`` (the redirect that answered ``sent``, the request as
    the user's headers make it: without the jar's Cookie), and the notes saying what changed.
    NetlabError("parse") when the Location cannot be followed."""
    r = ex.response
    assert r is not None
    location = _location(ex)
    here = _url(sent)
    try:
        url = urljoin(here, location)
        probe = Request.from_url(url)
    except (ValueError, NetlabError) as exc:
        why = exc.message if isinstance(exc, NetlabError) else str(exc)
        raise NetlabError("parse", f"the Location {location!r} of the {r.status} response cannot be followed: "
                          f"{why}", "the server's redirect names no usable http(s) URL; -v shows its head") from None
    method = next_method(r.status, sent.method)
    notes = [f"redirected here by {r.status} {r.reason}: Location {location} -> {url} ({method})"]
    headers = [(n, v) for n, v in sent.headers if n.lower() != "host"]  # Host follows the new URL
    body = sent.body
    if method != sent.method or r.status == 303:
        dropped = sorted({n for n, _ in headers if n.lower() in _BODY_HEADERS})
        headers = [(n, v) for n, v in headers if n.lower() not in _BODY_HEADERS]
        if body or dropped:
            notes.append(f"{sent.method} became {method}: the body ({len(body)} bytes)"
                         f"{' and ' + ', '.join(dropped) if dropped else ''} dropped")
        elif method != sent.method:
            notes.append(f"{sent.method} became {method}")
        body = b""
    if _origin(probe) != _origin(sent):
        gone = [c for c in _CREDENTIALS if any(n.lower() == c.lower() for n, _ in headers)]
        if gone:
            headers = [(n, v) for n, v in headers if n.lower() not in {c.lower() for c in gone}]
            notes.append(f"origin changed ({sent.origin} -> {probe.origin}): {', '.join(gone)} dropped")
    try:
        return Request.from_url(url, method, headers, body), notes
    except NetlabError as exc:  # the headers of a raw first request that from_url refuses
        raise NetlabError("parse", f"cannot build the request for {url!r}: {exc.message}") from None


def _with_jar(jar: "Jar | None", request: Request, raw_too: bool = False) -> tuple[Request, list[str]]:
    """``request`` with the jar's cookies, and a note naming them (values stay out of notes).
    A raw request is left as sent unless ``raw_too``."""
    if jar is None or (request.is_raw and not raw_too):
        return request, []
    if request.header("cookie") is not None:
        return request, []  # the user's own Cookie header wins (requests)
    value = jar.header_for(request)
    if value is None:
        return request, []
    from netlab.engine.cookies import with_header

    names = [part.split("=", 1)[0].strip() for part in value.split(";")]
    return with_header(request, "Cookie", value, raw_too=raw_too), [f"{JAR_ADDED}: {', '.join(names)}"]


def used_jar(chain: "list[Exchange]") -> bool:
    """Did a cookie jar add or keep a cookie anywhere in ``chain`` (its notes say so)?"""
    return any(note.startswith((JAR_ADDED, JAR_STORED)) for ex in chain for note in ex.notes or ())


def _copy_body(ex: "Exchange", path: str) -> None:
    r = ex.response
    with open(path, "wb") as f:
        if r is not None:
            for chunk in r.body_store.iter_chunks():
                f.write(chunk)


def follow(engine: "Engine", request: Request, on_event: "Callable[[ev.Event], None] | None" = None, *,
           options: "Options | None" = None, cancel: "CancelToken | None" = None,
           max_redirects: int = DEFAULT_MAX_REDIRECTS, jar: "Jar | None" = None, redirects: bool = True,
           on_hop: "Callable[[Exchange], None] | None" = None, body_path: str | None = None,
           jar_raw: bool = False) -> "Exchange":
    """Send ``request`` through ``engine`` and follow its redirects; the last exchange is
    returned, the ones before it in its ``redirects`` (in order).  ``jar``: cookies for each
    hop and from each response.  ``redirects=False``: one exchange (the jar still applies;
    ``redirects`` stays None).  ``on_hop(exchange)`` is called for each hop that is followed,
    before the next is sent; ``on_event`` gets every hop's events in order.  ``body_path``
    (-o): the final body is written there (a hop's body stays in memory).  Never raises
    NetlabError: a chain that cannot go on ends with the error on the last exchange.
    ``jar_raw``: the jar's Cookie goes into a raw first request's bytes too (the TUI)."""
    opts = options or engine.options
    if body_path is not None:
        try:
            open(body_path, "wb").close()  # the engine's own check: a file that cannot be written stops it unsent
        except OSError:
            return engine.send(request, on_event, options=opts, cancel=cancel, body_path=body_path)
    chain: list[Exchange] = []
    end = None if opts.deadline is None else time.monotonic() + opts.deadline
    base, notes = request, list[str]()
    sent, jar_notes = _with_jar(jar, base, jar_raw)
    seen = {sent.data}
    while True:
        hop_opts = opts if end is None else replace(opts, deadline=max(end - time.monotonic(), 1e-3))
        ex = engine.send(sent, on_event, options=hop_opts, cancel=cancel)
        ex.notes = notes + jar_notes
        if jar is not None:
            stored = jar.store(ex)
            if stored:
                ex.notes.append(f"{JAR_STORED}: {', '.join(stored)}")
        if not redirects or ex.error is not None or not is_redirect(ex):
            break
        error, step = _next(ex, base, jar, chain, max_redirects, seen, cancel, end)
        if error is not None:
            ex.error = error
            break
        assert step is not None
        base, notes, sent, jar_notes = step
        seen.add(sent.data)
        chain.append(ex)
        if on_hop is not None:
            on_hop(ex)
    if redirects:
        ex.redirects = chain
    if body_path is not None:
        _copy_body(ex, body_path)
    return ex


def _next(ex: "Exchange", base: Request, jar: "Jar | None", chain: list, max_redirects: int, seen: set,
          cancel: "CancelToken | None", end: float | None):
    """(error, None) when the chain stops at ``ex``, else (None, (base, notes, sent, jar notes))
    of the next hop."""
    if len(chain) >= max_redirects:
        plural = "" if max_redirects == 1 else "s"
        return NetlabError("limit", f"more than {max_redirects} redirect{plural} (the limit, --max-redirs "
                           f"{max_redirects}); this {ex.response.status if ex.response else ''} response was not "
                           "followed",
                           "raise --max-redirs N, or look at the hops (-v, --json): the server may loop"), None
    try:
        nxt, notes = next_request(base, ex)
    except NetlabError as err:
        return err, None
    sent, jar_notes = _with_jar(jar, nxt)
    if sent.data in seen:
        first = next((i for i, h in enumerate(chain) if h.request.data == sent.data), len(chain))
        return NetlabError("limit", f"redirect loop: the Location leads back to {sent.method} {_url(sent)} with the "
                           f"same request bytes as hop {first + 1}, so the same answer would follow",
                           "the server redirects in a circle; -v or --json show every hop"), None
    if cancel is not None and cancel.cancelled:
        return NetlabError("cancelled", "cancelled by the user before the next redirect"), None
    if end is not None and time.monotonic() >= end:
        return NetlabError("timeout", "the overall deadline (--max-time) passed while following redirects",
                           "raise --max-time"), None
    return None, (nxt, notes, sent, jar_notes)
