"""Masking of credentials (netlab/engine/secrets.py): which headers, how the values are
hidden, a password in a URL, the settings file's extra names, and that nothing else
changes; and that every place that shows a URL or exports a request uses it (issue 12,
points 12 and 13): `netlab history` and its --json, the TUI's history list, every export."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.engine.secrets import (
    DEFAULT_HEADERS,
    MASK,
    SENSITIVE,
    URL_MASK,
    is_sensitive,
    mask_headers,
    mask_request_bytes,
    mask_url,
    mask_value,
    sensitive_names,
    url_has_password,
)

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


@pytest.mark.parametrize("name", ["X-Authorization-Hint", "Cookie2", "Authorization-Info", "Host", "X-Cookie",
                                  "Proxy-Authenticate", "WWW-Authenticate", "X-Api-Key-Id", "Api-Keys", "X-Auth",
                                  "X-Request-Id", "Set-Cookie2"])
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
    assert {"authorization", "proxy-authorization", "cookie"} <= SENSITIVE


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
    data = (b"GET / HTTP/1.1\r\nCookie2: $Version=1\r\nAuthorization-Info: x\r\nX-Cookie: y\r\nSet-Cookie2: z\r\n"
            b"X-Api-Key-Id: 7\r\nApi-Keys: none\r\n\r\n")
    assert mask_request_bytes(data) == data


# --------------------------------------------------------------------------- property


_NAME = st.sampled_from(["Authorization", "authorization", "Proxy-Authorization", "COOKIE", "Cookie",
                         "Host", "X-Token", "Accept", "Cookie2", "Set-Cookie", "x-api-key", "X-Amz-Security-Token",
                         "X-Api-Key-Id"])
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
            shown = (scheme if name.lower() in ("authorization", "proxy-authorization") else "").encode()
            assert line == f"{name}{sep}".encode() + shown + MASK.encode()
        else:
            assert line == f"{name}{sep}{scheme}{value}".encode()


# --------------------------------------------------------------- the documented list


@pytest.mark.parametrize("name", [n for n, _ in DEFAULT_HEADERS])
def test_every_default_credential_header_is_masked(name):
    secret = "s3cr3t-" + name.lower()
    assert is_sensitive(name) and is_sensitive(name.upper()) and name.lower() in SENSITIVE
    [(n, v)] = mask_headers([(name, secret)])
    assert n == name and v == MASK
    data = f"GET / HTTP/1.1\r\nHost: x\r\n{name}: {secret}\r\n{name.upper()}:{secret}\r\n\r\n".encode()
    out = mask_request_bytes(data)
    assert secret.encode() not in out
    assert out == f"GET / HTTP/1.1\r\nHost: x\r\n{name}: {MASK}\r\n{name.upper()}:{MASK}\r\n\r\n".encode()


def test_the_list_is_documented():
    """The docstring of secrets.py and the README's export section name every header."""
    import netlab.engine.secrets as secrets_module

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, _ in DEFAULT_HEADERS:
        assert name in secrets_module.__doc__, name
        assert f"`{name}`" in readme, name
    assert "[secrets]" in readme and "headers = [" in readme


# ------------------------------------------------------------------- the settings file


def test_settings_file_adds_names(_private_settings):
    assert "x-tenant-key" not in sensitive_names()
    _private_settings.write_text('[secrets]\nheaders = ["X-Tenant-Key", "x-session-ID"]\n')
    assert {"x-tenant-key", "x-session-id"} <= sensitive_names()
    assert SENSITIVE <= sensitive_names()  # the defaults stay
    headers = [("X-Tenant-Key", "tenant-secret"), ("X-Session-Id", "sess-secret"), ("X-Other", "kept")]
    assert mask_headers(headers) == [("X-Tenant-Key", MASK), ("X-Session-Id", MASK), ("X-Other", "kept")]
    data = b"GET / HTTP/1.1\r\nx-tenant-key: tenant-secret\r\nX-Other: kept\r\n\r\n"
    assert mask_request_bytes(data) == b"GET / HTTP/1.1\r\nx-tenant-key: " + MASK.encode() + b"\r\nX-Other: kept\r\n\r\n"
    # the file is read again when it changes; an empty list unmasks nothing of the defaults
    _private_settings.write_text('[secrets]\nheaders = []\n')
    assert "x-tenant-key" not in sensitive_names() and sensitive_names() == SENSITIVE
    assert mask_headers([("X-Tenant-Key", "v"), ("X-Api-Key", "k")]) == [("X-Tenant-Key", "v"), ("X-Api-Key", MASK)]


