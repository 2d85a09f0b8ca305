"""The keyboard model: the app's global keys, how keys are named for people, and the
key hold that lets a modal line (search, prompt, palette) take every key typed after
the key that opens it, however fast.

One focus model: the pane whose border is lit holds the focus and owns the keys.  The
global keys below are *priority* bindings, so they work from every focus position, a
text field's own bindings (TextArea's F6/F7, say) included.  Escape is not a priority
key: a modal line or a filter that is open takes it first.
"""

from __future__ import annotations

import time

from textual import events
from textual.binding import Binding
from textual.keys import key_to_character

_panes = Binding.Group("Panes", compact=True)
HOPS_KEY = "ctrl+f"  # views/status.py's HOPS_KEY names it on the response status line (a test keeps them equal)

APP_BINDINGS = [
    Binding("ctrl+j", "send", "Send", priority=True, id="send", tooltip="Send the composer's request"),
    Binding("escape", "cancel", "Cancel", id="cancel",
            tooltip="Cancel the request in flight (or restore a maximised pane)"),
    Binding("ctrl+r", "replay_last", "Replay", priority=True, id="replay_last",
            tooltip="Send the last exchange's bytes again"),
    Binding("f2", "show_pane('composer')", "Composer", group=_panes, priority=True, id="show_composer",
            tooltip="Go to the composer"),
    Binding("f3", "show_pane('response')", "Response", group=_panes, priority=True, id="show_response",
            tooltip="Go to the response viewer"),
    Binding("f4", "show_pane('dns')", "DNS", group=_panes, priority=True, id="show_dns", tooltip="Go to the DNS pane"),
    Binding("f5", "show_pane('connections')", "Connections", group=_panes, priority=True, id="show_connections",
            tooltip="Go to the connection table"),
    Binding("f6", "history", "History", group=_panes, priority=True, id="history",
            tooltip="The history of exchanges (again: close it)"),
    Binding("f7", "composer_tab('raw')", "Raw view", show=False, priority=True, id="composer_raw",
            tooltip="Composer: switch between the fields view and the raw bytes view"),
    Binding("f8", "composer_tab('options')", "Options", show=False, priority=True, id="composer_options",
            tooltip="Composer: timeout, insecure TLS, resolve pin, Unix socket, DNS server"),
    Binding("f11,ctrl+t", "toggle_maximize", "Maximise", priority=True, id="toggle_maximize",
            tooltip="Maximise the current pane, or restore it"),
    Binding("ctrl+o", "open_http", "Open .http", show=False, id="open_http",
            tooltip="Open a .http file: a list of its requests to load or send"),
    Binding("ctrl+n", "export", "Export", show=False, id="export",
            tooltip="Export the exchange shown (in the composer: its request)"),
    Binding("ctrl+g", "compare_last", "Compare last", show=False, id="compare_last",
            tooltip="Compare the last two exchanges side by side"),
    Binding(HOPS_KEY, "hops", "Redirect hops", show=False, id="hops",
            tooltip="The redirect hops of the exchange shown: open one with all its tabs, or go back to the final"),
    Binding("f12", "cookies", "Cookies", show=False, id="cookies",
            tooltip="The session's cookie jar: name, value (masked), domain, path, expiry, who set it"),
    Binding("f1", "help", "Help", priority=True, id="help", tooltip="Every key, by pane (again: close it)"),
    Binding("f10,ctrl+q", "quit", "Quit", priority=True, id="quit", tooltip="Quit netlab"),
]



class ScreenActions:
    """The app's actions that open a screen over the panes (redirect hops, cookies, the
    stack): a mixin of NetlabApp, so that app.py stays thin; the work is in navigation.py
    and the screens are imported when opened."""

    def action_hops(self) -> None:
        from netlab.ui.navigation import open_hops

        open_hops(self)

    def action_cookies(self) -> None:
        from netlab.ui.navigation import open_cookies

        open_cookies(self)

    def action_stack(self) -> None:
        from netlab.ui.navigation import open_stack

        open_stack(self)


