"""The CLI's details, each checked against a real peer on loopback and, where there is
one, against the real tool it mirrors: curl for `send -v` / `-i` / `-d`, dig for the
question section of `netlab dns`.

- `send -v` shows each head once: the raw bytes on stderr (``< `` lines), standard output
  gets the body only, as curl -v; ``-i`` adds the head to standard output, as curl -v -i.
- `send -d` writes its head in curl's order (byte for byte the request curl sends).
- `--json`: ``dns.elapsed_ms`` is the same number as ``timings_ms.dns`` (for each request of
  `send FILE.http --all --json` too).
- A failure reads as a sentence ("netlab: timed out: ..."), never "timeout failed".
- `replay --help` names ``last`` and ``prev``; `history show ID|last|prev [--json]`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from netlab.engine.errors import HEADLINES, PHASES, NetlabError, headline
from netlab.engine.request import USER_AGENT
from tests.conftest import HANG_GUARD

DIG = shutil.which("dig")
needs_dig = pytest.mark.skipif(DIG is None, reason="dig (bind9-dnsutils) is not installed")


def _head_lines(text: str) -> list[str]:
    """The lines of a printed response head (status line to the blank line), CR dropped."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("HTTP/1."))
    end = lines.index("", start)
    return lines[start:end]


# ------------------------------------------------------------------- send -v / -i, as curl


def test_verbose_prints_the_head_once_and_stdout_is_the_body_as_curl_v(run_cli, lab_server, curl):
    url = f"http://127.0.0.1:{lab_server.port}/ip"
    code, out, err = run_cli("send", "-v", "--no-history", url)
    assert code == 0, err
    rc, curl_out, curl_err = curl("-v", url)
    assert rc == 0, curl_err
    # standard output: the body, exactly what curl -v writes there
    assert out == curl_out.decode() == "127.0.0.1\n"
    # the head: once, on stderr, as its raw bytes
    assert err.count("< HTTP/1.1 200 OK\\r\\n") == 1 and "HTTP/1.1 200" not in out
    assert err.count("< Content-Length: 10\\r\\n") == 1
    assert "< HTTP/1.1 200 OK" in curl_err.decode()  # curl -v: the head on stderr too


def test_verbose_include_adds_the_head_to_stdout_as_curl_v_i(run_cli, lab_server, curl):
    url = f"http://127.0.0.1:{lab_server.port}/ip"
    code, out, err = run_cli("send", "-v", "-i", "--no-history", url)
    assert code == 0, err
    rc, curl_out, _ = curl("-v", "-i", "-A", USER_AGENT, url)
    assert rc == 0
    mine, theirs = _head_lines(out), _head_lines(curl_out.decode())
    date = re.compile(r"^Date: .*")
    assert [date.sub("Date:", x) for x in mine] == [date.sub("Date:", x) for x in theirs]
    assert out.endswith("\n\n127.0.0.1\n") and curl_out.decode().endswith("\r\n\r\n127.0.0.1\n")
    assert err.count("< HTTP/1.1 200 OK\\r\\n") == 1 and out.count("HTTP/1.1 200 OK") == 1


def test_without_verbose_the_head_is_on_stdout_as_before(run_cli, lab_server):
    for args in ((), ("-i",)):
        code, out, err = run_cli("send", *args, "--no-history", f"http://127.0.0.1:{lab_server.port}/ip")
        assert code == 0, err
        assert out.startswith("HTTP/1.1 200 OK\n") and out.endswith("\n\n127.0.0.1\n") and err == ""


def test_trailers_follow_the_head(run_cli, lab_server):
    url = f"http://127.0.0.1:{lab_server.port}/stream/2"
    code, out, err = run_cli("send", "-v", "--no-history", url)
    assert code == 0, err
    trailers = [line for line in err.splitlines() if line.startswith("* trailer: ")]
    assert len(trailers) == 1 and "HTTP/1.1" not in out
    name = trailers[0].split(": ")[1]
    assert not any(line.startswith(name + ":") for line in out.splitlines())  # the body only
    code, out, err = run_cli("send", "-v", "-i", "--no-history", url)
    assert code == 0, err
    assert out.splitlines()[-1].startswith(name + ": ") and "* trailer: " not in err


