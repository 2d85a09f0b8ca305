"""The key matrix: every binding F1 lists, pressed from every focus position, does what F1
says — and the composer's request changes only when the key is typed into one of its
fields (or is the composer's own undo/redo).

The bindings and the positions are generated (from the classes' BINDINGS, which F1 is
built from, and from the panes), not hand-picked; one app per focus position keeps a
failure readable.  Real peers: the lab server on loopback."""

from __future__ import annotations

from functools import partial

import pytest
from textual.widgets import Input, TextArea

from netlab.ui.commands import _bindings, help_sections, modal_classes, pane_classes
from netlab.ui.keys import key_name, keys_text
from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)
RESPONSE_TABS = ("body", "headers", "raw", "hex", "timing", "connection", "packets")
DNS_TABS = ("answer", "authority", "additional", "trace", "system", "history")


def _all_bindings():
    """(owner class, binding) for the app and every pane, as F1 lists them."""
    from netlab.ui.app import NetlabApp

    out = [(NetlabApp, b) for b in _bindings(NetlabApp) if b.description]
    for _title, classes in pane_classes():
        for cls in classes:
            out += [(cls, b) for b in _bindings(cls) if b.description]
    return out


# -- focus positions ------------------------------------------------------------------------------
async def _focus(pilot, app, selector: str) -> None:
    widget = app.query_one(selector)
    widget.focus()
    await wait_for(pilot, lambda: app.focused is widget, f"focus on {selector}")


async def _composer_tab(pilot, app, tab: str, selector: str) -> None:
    await app.composer.show_tab(tab)
    await _focus(pilot, app, selector)


async def _response_tab(pilot, app, tab: str) -> None:
    await app.response.action_tab(tab)
    await wait_for(pilot, lambda: app.grid.pane_of(app.focused) is app.response, f"the {tab} tab's focus")


async def _dns_tab(pilot, app, tab: str) -> None:
    app.dns.action_tab(tab)
    await pilot.pause()
    app.grid.focus_into(app.dns)
    target = None
    for widget in app.dns.query("*"):  # the tab's own content, not the name field
        if widget.focusable and widget.display and not isinstance(widget, Input) and \
                any(a.id and a.id.startswith("dns-") and a.parent is not None and a.parent.id == "dns-switcher"
                    for a in widget.ancestors_with_self):
            target = widget
            break
    assert target is not None, f"nothing to focus in the DNS {tab} tab"
    target.focus()
    await wait_for(pilot, lambda: app.focused is target, f"the DNS {tab} tab's focus")


def _at_tab(go, tab: str, pilot, app):
    return go(pilot, app, tab)


POSITIONS = {
    "composer.method": lambda p, a: _focus(p, a, "#method"),
    "composer.url": lambda p, a: _focus(p, a, "#url"),
    "composer.headers": lambda p, a: _focus(p, a, "#headers"),
    "composer.body": lambda p, a: _focus(p, a, "#body"),
    "composer.raw": lambda p, a: _composer_tab(p, a, "raw", "#raw"),
    "composer.options": lambda p, a: _composer_tab(p, a, "options", "#opt-timeout"),
    **{f"response.{t}": partial(_at_tab, _response_tab, t) for t in RESPONSE_TABS},
    "dns.name": lambda p, a: _focus(p, a, "#dns-name"),
    **{f"dns.{t}": partial(_at_tab, _dns_tab, t) for t in ("answer", "history")},
    "connections.table": lambda p, a: (a.connections.focus_pane(), p.pause())[1],
}


def _count_toasts(app) -> None:
    """``app.said``: every toast's text, in order (the toasts on screen expire)."""
    app.said = []
    notify = app.notify

    def counting(message, *args, **kw):
        app.said.append(str(message))
        return notify(message, *args, **kw)

    app.notify = counting


def _pane_name(app, widget) -> str | None:
    pane = app.grid.pane_of(widget)
    return pane.id if pane is not None else None


def _state(app) -> dict:
    return {
        "data": app.composer.data,
        "url": app.composer.query_one("#url", Input).value,
        "screen": type(app.screen).__name__,
        "stack": len(app.screen_stack),
        "pane": _pane_name(app, app.focused) if len(app.screen_stack) == 1 else None,
        "maximized": app.screen.maximized is not None,
        "send_id": app._send_id,
        "response_tab": app.response.active_tab,
        "composer_tab": app.composer.active_tab,
        "focused": app.focused,
        "toasts": len(app.said),
    }


def _is_composer_field(app, widget) -> bool:
    return isinstance(widget, (Input, TextArea)) and app.grid.pane_of(widget) is app.composer and \
        (widget.id in ("method", "url", "headers", "body", "raw") or (widget.id or "").startswith("opt-"))