# Names a person types, for Textual's key names that are not (F1 and the footer).
_NAMES = {"escape": "esc", "slash": "/", "backslash": "\\", "space": "space", "enter": "enter", "tab": "tab",
          "backspace": "backspace", "delete": "delete", "pageup": "pgup", "pagedown": "pgdn", "home": "home",
          "end": "end",
          "up": "↑", "down": "↓", "left": "←", "right": "→"}


def key_name(key: str) -> str:
    """``slash`` → ``/``, ``less_than_sign`` → ``<``, ``ctrl+j`` stays ``ctrl+j``."""
    key = key.strip()
    *mods, base = key.split("+") if key not in ("+", "plus") else ["+"]
    if base in _NAMES:
        name = _NAMES[base]
    elif len(base) == 1 or base.startswith("f") and base[1:].isdigit():
        name = base
    else:
        char = key_to_character(base)
        name = char if char is not None and char.isprintable() else base.replace("_", " ")
    return "+".join([*mods, name])


def keys_text(keys: str) -> str:
    """A binding's key list for people: ``left_square_bracket,f6`` → ``[, f6``."""
    return ", ".join(key_name(k) for k in keys.split(","))


# -- the key hold ---------------------------------------------------------------------------
# Actions that open a one-line input (a modal line).  Their widget appears a moment after
# the key; keys typed in that moment are held and then given to the line in order.
OPENERS = frozenset({"search", "filter", "save", "save_http", "open_http", "command_palette", "lookup_edit"})
HOLD_LIMIT = 1.0  # seconds: a line that never takes the focus gets the held keys dispatched as usual


class KeyHold:
    """Holds an app's key events while a modal line opens.  ``app.on_event`` asks
    ``take(event)`` first; a key that opens a line starts the hold; the held keys are
    dispatched again, in order, once the focus is in a text field that was not focused
    when the hold began (the line), or when the opener says there is no line
    (``release()``), or after ``HOLD_LIMIT`` at the latest.  Nothing typed is lost."""

    def __init__(self, app) -> None:
        self.app = app
        self.held: list[events.Key] | None = None
        self._was = None  # the widget focused when the hold began
        self._since = 0.0
        self._timer = None

    def take(self, event: events.Key) -> bool:
        """True when the key is held (the caller must not dispatch it now)."""
        if self.held is not None:
            self.held.append(event)
            return True
        if self._opens_line(event):
            self.held = []
            self._was = self.app.focused
            self._since = time.monotonic()
            self._timer = self.app.set_interval(0.01, self._check)
        return False

    def hold(self) -> None:
        """Hold every key from now until ``release()``: the app starts so, and gives the URL
        bar the focus after the first frame, so that keys typed before then land there."""
        if self.held is None:
            self.held = []
            self._was = None

    def release(self) -> None:
        """The opener found nothing to open (or the app's first focus is placed): dispatch
        what is held now."""
        if self.held is not None:
            self.app.call_later(self._drain)

    def _check(self) -> None:
        focused = self.app.focused
        ready = focused is not None and focused is not self._was and _is_text(focused)
        if ready or time.monotonic() - self._since > HOLD_LIMIT:
            self._drain()

    def _drain(self) -> None:
        held, self.held = self.held, None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        for event in held or ():
            self.app.post_message(events.Key(event.key, event.character))

    def _opens_line(self, event: events.Key) -> bool:
        app = self.app
        focused = app.focused
        if focused is not None and _is_text(focused) and event.is_printable:
            return False  # typed into the field
        for _namespace, bindings in app.screen._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, ()):
                return binding.action.split("(")[0] in OPENERS
        return False


def _is_text(widget) -> bool:
    from textual.widgets import Input, TextArea

    return isinstance(widget, (Input, TextArea))
