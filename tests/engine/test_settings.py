"""The settings file (netlab/settings.py), `netlab settings`, and the settings applied by
`netlab send` and the history, against real loopback peers.

Every test gets its own NETLAB_SETTINGS path (tests/conftest.py); no file is there
unless the test writes one."""

from __future__ import annotations

import inspect
import json
import os
import re
import stat
import textwrap

import pytest

from netlab import settings as st
from netlab.settings import ACTIONS, Settings, load, loads

GOOD = textwrap.dedent("""\
    # every key
    timeout = 2.5
    max_time = 30
    max_body = 4096
    dns_server = "[::1]:5353"
    theme = "nord"

    [history]
    size = 3
    body_cap = 100
    bodies = false

    [keys]
    send = "ctrl+s"
    help = ["f9", "alt+h"]
    """)


def write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def lines_of(loaded) -> list[int | None]:
    return [p.line for p in loaded.problems]


# ---------------------------------------------------------------------------- defaults


def test_no_file_means_the_defaults(_private_settings):
    assert not _private_settings.exists()
    loaded = load()
    assert loaded.path == str(_private_settings) and loaded.exists is False
    assert loaded.problems == () and loaded.message is None
    assert loaded.settings == Settings()


def test_defaults_are_todays_behaviour():
    """The settings' defaults repeat the engine's (settings.py does not import it)."""
    from netlab.engine import Options
    from netlab.engine.history import History
    from netlab.engine.session import DEFAULT_MAX_BODY

    s = Settings()
    assert s.timeout == Options().timeout == st.DEFAULT_TIMEOUT
    assert s.max_time is None and Options().deadline is None
    assert s.max_body == DEFAULT_MAX_BODY == Options().max_body_bytes
    params = inspect.signature(History).parameters
    assert s.history_body_cap == params["body_cap"].default
    assert s.history_bodies is params["store_bodies"].default is True
    assert s.history_size == params["max_entries"].default == 0  # keep all
    assert s.dns_server is None and s.theme is None and s.keys == ()
    opts = Options(timeout=3.0)
    assert s.fill_options(opts) is opts  # nothing to fill in


def test_settings_path_default_and_override(monkeypatch, tmp_path):
    import platformdirs

    monkeypatch.delenv("NETLAB_SETTINGS")
    assert st.settings_path() == os.path.join(platformdirs.user_config_dir("netlab"), "settings.toml")
    monkeypatch.setenv("NETLAB_SETTINGS", str(tmp_path / "x.toml"))
    assert st.settings_path() == str(tmp_path / "x.toml")


# ------------------------------------------------------------------------- every key


def test_every_key_is_parsed(_private_settings):
    write(_private_settings, GOOD)
    loaded = load()
    assert loaded.exists and loaded.problems == (), loaded.message
    s = loaded.settings
    assert s == Settings(timeout=2.5, max_time=30.0, max_body=4096, dns_server="[::1]:5353", theme="nord",
                         history_size=3, history_body_cap=100, history_bodies=False,
                         keys=(("send", "ctrl+s"), ("help", "f9,alt+h")))
    assert s.dns_address == ("::1", 5353)
    assert s.keymap == {"send": "ctrl+s", "help": "f9,alt+h"}
    assert s.keys_for("send") == "ctrl+s" and s.keys_for("quit") == ACTIONS["quit"]
    assert s.history_options() == {"body_cap": 100, "store_bodies": False, "max_entries": 3}
    from netlab.engine import Options

    filled = s.fill_options(Options(timeout=2.5))
    assert filled.deadline == 30.0 and filled.max_body_bytes == 4096 and filled.timeout == 2.5
    assert s.fill_options(Options(deadline=5.0, max_body_bytes=7)).deadline == 5.0  # set ones stay


def test_zero_means_no_limit_and_empty_means_default():
    s = loads('max_time = 0\nmax_body = 0\ndns_server = ""\ntheme = ""\n').settings
    assert s.max_time is None and s.max_body is None and s.dns_server is None and s.theme is None
    from netlab.engine import Options

    assert s.fill_options(Options()).max_body_bytes is None  # no body limit at all


