"""Credentials in requests: which headers carry them, and how exports and listings mask them.

Exports (curl, .http, scripts) hide the values of the headers below unless the user asks
for them (``--show-secrets``).  For Authorization and Proxy-Authorization the auth scheme
word stays visible ("Basic", "Bearer"), so the export still says what kind of credential
was sent; every other value becomes ``MASK`` whole (a cookie's names too).

The headers masked by default (``DEFAULT_HEADERS``; names are case-insensitive):

    Authorization, Proxy-Authorization   RFC 9110 credentials (Basic, Bearer, Digest...)
    Cookie, Set-Cookie                   session cookies, sent and set
    X-Api-Key, Api-Key, Apikey           API keys (API gateways, Azure OpenAI, many SaaS APIs)
    X-Goog-Api-Key                       Google APIs
    X-Auth-Token, X-Access-Token         bearer-like tokens (OpenStack Keystone, many others)
    X-Amz-Security-Token                 AWS temporary (STS) credentials
    X-Csrf-Token, X-Xsrf-Token           anti-CSRF tokens, tied to a session
    X-Vault-Token                        HashiCorp Vault
    Private-Token                        GitLab personal access tokens
    Ocp-Apim-Subscription-Key            Azure API Management

The settings file adds names (never removes one: a default is a credential everywhere)::

    [secrets]
    headers = ["X-My-Session", "X-Tenant-Key"]

``sensitive_names()`` is the set in effect: the defaults and the settings file's names
(the file is read again when its bytes change).

A password in a URL (``http://user:pass@host/``) is a secret too: ``mask_url`` shows it as
``user:****@host`` (RFC 3986 §3.2.1: what follows the first colon of the userinfo is not
to be shown), for history listings (CLI, ``--json``, the TUI) and exports.  Stored request
bytes keep what was sent, as they keep an Authorization value.
"""

from __future__ import annotations

import re
import threading

from netlab.engine.defaults import HEAD_END_PATTERN, TOKEN_PATTERN

__all__ = ["DEFAULT_HEADERS", "SENSITIVE", "MASK", "URL_MASK", "sensitive_names", "is_sensitive", "mask_value",
           "mask_headers", "mask_request_bytes", "mask_url", "url_has_password"]

# (name, what carries it): the documented list (README, Exports)
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Authorization", "RFC 9110 credentials: the scheme word stays visible"),
    ("Proxy-Authorization", "the same, for a proxy"),
    ("Cookie", "session cookies a client sends"),
    ("Set-Cookie", "cookies a server sets"),
    ("X-Api-Key", "API keys (API gateways, many SaaS APIs)"),
    ("Api-Key", "API keys (Azure OpenAI and others)"),
    ("Apikey", "API keys (Kong and others)"),
    ("X-Goog-Api-Key", "Google API keys"),
    ("X-Auth-Token", "tokens (OpenStack Keystone and many others)"),
    ("X-Access-Token", "access tokens"),
    ("X-Amz-Security-Token", "AWS temporary (STS) credentials"),
    ("X-Csrf-Token", "anti-CSRF tokens, tied to a session"),
    ("X-Xsrf-Token", "anti-CSRF tokens, tied to a session"),
    ("X-Vault-Token", "HashiCorp Vault tokens"),
    ("Private-Token", "GitLab personal access tokens"),
    ("Ocp-Apim-Subscription-Key", "Azure API Management keys"),
)
SENSITIVE = frozenset(name.lower() for name, _ in DEFAULT_HEADERS)
MASK = "********"
URL_MASK = "****"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)[ \t]+\S")
_TOKEN = re.compile(TOKEN_PATTERN)
_WITH_SCHEME = frozenset({"authorization", "proxy-authorization"})


# ------------------------------------------------------------------- the names in effect

_lock = threading.Lock()
_settings: list = [None, frozenset()]  # (path, the file's bytes), its [secrets] headers lowercased


def _configured() -> frozenset[str]:
    """The settings file's ``[secrets] headers``, lowercased; re-read when its bytes change.
    A file that cannot be read adds nothing (``netlab settings`` reports its problems)."""
    try:
        from netlab.settings import loads, settings_path
    except ImportError:  # pragma: no cover - the package is whole
        return frozenset()
    path = settings_path()
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        data = None
    with _lock:
        if _settings[0] != (path, data):
            names: frozenset[str] = frozenset()
            if data is not None:
                try:
                    extra = getattr(loads(data.decode("utf-8"), path).settings, "secret_headers", ())
                except (UnicodeDecodeError, ValueError):
                    extra = ()
                names = frozenset(n.strip().lower() for n in extra if _TOKEN.fullmatch(n.strip()))
            _settings[:] = [(path, data), names]
        return _settings[1]


