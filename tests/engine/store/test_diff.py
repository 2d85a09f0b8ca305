"""Comparing two exchanges (engine/store/diff.py) with real exchanges from the lab server."""

from __future__ import annotations

from netlab.engine import Engine, Request
from netlab.engine.store.diff import compare, diff_lines


def send(url, **kw):
    with Engine() as e:
        return e.send(Request.from_url(url, **kw))


def test_same_request_twice_is_the_same_but_for_timings(lab_server):
    a = send(lab_server.url + "/bytes/300")
    b = send(lab_server.url + "/bytes/300")
    d = compare(a, b)
    assert d.same and d.request_same and d.body_same
    assert d.body_sizes == (300, 300)
    kinds = [k for k, _ in diff_lines(d)]
    assert "added" not in kinds and "removed" not in kinds and "changed" not in kinds
    assert [t[0] for t in d.timings] == ["dns", "connect", "tls", "send", "ttfb", "download", "total"]
    assert d.timings[-1][1] == a.timings.total and d.timings[-1][2] == b.timings.total


def test_status_headers_and_text_body_changes(lab_server):
    a = send(lab_server.url + "/echo", method="POST", body=b"line one\nline two\n")
    b = send(lab_server.url + "/echo", method="POST", body=b"line one\nline 2\nline three\n",
             headers=[("X-Extra", "yes")])
    d = compare(a, b)
    assert not d.same and not d.request_same and not d.body_same
    changed = {h.name.lower(): h for h in d.headers}
    assert changed["content-length"].kind == "changed"
    assert changed["content-length"].before == (str(len(a.response.body)),)
    assert changed["content-length"].after == (str(len(b.response.body)),)
    # the echoed body is the request bytes: the new header and the new lines show up in the diff
    assert any(line == "+X-Extra: yes\r" or line.startswith("+X-Extra: yes") for line in d.body_text_diff)
    assert "+line three" in d.body_text_diff and "-line two" in d.body_text_diff
    text = "\n".join(t for _, t in diff_lines(d))
    assert "content-length" in text.lower() and "+line three" in text


def test_status_change_and_error_side(lab_server):
    a = send(lab_server.url + "/status/200")
    b = send(lab_server.url + "/status/404")
    d = compare(a, b)
    assert d.status == ("200 OK", "404 Not Found")
    refused = send("http://127.0.0.1:9/")  # nothing listens on the discard port on loopback
    d2 = compare(a, refused)
    assert d2.status[1] == "no response (connect error)"
    removed = {h.name.lower() for h in d2.headers if h.kind == "removed"}
    assert "content-length" in removed


def test_binary_bodies_compare_by_bytes_and_hostile_bytes_are_escaped(tcp_peer):
    def reply(body):
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Evil: \x1b]0;pwned\x07\r\n\r\n" % len(body) + body

    p1 = tcp_peer(lambda conn, p: conn.sendall(reply(b"\x00\x01\x02\x1b[2J")))
    p2 = tcp_peer(lambda conn, p: conn.sendall(reply(b"\x00\x01\x03\x1b[2J")))
    a = send(p1.url + "/")
    b = send(p2.url + "/")
    d = compare(a, b, ignore_headers=())
    assert d.body_text_diff is None and d.first_difference == 2
    text = "\n".join(t for _, t in diff_lines(d))
    assert "\x1b" not in text and "\x07" not in text


def test_cli_history_diff(run_cli, lab_server):
    """Two sends recorded by `netlab send`, compared by `netlab history diff prev last`."""
    import json

    assert run_cli("send", lab_server.url + "/echo", "-d", "one\ntwo").code == 0
    assert run_cli("send", lab_server.url + "/echo", "-d", "one\nthree", "-H", "X-New: 1").code == 0
    r = run_cli("history", "diff", "prev", "last")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("comparing #") and "request bytes: differ" in lines
    assert "+X-New: 1" in lines and "-two" in lines and "+three" in lines
    assert "\x1b" not in r.out  # not a terminal: no colour
    j = json.loads(run_cli("history", "diff", "prev", "--json").out)
    assert j["status"] == ["200 OK", "200 OK"] and j["body"]["same"] is False
    assert {"name": "Content-Length", "kind": "changed"}.items() <= j["headers"][0].items()
    same = json.loads(run_cli("history", "diff", "last", "last", "--json").out)
    assert same["same"] is True and same["body"]["diff"] is None
    bad = run_cli("history", "diff", "nope")
    assert bad.code == 2 and "is not an exchange id" in bad.err
    missing = run_cli("history", "diff", "99999", "last")
    assert missing.code == 2 and "no exchange with id 99999" in missing.err