def test_dotted_keys_and_quoted_keys_are_found():
    loaded = loads('history.size = 7\n"timeout" = 1\nhistory.body_cap = "big"\n')
    assert loaded.settings.history_size == 7 and loaded.settings.timeout == 1.0
    assert lines_of(loaded) == [3] and "history.body_cap" in loaded.message


def test_dns_server_forms():
    assert st.parse_dns_address("127.0.0.1") == ("127.0.0.1", 53)
    assert st.parse_dns_address(" 127.0.0.1:5353 ") == ("127.0.0.1", 5353)
    assert st.parse_dns_address("::1") == ("::1", 53)
    assert st.parse_dns_address("[::1]:53") == ("::1", 53)
    for bad in ("dns.example", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", "[::1", "[::1]x", "1.2.3.4.5"):
        with pytest.raises(ValueError):
            st.parse_dns_address(bad)


def test_key_spellings():
    assert st.parse_keys("ctrl+s, F9") == ["ctrl+s", "f9"]
    assert st.parse_keys("?") == ["question_mark"] and st.parse_keys("[") == ["left_square_bracket"]
    assert st.parse_keys("ctrl++") == ["ctrl+plus"] and st.parse_keys("shift+ctrl+A") == ["ctrl+shift+a"]
    assert st.parse_keys("escape,minus,full_stop") == ["escape", "minus", "full_stop"]
    for bad in ("", "f9,", "ctrl+", "cntrl+s", "ctrl+ctrl+s", "ctrl+nosuchkey", "a+", "\x1b"):
        with pytest.raises(ValueError):
            st.parse_keys(bad)


# ------------------------------------------------------------------------ bad inputs


def test_syntax_error_names_the_file_and_line_and_gives_the_defaults(_private_settings):
    write(_private_settings, "timeout = 2\n\n[history]\nsize = = 3\n")
    loaded = load()
    assert loaded.settings == Settings()  # nothing of a file that is not TOML applies
    (p,) = loaded.problems
    assert p.line == 4 and p.key is None
    assert str(_private_settings) in p.text and "line 4, column" in p.text and "not valid TOML" in p.text
    assert "default settings" in p.text


def test_syntax_error_at_the_end_of_the_file():
    loaded = loads('timeout = 2\nkeys = ["a",\n', "f.toml")
    (p,) = loaded.problems
    assert p.line == 2 and "f.toml, line 2" in p.text and "end of the file" in p.text


def test_not_utf8_names_the_line(_private_settings):
    _private_settings.write_bytes(b"timeout = 2\ntheme = \"\xff\"\n")
    (p,) = load().problems
    assert p.line == 2 and "not UTF-8" in p.text and load().settings == Settings()


def test_unreadable_file_is_a_problem_not_a_crash(_private_settings):
    _private_settings.mkdir()  # a directory where the file should be
    loaded = load()
    assert loaded.settings == Settings() and len(loaded.problems) == 1
    assert "cannot read" in loaded.message and str(_private_settings) in loaded.message


@pytest.mark.parametrize("line, expect", [
    ('timeout = "ten"', "expected a number of seconds, not a string ('ten')"),
    ("timeout = 0", "above 0"),
    ("timeout = -1.5", "above 0"),
    ("timeout = true", "not a boolean (true)"),
    ("timeout = inf", "above 0 and at most"),
    ("timeout = nan", "above 0 and at most"),
    ("max_time = -3", "0: no deadline"),
    ('max_time = "1m"', "not a string"),
    ("max_body = 1.5", "whole number of bytes"),
    ("max_body = -1", "0 or more bytes"),
    ('dns_server = "dns.google"', "is not an IP address"),
    ('dns_server = "127.0.0.1:70000"', "from 1 to 65535"),
    ("dns_server = 53", "expected a string"),
    ("theme = 3", "theme name"),
])
def test_wrong_type_or_value_names_key_and_line_and_keeps_the_rest(line, expect):
    key = line.split()[0]
    text = f"# a comment\nhistory.size = 9\n{line}\n\n[keys]\nhelp = \"f9\"\n"
    loaded = loads(text, "/cfg/settings.toml")
    (p,) = loaded.problems
    assert p.key == key and p.line == 3
    assert f"/cfg/settings.toml, line 3: {key}: " in p.text and expect in p.text and "using the default" in p.text
    s = loaded.settings
    assert getattr(s, key) == getattr(Settings(), key)  # the bad one: its default
    assert s.history_size == 9 and s.keymap == {"help": "f9"}  # the good ones: kept


@pytest.mark.parametrize("line, expect", [
    ("size = -1", "0 or more exchanges"),
    ("size = 2.0", "whole number of exchanges"),
    ("body_cap = \"1M\"", "whole number of bytes"),
    ("bodies = 1", "true or false"),
])
def test_wrong_history_values(line, expect):
    loaded = loads(f"timeout = 3\n[history]\n{line}\n")
    (p,) = loaded.problems
    assert p.key == "history." + line.split()[0] and p.line == 3 and expect in p.text
    assert loaded.settings.timeout == 3.0


def test_unknown_keys_name_their_line_and_suggest():
    text = 'timout = 3\ntheme = "nord"\n[history]\nsise = 4\n[keys]\nsnd = "f9"\n[colors]\nx = 1\n'
    loaded = loads(text)
    assert lines_of(loaded) == [1, 4, 6, 7]
    texts = [p.text for p in loaded.problems]
    assert "unknown key 'timout' (did you mean 'timeout'?)" in texts[0]
    assert "unknown key 'history.sise' (did you mean 'size'?)" in texts[1]
    assert "unknown key 'keys.snd' (did you mean 'send'?)" in texts[2]
    assert "unknown key 'colors'" in texts[3]
    assert loaded.settings.theme == "nord"


def test_tables_of_the_wrong_shape():
    loaded = loads('history = 5\nkeys = "f1"\ntimeout = 4\n')
    assert lines_of(loaded) == [1, 2]
    assert "expected a table ([history])" in loaded.problems[0].text
    assert "expected a table ([keys])" in loaded.problems[1].text
    assert loaded.settings.timeout == 4.0


def test_bad_key_specs_keep_the_default_key_and_the_other_overrides():
    text = textwrap.dedent("""\
        [keys]
        help = "f9"
        send = "s"
        quit = "ctrl+nosuch"
        history = 6
        cancel = "f9"
        toggle_maximize = "ctrl+b"
        """)
    loaded = loads(text)
    by_key = {p.key: p for p in loaded.problems}
    assert set(by_key) == {"keys.send", "keys.quit", "keys.history", "keys.cancel"}
    assert by_key["keys.send"].line == 3 and "stop you typing it" in by_key["keys.send"].text
    assert by_key["keys.quit"].line == 4 and "'ctrl+nosuch' is not a key" in by_key["keys.quit"].text
    assert by_key["keys.history"].line == 5 and "expected a string" in by_key["keys.history"].text
    assert by_key["keys.cancel"].line == 6 and "'f9' is already the key of help" in by_key["keys.cancel"].text
    assert loaded.settings.keymap == {"help": "f9", "toggle_maximize": "ctrl+b"}


def test_keys_may_be_swapped_and_clash_with_a_default():
    swapped = loads('[keys]\nhelp = "f6"\nhistory = "f1"\n')
    assert swapped.problems == () and swapped.settings.keymap == {"help": "f6", "history": "f1"}
    clash = loads('[keys]\nhelp = "f6"\n')  # f6 is still history's
    assert clash.settings.keymap == {} and "already the key of history" in clash.message


def test_theme_is_checked_against_the_themes_there_are():
    loaded = loads('timeout = 1\n\ntheme = "nope"\n', "/c/s.toml")
    assert loaded.problems == ()  # the file itself is fine; the TUI knows the themes
    p = loaded.theme_problem({"textual-dark", "nord"})
    assert p.key == "theme" and p.line == 3 and "/c/s.toml, line 3: theme: 'nope' is not a theme" in p.text
    assert "nord, textual-dark" in p.text
    assert loads('theme = "nord"').theme_problem({"nord"}) is None
    assert loads("").theme_problem({"nord"}) is None


def test_the_default_file_parses_to_the_defaults():
    loaded = loads(st.default_file_text())
    assert loaded.problems == () and loaded.settings == Settings()
    for action, keys in ACTIONS.items():  # every action is listed with its default key
        assert f'# {action} = "{keys}"' in st.default_file_text()
    # uncommenting every key gives the defaults too, with no problem
    uncommented = "\n".join(line[2:] if re.match(r"# [a-z_]+ = ", line) else line
                            for line in st.default_file_text().splitlines())
    again = loads(uncommented)
    assert again.problems == (), again.message
    assert again.settings == Settings(theme="textual-dark",
                                      keys=tuple(ACTIONS.items()) + tuple(st.PANE_ACTIONS.items()))


def test_effective_toml_round_trips():
    s = loads(GOOD).settings
    back = loads(st.effective_toml(s)).settings
    assert back.timeout == s.timeout and back.max_time == s.max_time and back.max_body == s.max_body
    assert back.dns_server == s.dns_server and back.theme == s.theme and back.history_size == s.history_size
    assert back.keymap["send"] == "ctrl+s" and back.keymap["help"] == "f9,alt+h"


# -------------------------------------------------------------------------- history


def test_history_keeps_at_most_max_entries(lab_server, tmp_path):
    from netlab.engine import Engine, Request
    from netlab.engine.history import History

    with Engine() as engine, History(str(tmp_path / "h.sqlite3"), max_entries=2) as h:
        ids = [h.add(engine.send(Request.from_url(f"{lab_server.url}/status/{200 + i}"))) for i in range(4)]
        entries = h.list(0)
        assert [e.id for e in entries] == ids[:-3:-1]  # the newest two, newest first
        assert [e.status for e in entries] == [203, 202]
        with pytest.raises(KeyError):
            h.get(ids[0])
    with History(str(tmp_path / "h.sqlite3")) as h:  # 0: no limit; nothing else is dropped
        assert len(h.list(0)) == 2


# ------------------------------------------------------------------------------- CLI


def test_cli_send_takes_the_timeout_from_the_settings(run_cli, tcp_peer, _private_settings):
    peer = tcp_peer(lambda conn, p: p.stop.wait())  # reads the request, never answers
    write(_private_settings, "timeout = 0.5\n")
    code, out, err = run_cli("send", "--no-history", peer.url + "/")
    assert code == 1, err
    assert "netlab: timed out: " in err and "0.5 s" in err
    assert len(peer.received) == 1
    # the command line wins over the file
    code, _, err = run_cli("send", "--no-history", "--timeout", "0.7", peer.url + "/")
    assert code == 1 and "0.7 s" in err


def last_options():
    """The options of the newest exchange in the history (they are stored with it)."""
    from netlab.engine.history import History

    with History() as h:
        return h.get(h.last_id()).options


def test_cli_send_uses_max_body_and_max_time_from_the_settings(run_cli, lab_server, _private_settings):
    write(_private_settings, "max_body = 10\nmax_time = 60\n")
    code, out, err = run_cli("send", "--json", lab_server.url + "/bytes/100")
    assert code == 1
    assert json.loads(out)["error"]["phase"] == "limit"
    opts = last_options()
    assert opts.max_body_bytes == 10 and opts.deadline == 60 and opts.timeout == 10
    code, out, err = run_cli("send", "--json", "--max-body", "1000", "--max-time", "5", lab_server.url + "/bytes/100")
    assert code == 0
    opts = last_options()
    assert opts.max_body_bytes == 1000 and opts.deadline == 5


def test_cli_send_resolves_through_the_settings_dns_server(run_cli, dnsmasq, lab_server, _private_settings):
    write(_private_settings, f'dns_server = "127.0.0.1:{dnsmasq.port}"\n')
    code, out, err = run_cli("send", "--no-history", "--json", f"http://known.test:{lab_server.port}/ip")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dns"]["source"] == "dns" and doc["dns"]["addresses"] == ["127.0.0.1"]
    assert doc["response"]["status"] == 200


def test_cli_prints_the_problems_once_and_runs_with_the_good_keys(run_cli, lab_server, _private_settings):
    write(_private_settings, "timeout = 4\nmax_body = \"lots\"\n")
    code, out, err = run_cli("send", "--json", lab_server.url + "/ip")  # also records it in the history
    assert code == 0
    assert err.count("max_body") == 1 and "line 2" in err and str(_private_settings) in err
    assert last_options().timeout == 4 and last_options().max_body_bytes == st.DEFAULT_MAX_BODY


def test_cli_history_size_prunes(run_cli, lab_server, _private_settings):
    write(_private_settings, "[history]\nsize = 2\nbodies = false\n")
    for code in (201, 202, 203):
        assert run_cli("send", f"{lab_server.url}/status/{code}").code == 0
    code, out, err = run_cli("history", "--json")
    assert code == 0, err
    entries = json.loads(out)
    assert [e["status"] for e in entries] == [203, 202]


def test_cli_settings_shows_path_values_and_problems(run_cli, _private_settings):
    code, out, err = run_cli("settings")
    assert code == 0 and str(_private_settings) in out and "does not exist" in out
    assert "timeout = 10" in out and 'send = "ctrl+j"' in out and "textual-dark" in out
    write(_private_settings, 'timeout = 0.25\ntheme = "nope"\n[keys]\nhelp = "f9"\nquit = 3\n')
    code, out, err = run_cli("settings")
    assert code == 1
    assert "exists" in out and "timeout = 0.25" in out and 'help = "f9"' in out
    assert 'quit = "f10,ctrl+q"' in out and 'theme = ""' in out  # the bad ones: their defaults
    assert "2 problems" in out and "line 2: theme: 'nope'" in out and "line 5: keys.quit" in out
    code, out, _ = run_cli("settings", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["path"] == str(_private_settings) and doc["exists"] is True
    assert doc["settings"]["timeout"] == 0.25 and doc["settings"]["keys"]["help"] == "f9"
    assert [(p["key"], p["line"]) for p in doc["problems"]] == [("theme", 2), ("keys.quit", 5)]


def test_cli_settings_init_writes_once(run_cli, _private_settings, monkeypatch):
    target = _private_settings.parent / "sub" / "settings.toml"
    monkeypatch.setenv("NETLAB_SETTINGS", str(target))
    code, out, err = run_cli("settings", "--init")
    assert code == 0 and str(target) in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == st.default_file_text()
    assert load().problems == () and load().settings == Settings()
    target.write_text("timeout = 3\n")
    code, out, err = run_cli("settings", "--init")
    assert code == 1 and "not overwritten" in err
    assert target.read_text() == "timeout = 3\n"


def test_netlab_settings_in_a_subprocess(run_cli_subprocess, _private_settings):
    """The environment variable reaches a real `python -m netlab`."""
    write(_private_settings, "[history]\nsize = 5\n")
    code, out, err = run_cli_subprocess("settings", "--json")
    assert code == 0, err
    assert json.loads(out)["settings"]["history_size"] == 5


def test_reading_the_settings_imports_no_ui_and_no_engine(_private_settings):
    """The TUI reads the settings before its first frame: no Textual, Rich or engine import
    beyond the defaults module (which imports nothing) and the lazy package around it."""
    import subprocess
    import sys

    write(_private_settings, GOOD)
    code = ("import sys, json; from netlab.settings import load; s = load(); "
            "print(json.dumps([s.problems == (), sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('textual', 'rich') or m.startswith('netlab.engine') "
            "and m not in ('netlab.engine', 'netlab.engine.defaults'))]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [True, []]


def test_cli_dns_asks_the_settings_dns_server(run_cli, dnsmasq, _private_settings):
    """`netlab dns NAME` with no @server: the settings' dns_server, not resolv.conf."""
    write(_private_settings, f'dns_server = "127.0.0.1:{dnsmasq.port}"\n')
    r = run_cli("dns", "known.test", "+short")
    assert r.code == 0, r.err
    assert r.out.strip() == "127.0.0.1"
    r = run_cli("dns", "known.test")
    assert f"127.0.0.1#{dnsmasq.port}" in r.out or f"127.0.0.1:{dnsmasq.port}" in r.out, r.out
    # an explicit @server still wins
    r = run_cli("dns", "known.test", "@127.0.0.1", "-p", str(dnsmasq.port), "+short")
    assert r.code == 0 and r.out.strip() == "127.0.0.1"