def sensitive_names(extra=()) -> frozenset[str]:
    """Lowercased names of the headers whose values are masked: ``SENSITIVE``, the settings
    file's ``[secrets] headers`` and ``extra``."""
    more = frozenset(n.strip().lower() for n in extra)
    return SENSITIVE | _configured() | more


def is_sensitive(name: str, names=None) -> bool:
    """Whether ``name``'s value is a credential (``names``: the set to use, lowercased;
    default ``sensitive_names()``)."""
    return name.strip().lower() in (sensitive_names() if names is None else names)


# --------------------------------------------------------------------------- headers


def mask_value(name: str, value: str) -> str:
    """The value as an export shows it: the auth scheme kept, the secret replaced."""
    if name.strip().lower() in _WITH_SCHEME:
        m = _SCHEME.match(value.strip())
        if m:
            return f"{m.group(1)} {MASK}"
    return MASK


def mask_headers(headers, show_secrets: bool = False, names=None) -> list[tuple[str, str]]:
    """(name, value) pairs with credential values masked (unless ``show_secrets``).
    ``names``: the lowercased names to mask (default ``sensitive_names()``)."""
    if show_secrets:
        return [(n, v) for n, v in headers]
    names = sensitive_names() if names is None else names
    return [(n, mask_value(n, v) if n.strip().lower() in names else v) for n, v in headers]


_LINES: dict[frozenset, re.Pattern] = {}


def _line_pattern(names: frozenset) -> re.Pattern:
    """A credential header line and its obs-fold continuation lines (lines that start with
    a space or tab belong to the value: a server that accepts folding reads them as part
    of it), for any of ``names``."""
    pattern = _LINES.get(names)
    if pattern is None:
        alts = b"|".join(re.escape(n.encode("latin-1", "replace")) for n in sorted(names, key=len, reverse=True))
        pattern = re.compile(rb"(?im)^(" + alts + rb")([ \t]*:[ \t]*)([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")
        if len(_LINES) > 32:
            _LINES.clear()
        _LINES[names] = pattern
    return pattern


# A request line whose target is absolute-form with a userinfo: METHOD SP scheme://authority
_ABSOLUTE = re.compile(rb"\A(" + TOKEN_PATTERN.encode() + rb"[ \t]+[A-Za-z][A-Za-z0-9+.\-]*://)([^/?# \t\r\n]*)")


def mask_request_bytes(data: bytes, show_secrets: bool = False, names=None) -> bytes:
    """Raw request bytes with credential header values masked in the head only (the body
    is left as it was), and the password of an absolute-form request target
    (``GET http://user:pass@host/ HTTP/1.1``) shown as ``user:****``.  Line endings and
    everything else stay byte for byte."""
    if show_secrets:
        return data
    names = sensitive_names() if names is None else names
    m = re.search(HEAD_END_PATTERN, data)
    head, body = (data[:m.end()], data[m.end():]) if m else (data, b"")

    def repl(mt: re.Match) -> bytes:
        name = mt.group(1).decode("latin-1")
        value = " ".join(mt.group(3).decode("latin-1").split())  # folded lines joined, as a server reads them
        return mt.group(1) + mt.group(2) + mask_value(name, value).encode("latin-1")
    # Every line of the head, the first too: a request line never looks like "Cookie: ...",
    # and raw bytes that start with a header line (no request line) still hide it.
    if names:
        head = _line_pattern(frozenset(names)).sub(repl, head)
    target = _ABSOLUTE.match(head)
    if target is not None:
        authority = _mask_authority(target.group(2).decode("latin-1")).encode("latin-1")
        head = target.group(1) + authority + head[target.end():]
    return head + body


# ------------------------------------------------------------------------------- URLs


_URL = re.compile(r"\A(\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)?([^/?#]*)", re.S)


def _mask_authority(authority: str) -> str:
    userinfo, at, hostport = authority.rpartition("@")  # the last "@", as urllib reads it
    if not at:
        return authority
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return authority
    return f"{user}:{URL_MASK}@{hostport}"


def mask_url(url: str) -> str:
    """``url`` with the password of its userinfo shown as ``****``:
    ``http://user:pass@host/p`` -> ``http://user:****@host/p``.  A URL without a scheme
    (``user:pass@host/p``, read as http:// the way curl reads it) is masked the same way;
    a user name alone (``http://user@host/``) is kept; everything else is unchanged."""
    if not isinstance(url, str) or "@" not in url:
        return url
    m = _URL.match(url)
    assert m is not None  # every part of _URL is optional: it matches any string
    return url[:m.start(2)] + _mask_authority(m.group(2)) + url[m.end():]


def url_has_password(url: str) -> bool:
    """Whether ``mask_url`` hides something in ``url``."""
    return mask_url(url) != url
