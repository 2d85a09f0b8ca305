"""The help screen's sections and the command palette's commands, both generated from
the bindings, so every action with a key is also listed and searchable."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Iterable

from textual.binding import Binding

from netlab.ui.keys import HOPS_KEY, keys_text


def _bindings(cls, keymap: dict[str, str] | None = None) -> list[Binding]:
    """The bindings ``cls`` declares, with keys overridden by ``keymap`` (binding id →
    keys, as the settings file's [keys] table sets it through ``App.set_keymap``)."""
    out = []
    for b in cls.__dict__.get("BINDINGS", ()):
        b = b if isinstance(b, Binding) else Binding(*b)
        if keymap and b.id and b.id in keymap:
            b = replace(b, key=keymap[b.id])
        out.append(b)
    return out


def pane_classes():
    from netlab.ui.panes.composer import Composer
    from netlab.ui.panes.connections import ConnectionsPane
    from netlab.ui.panes.dns import DnsPane
    from netlab.ui.panes.response import ResponseView
    from netlab.ui.screens.history import HistoryTable
    from netlab.ui.widgets.dnstable import DnsTable

    return [("Composer", (Composer,)), ("Response", (ResponseView,)), ("DNS", (DnsPane, DnsTable)),
            ("Connections", (ConnectionsPane,)), ("History (F6)", (HistoryTable,))]


def modal_classes():
    """The screens and lines that open over the panes: each says its keys in F1 too."""
    from netlab.ui.screens.cookies import CookiesScreen, CookieTable
    from netlab.ui.screens.diff import DiffScreen
    from netlab.ui.screens.export import ExportScreen
    from netlab.ui.screens.help import HelpScreen
    from netlab.ui.screens.history import HistoryScreen
    from netlab.ui.screens.hops import HopsScreen, HopTable
    from netlab.ui.screens.prompt import PromptScreen
    from netlab.ui.screens.requestlist import RequestListScreen
    from netlab.ui.screens.stack import StackScreen
    from netlab.ui.widgets.searchbar import SearchBar

    return [("Search line (/ in Response)", (SearchBar,)), ("Prompts (save, open)", (PromptScreen,)),
            ("Export (ctrl+n)", (ExportScreen,)), ("Compare (ctrl+g)", (DiffScreen,)),
            (".http requests (ctrl+o)", (RequestListScreen,)), ("History screen (F6)", (HistoryScreen,)),
            (f"Redirect hops ({HOPS_KEY})", (HopsScreen, HopTable)), ("Cookies (F12)", (CookiesScreen, CookieTable)),
            ("Stack (ctrl+p: Stack)", (StackScreen,)), ("Help (F1)", (HelpScreen,))]


def help_sections(app_cls, keymap: dict[str, str] | None = None) -> list:
    from netlab.ui.screens.help import binding_rows

    everywhere = binding_rows(_bindings(app_cls, keymap))
    sections = [("Everywhere", everywhere + [("ctrl+p", "Commands", "Search every action"),
                                                                   ("tab, shift+tab", "Focus", "Move between fields")])]
    for title, classes in pane_classes() + modal_classes():
        rows = [row for cls in classes for row in binding_rows(_bindings(cls, keymap))]
        sections.append((title, rows))
    return sections


def system_commands(app, screen) -> Iterable:
    """A SystemCommand for each described binding of the app and of the panes on ``screen``."""
    from textual.app import SystemCommand

    for b in _bindings(type(app), getattr(app, "_keymap", None)):
        if b.description and app.check_action(b.action.split("(")[0], ()) is not False:
            yield SystemCommand(b.description, f"{b.tooltip or b.description}  ({keys_text(b.key)})",
                                partial(app.run_action, b.action))
    yield SystemCommand("Stack", "The composer's URL through each layer: socket, http.client, urllib, urllib3, "
                        "requests: the bytes each sends, the headers each adds", app.action_stack)
    for title, classes in pane_classes():
        for cls in classes:
            for node in screen.query(cls.__name__):
                for b in _bindings(cls, getattr(app, "_keymap", None)):
                    if b.description:
                        yield SystemCommand(f"{title}: {b.description}",
                                            f"{b.tooltip or b.description}  ({keys_text(b.key)})",
                                            partial(app.run_action, b.action, node))


def toggle_help(app) -> None:
    """F1: open the help over what is shown, or close it."""
    from netlab.ui.screens.help import HelpScreen

    if isinstance(app.screen, HelpScreen):
        app.pop_screen()
        return
    app.push_screen(HelpScreen(help_sections(type(app), getattr(app, "_keymap", None))))
