"""The settings file applied to the TUI: a bad file still starts (with one warning that
names the line), the theme, the key overrides, and the defaults the composer, the DNS
pane, sends and the history take from it.  NETLAB_SETTINGS points at a per-test path
(tests/conftest.py)."""

from __future__ import annotations

import pytest

from netlab.settings import ACTIONS
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def recording(app) -> list[tuple]:
    """Record every app.notify(...) call: (message, keyword arguments)."""
    calls: list[tuple] = []
    original = app.notify

    def notify(message, *args, **kw):
        calls.append((message, kw))
        return original(message, *args, **kw)

    app.notify = notify
    return calls


def settings_warnings(calls) -> list[tuple]:
    return [(msg, kw) for msg, kw in calls if kw.get("title") == "settings"]


def test_the_app_bindings_are_the_settings_actions():
    """[keys] names the app's binding ids; settings.ACTIONS lists them with their keys."""
    from netlab.ui.app import NetlabApp

    assert {b.id: b.key for b in NetlabApp.BINDINGS} == ACTIONS


async def test_a_file_that_is_not_toml_starts_with_defaults_and_one_warning(make_app, _private_settings):
    _private_settings.write_text('theme = "nord"\ntimeout = 2\n[keys\nhelp = "f9"\n')
    app = make_app()
    calls = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (warning,) = settings_warnings(calls)
        message, kw = warning
        assert "line 3" in message and str(_private_settings) in message and "not valid TOML" in message
        assert kw["severity"] == "warning" and kw["markup"] is False
        assert app.theme == "textual-dark" and app.composer.opt["timeout"] == "10"  # the defaults
        await pilot.press("f1")  # the default keys work
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen")
        await pilot.press("escape")


async def test_bad_values_warn_with_their_lines_and_the_good_ones_apply(make_app, _private_settings):
    _private_settings.write_text('timeout = 2.5\ntheme = "no-such-theme"\n[history]\nsize = "many"\n'
                                 "[keys]\nsend = \"x\"\nhelp = \"f9\"\n")
    app = make_app()
    calls = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (warning,) = settings_warnings(calls)
        message = warning[0]
        assert "line 2: theme: 'no-such-theme' is not a theme" in message
        assert "line 4: history.size" in message and "line 6: keys.send" in message
        assert app.theme == "textual-dark"
        assert app.composer.opt["timeout"] == "2.5"
        assert app.user_settings.keymap == {"help": "f9"}
        assert app.services.store._options["max_entries"] == 0  # the bad size: keep all
        # the warning is shown once: later work does not repeat it
        await pilot.press("f9")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen")
        await pilot.press("escape")
        await pilot.pause()
        assert len(settings_warnings(calls)) == 1


async def test_the_theme_comes_from_the_file(make_app, _private_settings):
    _private_settings.write_text('theme = "nord"\n')
    app = make_app()
    calls = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "nord" and app.current_theme.name == "nord"
        assert settings_warnings(calls) == []


async def test_no_file_changes_nothing(make_app, _private_settings):
    assert not _private_settings.exists()
    app = make_app()
    calls = recording(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert settings_warnings(calls) == [] and app.theme == "textual-dark"
        assert app.composer.opt["timeout"] == "10" and app.composer.opt["dns"] == ""


async def test_a_key_override_replaces_the_old_key(make_app, _private_settings):
    _private_settings.write_text('[keys]\nhelp = "f9"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f1")  # the old key: nothing
        await pilot.pause()
        assert type(app.screen).__name__ != "HelpScreen"
        bar = {item[2]: item[0] for item in app.query_one("KeyBar")._items()}
        assert bar.get("help") == "f9"  # the key bar shows the new key
        await pilot.press("f9")  # the new key: the help screen
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the help screen")
        from netlab.ui.commands import help_sections, system_commands

        everywhere = dict((action, key) for key, action, _ in help_sections(type(app), app._keymap)[0][1])
        assert everywhere["Help"] == "f9"  # the help screen lists the new key, not f1
        helps = [c for c in system_commands(app, app.screen) if c.title == "Help"]
        assert helps and "(f9)" in helps[0].help


async def test_send_on_another_key(make_app, lab_server, _private_settings):
    """send works in text fields (a priority binding): rebound to ctrl+s, ctrl+s sends from
    the URL bar and ctrl+j no longer does."""
    _private_settings.write_text('[keys]\nsend = "ctrl+s"\n')
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "url", "the URL bar")
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert app._send_id == 0 and app.response.prepared is None
        before = app.response.prepared
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the exchange")
        ex = app.response.prepared.exchange
        assert app._send_id == 1 and ex.error is None and ex.response.status == 200


async def test_sends_take_the_limits_and_the_history_its_size(make_app, lab_server, _private_settings):
    _private_settings.write_text("timeout = 7\nmax_body = 10\nmax_time = 60\n[history]\nsize = 1\n")
    app = make_app(lab_server.url + "/bytes/100")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.composer.opt["timeout"] == "7"
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is not None and ex.error.phase == "limit"
        assert ex.options.max_body_bytes == 10 and ex.options.deadline == 60 and ex.options.timeout == 7
        app.composer.load_url(lab_server.url + "/ip")
        await send_and_wait(pilot, app)
        await wait_for(pilot, lambda: [e.url for e in app.history_entries] == [lab_server.url + "/ip"],
                       "the history of one entry")


async def test_the_dns_server_is_the_default_for_sends_and_the_dns_pane(make_app, dnsmasq, lab_server,
                                                                       _private_settings):
    server = f"127.0.0.1:{dnsmasq.port}"
    _private_settings.write_text(f'dns_server = "{server}"\n')
    app = make_app(f"http://known.test:{lab_server.port}/ip")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.dns.query_one("#dns-server").value == server
        assert app.composer.opt["dns"] == server
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is None and ex.response.status == 200
        assert ex.dns.source == "dns" and ex.options.dns_server == ("127.0.0.1", dnsmasq.port)


def test_the_viewer_key_table_is_the_response_viewers_bindings():
    from netlab.settings import PANE_ACTIONS
    from netlab.ui.panes.response import ResponseView

    assert {b.id: b.key for b in ResponseView.BINDINGS if b.id} == PANE_ACTIONS


async def test_a_viewer_key_override(make_app, lab_server, _private_settings):
    """[keys] response_search = "ctrl+b": ctrl+b opens the search line in the viewer, / does not;
    the help screen lists the new key."""
    _private_settings.write_text('[keys]\nresponse_search = "ctrl+b"\n')
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        bars = list(app.response.query("SearchBar"))
        assert not bars or not bars[0].display  # the old key does nothing now
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: any(b.display for b in app.response.query("SearchBar")), "the search line")
        from netlab.ui.commands import help_sections

        response_rows = dict(help_sections(type(app), app._keymap))["Response"]
        assert ("ctrl+b", "Search") == response_rows[[r[1] for r in response_rows].index("Search")][:2]