# ------------------------------------------------------------------- send -d, as curl


@pytest.mark.parametrize("args", [
    ("-d", "a=1"),
    ("-d", "a=1", "-H", "Content-Type: text/plain"),
    ("-d", "a=1", "-H", "X-Foo: 1", "-H", "X-Bar: 2"),
    ("-d", ""),
    ("-d", "x", "-H", "Content-Length: 1"),
    ("-d", "a=1", "-X", "PUT", "-H", "content-type: application/json"),
])
def test_data_requests_are_the_bytes_curl_sends(run_cli, lab_server, curl, args):
    url = f"http://127.0.0.1:{lab_server.port}/echo"
    rc, theirs, err = curl("-A", USER_AGENT, *args, url)  # /echo answers with the request as received
    assert rc == 0, err
    code, out, err = run_cli("send", "--json", "--no-history", *args, url)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["request"]["raw"].encode("latin-1") == theirs
    assert doc["response"]["body"].encode() == theirs  # and the server got exactly that


def test_a_given_content_type_comes_before_content_length(run_cli, lab_server):
    url = f"http://127.0.0.1:{lab_server.port}/echo"
    code, out, _ = run_cli("send", "--json", "--no-history", "-d", "{}", "-H", "Content-Type: application/json", url)
    raw = json.loads(out)["request"]["raw"]
    assert code == 0 and raw.index("Content-Type: application/json") < raw.index("Content-Length: 2")


# --------------------------------------------------------------------- JSON: one dns number


def test_dns_elapsed_is_the_dns_timing(run_cli, lab_server, dnsmasq):
    url = f"http://known.test:{lab_server.port}/ip"
    code, out, err = run_cli("send", "--json", "--dns-server", f"127.0.0.1:{dnsmasq.port}", url)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dns"]["source"] == "dns" and doc["dns"]["elapsed_ms"] > 0
    assert doc["dns"]["elapsed_ms"] == doc["timings_ms"]["dns"]
    code, out, err = run_cli("history", "show", "last", "--json")
    assert code == 0, err
    stored = json.loads(out)
    assert stored["dns"]["elapsed_ms"] == stored["timings_ms"]["dns"] == doc["timings_ms"]["dns"]


def test_dns_elapsed_is_the_dns_timing_for_each_request_of_a_http_file(run_cli, lab_server, dnsmasq, tmp_path):
    # `send FILE.http --all --json` prints a list of the same shape as `send --json`; two
    # names, so that the second request resolves too (the same name would reuse the connection)
    path = tmp_path / "two.http"
    path.write_text(f"### ip\nGET http://known.test:{lab_server.port}/ip\n\n"
                    f"### again\nGET http://web.lab.test:{lab_server.port}/ip\n")
    code, out, err = run_cli("send", path, "--all", "--json", "--no-history",
                             "--dns-server", f"127.0.0.1:{dnsmasq.port}")
    assert code == 0, err
    items = json.loads(out)
    assert [item["entry"]["name"] for item in items] == ["ip", "again"]
    for item in items:
        assert item["error"] is None and item["response"]["status"] == 200
        assert item["dns"]["source"] == "dns" and item["dns"]["elapsed_ms"] > 0
        assert item["dns"]["elapsed_ms"] == item["timings_ms"]["dns"]


# -------------------------------------------------------------------- failures as sentences


def test_every_phase_has_a_headline_that_is_not_phase_failed():
    assert set(HEADLINES) == set(PHASES)
    assert headline("timeout") == "timed out"
    for phase in PHASES:
        e = NetlabError(phase, "what happened")
        assert e.sentence() == f"{headline(phase)}: what happened"
    assert not any(h in ("timeout failed", "limit failed", "cancelled failed", "usage failed", "dns failed")
                   for h in HEADLINES.values())