def test_settings_file_bad_names_are_reported_and_left_out(_private_settings, run_cli):
    _private_settings.write_text('[secrets]\nheaders = ["X-Good", "not a name", 7]\n')
    assert "x-good" in sensitive_names() and "not a name" not in sensitive_names()
    code, out, err = run_cli("settings")
    assert code == 1
    assert "secrets.headers: 'not a name' is not a header name" in out + err
    assert "secrets.headers: a number (7) is not a header name" in out + err


def test_cli_export_masks_the_default_list_and_the_settings_names(lab_server, run_cli, _private_settings):
    """A real exchange with every kind of credential, exported by `netlab history export`
    in every format: none of the secrets is in the output, unless --show-secrets."""
    from netlab.engine.export import FORMATS

    _private_settings.write_text('[secrets]\nheaders = ["X-Tenant-Key"]\n')
    secrets = {"X-Api-Key": "k-api-1", "Api-Key": "k-api-2", "X-Auth-Token": "k-auth-3",
               "X-Amz-Security-Token": "k-amz-4", "X-Goog-Api-Key": "k-goog-5", "Private-Token": "k-glpat-6",
               "X-Tenant-Key": "k-tenant-7", "Authorization": "Bearer k-bearer-8", "Cookie": "sid=k-cookie-9"}
    args = [a for name, value in secrets.items() for a in ("-H", f"{name}: {value}")]
    code, out, err = run_cli("send", f"http://bob:k-url-10@127.0.0.1:{lab_server.port}/echo", *args)
    assert code == 0, err
    for fmt in FORMATS:
        code, out, err = run_cli("history", "export", "last", "--as", fmt)
        assert code == 0, err
        for value in [*secrets.values(), "k-url-10"]:
            assert value.split()[-1] not in out, (fmt, value)
        assert "X-Tenant-Key" in out and "X-Amz-Security-Token" in out and MASK in out, fmt
        assert "masked the value of " in err and "X-Tenant-Key" in err, fmt
        code, out, err = run_cli("history", "export", "last", "--as", fmt, "--show-secrets")
        assert code == 0 and all(v in out for v in secrets.values()), fmt


def test_set_cookie_in_a_request_is_masked_in_every_export():
    """Set-Cookie is a response header, but raw bytes can carry it anywhere: .http, curl
    and the scripts mask it as they mask Cookie."""
    from netlab.engine.export import FORMATS, export_request
    from netlab.engine.request import Request
    from netlab.engine.session import Options

    r = Request.raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nSet-Cookie: sid=k-set-1; HttpOnly\r\n\r\n",
                    "http://127.0.0.1:9/")
    for fmt in FORMATS:
        e = export_request(r, Options(), fmt)
        assert b"k-set-1" not in e.data and b"Set-Cookie" in e.data, fmt
        assert b"k-set-1" in export_request(r, Options(), fmt, show_secrets=True).data, fmt


# ------------------------------------------------------------------------ URLs


