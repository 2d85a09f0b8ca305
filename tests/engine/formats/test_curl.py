"""curl commands in and out.

parse_curl is checked against what a shell (bash) and the real curl binary do with the same
command; to_curl against the real curl: the bytes it makes curl send are netlab's bytes."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netlab.engine import Options, Request, parse_pin
from netlab.engine.formats.curl import CurlError, looks_like_curl, parse_curl, quote, split_words, to_curl
from netlab.engine.request import USER_AGENT
from netlab.ui import requesttext as rt
from tests.engine.test_fuzz import Property

CURL = "/usr/bin/curl"
BASH = shutil.which("bash")
needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="curl not installed")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash not installed")


def req(text: str, **kw) -> bytes:
    return parse_curl(text, **kw).request.data


# --------------------------------------------------------------------- shell words


def words(text: str, **kw) -> list[str]:
    return [w.text for w in split_words(text, **kw)]


def test_shell_quoting():
    assert words("""curl 'a b' "c \\"d\\" \\$e \\q" f\\ g $'h\\ti\\x41\\u00e9\\'' ''""") == [
        "curl", "a b", 'c "d" $e \\q', "f g", "h\tiAé'", ""]
    assert words("$ curl \\\n  -H 'X: 1' \\\n  http://h/   # a comment\n") == ["curl", "-H", "X: 1", "http://h/"]
    assert words("curl a'b'\"c\"$'d' e#f") == ["curl", "abcd", "e#f"]
    assert words("curl $'\\xff\\xfe'")[1].encode("utf-8", "surrogateescape") == b"\xff\xfe"
    assert words("curl $'a\\x00b'c") == ["curl", "ac"]  # bash ends a $'...' string at NUL
    assert words('curl "$TOKEN" ${TOKEN}x $TOKEN', environ={"TOKEN": "t k"}) == ["curl", "t k", "t kx", "t k"]


@pytest.mark.parametrize("text, message", [
    ("curl 'abc", "line 1 column 6: a single quote is not closed"),
    ('curl \\\n  "abc', "line 2 column 3: a double quote is not closed"),
    ("curl $'abc", "a $'...' quote is not closed"),
    ("curl -H \"Authorization: $NOPE_NOT_SET\" http://h/", "$NOPE_NOT_SET is not set"),
    ("curl $(cat f)", "command substitution is not supported"),
    ("curl http://h/?a=1&b=2", "shell operator '&' at word 3"),
    ("curl http://h/; rm -rf x", "shell operator ';'"),
    ("wget http://h/", "a curl command starts with 'curl', not 'wget'"),
    ("", "empty"),
    ("curl a\\", "ends with a backslash"),
])
def test_shell_errors_say_where(text, message):
    with pytest.raises(CurlError) as exc:
        parse_curl(text, environ={})
    assert message in exc.value.message
    assert exc.value.phase == "usage"


_any_word = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25)


