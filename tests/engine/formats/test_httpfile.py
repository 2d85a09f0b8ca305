""".http files: parsing (REST Client's rules), errors that name the line, writing, and the
round trip parse(write(r)) == r for every request the composer can hold."""

from __future__ import annotations

import base64
import os
import re
import stat
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.engine import Engine, NetlabError, Options, Request
from netlab.engine.formats.httpfile import (
    EntryOptions,
    HttpFileError,
    append_entry,
    decode_raw,
    encode_raw,
    is_http_path,
    parse_file,
    parse_text,
    write_entry,
)
from netlab.ui import requesttext as rt


def one(text: str, **kw) -> Request:
    entries = parse_text(text, **kw).entries
    assert len(entries) == 1, entries
    return entries[0].request


def line_of(exc: pytest.ExceptionInfo) -> int | None:
    return exc.value.line


# ----------------------------------------------------------------------- parsing


def test_request_line_defaults_and_host_added():
    r = one("http://127.0.0.1:8080/ip\n")
    assert r.data == b"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
    assert (r.scheme, r.host, r.port, r.method) == ("http", "127.0.0.1", 8080, "GET")


def test_version_method_headers_body_and_content_length_added_last():
    r = one("post https://example.test/echo?a=1 HTTP/1.0\nX-A: 1\nContent-Type: text/plain\n\nline1\nline2\n\n\n")
    assert r.data == (b"POST /echo?a=1 HTTP/1.0\r\nHost: example.test\r\nX-A: 1\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: 11\r\n\r\nline1\nline2")
    assert (r.scheme, r.port) == ("https", 443)


def test_headers_are_sent_as_written():
    r = one("GET http://h/\nHost: other:81\nX-Spaced:   a  b\nX-Tight:v\n")
    assert r.data == b"GET / HTTP/1.1\r\nHost: other:81\r\nX-Spaced:   a  b\r\nX-Tight:v\r\n\r\n"
    assert r.host == "h" and r.port == 80  # the URL says where it goes; the Host header what it says


def test_post_without_body_gets_content_length_zero_and_custom_methods_pass():
    assert one("POST http://h/\n").data.endswith(b"Content-Length: 0\r\n\r\n")
    assert one("PURGE http://h/x\n").data.startswith(b"PURGE /x HTTP/1.1\r\n")
    assert one("M-SEARCH http://h/\n").method == "M-SEARCH"


def test_separators_names_and_comments():
    text = """# a comment before everything
// another
### first one
GET http://h/1

###
# @name second
// @note
POST http://h/2
Content-Type: application/json
# comment between headers is dropped (REST Client drops every comment line)

{"a": 1,
// dropped in the body too
"b": 2}

#### third
GET http://h/3
"""
    f = parse_text(text, "x.http")
    assert [e.name for e in f] == ["first one", "second", "third"]
    assert [e.line for e in f] == [4, 9, 18]
    assert f.entries[1].request.body == b'{"a": 1,\n"b": 2}'
    assert f.find("SECOND").name == "second" and f.find("3").name == "third"
    with pytest.raises(HttpFileError, match=r"x\.http: no request named 'nope'; the requests are: 1\. first one"):
        f.find("nope")


def test_name_comment_wins_over_separator_text():
    f = parse_text("### shown\n# @name real\nGET http://h/\n")
    assert f.entries[0].name == "real"


def test_query_continuation_lines():
    r = one("GET http://h/search\n    ?q=netlab\n    &page=2\nAccept: */*\n")
    assert r.data.startswith(b"GET /search?q=netlab&page=2 HTTP/1.1\r\n")


def test_url_characters_are_percent_encoded_like_rest_client():
    r = one("GET http://h/a b/é?q=x y&p=%41\n")
    assert r.target == "/a%20b/%C3%A9?q=x%20y&p=%41"


def test_relative_url_takes_the_host_header():
    r = one("GET /x\nHost: example.test:8443\n")
    assert (r.scheme, r.host, r.port, r.target) == ("https", "example.test", 8443, "/x")
    with pytest.raises(HttpFileError, match="no host and there is no Host header") as exc:
        parse_text("\n\nGET /x\nAccept: */*\n", "r.http")
    assert line_of(exc) == 3


def test_form_and_multipart_bodies_join_like_rest_client():
    form = one("POST http://h/\nContent-Type: application/x-www-form-urlencoded\n\na=1\n&b=2\nc=3\n")
    assert form.body == b"a=1&b=2\nc=3"
    multi = one("POST http://h/\nContent-Type: multipart/form-data; boundary=XX\n\n--XX\n\nv\n--XX--\n")
    assert multi.body == b"--XX\r\n\r\nv\r\n--XX--"