def _global_effect(action: str, before: dict, after: dict, app, position: str) -> None:
    """What F1 says an app-wide key does, checked."""
    name = action.split("(")[0]
    if name == "show_pane":
        want = action.split("'")[1]
        assert after["stack"] == 1 and after["pane"] == want, (after["pane"], want)
    elif name == "history":
        assert after["screen"] == "HistoryScreen"
    elif name == "help":
        assert after["screen"] == "HelpScreen"
    elif name == "composer_tab":
        tab = action.split("'")[1]
        assert after["stack"] == 1 and after["pane"] == "composer"
        if tab == "options":
            assert after["composer_tab"] == "options" and app.focused.id == "opt-timeout"
        elif position == "composer.raw":  # in the raw view F7 goes back to the fields
            assert after["composer_tab"] == "fields"
        elif position.startswith("composer."):
            assert after["composer_tab"] in ("raw", "fields") and after["composer_tab"] != before["composer_tab"] or \
                after["composer_tab"] == "raw"
        else:
            assert after["composer_tab"] == "raw" and app.focused.id == "raw"
    elif name == "toggle_maximize":
        assert after["maximized"] != before["maximized"]
    elif name in ("send", "replay_last"):
        assert after["send_id"] == before["send_id"] + 1
    elif name == "open_http":
        assert after["screen"] == "PromptScreen"
    elif name == "export":
        assert after["screen"] == "ExportScreen"
    elif name == "compare_last":
        assert after["screen"] == "DiffScreen" or after["toasts"] > before["toasts"]
    elif name == "hops":  # the exchange shown here followed no redirect: a word saying how to get hops
        assert after["screen"] == "HopsScreen" or after["toasts"] > before["toasts"]
    elif name == "cookies":
        assert after["screen"] == "CookiesScreen"
    elif name == "cancel":  # nothing in flight, nothing maximised: nothing happens
        assert after["stack"] == before["stack"] and after["send_id"] == before["send_id"]
    elif name == "quit":
        pass  # checked by its own test: it ends the app
    else:  # pragma: no cover - a new app key needs its oracle here
        raise AssertionError(f"no oracle for the app's {action!r}")


def _own_effect(owner: str, action: str, before: dict, after: dict, app) -> None:
    """A pane's key pressed in that pane: the documented effect, for the keys with one
    that can be seen from the outside; the others must at least keep the focus in the
    pane or open what they open (a line, a prompt, a toast)."""
    name = action.split("(")[0]
    if owner == "ResponseView" and name == "tab":
        assert after["response_tab"] == action.split("'")[1]
    elif owner == "ResponseView" and name == "cycle_tab":
        step = int(action.split("(")[1].rstrip(")"))
        i = RESPONSE_TABS.index(before["response_tab"])
        assert after["response_tab"] == RESPONSE_TABS[(i + step) % len(RESPONSE_TABS)]
    elif owner == "ResponseView" and name == "search":
        searchable = before["response_tab"] in ("body", "raw", "hex", "connection")
        assert (app.focused is not None and app.focused.id == "search-input") if searchable else \
            after["toasts"] > before["toasts"]
    elif owner == "ResponseView" and name == "save":
        assert after["screen"] == "PromptScreen" or after["toasts"] > before["toasts"]
    elif owner == "ResponseView" and name in ("copy", "copy_status", "copy_curl", "next_match"):
        assert after["toasts"] > before["toasts"], f"{action}: no word to the user"
    elif owner == "Composer" and name in ("copy_curl", "undo", "redo"):
        pass  # the status line says it (checked in test_composer_keys)
    elif owner == "Composer" and name == "save_http":
        assert after["screen"] == "PromptScreen"
    elif owner == "ConnectionsPane" and name == "filter":
        assert app.focused is not None and isinstance(app.focused, Input)
    else:
        assert after["stack"] > before["stack"] or after["pane"] == before["pane"], \
            f"{owner}.{action} moved the focus out of its pane"


OWNER_PANE = {"Composer": "composer", "ResponseView": "response", "DnsPane": "dns", "DnsTable": "dns",
              "ConnectionsPane": "connections", "HistoryTable": None}


async def _reset(pilot, app, position: str, data: bytes, url: str) -> None:
    while len(app.screen_stack) > 1:
        app.pop_screen()
    if app.screen.maximized is not None:
        app.screen.minimize()
    app.response._end_search()
    if app.composer.data != data or app.composer.url != url:
        app.composer.load(data, url)
    await pilot.pause()
    await POSITIONS[position](pilot, app)


