"""`netlab send -L/--max-redirs/-b/-c/--dry-run`, and `history show` / `replay` of a chain,
against the scripted loopback redirect_peer (tests/engine/redirect_peer.py) and the lab server."""

from __future__ import annotations

import json
import os
import stat
from urllib.parse import quote


def test_follow_human_output(fresh_peer, run_cli):
    code, out, err = run_cli("send", "-L", "-d", "x=1", f"{fresh_peer.url}/r/307?to=/r/303%3Fto%3D/echo")
    assert code == 0, err
    assert "* hop 1: POST " in err and "< HTTP/1.1 307 Temporary Redirect\n" in err
    assert "< Location: /r/303?to=/echo" in err and "* hop 3 (last): GET " in err
    assert "POST became GET" in err
    doc = json.loads(out[out.index("{"):])  # stdout: the final response as without -L
    assert doc["path"] == "/echo" and doc["method"] == "GET"
    assert [s.method for s in fresh_peer.seen] == ["POST", "POST", "GET"]


def test_follow_json_shape(fresh_peer, run_cli):
    code, out, err = run_cli("send", "-L", "--json", f"{fresh_peer.url}/r/301?to=/r/302%3Fto%3D/echo")
    assert code == 0, err
    doc = json.loads(out)
    assert [h["response"]["status"] for h in doc["redirects"]] == [301, 302]
    assert doc["response"]["status"] == 200 and doc["request"]["url"].endswith("/echo")
    for hop in doc["redirects"]:  # the exchange's keys; the route below the socket is the live send's
        assert set(hop) == set(doc) - {"redirects", "route", "capture", "packets"}
        assert hop["dns"]["elapsed_ms"] == hop["timings_ms"]["dns"]
    assert err == ""  # --json: nothing else on stderr


def test_too_many_and_loop_exit_1_with_every_hop(lab_server, fresh_peer, run_cli):
    code, out, err = run_cli("send", "-L", "--max-redirs", "2", "--json",
                             f"http://127.0.0.1:{lab_server.port}/redirect/4")
    assert code == 1
    doc = json.loads(out)
    assert doc["error"]["phase"] == "limit" and len(doc["redirects"]) == 2
    code, _out, err = run_cli("send", "-L", f"{fresh_peer.url}/loop/a")
    assert code == 1 and "redirect loop" in err and "limit reached" in err


def test_without_L_a_redirect_is_the_answer(fresh_peer, run_cli):
    code, out, err = run_cli("send", "--json", f"{fresh_peer.url}/r/302?to=/echo")
    doc = json.loads(out)
    assert code == 0 and doc["response"]["status"] == 302 and "redirects" not in doc and "notes" not in doc
    assert len(fresh_peer.seen) == 1


def test_dry_run_sends_nothing(fresh_peer, run_cli):
    code, out, err = run_cli("send", "--dry-run", "-L", "-b", "a=1; b=2", "-H", "X-A: 1", "-d", "hi",
                             f"{fresh_peer.url}/echo")
    assert code == 0, err
    assert out.splitlines() == [
        "> POST /echo HTTP/1.1\\r\\n", f"> Host: 127.0.0.1:{fresh_peer.port}\\r\\n",
        f"> User-Agent: netlab/{__import__('netlab').__version__}\\r\\n", "> Accept: */*\\r\\n",
        "> Cookie: a=1; b=2\\r\\n", "> X-A: 1\\r\\n", "> Content-Length: 2\\r\\n",
        "> Content-Type: application/x-www-form-urlencoded\\r\\n", "> \\r\\n", "> hi"]
    assert "no redirect was followed" in err
    assert fresh_peer.seen == []  # nothing connected
    code, out, _err = run_cli("send", "--dry-run", "--json", f"{fresh_peer.url}/echo")
    doc = json.loads(out)
    assert doc["sent"] is False and doc["request"]["raw"].startswith("GET /echo HTTP/1.1\r\n")


