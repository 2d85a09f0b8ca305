"""netlab.engine.redirects.follow against a real loopback redirect_peer (tests/engine/redirect_peer.py)
and the lab server: each hop a whole exchange, the method rules, Location forms, a new origin
dropping credentials, loops, too many hops, a missing or unusable Location."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from netlab.engine import Engine, Options, Request
from netlab.engine.cookies import Jar
from netlab.engine.redirects import follow, next_method

BODY = b"name=netlab&x=1"


def _post(url: str, method: str = "POST", headers=(), body: bytes = BODY) -> Request:
    heads = list(headers) + ([("Content-Type", "application/x-www-form-urlencoded")] if body else [])
    return Request.from_url(url, method, heads, body)


# What RFC 9110 15.4 and requests say the next hop is, written out case by case (not computed
# by the code under test): (status, method) -> (method, body kept).
EXPECTED = {
    (301, "POST"): ("GET", False), (302, "POST"): ("GET", False), (303, "POST"): ("GET", False),
    (307, "POST"): ("POST", True), (308, "POST"): ("POST", True),
    (301, "GET"): ("GET", False), (302, "GET"): ("GET", False), (303, "GET"): ("GET", False),
    (307, "GET"): ("GET", False), (308, "GET"): ("GET", False),
    (303, "HEAD"): ("HEAD", False), (302, "HEAD"): ("HEAD", False), (301, "PUT"): ("PUT", True),
    (302, "PUT"): ("GET", False), (303, "PUT"): ("GET", False), (307, "PUT"): ("PUT", True),
}


@pytest.mark.parametrize(("status", "method"), sorted(EXPECTED))
def test_method_and_body_rules(fresh_peer, engine, status, method):
    body = b"" if method in ("GET", "HEAD") else BODY
    ex = follow(engine, _post(f"{fresh_peer.url}/r/{status}?to=/echo", method, body=body))
    assert ex.error is None, ex.error
    assert len(ex.redirects) == 1 and ex.redirects[0].response.status == status
    want_method, keep = EXPECTED[(status, method)]
    assert next_method(status, method) == want_method
    first, second = fresh_peer.seen
    assert (first.method, first.body) == (method, body)
    assert second.method == want_method and second.path == "/echo"
    assert second.body == (body if keep else b"")
    if body and not keep:  # the body's headers went with it
        assert second.header("Content-Length") is None and second.header("Content-Type") is None
        assert any("dropped" in n for n in ex.notes), ex.notes
    if keep and body:
        assert second.header("Content-Length") == str(len(body))
        assert second.header("Content-Type") == "application/x-www-form-urlencoded"
    assert ex.request.method == want_method and ex.response.status == 200


@pytest.mark.parametrize(("location", "where"), [
    ("echo", "/r/echo"),  # relative to /r/302
    ("/echo?a=1", "/echo?a=1"),  # absolute path
    ("{url}/echo", "/echo"),  # absolute URL
    ("//127.0.0.2:{port2}/echo", "/echo"),  # scheme-relative: another host
])
def test_location_forms_resolve_against_the_current_url(fresh_peer, engine, location, where):
    location = location.format(url=fresh_peer.url, port2=fresh_peer.other_host.rsplit(":", 1)[1])
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302?to={quote(location, safe='')}"))
    assert ex.error is None, ex.error
    last = fresh_peer.seen[-1]
    assert last.path == where
    want_host = "127.0.0.2" if location.startswith("//") else "127.0.0.1"
    assert last.server[0] == want_host
    assert last.header("Host") == f"{want_host}:{last.server[1]}"  # Host follows the new URL
    assert ex.request.host == want_host


@pytest.mark.parametrize("other", ["other_host", "other_port"])
def test_a_new_origin_drops_credentials_and_says_so(fresh_peer, engine, other):
    target = getattr(fresh_peer, other) + "/echo"
    secret = [("Authorization", "Bearer s3cret"), ("Proxy-Authorization", "Basic eA=="), ("Cookie", "mine=1"),
              ("X-Keep", "yes")]
    # same origin first (kept), then another origin (dropped), then back (still dropped, as requests)
    hop2 = f"/r/302?to={quote(f'{target}', safe='')}"
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/307?to={quote(hop2, safe='')}", "GET", secret))
    assert ex.error is None, ex.error
    first, same, moved = fresh_peer.seen
    assert same.header("Authorization") == "Bearer s3cret" and same.header("Cookie") == "mine=1"
    assert moved.header("Authorization") is None and moved.header("Proxy-Authorization") is None
    assert moved.header("Cookie") is None and moved.header("X-Keep") == "yes"
    notes = " ".join(ex.notes)
    assert "origin changed" in notes and "Authorization" in notes and "Cookie" in notes
    assert not any("origin changed" in n for n in ex.redirects[1].notes)


def test_each_hop_is_a_whole_exchange(fresh_peer, engine):
    other = fresh_peer.other_host + "/echo"
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/301?to={quote('/r/302?to=' + quote(other, safe=''))}"))
    assert ex.error is None, ex.error
    hops = [*ex.redirects, ex]
    assert [h.response.status for h in hops] == [301, 302, 200]
    for h in hops:  # DNS, connection, bytes, timings: each its own
        assert h.dns is not None and h.connection is not None and h.timings.total > 0
        assert h.request.data.startswith(f"GET {h.request.target} HTTP/1.1\r\n".encode())
        assert h.response.raw_head.startswith(b"HTTP/1.")
    # same origin: the kept-alive connection, same local port; a new origin: a new connection
    assert hops[1].connection.reused and hops[1].connection.local == hops[0].connection.local
    assert not hops[2].connection.reused and hops[2].connection.remote[0] == "127.0.0.2"
    assert [s.path for s in fresh_peer.seen] == [h.request.target for h in hops]


def test_a_loop_is_the_same_request_again(fresh_peer, engine):
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/loop/a"))
    assert ex.error is not None and ex.error.phase == "limit" and "loop" in ex.error.message
    assert [h.request.target for h in ex.redirects] == ["/loop/a"]
    assert ex.request.target == "/loop/b" and ex.response.status == 302  # every hop kept
    assert [s.path for s in fresh_peer.seen] == ["/loop/a", "/loop/b"]  # the repeat was never sent


def test_a_revisit_with_new_cookies_is_not_a_loop(fresh_peer, engine):
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/login"), jar=Jar())
    assert ex.error is None, ex.error
    assert ex.response.body == b"welcome\n" and len(ex.redirects) == 1
    assert fresh_peer.seen[1].header("Cookie") == "sid=1"
    # without a jar the same chain is a loop
    assert follow(engine, Request.from_url(f"{fresh_peer.url}/login")).error.phase == "limit"


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_too_many_redirects(lab_server, engine, limit):
    ex = follow(engine, Request.from_url(f"http://127.0.0.1:{lab_server.port}/redirect/5"), max_redirects=limit)
    assert ex.error is not None and ex.error.phase == "limit"
    assert f"more than {limit} redirect" in ex.error.message
    assert len(ex.redirects) == limit  # every hop kept, the last one too
    assert ex.request.target == f"/redirect/{5 - limit}" and ex.response.status == 302


def test_exactly_the_limit_is_fine(lab_server, engine):
    ex = follow(engine, Request.from_url(f"http://127.0.0.1:{lab_server.port}/redirect/3"), max_redirects=3)
    assert ex.error is None and ex.response.body == b"done\n" and len(ex.redirects) == 3


@pytest.mark.parametrize(("query", "words"), [
    ("", "no Location"),
    ("?to=", "no Location"),
    ("?to=" + quote("http://[::1/x", safe=""), "cannot be followed"),
    ("?to=" + quote("ftp://127.0.0.1/x", safe=""), "cannot be followed"),
])
def test_a_missing_or_unusable_location(fresh_peer, engine, query, words):
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302{query}"))
    assert ex.error is not None and ex.error.phase == "parse" and words in ex.error.message
    assert ex.redirects == [] and ex.response.status == 302  # the redirect itself is kept
    assert len(fresh_peer.seen) == 1


def test_not_following_leaves_the_plain_shape(fresh_peer, engine):
    plain = engine.send(Request.from_url(f"{fresh_peer.url}/r/302?to=/echo"))
    doc = plain.to_dict()
    assert "redirects" not in doc and "notes" not in doc
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302?to=/echo"), redirects=False)
    assert ex.redirects is None and ex.response.status == 302 and "redirects" not in ex.to_dict()


def test_json_shape_every_hop_like_the_last(fresh_peer, engine):
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/303?to=/r/307%3Fto%3D/echo"))
    doc = ex.to_dict()
    assert [h["response"]["status"] for h in doc["redirects"]] == [303, 307]
    for hop in doc["redirects"]:
        assert set(hop) == set(doc) - {"redirects"}
        assert hop["request"]["raw"].startswith("GET ")
    assert isinstance(doc["notes"], list)


def test_the_deadline_bounds_the_whole_chain(fresh_peer):
    with Engine(Options(deadline=5.0)) as engine:
        ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302?to=/r/302%3Fto%3D/echo"))
    assert ex.error is None
    # each later hop got what was left of the deadline, not a fresh_peer one
    deadlines = [h.options.deadline for h in [*ex.redirects, ex]]
    assert deadlines[0] <= 5.0 and deadlines[1] < 5.0 and deadlines[2] < deadlines[1]


def test_body_path_gets_the_last_body(fresh_peer, engine, tmp_path):
    out = tmp_path / "body"
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302?to=/echo"), body_path=str(out))
    assert ex.error is None
    assert out.read_bytes() == ex.response.body and b'"path": "/echo"' in out.read_bytes()
    assert ex.redirects[0].response.body == b"moved\n"


# ------------------------------------------------------------------------ the history


def test_history_keeps_the_chain_and_migrates_a_v1_file(fresh_peer, engine, tmp_path):
    import sqlite3

    from netlab.engine.store import history as store

    path = tmp_path / "v1.sqlite3"
    old = sqlite3.connect(path)  # a history written by netlab before the hop table
    for stmt in store._SCHEMA.replace(store._HOP_TABLE + ";", "").split(";"):
        if stmt.strip():
            old.execute(stmt)
    old.execute(f"PRAGMA application_id = {store.APPLICATION_ID}")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    os_path = str(path)
    ex = follow(engine, Request.from_url(f"{fresh_peer.url}/r/302?to=/r/307%3Fto%3D/echo"), jar=Jar())
    plain = engine.send(Request.from_url(f"{fresh_peer.url}/echo"))
    with store.History(os_path, max_entries=2) as h:
        assert h.notice is None
        first = h.add(ex)
        back = h.get(first)
        assert h.add(plain) and h.get(h.last_id()).redirects is None
        h.add(plain)  # the chain falls out of the newest two: its hops go too
        assert h._query("SELECT COUNT(*) FROM hop", ())[0][0] == 0
    assert [hop.request.data for hop in back.redirects] == [hop.request.data for hop in ex.redirects]
    assert [hop.response.status for hop in back.redirects] == [302, 307]
    assert back.to_dict()["redirects"] == ex.to_dict()["redirects"]
    assert back.notes == ex.notes and back.redirects[1].notes == ex.redirects[1].notes
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION == 2
    raw.close()