@pytest.mark.parametrize("position", list(POSITIONS))
async def test_every_key_from_every_focus_position(position, make_app, lab_server, monkeypatch, tmp_path):
    monkeypatch.setenv("PAGER", "true")
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.setenv("VISUAL", "true")
    monkeypatch.chdir(tmp_path)
    app = make_app(lab_server.url + "/ip")
    _count_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await app.response.ensure_tabs()
        await app.composer.ensure_tabs()
        data, url = app.composer.data, app.composer.url
        await POSITIONS[position](pilot, app)
        base = _state(app)
        checked = 0
        for owner_cls, binding in _all_bindings():
            action = binding.action
            if action.split("(")[0] == "quit":
                continue
            key = binding.key.split(",")[0].strip()
            owner = owner_cls.__name__
            before = _state(app)
            focused = app.focused
            await pilot.press(key)
            await pilot.pause()
            if action.split("(")[0] in ("send", "replay_last"):
                await wait_for(pilot, lambda: app._cancel is None, "the exchange")
            if action.split("(")[0] == "search" and owner == "ResponseView":
                await pilot.pause(0.05)
            after = _state(app)
            where = f"{keys_text(key)} ({owner}.{action}) from {position}"
            char = " " if key == "space" else key_name(key)
            typed = isinstance(focused, (Input, TextArea)) and len(char) == 1 and char.isprintable() or \
                isinstance(focused, TextArea) and key == "enter"
            edits_composer = _is_composer_field(app, focused) and typed
            meant = edits_composer or owner == "Composer" and action.split("(")[0] in ("undo", "redo")
            if not meant and action.split("(")[0] not in ("replay_last",):
                assert (after["data"], after["url"]) == (before["data"], before["url"]), \
                    f"{where} changed the request: {before['data']!r} → {after['data']!r}"
            if owner == "NetlabApp":
                _global_effect(action, before, after, app, position)
            elif not typed and OWNER_PANE.get(owner) == before["pane"] and before["stack"] == 1:
                _own_effect(owner, action, before, after, app)
            elif not typed and before["stack"] == 1 and after["stack"] == 1:
                # another pane's key: it may be this pane's key too, but it never moves the focus out
                assert after["pane"] == before["pane"], f"{where} moved the focus to {after['pane']}"
            checked += 1
            if any(after[k] != base[k] for k in base if k not in ("toasts", "send_id")):
                await _reset(pilot, app, position, data, url)
                base = _state(app)
        assert checked >= 40


async def test_global_keys_work_inside_every_modal(make_app, lab_server, monkeypatch, tmp_path):
    """F1-F6, F7, F8, F11 and ctrl+j from a modal: the help, the history, a prompt, the
    export chooser and the search line; escape closes each modal."""
    monkeypatch.chdir(tmp_path)
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        opens = {"help": ("f1", "HelpScreen"), "history": ("f6", "HistoryScreen"),
                 "prompt": ("ctrl+o", "PromptScreen"), "export": ("ctrl+n", "ExportScreen")}
        for what, (opener, screen) in opens.items():
            for key, check in (("f2", lambda: app.grid.pane_of(app.focused) is app.composer),
                               ("f3", lambda: app.grid.pane_of(app.focused) is app.response),
                               ("f7", lambda: app.focused is not None and app.focused.id == "raw"),
                               ("escape", lambda: len(app.screen_stack) == 1)):
                await app.composer.show_tab("fields")
                await pilot.press("f3")
                await pilot.pause()
                await pilot.press(opener)
                await wait_for(pilot, lambda s=screen: type(app.screen).__name__ == s, f"the {what} screen")
                await pilot.press(key)
                await wait_for(pilot, check, f"{key} from the {what} screen")
                assert len(app.screen_stack) == 1, f"{key} left the {what} screen open"


async def test_keys_typed_while_the_search_line_opens_go_into_it(make_app, lab_server):
    """`/bare` and `/Y` arriving at once: every key after / lands in the search line, none
    runs as a shortcut (e would open $EDITOR, Y copy the status line)."""
    from textual import events

    app = make_app(lab_server.url + "/echo")
    _count_toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.grid.pane_of(app.focused) is app.response, "the response pane")
        toasts = len(app.said)
        for ch, key in (("/", "slash"), ("b", "b"), ("a", "a"), ("r", "r"), ("e", "e"), ("Y", "Y")):
            app.post_message(events.Key(key, ch))  # all queued before any is handled
        bar = None
        await wait_for(pilot, lambda: app.response.search_bar is not None, "the search line")
        bar = app.response.search_bar
        await wait_for(pilot, lambda: bar.query == "bareY", f"the typed query (now {bar.query!r})")
        assert len(app.said) == toasts, f"a key ran as a shortcut: {app.said[toasts:]}"
        # and when / opens nothing (Timing tab), the keys after it are keys again
        await pilot.press("escape")
        await app.response.action_tab("timing")
        await pilot.pause()
        for ch, key in (("/", "slash"), ("1", "1")):
            app.post_message(events.Key(key, ch))
        await wait_for(pilot, lambda: app.response.active_tab == "body", "the 1 after a / that opened nothing")


