"""Credentials in requests: which headers carry them, and how exports mask them.

Exports (curl, .http, scripts) hide the values of Authorization, Proxy-Authorization
and Cookie unless the user asks for them (``--show-secrets``).  The auth scheme word
stays visible ("Basic", "Bearer"), so the export still says what kind of credential
was sent; the credential itself becomes ``MASK``.
"""

from __future__ import annotations

import re

__all__ = ["SENSITIVE", "MASK", "is_sensitive", "mask_value", "mask_headers", "mask_request_bytes"]

SENSITIVE = frozenset({"authorization", "proxy-authorization", "cookie"})
MASK = "********"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)[ \t]+\S")


def is_sensitive(name: str) -> bool:
    return name.strip().lower() in SENSITIVE


def mask_value(name: str, value: str) -> str:
    """The value as an export shows it: the auth scheme kept, the secret replaced."""
    if name.strip().lower() in ("authorization", "proxy-authorization"):
        m = _SCHEME.match(value.strip())
        if m:
            return f"{m.group(1)} {MASK}"
    return MASK


def mask_headers(headers, show_secrets: bool = False) -> list[tuple[str, str]]:
    """(name, value) pairs with credential values masked (unless ``show_secrets``)."""
    if show_secrets:
        return [(n, v) for n, v in headers]
    return [(n, mask_value(n, v) if is_sensitive(n) else v) for n, v in headers]


# A credential header line and its obs-fold continuation lines (lines that start with a
# space or tab belong to the value: a server that accepts folding reads them as part of it).
_LINE = re.compile(rb"(?im)^(authorization|proxy-authorization|cookie)([ \t]*:[ \t]*)"
                   rb"([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")


def mask_request_bytes(data: bytes, show_secrets: bool = False) -> bytes:
    """Raw request bytes with credential header values masked in the head only (the
    body is left as it was).  Line endings and everything else stay byte for byte."""
    if show_secrets:
        return data
    m = re.search(rb"\r?\n\r?\n", data)
    head, body = (data[:m.end()], data[m.end():]) if m else (data, b"")

    def repl(mt: re.Match) -> bytes:
        name = mt.group(1).decode("latin-1")
        value = " ".join(mt.group(3).decode("latin-1").split())  # folded lines joined, as a server reads them
        return mt.group(1) + mt.group(2) + mask_value(name, value).encode("latin-1")
    # Every line of the head, the first too: a request line never looks like "Cookie: ...",
    # and raw bytes that start with a header line (no request line) still hide it.
    return _LINE.sub(repl, head) + body