def test_dry_run_bytes_are_what_send_sends(fresh_peer, run_cli):
    code, out, _ = run_cli("send", "--dry-run", "-H", "X-B: 2", f"{fresh_peer.url}/echo")
    code2, sent, _ = run_cli("send", "--json", "-H", "X-B: 2", f"{fresh_peer.url}/echo")
    assert code == code2 == 0
    from netlab.engine.rawtext import visible_line_endings

    raw = json.loads(sent)["request"]["raw"].encode("latin-1")
    assert out.splitlines() == ["> " + line for line in visible_line_endings(raw)]


def test_cookie_jar_file_and_cookies_on_hops(fresh_peer, run_cli, tmp_path):
    jar = tmp_path / "jar.txt"
    start = f"{fresh_peer.url}/c?set={quote('sid=abc; Path=/', safe='')}&to=/echo"
    code, out, err = run_cli("send", "-L", "-c", str(jar), "-b", str(tmp_path / "none.txt"), start)
    assert code == 0, err
    assert fresh_peer.seen[1].header("Cookie") == "sid=abc"
    assert stat.S_IMODE(os.stat(jar).st_mode) == 0o600
    assert "\tsid\tabc" in jar.read_text()
    code, out, err = run_cli("send", "-b", str(jar), "--json", f"{fresh_peer.url}/echo")  # read back, no -L
    doc = json.loads(out)
    assert code == 0 and fresh_peer.seen[2].header("Cookie") == "sid=abc"
    assert doc["notes"] == ["Cookie added by the jar: sid"] and "redirects" not in doc


def test_bad_cookie_arguments(fresh_peer, run_cli, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("# Netscape HTTP Cookie File\nnope\n")
    code, _out, err = run_cli("send", "-b", str(bad), f"{fresh_peer.url}/echo")
    assert code == 2 and "not a Netscape-format cookie file" in err and "Traceback" not in err
    code, _out, err = run_cli("send", "-b", "=1", f"{fresh_peer.url}/echo")
    assert code == 2 and "NAME=VALUE" in err
    assert fresh_peer.seen == []


def test_help_says_X_is_the_first_method_only(run_cli):
    code, out, _err = run_cli("send", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "-X sets the FIRST request's method only" in text and "--max-redirs" in text and "--dry-run" in text


def test_history_show_and_replay_a_chain(fresh_peer, run_cli):
    start = f"{fresh_peer.url}/c?set={quote('k=v', safe='')}&to=/r/308%3Fto%3D/echo"
    code, _out, err = run_cli("send", "-L", "-b", "x=1", "-d", "body", start)
    assert code == 0, err
    code, out, err = run_cli("history", "show", "last", "--json")
    doc = json.loads(out)
    assert [h["response"]["status"] for h in doc["redirects"]] == [302, 308]
    assert doc["response"]["status"] == 200 and doc["notes"]
    assert doc["redirects"][0]["request"]["raw"].startswith("POST /c?")
    code, out, _err = run_cli("history", "show", "last")
    assert "* hop 1: POST " in out and "* hop 2: GET " in out and "* hop 3 (last): GET " in out
    assert out.index(" 302 Found\\r\\n") < out.index(" 308 Permanent Redirect\\r\\n") < out.index(" 200 OK\\r\\n")
    fresh_peer.clear()
    code, out, err = run_cli("replay", "last", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [s.path for s in fresh_peer.seen] == ["/c?set=k%3Dv&to=/r/308%3Fto%3D/echo", "/r/308?to=/echo", "/echo"]
    assert [s.method for s in fresh_peer.seen] == ["POST", "GET", "GET"]
    # the replay's jar: -b x=1 seeded it, Set-Cookie k=v reached the later hops again
    assert [set((s.header("Cookie") or "").split("; ")) for s in fresh_peer.seen] == \
        [{"x=1"}, {"k=v", "x=1"}, {"k=v", "x=1"}]
    assert len(doc["redirects"]) == 2
    code, out, _err = run_cli("history", "show", "last", "--json")
    assert len(json.loads(out)["redirects"]) == 2  # the replay is stored as a chain too


def test_interop_refuses_follow_flags(run_cli, tmp_path):
    code, _out, err = run_cli("send", "-L", "--curl", "curl http://127.0.0.1:1/")
    assert code == 2 and "-L" in err
