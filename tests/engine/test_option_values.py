"""One rule, one place, for every option value (issue 12.4), and the head timeout's
option everywhere (issue 12.2: --head-timeout, head_timeout in the settings file, the
composer's "Head timeout" field).

Arbitrary floats and strings go to each entry point — the command line (in process,
``run_cli``), the settings file (a real file, ``load()``) and the composer (its
``build()``, and a pilot) — and each must: never raise, refuse a bad value with the
option's name and the value, and accept a good one as the number it is.  What "good"
means is written out here, apart from netlab/limits.py, so that a change of the rule
shows up as a failing test:

    seconds (timeout, max time, head timeout): finite, 0 < s <= 86400; for max time and
        head timeout 0 means "none" (None)
    --max-body: a whole number 0 <= n <= 2**40; 0 means no limit (None)
    history --limit / history.size: a whole number 0 <= n <= 2**31 - 1 (0: all)

Sends go to a loopback port that is bound but not listening (refused at once)."""

from __future__ import annotations

import dataclasses
import math
import re
import socket
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netlab import cli, limits
from netlab.cli import common
from netlab.engine import NetlabError, Options
from netlab.settings import Settings, load

DAY = 86400.0
TIB = 1 << 40
MAX_COUNT = (1 << 31) - 1
BAD = object()

EDGE_TEXTS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "0", "-0", "0.0", "-0.0", "1e-320",
              "5e-324", "86400", "86400.0", "86400.000001", "86401", "-1", "1", "0.5", " 7 ", "1_000", "+3", "0x10",
              "", " ", "ten", "1,5", "٣", "1e3", "9" * 5000, "\x1b[31m", "\u202e5", "1\x00"]

texts = st.one_of(
    st.sampled_from(EDGE_TEXTS),
    st.floats().map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:g}"),
    st.floats(min_value=-1.0, max_value=2 * DAY).map(str),
    st.integers(min_value=-(10 ** 20), max_value=10 ** 20).map(str),
    st.integers(min_value=0, max_value=2 * TIB).map(str),
    st.text(max_size=30),
)
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def seconds(text, *, zero_is_none: bool):
    """The spec for a number of seconds, apart from netlab/limits.py."""
    try:
        value = float(text)
    except (ValueError, TypeError):
        return BAD
    if value == 0 and zero_is_none:
        return None
    return value if math.isfinite(value) and 0 < value <= DAY else BAD


def whole(text, *, high: int, zero_is_none: bool):
    """The spec for a size or count, apart from netlab/limits.py."""
    try:
        value = int(text)
    except (ValueError, TypeError):
        return BAD
    if value == 0 and zero_is_none:
        return None
    return value if 0 <= value <= high else BAD


# flag -> (Options field, spec)
SEND_FLAGS = {
    "--timeout": ("timeout", lambda t: seconds(t, zero_is_none=False)),
    "--max-time": ("deadline", lambda t: seconds(t, zero_is_none=True)),
    "--head-timeout": ("head_timeout", lambda t: seconds(t, zero_is_none=True)),
    "--max-body": ("max_body_bytes", lambda t: whole(t, high=TIB, zero_is_none=True)),
}