@pytest.mark.parametrize("url,shown", [
    ("http://user:pass@host/", f"http://user:{URL_MASK}@host/"),
    ("https://bob:hunter2@api.test:8443/v1?q=1#f", f"https://bob:{URL_MASK}@api.test:8443/v1?q=1#f"),
    ("http://user:p@ss@host/", f"http://user:{URL_MASK}@host/"),  # the last @ ends the userinfo, as urllib reads it
    ("http://user:a:b@host/", f"http://user:{URL_MASK}@host/"),  # all after the first colon (RFC 3986 3.2.1)
    ("user:pass@host/path", f"user:{URL_MASK}@host/path"),  # no scheme: read as http://, as curl does
    ("HTTP://A:B@[::1]:8080/", f"HTTP://A:{URL_MASK}@[::1]:8080/"),
    ("http://user:pass@host", f"http://user:{URL_MASK}@host"),
    ("http://user@host/", "http://user@host/"),  # a user name alone is not a password
    ("http://user:@host/", "http://user:@host/"),  # nothing to hide
    ("http://host/a@b?c=d@e", "http://host/a@b?c=d@e"),  # an @ after the host is not a userinfo
    ("http://host/?next=http://u:p@other/", "http://host/?next=http://u:p@other/"),
    ("http://127.0.0.1:8080/ip", "http://127.0.0.1:8080/ip"),
    ("", ""),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown
    assert url_has_password(url) == (url != shown)


_PART = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#@:"),
                min_size=1, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(scheme=st.sampled_from(["http://", "https://", "HTTP://", ""]), user=_PART, password=_PART,
       host=st.sampled_from(["h", "127.0.0.1", "[::1]:80", "lab.test:8080"]),
       rest=st.sampled_from(["", "/", "/p?q=1", "/a@b", "?x=@y", "#frag"]))
def test_mask_url_hides_exactly_the_password(scheme, user, password, host, rest):
    url = f"{scheme}{user}:{password}@{host}{rest}"
    assert mask_url(url) == f"{scheme}{user}:{URL_MASK}@{host}{rest}"
    assert mask_url(mask_url(url)) == mask_url(url)


def test_absolute_form_target_in_request_bytes():
    data = b"GET http://bob:hunter2@127.0.0.1:9/p@q HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\nhttp://bob:body@x/"
    assert mask_request_bytes(data) == (b"GET http://bob:" + URL_MASK.encode() + b"@127.0.0.1:9/p@q HTTP/1.1\r\n"
                                        b"Host: 127.0.0.1:9\r\n\r\nhttp://bob:body@x/")
    assert mask_request_bytes(data, show_secrets=True) is data
    origin_form = b"GET /a:b@c HTTP/1.1\r\nHost: x\r\n\r\n"
    assert mask_request_bytes(origin_form) == origin_form


def test_every_export_masks_a_url_password():
    from netlab.engine.export import FORMATS, export_request
    from netlab.engine.request import Request
    from netlab.engine.session import Options

    absolute = Request.raw(b"GET http://bob:hunter2@127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
                           "http://bob:hunter2@127.0.0.1:9/x")
    plain = Request.from_url("http://bob:hunter2@127.0.0.1:9/x")  # the password is in the URL only
    for fmt in FORMATS:
        e = export_request(absolute, Options(), fmt)
        assert "hunter2" not in e.text and f"bob:{URL_MASK}@127.0.0.1:9" in e.text, fmt
        assert any("the password in the URL" in n for n in e.notes), fmt
        assert "hunter2" in export_request(absolute, Options(), fmt, show_secrets=True).text, fmt
        e = export_request(plain, Options(), fmt)
        assert "hunter2" not in e.text and not any("URL" in n for n in e.notes), fmt  # nothing of it was sent


def test_history_listing_masks_a_url_password(lab_server, run_cli):
    """`netlab history` and `netlab history --json` show user:****@host; the stored
    exchange keeps the URL as given (replay needs it, as it needs an Authorization)."""
    from netlab.engine.history import History

    url = f"http://bob:hunter2@127.0.0.1:{lab_server.port}/ip"
    code, out, err = run_cli("send", url)
    assert code == 0, err
    code, out, err = run_cli("history")
    assert code == 0 and "hunter2" not in out
    assert f"http://bob:{URL_MASK}@127.0.0.1:{lab_server.port}/ip" in out
    code, out, err = run_cli("history", "--json")
    assert code == 0 and "hunter2" not in out
    import json

    [entry] = json.loads(out)
    assert entry["url"] == f"http://bob:{URL_MASK}@127.0.0.1:{lab_server.port}/ip"
    with History() as h:
        assert h.get(entry["id"]).request.url == url


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_tui_history_list_masks_a_url_password(lab_server, tmp_path):
    """The TUI's history list (F6) after a real send: the URL column shows user:****@host."""
    import time

    from netlab.ui.app import NetlabApp
    from netlab.ui.screens.history import HistoryScreen, HistoryTable

    url = f"http://bob:hunter2@127.0.0.1:{lab_server.port}/ip"
    app = NetlabApp(url, lab=False, live_connections=False, history_path=str(tmp_path / "h.sqlite3"))
    app.animation_level = "none"

    async def until(condition, what):
        end = time.monotonic() + 30
        while not condition():
            assert time.monotonic() < end, f"gave up waiting for {what}"
            await pilot.pause(0.02)

    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+j")
        await until(lambda: app.history_entries, "the stored exchange")
        await pilot.press("f6")
        await until(lambda: isinstance(app.screen, HistoryScreen) and app.screen.query_one(HistoryTable).row_count,
                    "the history list")
        table = app.screen.query_one(HistoryTable)
        cells = [str(c) for c in table.get_row_at(0)]
        assert f"http://bob:{URL_MASK}@127.0.0.1:{lab_server.port}/ip" in cells
        assert not any("hunter2" in c for c in cells)