def test_basic_auth_is_encoded_like_rest_client():
    a = one("GET http://h/\nAuthorization: Basic user:pa ss\n")
    b = one("GET http://h/\nAuthorization: Basic user pass\n")
    c = one("GET http://h/\nAuthorization: Basic dXNlcjpwYXNz\n")
    assert a.header("authorization") == "Basic " + base64.b64encode(b"user:pa ss").decode()
    assert b.header("authorization") == "Basic dXNlcjpwYXNz"
    assert c.header("authorization") == "Basic dXNlcjpwYXNz"


# ---------------------------------------------------------------------- variables


def test_file_variables_reference_each_other_and_unescape():
    text = """@scheme = http
@host = 127.0.0.1:{{port}}
@base = {{scheme}}://{{host}}
@port = 8080
@tab = a\\tb\\\\c

GET {{base}}/x?v={{ tab }}
X-Tab: {{tab}}

{{host}}
"""
    f = parse_text(text)
    r = f.entries[0].request
    assert r.port == 8080
    assert r.header("x-tab") == "a\tb\\c"
    assert r.body == b"127.0.0.1:8080"
    assert f.variables["base"] == "http://127.0.0.1:8080"


def test_undefined_variable_names_the_line():
    with pytest.raises(HttpFileError) as exc:
        parse_text("@a = 1\n\nGET http://h/\nX: {{a}}\nY: {{missing}}\n", "v.http")
    assert line_of(exc) == 5
    assert "v.http:5: undefined variable {{missing}}" in str(exc.value)
    assert "@missing = value" in exc.value.hint


def test_variables_in_a_body_line_and_values_name_their_line():
    with pytest.raises(HttpFileError) as exc:
        parse_text("@a = {{b}}\nGET http://h/\n")
    assert line_of(exc) == 1
    with pytest.raises(HttpFileError, match="refers to itself: a -> b -> a"):
        parse_text("@a = {{b}}\n@b = {{a}}\nGET http://h/{{a}}\n")


def test_duplicate_variable_is_an_error_naming_both_lines():
    with pytest.raises(HttpFileError, match="defined twice \\(first on line 1\\)") as exc:
        parse_text("@a = 1\n###\n@a = 2\nGET http://h/\n")
    assert line_of(exc) == 3


def test_given_variables_and_system_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLAB_TEST_TOKEN", "s3cret")
    (tmp_path / ".env").write_text("API_KEY='k-123'\n")
    path = tmp_path / "a.http"
    path.write_text("GET http://h/{{id}}\nX-Guid: {{$guid}}\nX-Rand: {{$randomInt 5 7}}\n"
                    "X-Ts: {{$timestamp -1 d}}\nX-Env: {{$processEnv NETLAB_TEST_TOKEN}}\n"
                    "X-Dot: {{$dotenv API_KEY}}\nX-Date: {{$datetime iso8601}}\n")
    r = parse_file(str(path), variables={"id": "42"}).entries[0].request
    assert r.target == "/42"
    uuid.UUID(r.header("x-guid"))
    assert r.header("x-rand") in ("5", "6")
    assert r.header("x-ts").isdigit()
    assert r.header("x-env") == "s3cret" and r.header("x-dot") == "k-123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r.header("x-date"))
    with pytest.raises(HttpFileError, match="not supported by netlab") as exc:
        parse_text("GET http://h/\n\n{{$aadToken}}\n")
    assert line_of(exc) == 3
    with pytest.raises(HttpFileError, match="request variables"):
        parse_text("GET http://h/{{login.response.body.$.id}}\n")


# ------------------------------------------------------------------- body files


def test_body_from_a_file_relative_to_the_http_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "payload.bin").write_bytes(b"\x00\x01binary\r\n")
    (tmp_path / "tmpl.json").write_text('{"id": "{{id}}"}')
    path = tmp_path / "req.http"
    path.write_text("@id = 7\n\nPOST http://h/\nContent-Type: application/octet-stream\n\n< ./sub/payload.bin\n"
                    "\n###\nPOST http://h/\n\n<@ tmpl.json\n")
    a, b = parse_file(str(path)).entries
    assert a.request.body == b"\x00\x01binary\r\n"
    assert a.request.header("content-length") == "10"
    assert b.request.body == b'{"id": "7"}'