@pytest.fixture(scope="module")
def refused_port():
    """A loopback port bound but not listening: a connect there is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def assert_refused(result, flag: str, text: str) -> None:
    code, out, err = result
    assert code == 2, (flag, text, code, err)
    assert "Traceback" not in err and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"netlab: error: argument {flag}: must be "), last
    if text.isprintable() and "\\" not in text and "'" not in text and len(text) <= 40:
        assert last.endswith(f", not {text!r}"), last  # the value, as given


# ------------------------------------------------------------------------ the rule itself


@pytest.mark.parametrize("rule, value, expect", [
    ("timeout", float("nan"), BAD), ("timeout", float("inf"), BAD), ("timeout", -1.0, BAD), ("timeout", 0, BAD),
    ("timeout", 5e-324, 5e-324), ("timeout", DAY, DAY), ("timeout", DAY + 0.001, BAD), ("timeout", 10 ** 400, BAD),
    ("timeout", True, BAD), ("timeout", "5", BAD), ("deadline", 0, None), ("deadline", -0.0, None),
    ("deadline", float("-inf"), BAD), ("head_timeout", 0, None), ("head_timeout", 30, 30.0),
    ("max_body_bytes", 0, None), ("max_body_bytes", TIB, TIB), ("max_body_bytes", TIB + 1, BAD),
    ("max_body_bytes", 1.0, BAD), ("history_size", 0, 0), ("history_size", MAX_COUNT + 1, BAD),
])
def test_check_by_rule(rule, value, expect):
    if expect is BAD:
        with pytest.raises(limits.OptionValueError) as info:
            limits.check(rule, value, "the-option")
        assert str(info.value).startswith("the-option must be ")
        assert info.value.expected.startswith("expected ")
    else:
        got = limits.check(rule, value)
        assert got == expect and type(got) is type(expect)


def test_every_number_of_options_has_a_rule_and_the_defaults_pass():
    """A numeric Options field added without a rule here would be checked only loosely."""
    numeric = [f.name for f in dataclasses.fields(Options)
               if re.fullmatch(r"(int|float)( \| None)?", str(f.type).replace("'", ""))]
    assert "head_timeout" in numeric
    assert [name for name in numeric if name not in limits.RULES] == []
    assert Options().checked() == Options()
    assert Options().head_timeout == limits.DEFAULT_HEAD_TIMEOUT == Settings().head_timeout == 30.0


@pytest.mark.parametrize("field, value", [("timeout", float("nan")), ("timeout", float("inf")), ("deadline", 0.0),
                                          ("deadline", -1.0), ("head_timeout", float("nan")),
                                          ("max_body_bytes", -1), ("max_headers", 0), ("spill_bytes", TIB + 1)])
def test_options_checked_refuses_and_names_the_field(field, value):
    with pytest.raises(NetlabError) as info:
        dataclasses.replace(Options(), **{field: value}).checked({field: f"--{field}"})
    assert info.value.phase == "usage" and info.value.message.startswith(f"--{field} must be ")
    assert "none" not in info.value.message.split(",")[-1]  # an engine 0 is a real 0: no "0: none" offered
    assert dataclasses.replace(Options(), deadline=None, head_timeout=None, max_body_bytes=0).checked()


# ----------------------------------------------------------------------- the command line


@PROPERTY
@given(flag=st.sampled_from(sorted(SEND_FLAGS)), text=texts)
@example(flag="--timeout", text="nan").via("issue 12.4")
@example(flag="--timeout", text="inf").via("issue 12.4")
@example(flag="--max-time", text="-1").via("issue 12.4")
@example(flag="--max-time", text="nan").via("issue 12.4")
def test_send_options_parse_by_the_rule(flag, text):
    """Parsing only (no send): a bad value exits 2 naming the flag; a good one becomes
    exactly the Options value the spec says."""
    field, spec = SEND_FLAGS[flag]
    want = spec(text)
    argv = ["send", f"{flag}={text}", "http://127.0.0.1:9/"]
    if want is BAD:
        with pytest.raises(SystemExit) as info:
            cli.build_parser().parse_args(argv)
        assert info.value.code == 2
    else:
        opts = common.exchange_options(cli.build_parser().parse_args(argv))
        assert getattr(opts, field) == want, (flag, text, getattr(opts, field), want)


@PROPERTY
@given(flag=st.sampled_from(sorted(SEND_FLAGS)), text=texts)
@example(flag="--timeout", text="nan").via("issue 12.4")
@example(flag="--timeout", text="inf").via("issue 12.4")
@example(flag="--max-time", text="-1").via("issue 12.4")
@example(flag="--max-time", text="nan").via("issue 12.4")
def test_netlab_send_never_tracebacks_and_names_a_bad_value(run_cli, refused_port, flag, text):
    result = run_cli("send", "--no-history", f"{flag}={text}", f"http://127.0.0.1:{refused_port}/")
    if SEND_FLAGS[flag][1](text) is BAD:
        assert_refused(result, flag, text)
    else:  # accepted: the send ran, and was refused by the port (or ran out of a tiny --max-time)
        code, _, err = result
        assert code == 1 and "must be" not in err and "Traceback" not in err, (flag, text, err)
        assert "connect failed" in err or "timed out" in err, err


@PROPERTY
@given(text=texts)
@example(text="nan").via("issue 12.4")
def test_netlab_dns_timeout(run_cli, refused_port, text):
    result = run_cli("dns", f"--timeout={text}", "x.test", f"@127.0.0.1:{refused_port}")
    if seconds(text, zero_is_none=False) is BAD:
        assert_refused(result, "--timeout", text)
    else:
        assert result.code == 1 and "must be" not in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("term, ok", [("+time=nan", False), ("+time=inf", False), ("+timeout=0", False),
                                      ("+time=x", False), ("+time=2", True)])
def test_netlab_dns_plus_time(run_cli, refused_port, term, ok):
    code, _, err = run_cli("dns", "x.test", f"@127.0.0.1:{refused_port}", term)
    assert "Traceback" not in err
    if ok:
        assert code == 1 and "must be" not in err
    else:
        key = term[1:].split("=")[0]
        assert code == 2 and f"netlab: dns: +{key} must be a number of seconds" in err, err


@PROPERTY
@given(text=texts)
def test_history_limit(run_cli, text):
    result = run_cli("history", f"--limit={text}")
    if whole(text, high=MAX_COUNT, zero_is_none=False) is BAD:
        assert_refused(result, "--limit", text)
    else:
        assert result.code == 0 and "Traceback" not in result.err, result.err


def test_replay_head_timeout(run_cli, refused_port):
    url = f"http://127.0.0.1:{refused_port}/"
    assert run_cli("send", url).code == 1  # stored, with its options
    for bad in ("nan", "inf", "-1", "ten"):
        assert_refused(run_cli("replay", "last", f"--head-timeout={bad}"), "--head-timeout", bad)
    code, _, err = run_cli("replay", "last", "--head-timeout=2.5")
    assert code == 1 and "connect failed" in err
    from netlab.engine.history import History

    with History() as history:
        newest = history.get(history.last_id())
    assert newest.options.head_timeout == 2.5


@pytest.mark.parametrize("argv", [["serve", "--idle-timeout", "inf"], ["serve", "--request-timeout", "nan"],
                                  ["serve", "--idle-timeout", "1e300"], ["serve", "--port", "1e400"]])
def test_serve_refuses_values_that_never_end(run_cli, argv):
    code, _, err = run_cli(*argv)
    assert code == 2 and f"argument {argv[1]}: {argv[1]} must be" in err and "Traceback" not in err


def test_command_line_zero_overrides_the_settings_file(_private_settings, refused_port):
    _private_settings.write_text("max_time = 5\nhead_timeout = 7\nmax_body = 100\ntimeout = 3\n")
    base = common.exchange_options(cli.build_parser().parse_args(["send", "http://127.0.0.1:9/"]))
    assert (base.timeout, base.deadline, base.head_timeout, base.max_body_bytes) == (3.0, 5.0, 7.0, 100)
    args = cli.build_parser().parse_args(["send", "--max-time", "0", "--head-timeout", "0", "--max-body", "0",
                                          "http://127.0.0.1:9/"])
    opts = common.exchange_options(args)
    assert opts.deadline is None and opts.head_timeout is None and opts.max_body_bytes is None


@pytest.mark.parametrize("command, name", [
    ("curl -m inf http://127.0.0.1:{port}/", r"max.time"),
    ("curl --connect-timeout 1e999 http://127.0.0.1:{port}/", r"timeout"),
])
def test_a_curl_commands_values_follow_the_same_rule(run_cli, refused_port, command, name):
    """Refused by the curl reader or by Options.checked(), never sent and never a traceback."""
    code, _, err = run_cli("send", "--no-history", "--curl", command.format(port=refused_port))
    assert code == 2 and "Traceback" not in err and re.search(name, err), err
    assert "connect failed" not in err


def test_help_documents_the_head_timeout(run_cli):
    code, out, _ = run_cli("send", "--help")
    text = " ".join(out.split())
    assert code == 0 and "--head-timeout S" in text and "head_timeout, else 30" in text
    code, out, _ = run_cli("replay", "--help")
    assert code == 0 and "--head-timeout" in out


# ------------------------------------------------------------------------ the settings file

# settings key -> (Settings field, how the key's text is read, the default)
SETTINGS_KEYS = {
    "timeout": ("timeout", lambda v: seconds(v, zero_is_none=False), 10.0),
    "max_time": ("max_time", lambda v: seconds(v, zero_is_none=True), None),
    "head_timeout": ("head_timeout", lambda v: seconds(v, zero_is_none=True), 30.0),
    "max_body": ("max_body", lambda v: whole(v, high=TIB, zero_is_none=True), 1 << 30),
    "history.size": ("history_size", lambda v: whole(v, high=MAX_COUNT, zero_is_none=False), 0),
    "history.body_cap": ("history_body_cap", lambda v: whole(v, high=TIB, zero_is_none=False), 1 << 20),
}

toml_values = st.one_of(
    st.floats(),
    st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
    st.sampled_from([0, 0.0, -0.0, 1, 30, 86400, 86400.5, TIB, TIB + 1, MAX_COUNT, MAX_COUNT + 1, True]),
    st.text(max_size=20),
)


def toml_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    return '"' + "".join(  # a TOML basic string: quote, backslash and control characters escaped
        f"\\u{ord(c):04x}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7f else c for c in value) + '"'


def spec_for_toml(key: str, value):
    field, spec, _ = SETTINGS_KEYS[key]
    if isinstance(value, (bool, str)):
        return BAD  # a number key takes a TOML number, not a string or a boolean
    if field in ("timeout", "max_time", "head_timeout"):
        return spec(value)  # seconds: an integer or a float
    return spec(value) if isinstance(value, int) else BAD  # sizes and counts: integers only


@PROPERTY
@given(key=st.sampled_from(sorted(SETTINGS_KEYS)), value=toml_values)
@example(key="timeout", value=math.nan).via("issue 12.4")
@example(key="timeout", value=math.inf).via("issue 12.4")
@example(key="max_time", value=-1).via("issue 12.4")
@example(key="head_timeout", value="30").via("a string is no number")
def test_settings_file_values(_private_settings, key, value):
    table, _, name = key.rpartition(".")
    text = (f"[{table}]\n" if table else "") + f"{name} = {toml_text(value)}\n"
    _private_settings.write_text(text, encoding="utf-8")
    loaded = load()  # never raises
    field, _, default = SETTINGS_KEYS[key]
    want = spec_for_toml(key, value)
    got = getattr(loaded.settings, field)
    if want is BAD:
        (problem,) = loaded.problems
        assert problem.key == key and problem.line == (2 if table else 1)
        assert str(_private_settings) in problem.text and f": {key}: expected " in problem.text
        assert "using the default" in problem.text
        assert got == default
    else:
        assert loaded.problems == (), loaded.message
        assert got == want and (want is None or type(got) is type(want)), (key, value, got)


def test_settings_head_timeout_reaches_netlab_send_and_the_default_file(_private_settings):
    from netlab.settings import default_file_text, effective_toml, loads

    assert "# head_timeout = 30" in default_file_text()
    assert loads(default_file_text().replace("# head_timeout", "head_timeout")).settings.head_timeout == 30.0
    assert "head_timeout = 0" in effective_toml(Settings(head_timeout=None))
    _private_settings.write_text("head_timeout = 4.5\n")
    assert common.exchange_options(cli.build_parser().parse_args(["send", "http://127.0.0.1:9/"])).head_timeout == 4.5


# ----------------------------------------------------------------------------- the composer

COMPOSER_KEYS = {  # composer option -> (Options field, spec, what an empty field means, name in the message)
    "timeout": ("timeout", lambda t: seconds(t, zero_is_none=False), 10.0, "timeout"),
    "head_timeout": ("head_timeout", lambda t: seconds(t, zero_is_none=True), 30.0, "head timeout"),
    "max_time": ("deadline", lambda t: seconds(t, zero_is_none=True), None, "max time"),
}


def composer_build(**opt):
    """Composer.build() on a stand-in composer: the bytes, URL and option texts it reads."""
    from netlab.ui.panes.composer import Composer

    base = {"timeout": "10", "head_timeout": "30", "insecure": False, "resolve": "", "unix": "", "dns": "",
            "cacert": "", "max_time": ""}
    fake = SimpleNamespace(url="http://127.0.0.1:9/", data=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", opt={**base, **opt})
    return Composer.build(fake)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(COMPOSER_KEYS)), text=texts)
@example(key="timeout", text="nan").via("issue 12.4")
@example(key="head_timeout", text="inf").via("issue 12.4")
@example(key="max_time", text="-1").via("issue 12.4")
def test_composer_build(key, text):
    field, spec, empty, name = COMPOSER_KEYS[key]
    want = empty if not text.strip() else spec(text)
    if want is BAD:
        with pytest.raises(NetlabError) as info:
            composer_build(**{key: text})
        assert info.value.phase == "usage" and info.value.message.startswith(f"{name} must be ")
    else:
        _, options = composer_build(**{key: text})
        assert getattr(options, field) == want


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_composer_head_timeout_field_refuses_inline_and_sends_a_good_one(tmp_path, _private_settings):
    from textual.widgets import Input

    from netlab.ui.app import NetlabApp
    from tests.ui.conftest import wait_for

    _private_settings.write_text("head_timeout = 12\n")
    app = NetlabApp("http://127.0.0.1:9/", lab=False, live_connections=False,
                    history_path=str(tmp_path / "history.sqlite3"))
    app.animation_level = "none"
    sent = []
    app._start_send = lambda request, options: sent.append(options)  # record; nothing leaves the machine
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f8")  # the composer's options
        await wait_for(pilot, lambda: app.composer.query("#opt-head_timeout"), "the options form")
        box = app.composer.query_one("#opt-head_timeout", Input)
        assert box.value == "12" == app.composer.opt["head_timeout"]  # the settings file's
        for text, ok in (("nan", False), ("1e999", False), ("-3", False), ("soon", False), ("2.5", True),
                         ("0", True)):
            box.focus()
            await pilot.press("home", "ctrl+k", *text)
            assert app.composer.opt["head_timeout"] == text
            await pilot.press("ctrl+j")
            await pilot.pause()
            status = str(app.composer.query_one("#composer-status").render())
            if ok:
                assert "must be" not in status
            else:
                assert "✗" in status and "head timeout must be" in status, status
        assert [o.head_timeout for o in sent] == [2.5, None]  # only the good ones were sent


# ------------------------------------------- the head timeout reaches the engine (issue 12.2)


def trickle(conn, peer) -> None:
    """A head one byte every 50 ms, never finished: every read succeeds, so only a head
    deadline (or --max-time) ends the wait."""
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000  # over an hour and a half at this pace
    for i in range(len(head)):
        if peer.stop.wait(0.05):
            return
        conn.sendall(head[i:i + 1])


@pytest.mark.parametrize("where", ["command line", "settings file"])
def test_a_trickled_head_stops_at_the_head_timeout_given_on_the_command_line_or_in_the_settings(
        run_cli, tcp_peer, _private_settings, where):
    peer = tcp_peer(trickle)
    argv = ["send", "--no-history", "--max-time", "25", peer.url + "/"]  # --max-time: only a hang guard
    if where == "command line":
        argv[1:1] = ["--head-timeout", "0.4"]
    else:
        _private_settings.write_text("head_timeout = 0.4\n")
    code, _, err = run_cli(*argv)
    assert code == 1 and err.startswith("netlab: timed out: "), err
    assert "0.4 s" in err and "head" in err and "overall deadline" not in err, err