def test_cli_failures_read_as_sentences(run_cli, lab_server, tcp_peer, dnsmasq):
    silent = tcp_peer(lambda conn, peer: peer.stop.wait())  # reads the request, never answers
    cases = [
        (("--timeout", "0.3", silent.url + "/"), "netlab: timed out: no data for 0.3 s"),
        (("--max-body", "3", f"http://127.0.0.1:{lab_server.port}/ip"), "netlab: limit reached: the body exceeds"),
        (("--dns-server", f"127.0.0.1:{dnsmasq.port}", "http://nothing.test/"), "netlab: DNS lookup failed: "),
    ]
    for args, start in cases:
        code, _, err = run_cli("send", "--no-history", *args)
        assert code == 1, err
        first = err.splitlines()[0]
        assert first.startswith(start), err
        assert not re.search(r"\b(timeout|limit|dns|cancelled) failed\b", err), err
        assert err.splitlines()[1].startswith("  next: ")
    # connect: "connect failed" reads as a sentence already, and stays
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        code, _, err = run_cli("send", "--no-history", f"http://127.0.0.1:{port}/")
    assert code == 1 and err.startswith("netlab: connect failed: connection refused"), err


# ------------------------------------------------------------------------ replay --help


def test_replay_help_names_last_and_prev(run_cli):
    code, out, _ = run_cli("replay", "--help")
    assert code == 0 and "'last'" in out and "'prev'" in out
    code, out, _ = run_cli("history", "show", "--help")
    assert code == 0 and "'last'" in out and "'prev'" in out and "--json" in out


# --------------------------------------------------------------------------- history show


def test_history_show_prints_the_send_json_shape(run_cli, lab_server):
    url = f"http://127.0.0.1:{lab_server.port}"
    code, first, err = run_cli("send", "--json", url + "/ip")
    assert code == 0, err
    code, second, err = run_cli("send", "--json", "-d", "a\\b", url + "/echo")
    assert code == 0, err
    for which, sent in (("last", second), ("prev", first)):
        code, out, err = run_cli("history", "show", which, "--json")
        assert code == 0, err
        live = json.loads(sent)
        assert live.pop("route")["interface"] == "lo"  # the kernel's route at send time: not stored
        assert json.loads(out) == live, which
    code, listing, _ = run_cli("history", "--json")
    ident = json.loads(listing)[0]["id"]
    for spelling in (str(ident), f"#{ident}"):
        code, out, _ = run_cli("history", "show", spelling, "--json")
        stored = json.loads(second)
        del stored["route"]
        assert code == 0 and json.loads(out) == stored


def test_history_show_human_is_send_v_i_on_stdout(run_cli, lab_server):
    url = f"http://127.0.0.1:{lab_server.port}/echo"
    code, _, err = run_cli("send", "-H", "X-Path: C:\\dir", url)
    assert code == 0, err
    code, out, err = run_cli("history", "show", "last")
    assert code == 0 and err == "", err
    lines = out.splitlines()
    assert re.fullmatch(r"\* #\d+ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: GET " + re.escape(url), lines[0])
    assert "* resolved 127.0.0.1 via literal: 127.0.0.1 in " in out
    assert f"-> remote 127.0.0.1:{lab_server.port}" in out
    assert "> GET /echo HTTP/1.1\\r\\n" in lines and "> X-Path: C:\\\\dir\\r\\n" in lines  # the notation
    assert "< HTTP/1.1 200 OK\\r\\n" in lines
    assert lines.count("HTTP/1.1 200 OK") == 1  # the head, once more, as -i prints it
    assert "X-Path: C:\\dir\\r" in out  # the body: the request as the server got it, as text
    assert lines[-1].startswith("* timings: dns ")