def test_missing_body_file_names_the_line(tmp_path):
    path = tmp_path / "req.http"
    path.write_text("POST http://h/\n\n< ./nope.bin\n")
    with pytest.raises(HttpFileError, match=r"req\.http:3: cannot read the body file .*nope\.bin"):
        parse_file(str(path))


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("text, line, message", [
    ("\nGET\n", 2, "no URL after the method 'GET'"),
    ("GET http://h/ HTTP/2\n", 1, "unsupported HTTP version 'HTTP/2'"),
    ("GET http://h/\nX-Good: 1\nnot a header\n\nbody\n", 3, "not a header line: 'not a header'"),
    ("GET http://h/\nBad Name: 1\n", 2, "not a header line"),
    # a variable ending in a line break cannot end a header name (the whole name must be a token)
    ("@v = a\\n\n\nGET http://h/\nX{{v}}: b\n", 4, "not a header line"),
    ("GET ftp://h/\n", 1, "unsupported scheme 'ftp'"),
    ("GET http://h:99999/\n", 1, "bad URL"),
    ("# @resolve nonsense\nGET http://h/\n", 1, "# @resolve: --resolve 'nonsense': expected HOST:PORT:ADDR"),
    ("# @timeout -1\nGET http://h/\n", 1, "not a positive number"),
    ("# @netlab-raw http://h\n#| GET / HTTP/1.1\\r\\n\nGET http://h/\n", 3, "holds only '#|' lines"),
])
def test_bad_input_names_the_file_and_line(text, line, message):
    with pytest.raises(HttpFileError) as exc:
        parse_text(text, "bad.http")
    assert exc.value.line == line
    assert exc.value.phase == "usage"
    assert message in exc.value.message
    assert exc.value.message.startswith(f"bad.http:{line}: ")


def test_file_errors(tmp_path):
    with pytest.raises(HttpFileError, match="cannot read the file"):
        parse_file(str(tmp_path / "missing.http"))
    p = tmp_path / "latin.http"
    p.write_bytes(b"GET http://h/\nX: caf\xe9\n")
    with pytest.raises(HttpFileError, match=r"latin\.http:2: the file is not UTF-8 text \(byte 0xe9\)"):
        parse_file(str(p))


def test_entry_settings_become_options():
    f = parse_text("# @insecure\n# @resolve lab.test:443:127.0.0.1\n# @timeout 2.5\n# @unix-socket /tmp/s.sock\n"
                   "# @dns-server 127.0.0.1:5353\n# @no-redirect\nGET https://lab.test/\n")
    e = f.entries[0]
    o = e.options_for(Options(timeout=9))
    assert o.insecure and o.timeout == 2.5 and o.unix_socket == "/tmp/s.sock"
    assert o.resolve[0].host == "lab.test" and o.resolve[0].addresses == ("127.0.0.1",)
    assert o.dns_server == ("127.0.0.1", 5353)
    assert EntryOptions.from_options(o).lines() == [
        "# @insecure", "# @resolve lab.test:443:127.0.0.1", "# @unix-socket /tmp/s.sock",
        "# @dns-server 127.0.0.1:5353", "# @timeout 2.5"]


def test_timeout_units_like_jetbrains():
    assert [parse_text(f"# @timeout {t}\nGET http://h/\n").entries[0].options.timeout
            for t in ("3", "2.5", "500 ms", "2 m", "4s")] == [3, 2.5, 0.5, 120, 4]


def test_is_http_path(tmp_path):
    rest = tmp_path / "x.rest"
    rest.write_text("GET http://h/\n")
    assert is_http_path("a.http") and is_http_path("dir/A.HTTP") and is_http_path(str(rest))
    assert not is_http_path("http://h/a.http") and not is_http_path(str(tmp_path / "nope.rest"))
    assert not is_http_path("127.0.0.1:8080/ip") and not is_http_path(None)


# ----------------------------------------------------------------------- writing


def test_the_classic_request_is_written_as_plain_rest_client_text():
    r = Request.raw(b"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n",
                    "http://127.0.0.1:8080/ip")
    assert write_entry(r, "classic") == ("### classic\nGET http://127.0.0.1:8080/ip\nHost: 127.0.0.1:8080\n"
                                         "Connection: close\n")
    j = Request.raw(b'POST /echo HTTP/1.0\r\nHost: h\r\nContent-Length: 8\r\n\r\n{"a": 1}', "https://h/")
    text = write_entry(j, None, Options(insecure=True, timeout=3))
    assert text == ("###\n# @insecure\n# @timeout 3\nPOST https://h/echo HTTP/1.0\nHost: h\nContent-Length: 8\n"
                    '\n{"a": 1}\n')
    e = parse_text(text).entries[0]
    assert e.request.data == j.data and e.options.insecure and e.options.timeout == 3