async def test_composer_keys_undo_redo_and_host(make_app, lab_server):
    """ctrl+z undoes an edit in any composer field (the Host netlab filled coming back with
    the URL), ctrl+shift+z redoes it; a typed Host is kept and flagged."""
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        original = app.composer.data
        await pilot.press("f2")
        url = app.composer.query_one("#url", Input)
        await wait_for(pilot, lambda: url.has_focus, "the URL bar")
        url.cursor_position = len(url.value)
        await pilot.press("6")
        assert app.composer.url.endswith("/ip6")
        await pilot.press("ctrl+z")
        assert app.composer.data == original and app.composer.url == lab_server.url + "/ip"
        await pilot.press("ctrl+shift+z")
        assert app.composer.url.endswith("/ip6")
        await pilot.press("ctrl+z")
        # the host changes through an invalid URL: the Host header netlab filled follows
        url.value = ""
        await pilot.pause()
        for ch in f"http://localhost:{lab_server.port}/ip":
            await pilot.press(ch if ch != "/" else "slash")
        assert f"Host: localhost:{lab_server.port}\r\n".encode() in app.composer.data
        # a Host typed by the user is kept when the URL changes, and flagged
        headers = app.composer.query_one("#headers", TextArea)
        headers.focus()
        await pilot.pause()
        headers.load_text(headers.text.replace(f"localhost:{lab_server.port}", "example.test"))
        app.composer._fields_edited("headers")
        url.focus()
        await pilot.pause()
        await pilot.press("backspace", "p")
        assert b"Host: example.test\r\n" in app.composer.data
        assert "not the URL's" in str(app.composer.query_one("#composer-status").render())
        # ctrl+z in a text area is the composer's undo, not the area's own
        headers.focus()
        await pilot.pause()
        before = app.composer.data
        await pilot.press("end", "x")
        assert app.composer.data != before
        await pilot.press("ctrl+z")
        assert app.composer.data == before


async def test_a_request_that_cannot_be_built_is_said_in_the_response_pane(make_app, lab_server):
    app = make_app(lab_server.url + "/ip")
    async with app.run_test(size=SIZE) as pilot:
        await send_and_wait(pilot, app)
        assert "200" in str(app.response.query_one("#resp-status").render())
        app.composer._set_opt("timeout", "soon")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "not sent" in str(app.response.query_one("#resp-status").render()),
                       "the error in the Response pane")
        status = str(app.response.query_one("#resp-status").render())
        assert "timeout" in status and "'soon'" in status and "200" not in status
        assert app.response.prepared is None  # the previous 200 is gone, not shown as this request's answer


def test_f1_lists_exactly_the_bindings():
    """F1's table is generated from the bindings: every described binding of the app and
    the panes is there with the keys a person types, and nothing else is."""
    from netlab.ui.app import NetlabApp

    sections = dict(help_sections(NetlabApp))
    listed = {(keys, desc) for rows in sections.values() for keys, desc, _tip in rows}
    want = {(keys_text(b.key), b.description) for _cls, b in _all_bindings()}
    for _title, classes in modal_classes():
        want |= {(keys_text(b.key), b.description) for cls in classes for b in _bindings(cls) if b.description}
    want |= {("ctrl+p", "Commands"), ("tab, shift+tab", "Focus")}
    assert listed == want
    keys = " ".join(k for k, _d in listed)
    for internal in ("slash", "less_than_sign", "greater_than_sign", "square_bracket"):
        assert internal not in keys


def test_readme_key_table_matches_f1():
    """The README's key table is F1's, generated by scripts/keys_table.py."""
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    table = subprocess.run([sys.executable, str(root / "scripts" / "keys_table.py")], capture_output=True, text=True,
                           check=True).stdout.strip()
    readme = (root / "README.md").read_text()
    start, end = readme.index("<!-- keys:start -->"), readme.index("<!-- keys:end -->")
    assert readme[start:end].removeprefix("<!-- keys:start -->").strip() == table


async def test_quit_key_ends_the_app(make_app):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await _focus(pilot, app, "#headers")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