def test_history_show_failed_exchange_and_unknown_ids(run_cli):
    code, _, err = run_cli("history", "show", "last")
    assert code == 2 and "the history is empty" in err
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code, _, _ = run_cli("send", f"http://127.0.0.1:{port}/")
    assert code == 1
    code, out, err = run_cli("history", "show", "last")
    assert code == 0, err
    assert "netlab: connect failed: connection refused" in out and "  next: " in out
    code, out, _ = run_cli("history", "show", "last", "--json")
    assert code == 0 and json.loads(out)["error"]["phase"] == "connect"
    code, _, err = run_cli("history", "show", "prev")
    assert code == 2 and "'prev'" in err
    code, _, err = run_cli("history", "show", "999")
    assert code == 2 and "no exchange with id 999" in err
    code, _, err = run_cli("history", "show", "nope\x1b[2J")
    assert code == 2 and "\x1b" not in err and "is not an exchange id" in err


# ---------------------------------------------------------------------- dns: the question


def _dig(port: int, *args: str) -> str:
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(port), "+time=5", "+tries=1", *args],
                       capture_output=True, text=True, timeout=HANG_GUARD)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _question(text: str) -> list[list[str]]:
    block = text.split(";; QUESTION SECTION:\n", 1)[1]
    return [line.split() for line in block.splitlines() if line.startswith(";") and not line.startswith(";;")
            ][:1]


@needs_dig
@pytest.mark.parametrize("args", [["known.test"], ["nothing.test"], ["lab.test", "MX"], ["-x", "127.0.0.9"]])
def test_dns_shows_the_question_section_like_dig(run_cli, dnsmasq, args):
    code, out, err = run_cli("dns", *args, f"@127.0.0.1:{dnsmasq.port}")
    assert code == 0, err
    assert _question(out) == _question(_dig(dnsmasq.port, *args))
    assert out.index(";; QUESTION SECTION:") < out.index(";; ANSWER SECTION:") if "ANSWER" in out else True


def test_history_show_does_not_print_a_binary_body(run_cli, lab_server):
    code, _, err = run_cli("send", f"http://127.0.0.1:{lab_server.port}/bytes/300")
    assert code == 0, err
    code, out, err = run_cli("history", "show", "last")
    assert code == 0, err
    assert "[300 bytes of binary body not shown; the TUI's history (F6) shows them in the Hex tab]" in out


def test_history_show_and_replay_mask_a_password_in_the_url(run_cli, lab_server):
    """A stored URL keeps its password; history show (text and --json) and replay's
    header line show user:****@host (issue 12.12)."""
    url = f"http://alice:s3cret@127.0.0.1:{lab_server.port}/ip"
    code, _, err = run_cli("send", url)
    assert code == 0, err
    code, out, err = run_cli("history", "show", "last")
    assert code == 0, err
    assert "s3cret" not in out and f"alice:****@127.0.0.1:{lab_server.port}/ip" in out
    code, out, err = run_cli("history", "show", "last", "--json")
    assert code == 0 and "s3cret" not in out
    assert json.loads(out)["request"]["url"] == f"http://alice:****@127.0.0.1:{lab_server.port}/ip"
    code, out, err = run_cli("replay", "-v", "last")
    assert code == 0 and "s3cret" not in err and "alice:****@" in err


@pytest.mark.parametrize("suffix, target", [("/echo?", "/echo?"), ("/echo?#frag", "/echo?"), ("/echo?a=1", "/echo?a=1")])
def test_an_empty_query_is_sent_as_curl_sends_it(run_cli, lab_server, suffix, target):
    """http://h/echo? goes out as 'GET /echo? HTTP/1.1' (curl 7.88 keeps the lone '?')."""
    code, out, err = run_cli("send", "--json", f"http://127.0.0.1:{lab_server.port}{suffix}")
    assert code == 0, err
    assert json.loads(out)["request"]["raw"].startswith(f"GET {target} HTTP/1.1\r\n")