@pytest.mark.parametrize("data", [
    b"GET / HTTP/1.1\nHost: h\n\n",  # bare LF
    b"GET / HTTP/1.1\r\n\r\n",  # no Host
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabc\n",  # body ends with a newline
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n# comment",  # body line looks like a comment
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n{{x}}\r\n##",  # variables, CR
    b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",  # absolute-form target
    b"GET / HTTP/1.1\r\nHost: h\r\nX: \xff\r\n\r\n",  # not UTF-8
    b"GET / HTTP/1.1\r\nHost: h\r\nX: trailing \r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
    b"",
])
def test_what_text_cannot_carry_is_written_raw_and_reads_back(data):
    r = Request.raw(data, "http://h:81/")
    text = write_entry(r, "odd")
    assert "# @netlab-raw http://h:81" in text
    assert all(line.startswith("#") for line in text.splitlines())  # other tools skip the entry
    e = parse_text(text).entries[0]
    assert e.request.data == data and e.name == "odd" and (e.request.host, e.request.port) == ("h", 81)


def test_name_must_be_one_line():
    with pytest.raises(NetlabError, match="one line"):
        write_entry(Request.from_url("http://h/"), "a\nb")


def test_append_entry_creates_0600_appends_with_separators_and_keeps_crlf(tmp_path):
    path = tmp_path / "saved.http"
    a = Request.raw(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/")
    b = Request.raw(b"GET /b HTTP/1.1\nHost: h\n\n", "http://h/")
    assert append_entry(str(path), a, "a") == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    line = append_entry(str(path), b, "b")
    text = path.read_text()
    assert text.splitlines()[line - 1] == "### b"
    f = parse_file(str(path))
    assert [(e.name, e.request.data) for e in f] == [("a", a.data), ("b", b.data)]
    crlf = tmp_path / "crlf.http"
    crlf.write_bytes(b"@v = 1\r\nGET http://h/{{v}}")
    os.chmod(crlf, 0o640)
    append_entry(str(crlf), a, "a")
    raw = crlf.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert stat.S_IMODE(os.stat(crlf).st_mode) == 0o640
    assert [e.request.target for e in parse_file(str(crlf))] == ["/1", "/a"]


# -------------------------------------------------------------- property tests

_token = st.text(st.sampled_from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                 min_size=1, max_size=12)
_url = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{'' if port is None else f':{port}'}{path}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["127.0.0.1", "localhost", "lab.test", "[::1]"]),
    st.one_of(st.none(), st.integers(1, 65535)),
    st.one_of(st.just("/"), st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(
        lambda s: "/" + s.replace("#", "").replace("?", "").replace("\\", "/").strip())),
)
_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30)
_header = st.one_of(st.builds(lambda n, v: f"{n}: {v}", _token, _line), _line)


@st.composite
def composer_requests(draw) -> Request:
    """Whatever the composer's fields view can hold: a method, a URL, header lines, a body
    (all text; the composer builds the bytes with requesttext.build_request)."""
    url = draw(_url)
    method = draw(st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "get", "PURGE"]), _token))
    headers = draw(st.lists(_header, max_size=6))
    if draw(st.booleans()):
        headers.insert(0, f"Host: {rt.host_header(url)}")
    body = draw(st.one_of(st.just(""), st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
                          st.sampled_from(['{"a": 1}', "a=1&b=2", "line1\nline2", "# not a comment?\n"])))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", ""]))
    data = rt.build_request(rt.Fields(method, url, "\n".join(headers), body, version))
    return Request.raw(data, url)


def _same(a: Request, b: Request) -> None:
    assert b.data == a.data
    assert (b.scheme, b.host, b.port) == (a.scheme, a.host, a.port)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(composer_requests(), st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                                                          max_size=15)))
def test_round_trip_every_composer_request(request, name):
    name = name.strip() if name else None
    e = parse_text(write_entry(request, name or None)).entries[0]
    _same(request, e.request)
    assert e.name == (name or None)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["http://h/", "https://[::1]:8443/", "http://127.0.0.1:8080/x"]))
def test_round_trip_raw_bytes(data, url):
    r = Request.raw(data, url)
    _same(r, parse_text(write_entry(r)).entries[0].request)


def test_plain_requests_are_written_as_plain_text():
    """The common composer requests do not fall back to the raw form."""
    for fields in [rt.Fields("GET", "http://127.0.0.1:8080/ip", "Host: 127.0.0.1:8080\nConnection: close", ""),
                   rt.Fields("POST", "https://lab.test/api?x=1", "Host: lab.test\nContent-Type: application/json\n"
                             "Content-Length: 11", '{"a": "é"}')]:
        r = Request.raw(rt.build_request(fields), fields.url)
        text = write_entry(r, "x")
        assert "@netlab-raw" not in text, text
        _same(r, parse_text(text).entries[0].request)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_raw_notation_is_the_composers(data):
    text = encode_raw(data)
    assert decode_raw(text) == data
    assert text == rt.to_raw_text(data)
    assert rt.from_raw_text(text) == data


