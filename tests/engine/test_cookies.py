"""netlab.engine.cookies.Jar on real hops (tests/engine/redirect_peer.py): Set-Cookie on one
hop becomes Cookie on the next hop that matches by domain, path, secure and expiry; the
Netscape file round trip; and the same chain through `curl -L -c jar -b jar` for a cross-check
of the Cookie headers sent and of the jar file written."""

from __future__ import annotations

import os
import stat
import time
from urllib.parse import quote

import pytest

from netlab.engine import Engine, Options, Request, parse_pin
from netlab.engine.cookies import Jar
from netlab.engine.redirects import follow

NAMES = ("www.lab.test", "api.lab.test", "lab.test")


@pytest.fixture
def named(redirect_peer):
    """An engine that resolves www.lab.test, api.lab.test and lab.test to the redirect_peer (--resolve)."""
    redirect_peer.clear()
    opts = Options(resolve=tuple(parse_pin(f"{n}:{redirect_peer.port}:127.0.0.1") for n in NAMES))
    with Engine(opts) as engine:
        yield engine


def _sets(*cookies: str, to: str | None = None) -> str:
    q = "&".join(f"set={quote(c, safe='')}" for c in cookies)
    return f"/c?{q}" + (f"&to={quote(to, safe='')}" if to else "")


def _cookies(header: str | None) -> set[str]:
    return {p.strip() for p in (header or "").split(";") if p.strip()}


def test_path_rules(redirect_peer, named):
    jar = Jar()
    ex = follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}" + _sets("p=1; Path=/p", "r=2", to="/p/x")),
                jar=jar)
    assert ex.error is None, ex.error
    assert _cookies(redirect_peer.seen[1].header("Cookie")) == {"p=1", "r=2"}
    follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}/q/x"), jar=jar)
    follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}/pq"), jar=jar)  # /p is no prefix of /pq
    assert _cookies(redirect_peer.seen[2].header("Cookie")) == {"r=2"}
    assert _cookies(redirect_peer.seen[3].header("Cookie")) == {"r=2"}
    assert any(n.startswith("Cookie added by the jar") for n in ex.notes)


def test_domain_rules(redirect_peer, named):
    jar = Jar()
    start = f"http://www.lab.test:{redirect_peer.port}" + _sets(
        "host=1", "dom=2; Domain=lab.test", "bad=3; Domain=other.test", to=f"http://api.lab.test:{redirect_peer.port}/echo")
    ex = follow(named, Request.from_url(start), jar=jar)
    assert ex.error is None, ex.error
    # a new origin (another host): the Domain cookie follows, the host-only one does not
    assert _cookies(redirect_peer.seen[1].header("Cookie")) == {"dom=2"}
    follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}/echo"), jar=jar)
    assert _cookies(redirect_peer.seen[2].header("Cookie")) == {"host=1", "dom=2"}
    follow(named, Request.from_url(f"http://lab.test:{redirect_peer.port}/echo"), jar=jar)
    assert _cookies(redirect_peer.seen[3].header("Cookie")) == {"dom=2"}
    listed = {c.name: c for c in jar.cookies()}
    assert set(listed) == {"host", "dom"}  # other.test was refused
    assert listed["host"].host_only and listed["host"].domain == "www.lab.test"
    assert not listed["dom"].host_only and listed["dom"].domain == ".lab.test"
    assert listed["dom"].set_by is ex.redirects[0] and listed["dom"].set_by_url == start


def test_expiry_rules(redirect_peer, named):
    jar = Jar()
    base = f"http://www.lab.test:{redirect_peer.port}"
    follow(named, Request.from_url(base + _sets("a=1; Max-Age=3600", "b=2", "c=3", to="/echo")), jar=jar)
    assert _cookies(redirect_peer.seen[1].header("Cookie")) == {"a=1", "b=2", "c=3"}
    gone = _sets("a=; Max-Age=0", "c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", to="/echo")
    follow(named, Request.from_url(base + gone), jar=jar)
    assert _cookies(redirect_peer.seen[3].header("Cookie")) == {"b=2"}
    expires = {c.name: c.expires for c in jar.cookies()}
    assert expires == {"b": None}


def test_secure_rules(redirect_peer, named, tmp_path):
    jar = Jar()
    follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}" + _sets("s=1; Secure", "t=2", to="/echo")),
           jar=jar)
    assert _cookies(redirect_peer.seen[1].header("Cookie")) == {"t=2"}  # a Secure cookie over http is refused
    assert {c.name for c in jar.cookies()} == {"t"}
    f = tmp_path / "jar.txt"
    far = int(time.time()) + 3600
    f.write_text("# Netscape HTTP Cookie File\n"
                 f"www.lab.test\tFALSE\t/\tTRUE\t{far}\tsec\t1\n"
                 f"www.lab.test\tFALSE\t/\tFALSE\t0\tplain\t2\n")
    loaded = Jar.load(str(f))
    assert loaded.header_for(Request.from_url("http://www.lab.test/")) == "plain=2"
    assert _cookies(loaded.header_for(Request.from_url("https://www.lab.test/"))) == {"sec=1", "plain=2"}
    assert {c.name: c.expires for c in loaded.cookies()} == {"sec": far, "plain": None}  # 0: a session cookie


