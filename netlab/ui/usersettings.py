"""The settings file (netlab/settings.py) applied to the TUI.

``load(app)`` runs in ``NetlabApp.__init__``, before the first frame: it reads the file,
sets the theme (when the app has it) and the keymap (the [keys] overrides, by binding
id).  ``apply(app)`` runs on mount: the composer's default timeouts and DNS server, the
DNS pane's server, and one warning listing whatever was wrong with the file (each
problem names the line; the app runs with the defaults for those keys)."""

from __future__ import annotations

from netlab.settings import DEFAULT_HEAD_TIMEOUT, DEFAULT_TIMEOUT, Loaded
from netlab.settings import load as load_file


def load(app) -> Loaded:
    loaded = load_file()
    problems = list(loaded.problems)
    theme = loaded.settings.theme
    if theme is not None:
        bad = loaded.theme_problem(app.available_themes)
        if bad is not None:
            problems.append(bad)
        else:
            app.theme = theme
    if loaded.settings.keys:
        app.set_keymap(loaded.settings.keymap)
    app.settings_message = "\n".join(p.text for p in problems) or None
    return loaded


def apply(app) -> None:
    s = app.user_settings
    if s.timeout != DEFAULT_TIMEOUT:
        app.composer.opt["timeout"] = f"{s.timeout:g}"
    if s.head_timeout != DEFAULT_HEAD_TIMEOUT:  # None: no deadline, written 0 as in the file
        app.composer.opt["head_timeout"] = "0" if s.head_timeout is None else f"{s.head_timeout:g}"
    if s.dns_server:
        app.composer.opt["dns"] = s.dns_server
        app.dns.query_one("#dns-server").value = s.dns_server
    if app.settings_message:
        app.notify(app.settings_message, title="settings", severity="warning", markup=False, timeout=20)