def test_appended_entries_round_trip_in_one_file(tmp_path):
    path = tmp_path / "many.http"
    path.write_text("@host = h\n\n### mine\nGET http://{{host}}/\n")
    requests = [Request.raw(rt.build_request(rt.Fields("GET", "http://h/{{host}}", "Host: h", "")), "http://h/"),
                Request.raw(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "http://h/")]
    for r in requests:
        append_entry(str(path), r, "n")
    entries = parse_file(str(path)).entries
    assert [e.request.data for e in entries[1:]] == [r.data for r in requests]


# ------------------------------------------------------------------ on the wire


def test_a_parsed_entry_goes_out_byte_for_byte(lab_server, tmp_path):
    (tmp_path / "body.txt").write_bytes(b"from a file\n")
    path = tmp_path / "lab.http"
    path.write_text(f"@base = http://127.0.0.1:{lab_server.port}\n\n### echo\nPUT {{{{base}}}}/echo\n"
                    "X-Test: 1\n\n< body.txt\n")
    entry = parse_file(str(path)).find("echo")
    with Engine() as engine:
        ex = engine.send(entry.request, options=entry.options_for())
    assert ex.error is None
    assert ex.response.body == entry.request.data
    assert entry.request.data.endswith(b"Content-Length: 12\r\n\r\nfrom a file\n")


def test_cli_send_http_file(lab_server, tmp_path, run_cli):
    path = tmp_path / "cli.http"
    path.write_text(f"### ip\nGET http://127.0.0.1:{lab_server.port}/ip\n\n"
                    f"### echo\nPOST http://127.0.0.1:{lab_server.port}/echo\n\nhi\n")
    code, out, err = run_cli("send", path, "--name", "echo")
    assert code == 0, err
    assert "POST /echo HTTP/1.1" in out and out.rstrip().endswith("hi")
    code, out, err = run_cli("send", path, "--all")
    assert code == 0, err
    assert out.index("### ip") < out.index("127.0.0.1\n") < out.index("### echo") < out.index("POST /echo")
    code, out, err = run_cli("send", path)
    assert code == 2 and "holds 2 requests" in err and "1. ip (line 2" in err
    code, out, err = run_cli("send", path, "--name", "zzz")
    assert code == 2 and "no request named 'zzz'" in err
    code, out, err = run_cli("send", path, "--all", "-H", "X: 1")
    assert code == 2 and "-H cannot be combined with a .http file" in err


def test_cli_send_all_exit_1_when_one_fails(lab_server, tmp_path, run_cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()  # nothing listens there now
    path = tmp_path / "mixed.http"
    path.write_text(f"GET http://127.0.0.1:{lab_server.port}/ip\n###\nGET http://127.0.0.1:{dead}/ip\n")
    code, out, err = run_cli("send", path, "--all", "--json")
    assert code == 1
    import json

    items = json.loads(out)
    assert [i["error"] is None for i in items] == [True, False]
    assert items[1]["error"]["phase"] == "connect" and items[1]["entry"]["line"] == 3


def test_cli_bad_http_file_exit_2_names_the_line(tmp_path, run_cli):
    path = tmp_path / "broken.http"
    path.write_text("GET http://h/\nX: {{nope}}\n")
    code, out, err = run_cli("send", path)
    assert code == 2
    assert f"{path}:2: undefined variable {{{{nope}}}}" in err
    code, out, err = run_cli("send", tmp_path / "absent.http")
    assert code == 2 and "cannot read the file" in err


def test_raw_lines_write_a_backslash_twice_and_read_it_back():
    """``#|`` lines use the one raw notation: byte 0xf6 is ``\\xf6``, the text ``\\xf6`` is ``\\\\xf6``."""
    data = b"GET /a\\b HTTP/1.1\r\nHost: h\r\nX-Both: \xf6 \\xf6 \\\r\n\r\n"
    r = Request.raw(data, "http://h/")
    text = write_entry(r, "both")
    assert "@netlab-raw" in text  # (0xf6 is not UTF-8: the raw form)
    assert "#| GET /a\\\\b HTTP/1.1\\r\\n" in text.splitlines()
    assert "#| X-Both: \\xf6 \\\\xf6 \\\\\\r\\n" in text.splitlines()
    assert parse_text(text).entries[0].request.data == data
