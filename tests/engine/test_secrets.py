"""Masking of credentials for exports (netlab/engine/secrets.py): which headers, how the
values are hidden, and that nothing else changes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.engine.secrets import MASK, SENSITIVE, is_sensitive, mask_headers, mask_request_bytes, mask_value

SECRETS = ("dXNlcjpodW50ZXIy", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "sid=31d4d96e407aad42; theme=dark", "Zm9vOmJhcg==")


# ----------------------------------------------------------------------------- headers


@pytest.mark.parametrize("name,value,shown", [
    ("Authorization", "Basic dXNlcjpodW50ZXIy", f"Basic {MASK}"),
    ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", f"Bearer {MASK}"),
    ("Authorization", 'Digest username="bob", response="6629fae4"', f"Digest {MASK}"),
    ("Authorization", "dXNlcjpodW50ZXIy", MASK),  # no scheme word: all of it is the secret
    ("Authorization", "  Bearer\t tok  ", f"Bearer {MASK}"),
    ("Proxy-Authorization", "Basic Zm9vOmJhcg==", f"Basic {MASK}"),
    ("Proxy-Authorization", "Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag", f"Negotiate {MASK}"),
    ("Cookie", "sid=31d4d96e407aad42; theme=dark", MASK),  # cookie names are not shown either
    ("Cookie", "Bearer x", MASK),  # a scheme word is only kept for the Authorization headers
])
def test_mask_value(name, value, shown):
    assert mask_value(name, value) == shown


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION", "aUtHoRiZaTiOn",
                                  "Proxy-Authorization", "proxy-authorization", "PROXY-AUTHORIZATION",
                                  "Cookie", "cookie", "COOKIE", " Cookie ", "Authorization\t"])
def test_sensitive_names_are_case_insensitive(name):
    assert is_sensitive(name)
    [(n, v)] = mask_headers([(name, "Bearer s3cret-token")])
    assert n == name and "s3cret-token" not in v and MASK in v


@pytest.mark.parametrize("name", ["X-Authorization-Hint", "Set-Cookie", "Cookie2", "Authorization-Info", "Host",
                                  "X-Cookie", "Proxy-Authenticate", "WWW-Authenticate"])
def test_other_headers_are_untouched(name):
    assert not is_sensitive(name)
    assert mask_headers([(name, "Bearer visible")]) == [(name, "Bearer visible")]


def test_mask_headers_keeps_order_names_and_other_values():
    headers = [("Host", "api.test"), ("Authorization", "Bearer tok-1"), ("Accept", "*/*"),
               ("cookie", "a=1"), ("X-Trace", "abc"), ("Proxy-Authorization", "Basic Zm9v"), ("Cookie", "b=2")]
    masked = mask_headers(headers)
    assert masked == [("Host", "api.test"), ("Authorization", f"Bearer {MASK}"), ("Accept", "*/*"),
                      ("cookie", MASK), ("X-Trace", "abc"), ("Proxy-Authorization", f"Basic {MASK}"),
                      ("Cookie", MASK)]
    assert headers[1] == ("Authorization", "Bearer tok-1")  # the input list is not changed
    assert SENSITIVE == {"authorization", "proxy-authorization", "cookie"}


def test_show_secrets_returns_the_input():
    headers = [("Authorization", "Bearer tok-1"), ("Cookie", "a=1"), ("Host", "x")]
    assert mask_headers(headers, show_secrets=True) == headers
    assert mask_headers(iter(headers), show_secrets=True) == headers  # any iterable of pairs
    data = b"GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\nCookie: a=1\r\n\r\nbody"
    assert mask_request_bytes(data, show_secrets=True) is data


# ------------------------------------------------------------------------- request bytes


def test_request_bytes_crlf():
    data = (b"POST /login HTTP/1.1\r\nHost: api.test\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\n"
            b"Cookie: sid=31d4d96e407aad42; theme=dark\r\nProxy-Authorization: Bearer Zm9vOmJhcg==\r\n"
            b"Content-Length: 11\r\n\r\nhello=world")
    assert mask_request_bytes(data) == (
        b"POST /login HTTP/1.1\r\nHost: api.test\r\nAuthorization: Basic ********\r\n"
        b"Cookie: ********\r\nProxy-Authorization: Bearer ********\r\n"
        b"Content-Length: 11\r\n\r\nhello=world")


def test_request_bytes_bare_lf_and_odd_spacing_and_case():
    data = (b"GET / HTTP/1.1\nhost: x\nauthorization:Bearer tok\nPROXY-AUTHORIZATION:   Basic Zm9v  \n"
            b"COOKIE :a=1\n\n")
    assert mask_request_bytes(data) == (
        b"GET / HTTP/1.1\nhost: x\nauthorization:Bearer ********\nPROXY-AUTHORIZATION:   Basic ********\n"
        b"COOKIE :********\n\n")


def test_request_bytes_mixed_line_endings_keep_every_other_byte():
    data = b"GET /a?b=c HTTP/1.1\r\nX-A: 1\nCookie: k=v\r\nX-B:  two  \n\r\n"
    out = mask_request_bytes(data)
    assert out == b"GET /a?b=c HTTP/1.1\r\nX-A: 1\nCookie: ********\r\nX-B:  two  \n\r\n"


def test_body_is_untouched():
    body = b"Authorization: Bearer in-the-body\r\nCookie: also-body\r\n\r\nmore"
    data = b"POST / HTTP/1.1\r\nCookie: head-secret\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    out = mask_request_bytes(data)
    assert out.endswith(b"\r\n\r\n" + body) and b"head-secret" not in out
    assert out.count(b"in-the-body") == 1 and out.count(b"also-body") == 1
    bare = b"POST / HTTP/1.1\nCookie: s\n\nCookie: body-secret"
    assert mask_request_bytes(bare) == b"POST / HTTP/1.1\nCookie: ********\n\nCookie: body-secret"


def test_folded_value_is_masked_whole():
    """obs-fold: the continuation lines are part of the value (a server that accepts folding
    reads them so); none of the secret may stay behind."""
    data = (b"GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpo\r\n \t dW50ZXIy\r\nCookie: a=1;\r\n b=2\r\n"
            b"X-After: visible\r\n\r\n")
    out = mask_request_bytes(data)
    assert out == b"GET / HTTP/1.1\r\nAuthorization: Basic ********\r\nCookie: ********\r\nX-After: visible\r\n\r\n"


def test_head_without_request_line_or_blank_line():
    assert mask_request_bytes(b"Authorization: Bearer tok\r\n\r\n") == b"Authorization: Bearer ********\r\n\r\n"
    # an unfinished head (no blank line): all of it is head
    assert mask_request_bytes(b"GET / HTTP/1.1\r\nCookie: a=1") == b"GET / HTTP/1.1\r\nCookie: ********"
    assert mask_request_bytes(b"") == b""


def test_names_that_only_start_like_a_credential_header_are_kept():
    data = b"GET / HTTP/1.1\r\nCookie2: $Version=1\r\nAuthorization-Info: x\r\nX-Cookie: y\r\nSet-Cookie: z\r\n\r\n"
    assert mask_request_bytes(data) == data


# --------------------------------------------------------------------------- property


_NAME = st.sampled_from(["Authorization", "authorization", "Proxy-Authorization", "COOKIE", "Cookie",
                         "Host", "X-Token", "Accept", "Cookie2", "Set-Cookie"])
_VALUE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.tuples(_NAME, st.sampled_from(["Bearer ", "Basic ", ""]), _VALUE,
                                st.sampled_from([": ", ":", " : "])), max_size=6),
       eol=st.sampled_from([b"\r\n", b"\n"]), body=st.binary(max_size=40))
def test_no_credential_survives_and_nothing_else_changes(lines, eol, body):
    head = [b"GET /p HTTP/1.1"]
    for name, scheme, value, sep in lines:
        head.append(f"{name}{sep}{scheme}{value}".encode())
    data = eol.join(head) + eol + eol + body
    out = mask_request_bytes(data)
    assert out.endswith(eol + eol + body)
    out_head = out[: len(out) - len(body)]
    out_lines = out_head.split(eol)[:-2]
    assert len(out_lines) == len(head)
    for (name, scheme, value, sep), line in zip(lines, out_lines[1:]):
        if is_sensitive(name):
            shown = (scheme if name.lower() != "cookie" and scheme else "").encode()
            assert line == f"{name}{sep}".encode() + shown + MASK.encode()
        else:
            assert line == f"{name}{sep}{scheme}{value}".encode()