@needs_bash
@settings(max_examples=60, deadline=None)
@given(st.lists(_any_word, min_size=1, max_size=5), st.sampled_from([" ", " \\\n  ", "\t"]))
def test_split_words_agrees_with_bash(items, sep):
    """quote() makes words bash reads back; split_words reads them as bash does."""
    quoted = sep.join(quote(w) for w in items)
    command = "curl" + sep + quoted
    p = subprocess.run([BASH, "-c", "printf '%s\\0'" + sep + quoted], capture_output=True, timeout=30,
                       env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"})
    assert p.returncode == 0, p.stderr
    from_bash = p.stdout.split(b"\0")[:-1]
    ours = [w.data() for w in split_words(command)][1:]
    assert ours == from_bash == [w.encode("utf-8") for w in items]


def test_looks_like_curl():
    assert looks_like_curl("curl http://h/") and looks_like_curl("  $ curl -k https://h/")
    assert looks_like_curl("/usr/bin/curl x") and looks_like_curl("printf 'a' | curl --data-binary @- x")
    assert not looks_like_curl("http://h/curl") and not looks_like_curl("curlx http://h/")


# ------------------------------------------------------------------- curl options


def test_the_headers_curl_makes_in_curls_order():
    data = req("curl -u user:pw -A UA -e 'http://ref/;auto' --compressed -b 'a=1; b=2' -H 'X-C: 1' "
               "-H 'Accept: text/html' -d a=b -d c=d http://Lab.test:8080/p")
    assert data == (b"POST /p HTTP/1.1\r\nHost: lab.test:8080\r\nAuthorization: Basic "
                    + base64.b64encode(b"user:pw") + b"\r\nUser-Agent: UA\r\nAccept-Encoding: deflate, gzip\r\n"
                    b"Referer: http://ref/\r\nCookie: a=1; b=2\r\nX-C: 1\r\nAccept: text/html\r\n"
                    b"Content-Length: 7\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=b&c=d")


def test_plain_get_uses_netlabs_user_agent():
    c = parse_curl("curl http://127.0.0.1:8080/ip")
    assert c.request.data == (f"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: {USER_AGENT}\r\n"
                              "Accept: */*\r\n\r\n").encode()
    assert c.options == Options()


def test_header_removal_empty_values_and_custom_host():
    data = req("curl -H 'Host:' -H 'User-Agent:' -H 'Accept:' -H 'X-Empty;' -H 'X:   spaced  ' http://h/")
    assert data == b"GET / HTTP/1.1\r\nX-Empty:\r\nX:   spaced  \r\n\r\n"
    data = req("curl -H 'X-First: 1' -H 'hOST:  other ' -A '' http://h/")
    assert data == b"GET / HTTP/1.1\r\nHost:  other \r\nAccept: */*\r\nX-First: 1\r\n\r\n"


def test_data_forms(tmp_path):
    f = tmp_path / "body.txt"
    f.write_bytes(b"line1\r\nline2\n")
    assert parse_curl(f"curl -d @{f} http://h/").request.body == b"line1line2"  # -d strips line breaks
    assert parse_curl(f"curl --data-binary @{f} http://h/").request.body == b"line1\r\nline2\n"
    assert parse_curl(f"curl --data-raw @{f} http://h/").request.body == f"@{f}".encode()
    assert parse_curl("curl --data-urlencode 'q=a b&c' --data-urlencode '=x/y' --data-urlencode z http://h/"
                      ).request.body == b"q=a+b%26c&x%2Fy&z"
    assert parse_curl("curl -d '' http://h/").request.data.endswith(
        b"Content-Length: 0\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n")
    g = parse_curl("curl -G -d a=1 -d b=2 'http://h/s?x=0'").request
    assert g.method == "GET" and g.target == "/s?x=0&a=1&b=2" and g.body == b""
    j = parse_curl("curl --json '{\"a\":1}' -H 'X: y' http://h/").request
    assert j.data.endswith(b"X: y\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                           b"Content-Length: 7\r\n\r\n{\"a\":1}")
    assert b"Accept: */*" not in j.data


def test_methods_versions_and_targets():
    assert req("curl -I http://h/").startswith(b"HEAD / HTTP/1.1\r\n")
    assert req("curl -XDELETE http://h/x").startswith(b"DELETE /x HTTP/1.1\r\n")
    assert req("curl -X PUT -d x http://h/").startswith(b"PUT / HTTP/1.1\r\n")
    assert req("curl -0 http://h/").startswith(b"GET / HTTP/1.0\r\n")
    assert req("curl http://h/a/./b/../c?x=/../").startswith(b"GET /a/c?x=/../ HTTP/1.1\r\n")
    assert req("curl --path-as-is http://h/a/./b/../c").startswith(b"GET /a/./b/../c HTTP/1.1\r\n")
    assert req("curl --request-target '*' -X OPTIONS http://h/").startswith(b"OPTIONS * HTTP/1.1\r\n")
    assert req("curl --url http://h/u#frag").startswith(b"GET /u HTTP/1.1\r\n")
    assert req("curl h:81/x").startswith(b"GET /x HTTP/1.1\r\nHost: h:81\r\n")


def test_connection_options():
    c = parse_curl("curl -k --cacert ~/ca.pem --resolve lab.test:443:127.0.0.1 --resolve +b.test:*:[::1] "
                   "--unix-socket /run/x.sock --connect-timeout 2.5 -m 9 https://lab.test/")
    o = c.options
    assert o.insecure and o.cafile == os.path.expanduser("~/ca.pem")
    assert o.resolve == (parse_pin("lab.test:443:127.0.0.1"), parse_pin("b.test:*:::1"))
    assert o.unix_socket == "/run/x.sock" and o.timeout == 2.5 and o.deadline == 9
    assert c.given == {"timeout", "deadline"}
    assert parse_curl("curl --abstract-unix-socket lab http://h/").options.unix_socket == "\0lab"


def test_output_options_are_accepted_and_others_noted():
    c = parse_curl("curl -sSLvi -o /dev/null -w '%{http_code}' --http2 --retry 3 http://h/")
    assert c.request.data.startswith(b"GET / HTTP/1.1\r\n")
    assert any(n.startswith("--location ignored") for n in c.notes)
    assert any("--http2 ignored" in n for n in c.notes) and any("--retry ignored" in n for n in c.notes)
    assert parse_curl("curl --compressed http://h/").compressed


@pytest.mark.parametrize("text, message", [
    ("curl --frobnicate http://h/", "unknown curl option --frobnicate (word 2, line 1 column 6)"),
    ("curl -sZq http://h/", "curl option -q (--disable) is not supported by netlab (word 2"),  # -Z: a note
    ("curl -y http://h/", "unknown curl option -y (word 2"),
    ("curl -F a=@f http://h/", "curl option -F (--form) is not supported by netlab (word 2"),
    ("curl http://h/ \\\n  -x http://proxy:3128", "-x (--proxy) is not supported by netlab (word 3, line 2 column 3)"),
    ("curl --data=x http://h/", "unknown curl option '--data=x' (word 2, line 1 column 6): curl takes the value"),
    ("curl http://h/ -H", "curl option -H (--header) needs a value (word 3"),
    ("curl -u user http://h/", "has no :PASSWORD"),
    ("curl -b cookies.txt http://h/", "names a cookie file"),
    ("curl -H 'NoColon' http://h/", "is not 'Name: value' (word 3"),
    ("curl -H 'Bad Name: 1' http://h/", "is not a header name"),
    ("curl http://a/ http://b/", "has 2 URLs ('http://b/' at word 3"),
    ("curl -k", "has no URL"),
    ("curl -I -d x http://h/", "-I (HEAD) and -d cannot be combined"),
    ("curl --resolve nope http://h/", "expected HOST:PORT:ADDR (word 2"),
    ("curl --connect-timeout soon http://h/", "not a positive number of seconds"),
    ("curl 'http://h/a b'", "holds a blank"),
    ("curl ftp://h/", "unsupported scheme"),
    ("curl --data-binary @/nonexistent/x http://h/", "cannot read the file"),
    ("curl --data-binary @- http://h/", "reads standard input"),
])
def test_curl_errors_name_the_option_and_where(text, message):
    with pytest.raises(CurlError) as exc:
        parse_curl(text)
    assert message in exc.value.message, exc.value.message


def test_extra_args_add_like_more_curl_words_and_stdin():
    c = parse_curl("curl -X GET -d a=1 http://h/", extra_args=["-X", "PATCH", "-H", "X: 1", "-d", "b=2"])
    assert c.request.data.startswith(b"PATCH / HTTP/1.1\r\n") and c.request.body == b"a=1&b=2"
    with pytest.raises(CurlError, match="in the options added to the command"):
        parse_curl("curl http://h/", extra_args=["--bogus"])
    assert parse_curl("curl --data-binary @- http://h/", stdin=b"\x00in").request.body == b"\x00in"
    assert parse_curl("printf 'a\\000b%%\\047\\n' | curl -d @- http://h/").request.body == b"a\x00b%'"


# ------------------------------------------------------------ to_curl round trips


def test_to_curl_of_the_classic_request():
    r = Request.raw(b"GET /ip HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n", "http://127.0.0.1:8080/")
    assert to_curl(r) == "curl -H 'Connection: close' -H 'User-Agent:' -H 'Accept:' http://127.0.0.1:8080/ip"
    built = Request.from_url("http://127.0.0.1:8080/ip")
    assert to_curl(built) == f"curl -H 'User-Agent: {USER_AGENT}' -H 'Accept: */*' http://127.0.0.1:8080/ip"


def test_to_curl_masks_secrets_unless_asked():
    r = Request.from_url("http://h/", headers=["Authorization: Bearer tok-123", "Cookie: sid=abc"])
    masked = to_curl(r)
    assert "tok-123" not in masked and "sid=abc" not in masked
    assert "'Authorization: Bearer ********'" in masked and "'Cookie: ********'" in masked
    shown = to_curl(r, show_secrets=True)
    assert parse_curl(shown).request.data == r.data


def test_to_curl_options_round_trip():
    opts = Options(insecure=True, cafile="/tmp/ca.pem", resolve=(parse_pin("lab.test:8443:127.0.0.1,::1"),),
                   unix_socket="/tmp/a b.sock", timeout=3, deadline=7.5)
    r = Request.from_url("https://lab.test:8443/x")
    c = parse_curl(to_curl(r, opts))
    assert c.request.data == r.data
    assert (c.options.insecure, c.options.cafile, c.options.resolve, c.options.unix_socket, c.options.timeout,
            c.options.deadline) == (True, "/tmp/ca.pem", opts.resolve, "/tmp/a b.sock", 3, 7.5)
    assert "--http1.1" in to_curl(r)  # https: no HTTP/2 by ALPN
    abstract = parse_curl(to_curl(r, Options(unix_socket="\0lab")))
    assert abstract.options.unix_socket == "\0lab"


@pytest.mark.parametrize("data, reason", [
    (b"GET / HTTP/1.1\nHost: h\n\n", "bare LF or CR"),
    (b"GET / HTTP/1.1\r\nHost: h\r\n", "no empty line"),
    (b"GET / HTTP/1.1\r\nX: 1\r\nHost: h\r\n\r\n", "Host as the first header"),
    (b"GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", "two Host headers"),
    (b"GET / HTTP/1.1\r\nhost: h\r\n\r\n", "spells the Host header 'Host', not 'host'"),
    (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", "chunks the body again"),
    (b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "folded"),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX:  \r\n\r\n", "only blanks"),
    (b"GET /\r\nHost: h\r\n\r\n", "request line"),
    (b"GET / HTTP/2\r\nHost: h\r\n\r\n", "request line"),
    (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", "NUL"),
])
def test_to_curl_refuses_what_curl_cannot_send(data, reason):
    with pytest.raises(CurlError) as exc:
        to_curl(Request.raw(data, "http://h/"))
    assert reason in exc.value.message
    assert "python-socket" in exc.value.hint


_token = st.text(st.sampled_from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                 min_size=1, max_size=10)
_value = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=25).filter(
    lambda v: v.strip(" \t") != "" or v == "")
_target = st.one_of(
    st.sampled_from(["/", "/ip", "/echo?a=1&b=2", "/a/../b", "/x y", "/%zz", "/é", "/a#b", "/{x}[1]", "*",
                     "http://other/abs", "/q?'\"$`", "/?", "/a?", "/a?#b"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), max_size=15).map(lambda s: "/" + s),
)


@st.composite
def well_formed(draw) -> Request:
    """Requests the composer can hold whose bytes curl can send: CR LF lines, a token method,
    'Name: value' header lines, Host first or absent, any body."""
    host = draw(st.sampled_from(["127.0.0.1", "lab.test", "[::1]"]))
    scheme = draw(st.sampled_from(["http", "https"]))
    port = draw(st.sampled_from([None, 8080, 443, 80]))
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/"
    method = draw(st.one_of(st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS"]), _token))
    lines = [f"{n}: {v}" if v else f"{n}:" for n, v in draw(st.lists(st.tuples(_token, _value), max_size=5))
             if n.lower() not in ("host", "transfer-encoding", "expect")]
    host_line = draw(st.sampled_from(["default", "other", "none"]))
    if host_line == "default":
        lines.insert(0, f"Host: {rt.host_header(url)}")
    elif host_line == "other":
        lines.insert(0, "Host:  other.test ")
    body = draw(st.one_of(st.just(b""), st.binary(max_size=40), st.text(max_size=40).map(str.encode)))
    if body and draw(st.booleans()):
        lines.append(f"Content-Length: {len(body)}")
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    target = draw(_target)
    head = f"{method} {target} {version}\r\n" + "".join(line + "\r\n" for line in lines) + "\r\n"
    return Request.raw(head.encode("utf-8") + body, url)


def check_curl_round_trip(request: Request) -> None:
    """parse_curl(to_curl(request)) sends the same bytes to the same place."""
    command = to_curl(request, show_secrets=True)
    back = parse_curl(command).request
    assert back.data == request.data
    assert (back.scheme, back.host, back.port) == (request.scheme, request.host, request.port)


def check_any_bytes_round_trip(data: bytes) -> None:
    """Any bytes: to_curl gives a command that sends them back, or says why curl cannot."""
    r = Request.raw(data, "http://h/")
    try:
        command = to_curl(r, show_secrets=True)
    except CurlError as exc:
        assert exc.message.startswith("curl cannot send") and exc.hint
        return
    assert parse_curl(command).request.data == data


# The example the random exploration found (issue 12.8): an empty query is part of the target.
EMPTY_QUERY = Request.raw(b"GET /? HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "http://127.0.0.1/")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_formed())
@example(EMPTY_QUERY)
def test_parse_of_to_curl_gives_the_same_bytes(request):
    check_curl_round_trip(request)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=150))
@example(b"GET /? HTTP/1.1\r\nHost: h\r\n\r\n")
def test_to_curl_of_any_bytes_round_trips_or_says_why(data):
    check_any_bytes_round_trip(data)


@pytest.mark.parametrize("target", ["/?", "/a?", "/?#", "/a?#x", "/a?b", "/a"])
def test_an_empty_query_survives_the_round_trip(target):
    """``GET /? HTTP/1.1`` came back as ``GET / HTTP/1.1``: curl 7.88 sends the lone "?"
    (http://h/? is "GET /?"), so parse_curl keeps it, and the round trip gives the same bytes."""
    data = f"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    command = to_curl(Request.raw(data, "http://h/"), show_secrets=True)
    assert parse_curl(command).request.data == data
    assert req("curl -A x 'http://h/?'").startswith(b"GET /? HTTP/1.1\r\n")
    assert req("curl -A x 'http://h?'").startswith(b"GET /? HTTP/1.1\r\n")
    assert req("curl -A x 'http://h/a?#frag'").startswith(b"GET /a? HTTP/1.1\r\n")
    assert req("curl -A x 'http://h/a#frag?'").startswith(b"GET /a HTTP/1.1\r\n")


# scripts/fuzz.py runs these with many more examples (beside tests/engine/test_fuzz.py's).
PROPERTIES: dict[str, Property] = {
    "curl-round-trip": Property((well_formed(),), check_curl_round_trip),
    "curl-any-bytes": Property((st.binary(max_size=150),), check_any_bytes_round_trip),
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.builds(lambda f: rt.build_request(f), st.builds(
    rt.Fields, st.sampled_from(["GET", "POST", "PUT"]), st.just("http://127.0.0.1:8080/x"),
    st.lists(st.builds(lambda n, v: f"{n}: {v}", _token, _value.filter(lambda v: v.strip())), max_size=4).map(
        lambda hs: "\n".join(["Host: 127.0.0.1:8080"] + hs)),
    st.text(max_size=50))))
def test_composer_field_requests_always_export_to_curl(data):
    """A request built in the composer's fields view with 'Name: value' headers is one curl
    can send: to_curl never refuses it, and the command gives the same bytes back."""
    r = Request.raw(data, "http://127.0.0.1:8080/x")
    assert parse_curl(to_curl(r, show_secrets=True)).request.data == data


# --------------------------------------------------------- against the real curl


class Capture:
    """A loopback server that reads exactly ``expect`` bytes (or until the client stops
    sending) and answers 200 with an empty body; ``got`` is what it read."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.expect = 0
        self.got = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while len(data) < self.expect:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                self.got = data
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def capture():
    c = Capture()
    yield c
    c.close()


def run_real_curl(command: str, *extra: str) -> subprocess.CompletedProcess:
    """Run an exported command with bash, /usr/bin/curl in place of `curl`, plus ``extra``."""
    pipe, sep, rest = command.partition("| curl ")
    if sep:
        line = f"{pipe}| {CURL} -s {' '.join(extra)} {rest}"
    else:
        assert command.startswith("curl ")
        line = f"{CURL} -s {' '.join(extra)} {command[5:]}"
    return subprocess.run([BASH, "-c", line], capture_output=True, timeout=30)


def _pointed_at(request: Request, port: int) -> Request:
    """The same bytes, going to the capture server."""
    return Request.raw(request.data, f"http://127.0.0.1:{port}/")


@needs_curl
@needs_bash
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(well_formed())
def test_real_curl_sends_exactly_netlabs_bytes(capture, request):
    if request.scheme == "https":
        request = Request.raw(request.data, "http://127.0.0.1/")
    r = _pointed_at(request, capture.port)
    if r.method == "HEAD" and len(r.data) - r.data.index(b"\r\n\r\n") > 4:
        return  # curl -X HEAD with a body waits for a body in the reply: not a useful case
    capture.expect = len(r.data)
    capture.got = b""
    p = run_real_curl(to_curl(r, show_secrets=True), "-o", "/dev/null", "--max-time", "10")
    assert p.returncode == 0, p.stderr
    assert capture.got == r.data


@needs_curl
@needs_bash
@pytest.mark.parametrize("args", [
    "http://HOST/ip",
    "-u user:pw -A netlab -e http://ref/ -b 'a=1' -H 'X-C: 1' -H 'Accept: text/html' -d a=b -d c=d http://HOST/p",
    "-H 'Host:' -H 'User-Agent:' -H 'Accept:' -H 'X-Empty;' -H 'X:   spaced  ' http://HOST/",
    "-H 'X-First: 1' -H 'hOST:  other ' -A '' http://HOST/",
    "--json '{\"a\":1}' -H 'X: y' http://HOST/j",
    "-G -d a=1 -d 'b=x%20y' 'http://HOST/s?x=0'",
    "-0 -X PUT --data-binary $'\\x01\\x02\\x00ignored' http://HOST/",
    "--data-urlencode 'q=a b&c' --data-urlencode z http://HOST/",
    "http://HOST/a/./b/../c",
    "'http://HOST/?'",
    "'http://HOST/a?#frag'",
    "--path-as-is http://HOST/a/./b/../c",
    "--request-target /raw%zz -X OPTIONS http://HOST/",
    "-I http://HOST/head",
])
def test_parse_curl_builds_what_the_real_curl_sends(capture, args):
    """Without -A, curl sends its own User-Agent where netlab sends its own: the cases set
    -A (or remove the header) so the bytes can be compared whole."""
    command = "curl " + args.replace("HOST", f"127.0.0.1:{capture.port}")
    if "-A" not in args and "User-Agent" not in args:
        command = command.replace("curl ", f"curl -A {USER_AGENT} ", 1)
    ours = parse_curl(command).request.data
    capture.expect = len(ours)
    capture.got = b""
    p = run_real_curl(command, "-o", "/dev/null", "--max-time", "10")
    assert p.returncode == 0, p.stderr
    assert capture.got == ours


@needs_curl
@needs_bash
def test_compressed_is_the_one_known_difference(capture):
    command = f"curl -A {USER_AGENT} --compressed http://127.0.0.1:{capture.port}/"
    ours = parse_curl(command).request.data
    capture.expect = len(ours) + 100
    capture.got = b""
    run_real_curl(command, "-o", "/dev/null", "--max-time", "10")
    real_encodings = capture.got.split(b"Accept-Encoding: ")[1].split(b"\r\n")[0]
    assert ours.replace(b"deflate, gzip", real_encodings) == capture.got


@needs_curl
@needs_bash
def test_exported_command_against_the_lab_echo(lab_server):
    """The brief's cross-check: /echo returns the exact bytes curl sent."""
    for request in [
        Request.from_url(f"http://127.0.0.1:{lab_server.port}/echo?x=1", "POST",
                         ["Content-Type: application/json", "X-Dup: 1", "X-Dup: 2", "Authorization: Bearer t"],
                         b'{"hello": "w\\u00f6rld"}\n'),
        Request.raw(f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{lab_server.port}\r\nConnection: close\r\n\r\n",
                    f"http://127.0.0.1:{lab_server.port}/"),
        Request.raw(f"DELETE /echo HTTP/1.0\r\nHost: 127.0.0.1:{lab_server.port}\r\nX:\r\n\r\n",
                    f"http://127.0.0.1:{lab_server.port}/"),
    ]:
        p = run_real_curl(to_curl(request, show_secrets=True), "--max-time", "10")
        assert p.returncode == 0, p.stderr
        assert p.stdout == request.data


def test_netlab_send_curl(lab_server, run_cli):
    url = f"http://127.0.0.1:{lab_server.port}/echo"
    code, out, err = run_cli("send", "--curl", f"curl -L -d a=1 {url}", "-H", "X-Added: 1", "-X", "PUT", "-d", "b=2")
    assert code == 0, err
    assert "note: --location ignored" in err
    assert out.split("\n\n", 1)[1].startswith("PUT /echo HTTP/1.1\\r\nHost:") or "PUT /echo HTTP/1.1" in out
    assert "X-Added: 1" in out and out.rstrip().endswith("a=1&b=2")
    code, out, err = run_cli("send", "--curl", f"curl --bogus {url}")
    assert code == 2 and "unknown curl option --bogus (word 2, line 1 column 6)" in err
    code, out, err = run_cli("send", "--curl", f"curl {url}", url)
    assert code == 2 and "the URL is in the curl command" in err
    code, out, err = run_cli("send", "--curl", f"curl --connect-timeout 0.5 {url}", "--timeout", "4", "--json")
    assert code == 0, err