def test_user_cookie_header_wins_and_raw_is_untouched(redirect_peer, named):
    jar = Jar()
    jar.add_string("j=1", f"http://www.lab.test:{redirect_peer.port}/")
    mine = Request.from_url(f"http://www.lab.test:{redirect_peer.port}/echo", headers=[("Cookie", "mine=1")])
    assert jar.apply(mine) is mine
    raw = Request.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", f"http://www.lab.test:{redirect_peer.port}/")
    assert jar.apply(raw) is raw
    applied = jar.apply(Request.from_url(f"http://www.lab.test:{redirect_peer.port}/echo", headers=["X-A: 1"]))
    assert [n for n, _ in applied.headers] == ["Host", "User-Agent", "Accept", "Cookie", "X-A"]  # curl's order


def test_save_round_trip_mode_0600(redirect_peer, named, tmp_path):
    jar = Jar()
    follow(named, Request.from_url(f"http://www.lab.test:{redirect_peer.port}" + _sets(
        "a=1; Max-Age=3600", "b=2; HttpOnly", "d=4; Domain=lab.test; Path=/p")), jar=jar)
    path = tmp_path / "jar.txt"
    path.write_text("old")
    os.chmod(path, 0o644)
    jar.save(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [line.split("\t") for line in path.read_text().splitlines() if line and not line.startswith("# ")]
    rows = {r[5]: r for r in lines}
    assert rows["b"][0] == "#HttpOnly_www.lab.test" and rows["b"][4] == "0"  # session: expiry 0, as curl
    assert rows["d"][:4] == [".lab.test", "TRUE", "/p", "FALSE"]
    assert abs(int(rows["a"][4]) - (time.time() + 3600)) < 60
    again = {(c.name, c.value, c.domain, c.path, c.expires is None) for c in Jar.load(str(path)).cookies()}
    assert again == {(c.name, c.value, c.domain, c.path, c.expires is None) for c in jar.cookies()}


def test_bad_cookie_file_is_a_usage_error(tmp_path):
    from netlab.engine import NetlabError

    bad = tmp_path / "bad.txt"
    bad.write_text("# Netscape HTTP Cookie File\nnot\ta cookie line\n")
    with pytest.raises(NetlabError) as info:
        Jar.load(str(bad))
    assert info.value.phase == "usage"
    assert len(Jar.load(str(tmp_path / "missing.txt"))) == 0  # as curl -b FILE: an empty jar


# -------------------------------------------------------------------- curl cross-check

def _jar_rows(path) -> set[tuple]:
    rows = set()
    for line in path.read_text().splitlines():
        if not line.strip() or (line.startswith("#") and not line.startswith("#HttpOnly_")):
            continue
        domain, flag, cpath, secure, expires, name, value = line.split("\t")
        rows.add((domain, flag, cpath, secure, expires == "0", name, value))
    return rows


def test_same_cookies_as_curl(redirect_peer, named, curl, tmp_path):
    """One chain, through netlab and through curl -L -c jar -b jar: the same Cookie on each
    request (as sets: the two order equal-path cookies differently) and the same jar file."""
    port = redirect_peer.port
    last = f"http://api.lab.test:{port}/p/echo"
    hop2 = f"http://www.lab.test:{port}" + _sets("p=5; Path=/p; Domain=lab.test", "w=6", "a=; Max-Age=0", to=last)
    start = f"http://www.lab.test:{port}" + _sets(
        "a=1; Max-Age=3600", "h=2; HttpOnly", "d=3; Domain=lab.test", "s=4; Secure", to=hop2)
    seed = tmp_path / "seed.txt"
    far = int(time.time()) + 7200
    seed.write_text(f"# Netscape HTTP Cookie File\n.lab.test\tTRUE\t/\tFALSE\t{far}\tseed\t0\n")
    ours, theirs = tmp_path / "ours.txt", tmp_path / "theirs.txt"
    theirs.write_text(seed.read_text())
    jar = Jar.load(str(seed))
    ex = follow(named, Request.from_url(start), jar=jar)
    assert ex.error is None, ex.error
    jar.save(str(ours))
    netlab_sent = [(s.path, _cookies(s.header("Cookie"))) for s in redirect_peer.seen]
    redirect_peer.clear()
    pins = [a for n in ("www.lab.test", "api.lab.test") for a in ("--resolve", f"{n}:{port}:127.0.0.1")]
    rc, _out, err = curl("-L", "-b", str(theirs), "-c", str(theirs), *pins, "-o", os.devnull, start)
    assert rc == 0, err
    curl_sent = [(s.path, _cookies(s.header("Cookie"))) for s in redirect_peer.seen]
    assert netlab_sent == curl_sent
    assert netlab_sent[-1][1] == {"d=3", "seed=0", "p=5"}  # the chain really carried cookies
    assert _jar_rows(ours) == _jar_rows(theirs)
