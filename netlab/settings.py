"""The settings file: ``<user config dir>/netlab/settings.toml`` (``$NETLAB_SETTINGS``
overrides the path).  Every key is optional; a missing file means the defaults, which
are netlab's behaviour without a file.

    timeout = 10                 # seconds: the connection, and each read (--timeout)
    max_time = 0                 # seconds for the whole exchange (--max-time); 0: no deadline
    head_timeout = 30            # seconds for the response head (--head-timeout); 0: no deadline
    max_body = 1073741824        # bytes: a longer body stops the exchange (--max-body); 0: no limit
    dns_server = "127.0.0.1:53"  # sends and the DNS pane ask this server; "": the system resolver
    theme = "nord"               # a Textual theme

    [history]
    size = 1000                  # exchanges kept, the oldest are dropped; 0: all
    body_cap = 1048576           # bytes of each body kept
    bodies = true                # false: keep no bodies

    [keys]                       # the app's actions: action = "key" or "key1,key2"
    send = "ctrl+s"
    help = "f9,question_mark"

    [secrets]
    headers = ["X-My-Token"]     # more headers whose values exports mask (engine/secrets.py)

A file that is not valid TOML is ignored whole (the message names its line and
column); a key that is unknown, of the wrong type or out of range is reported with its
line and its default is used, and every other key still applies.  ``load()`` never
raises.  The numbers are checked by the rules every option value follows
(``netlab.limits``, standard library only).  This module imports neither Textual nor
the engine: the TUI reads it before its first frame.  The theme is checked by the TUI against the themes it has
(``Loaded.theme_problem``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, replace

from netlab import limits
from netlab.engine import defaults

__all__ = ["Settings", "Loaded", "Problem", "load", "loads", "settings_path", "default_file_text",
           "ACTIONS", "PANE_ACTIONS", "PRIORITY_ACTIONS", "DEFAULT_TIMEOUT", "DEFAULT_MAX_BODY", "DEFAULT_BODY_CAP",
           "DEFAULT_HEAD_TIMEOUT",
           "parse_dns_address", "parse_keys"]

# The engine's defaults, from the one module of defaults (it imports nothing: reading the
# settings loads no engine session).
DEFAULT_TIMEOUT = defaults.TIMEOUT
DEFAULT_MAX_BODY = defaults.MAX_BODY
DEFAULT_BODY_CAP = defaults.HISTORY_BODY_CAP
DEFAULT_HEAD_TIMEOUT = defaults.HEAD_TIMEOUT

# The app's actions that [keys] can rebind: binding id -> default keys (as in NetlabApp.BINDINGS,
# whose Bindings carry these ids; a test checks they agree).
ACTIONS: dict[str, str] = {
    "send": "ctrl+j",
    "cancel": "escape",
    "replay_last": "ctrl+r",
    "show_composer": "f2",
    "show_response": "f3",
    "show_dns": "f4",
    "show_connections": "f5",
    "history": "f6",
    "composer_raw": "f7",
    "composer_options": "f8",
    "toggle_maximize": "f11,ctrl+t",
    "open_http": "ctrl+o",
    "export": "ctrl+n",
    "compare_last": "ctrl+g",
    "hops": "ctrl+f",
    "cookies": "f12",
    "help": "f1",
    "quit": "f10,ctrl+q",
}
# The response viewer's keys, by binding id: they act while the viewer has focus, so a
# plain key is fine (a test checks this table against ResponseView.BINDINGS).
PANE_ACTIONS: dict[str, str] = {
    "response_search": "slash",
    "response_next_match": "n",
    "response_prev_match": "N",
    "response_save_body": "s",
    "response_save_raw": "S",
    "response_save_pcap": "w",
    "response_pager": "v",
    "response_editor": "e",
    "response_copy": "y,c",
    "response_copy_status": "Y",
    "response_copy_curl": "C",
}
_ALL_ACTIONS = {**ACTIONS, **PANE_ACTIONS}
# Bindings that work while a text field has focus: a plain key there would stop you typing it.
PRIORITY_ACTIONS = frozenset({"send", "replay_last", "show_composer", "show_response", "show_dns", "show_connections",
                              "history", "composer_raw", "composer_options", "toggle_maximize", "help", "quit"})


@dataclass(frozen=True)
class Settings:
    """The effective settings.  ``None``/``0`` in the file mean "no limit" where noted."""

    timeout: float = DEFAULT_TIMEOUT  # seconds: connect, and each read
    max_time: float | None = None  # seconds for the whole exchange; None: no deadline
    head_timeout: float | None = DEFAULT_HEAD_TIMEOUT  # seconds for the response head; None: no deadline
    max_body: int | None = DEFAULT_MAX_BODY  # the engine's body limit; None: no limit
    dns_server: str | None = None  # "ADDR[:PORT]" for sends and the DNS pane; None: the system resolver
    theme: str | None = None  # a Textual theme name; None: Textual's default
    history_size: int = 0  # exchanges kept in the history; 0: all
    history_body_cap: int = DEFAULT_BODY_CAP  # bytes of each body the history keeps
    history_bodies: bool = True  # False: the history keeps no bodies
    keys: tuple[tuple[str, str], ...] = ()  # (action, "key,key") overrides, in file order
    secret_headers: tuple[str, ...] = ()  # [secrets] headers: more names exports mask (engine/secrets.py)

    @property
    def keymap(self) -> dict[str, str]:
        """The [keys] overrides as a Textual keymap: binding id -> "key,key"."""
        return dict(self.keys)

    def keys_for(self, action: str) -> str:
        """The keys bound to ``action`` with the overrides applied."""
        return self.keymap.get(action, _ALL_ACTIONS[action])

    @property
    def dns_address(self) -> tuple[str, int] | None:
        """``dns_server`` as (address, port), for ``Options.dns_server``."""
        return None if not self.dns_server else parse_dns_address(self.dns_server)

    def history_options(self) -> dict:
        """Keyword arguments for ``netlab.engine.history.History``."""
        return {"body_cap": self.history_body_cap, "store_bodies": self.history_bodies,
                "max_entries": self.history_size}

    def fill_options(self, options):
        """``options`` (an engine Options built without these settings) with the settings'
        deadline and body limit where it still has the engine's defaults.  (The head
        timeout is not filled in: the composer's field starts at the settings' value.)"""
        from netlab.engine.session import DEFAULT_MAX_BODY as ENGINE_MAX_BODY

        changes = {}
        if options.deadline is None and self.max_time is not None:
            changes["deadline"] = self.max_time
        if options.max_body_bytes == ENGINE_MAX_BODY and self.max_body != ENGINE_MAX_BODY:
            changes["max_body_bytes"] = self.max_body
        return replace(options, **changes) if changes else options


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the settings file; ``text`` names the file, the line and the key."""

    text: str
    key: str | None = None  # dotted: "timeout", "history.size", "keys.send"; None: the whole file
    line: int | None = None


@dataclass(frozen=True)
class Loaded:
    """What ``load()`` found: the settings to use, and what was wrong with the file."""

    settings: Settings
    path: str
    exists: bool
    problems: tuple[Problem, ...] = ()
    lines: dict = field(default_factory=dict, compare=False)  # dotted key -> line number

    @property
    def message(self) -> str | None:
        """Every problem, one a line (None when there are none)."""
        return "\n".join(p.text for p in self.problems) or None

    def theme_problem(self, available) -> Problem | None:
        """A problem when the theme is not one of ``available`` (the names of the themes
        the app has); the caller then keeps its default theme."""
        theme = self.settings.theme
        if theme is None or theme in available:
            return None
        names = ", ".join(sorted(available))
        return _problem(self.path, "theme", self.lines.get("theme"),
                        f"{theme!r} is not a theme here (there are: {names})", "Textual's default theme")


def settings_path() -> str:
    """``$NETLAB_SETTINGS``, else ``<user config dir>/netlab/settings.toml``."""
    env = os.environ.get("NETLAB_SETTINGS")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("netlab"), "settings.toml")


def load(path: str | None = None) -> Loaded:
    """Read the settings file (``settings_path()`` unless ``path``); never raises."""
    path = path or settings_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Loaded(Settings(), path, False)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Loaded(Settings(), path, os.path.exists(path),
                      (Problem(f"settings {path}: cannot read it: {reason}; using the default settings"),))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Loaded(Settings(), path, True, (Problem(
            f"settings {path}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); "
            "using the default settings", None, line),))
    return loads(text, path)


# Patterns as text, compiled by re (and cached there) when a file is read: the TUI reads
# this module before its first frame, and most often there is no file.
_TOML_AT = r"\s*\(at line (\d+), column (\d+)\)\s*$"
_TOML_END = r"\s*\(at end of document\)\s*$"


def loads(text: str, path: str = "settings.toml") -> Loaded:
    """Parse settings from TOML text; ``path`` only names the file in the messages."""
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        line = getattr(exc, "lineno", None)  # Python 3.14 has lineno and colno
        col = getattr(exc, "colno", None)
        m = re.search(_TOML_AT, msg)
        if m:
            line, col = line or int(m.group(1)), col or int(m.group(2))
            msg = msg[:m.start()]
        elif re.search(_TOML_END, msg):
            line = line or text.count("\n") + (0 if text.endswith("\n") else 1)
            msg = re.sub(_TOML_END, "", msg) + " at the end of the file"
        where = f", line {line}" + (f", column {col}" if col else "") if line else ""
        return Loaded(Settings(), path, True, (Problem(
            f"settings {path}{where}: not valid TOML: {msg}; using the default settings", None, line),))
    lines = _key_lines(text)
    problems: list[Problem] = []
    values: dict = {}
    for key, value in doc.items():
        if key in _TOP:
            name, check, default = _TOP[key]
            _take(values, problems, path, lines, key, name, check, value, default)
        elif key == "history":
            if not isinstance(value, dict):
                problems.append(_problem(path, key, lines.get(key), f"expected a table ([history]), not "
                                         f"{_kind(value)}", "every [history] default"))
                continue
            for sub, subvalue in value.items():
                dotted = f"history.{sub}"
                if sub not in _HISTORY:
                    problems.append(_unknown(path, dotted, lines.get(dotted), sub, _HISTORY))
                    continue
                name, check, default = _HISTORY[sub]
                _take(values, problems, path, lines, dotted, name, check, subvalue, default)
        elif key == "keys":
            if not isinstance(value, dict):
                problems.append(_problem(path, key, lines.get(key), f"expected a table ([keys]), not "
                                         f"{_kind(value)}", "every default key"))
                continue
            keys, key_problems = _check_keys(path, lines, value)
            values["keys"] = keys
            problems += key_problems
        elif key == "secrets":
            values["secret_headers"] = _secret_headers(path, lines, value, problems)
        else:
            problems.append(_unknown(path, key, lines.get(key), key,
                                     {**_TOP, "history": 0, "keys": 0, "secrets": 0}))
    problems.sort(key=lambda p: p.line or 0)
    return Loaded(Settings(**values), path, True, tuple(problems), lines)


# ---------------------------------------------------------------------------- the checks


class _Bad(ValueError):
    """A value of the wrong type or out of range (its text says why)."""


def _kind(value) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__} ({value})"


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"expected {what}, not {_kind(value)}")
    return float(value)


def _rule(rule: str):
    """The check of a number key: its type here, its range by the one rule every option
    value follows (netlab.limits: finite, positive where it must be, bounded)."""
    seconds = limits.RULES[rule].seconds

    def check(value):
        if seconds:
            _number(value, "a number of seconds")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"expected a whole number of {limits.RULES[rule].unit}, not {_kind(value)}")
        try:
            return limits.check(rule, value)
        except limits.OptionValueError as exc:
            raise _Bad(exc.expected) from None

    return check


_seconds = _rule("timeout")
_optional_seconds = _rule("deadline")
_head_seconds = _rule("head_timeout")
_max_body = _rule("max_body_bytes")
_history_size = _rule("history_size")
_body_cap = _rule("history_body_cap")


def _secret_headers(path: str, lines: dict, table, problems: list) -> tuple[str, ...]:
    """``[secrets] headers = ["X-My-Token", ...]``: header names whose values exports mask,
    besides netlab's own list (netlab/engine/secrets.py); a name that is not a header name
    is reported and left out, the others apply."""
    if not isinstance(table, dict):
        problems.append(_problem(path, "secrets", lines.get("secrets"), f"expected a table ([secrets]), not "
                                 f"{_kind(table)}", "netlab's list of credential headers"))
        return ()
    names: list[str] = []
    for sub, value in table.items():
        dotted = f"secrets.{sub}"
        if sub != "headers":
            problems.append(_unknown(path, dotted, lines.get(dotted), sub, {"headers": 0}))
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str) or not re.fullmatch(defaults.TOKEN_PATTERN, item.strip()):
                what = repr(item) if isinstance(item, str) else _kind(item)
                line = lines.get(dotted)
                problems.append(Problem(f"settings {path}{f', line {line}' if line else ''}: {dotted}: {what} is "
                                        "not a header name (expected [\"X-My-Token\", ...]); left out", dotted, line))
                continue
            if item.strip().lower() not in (n.lower() for n in names):
                names.append(item.strip())
    return tuple(names)


def _bool(value) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, not {_kind(value)}")
    return value


def _dns_server(value) -> str | None:
    if not isinstance(value, str):
        raise _Bad(f"expected a string \"ADDR\" or \"ADDR:PORT\", not {_kind(value)}")
    if not value.strip():
        return None
    try:
        parse_dns_address(value)
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    return value.strip()


def _theme(value) -> str | None:
    if not isinstance(value, str):
        raise _Bad(f"expected a theme name (a string), not {_kind(value)}")
    return value.strip() or None


# key in the file -> (Settings field, check, what the default is, in words)
_TOP = {
    "timeout": ("timeout", _seconds, f"{DEFAULT_TIMEOUT:g} s"),
    "max_time": ("max_time", _optional_seconds, "0 (no deadline)"),
    "head_timeout": ("head_timeout", _head_seconds, f"{DEFAULT_HEAD_TIMEOUT:g} s"),
    "max_body": ("max_body", _max_body, f"{DEFAULT_MAX_BODY} bytes"),
    "dns_server": ("dns_server", _dns_server, "the system resolver"),
    "theme": ("theme", _theme, "Textual's default theme"),
}
_HISTORY = {
    "size": ("history_size", _history_size, "0 (keep all)"),
    "body_cap": ("history_body_cap", _body_cap, f"{DEFAULT_BODY_CAP} bytes"),
    "bodies": ("history_bodies", _bool, "true"),
}


def _take(values: dict, problems: list, path: str, lines: dict, dotted: str, name: str, check, value,
          default: str) -> None:
    try:
        values[name] = check(value)
    except _Bad as exc:
        problems.append(_problem(path, dotted, lines.get(dotted), str(exc), default))


def _problem(path: str, dotted: str, line: int | None, what: str, default: str) -> Problem:
    where = f", line {line}" if line else ""
    return Problem(f"settings {path}{where}: {dotted}: {what}; using the default: {default}", dotted, line)


def _unknown(path: str, dotted: str, line: int | None, key: str, known) -> Problem:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
    where = f", line {line}" if line else ""
    return Problem(f"settings {path}{where}: unknown key {dotted!r}{hint}; ignored", dotted, line)


def parse_dns_address(text: str) -> tuple[str, int]:
    """``"ADDR"``, ``"ADDR:PORT"`` or ``"[V6]:PORT"`` with ADDR an IP address (a DNS
    server's name would need DNS to find it) -> (address, port); ValueError otherwise."""
    import ipaddress

    t = text.strip()
    port_text = None
    if t.startswith("["):
        host, sep, rest = t[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not ADDR, ADDR:PORT or [IPv6]:PORT")
        port_text = rest[1:] if rest else None
    elif t.count(":") == 1:
        host, _, port_text = t.partition(":")
    else:
        host = t
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address (write the DNS server as ADDR or ADDR:PORT, "
                         "e.g. 127.0.0.1:53)") from None
    port = 53
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    return host, port


# ------------------------------------------------------------------------------- keys

_MODIFIERS = ("ctrl", "alt", "shift", "super", "meta", "hyper")
_NAMED_KEYS = frozenset({
    "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown",
    "up", "down", "left", "right", *(f"f{n}" for n in range(1, 25)),
})
_EDITING_KEYS = frozenset({"enter", "tab", "space", "backspace", "delete", "insert", "home", "end", "pageup",
                           "pagedown", "up", "down", "left", "right"})
# Textual's friendlier names for some characters' Unicode names.
_CHAR_NAMES = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
               "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}
_NAMED_CHARS = {v: k for k, v in _CHAR_NAMES.items()}


def _char_key(ch: str) -> str:
    """A character as Textual names its key: letters and digits as they are, others by name."""
    if ch.isalnum():
        return ch
    name = unicodedata.name(ch, ch).lower().replace("-", "_").replace(" ", "_")
    return _CHAR_NAMES.get(name, name)


def _is_char_name(name: str) -> bool:
    unicode_name = _NAMED_CHARS.get(name, name).replace("_", " ").upper()
    if unicode_name == "HYPHEN MINUS":
        unicode_name = "HYPHEN-MINUS"
    try:
        ch = unicodedata.lookup(unicode_name)
    except KeyError:
        return False
    return len(ch) == 1 and ch.isprintable() and not ch.isspace()


def parse_keys(spec: str) -> list[str]:
    """``"ctrl+s, f9"`` -> ``["ctrl+s", "f9"]`` in Textual's spelling; ValueError naming the
    first key that is not a key."""
    out = []
    for raw in spec.split(","):
        key = raw.strip()
        if not key:
            raise ValueError(f"{spec!r} has an empty key (write \"key\" or \"key1,key2\"; a comma is "
                             "\"comma\")")
        if len(key) > 2 and key.endswith("++"):  # "ctrl++": ctrl and the plus key
            mods, base = key[:-2].split("+"), "+"
        elif len(key) > 1:
            *mods, base = key.split("+")
        else:
            mods, base = [], key
        mods = [m.lower() for m in mods]
        bad = [m for m in mods if m not in _MODIFIERS]
        if bad:
            raise ValueError(f"{key!r}: {bad[0]!r} is not a modifier ({', '.join(_MODIFIERS)})")
        if len(set(mods)) != len(mods):
            raise ValueError(f"{key!r} names a modifier twice")
        if len(base) == 1 and mods and base.isalpha():
            base = base.lower()  # Textual names ctrl+a, not ctrl+A
        if len(base) == 1:
            if not base.isprintable() or base.isspace():
                raise ValueError(f"{key!r} is not a key")
            base = _char_key(base)
        elif base.lower() in _NAMED_KEYS:
            base = base.lower()
        elif not (re.fullmatch(r"[a-z0-9_]+", base) and _is_char_name(base)):
            raise ValueError(f"{key!r} is not a key Textual knows (e.g. ctrl+s, f9, escape, a, question_mark)")
        out.append("+".join([*sorted(mods, key=_MODIFIERS.index), base]))
    return out


def _needs_modifier(key: str) -> bool:
    """True for a key a text field would take for itself (a plain or shifted character, an
    editing key): a priority binding on it would stop you typing it."""
    *mods, base = key.split("+") if key != "+" else ["+"]
    if any(m in ("ctrl", "alt", "super", "meta", "hyper") for m in mods):
        return False
    return not (base.startswith("f") and base[1:].isdigit()) and base != "escape"


def _check_keys(path: str, lines: dict, table: dict) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    problems: list[Problem] = []
    wanted: dict[str, list[str]] = {}
    for action, value in table.items():
        dotted = f"keys.{action}"
        line = lines.get(dotted)
        if action not in _ALL_ACTIONS:
            problems.append(_unknown(path, dotted, line, action, _ALL_ACTIONS))
            continue
        default = repr(_ALL_ACTIONS[action])
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str):
            problems.append(_problem(path, dotted, line, f"expected a string \"key\" or \"key1,key2\", not "
                                     f"{_kind(value)}", default))
            continue
        try:
            keys = parse_keys(value)
        except ValueError as exc:
            problems.append(_problem(path, dotted, line, str(exc), default))
            continue
        plain = [k for k in keys if _needs_modifier(k)]
        if action in PRIORITY_ACTIONS and plain:
            problems.append(_problem(
                path, dotted, line, f"{action} works inside text fields, so {plain[0]!r} would stop you "
                f"typing it there; use ctrl+ or alt+ with it, or an F key", default))
            continue
        wanted[action] = keys
    # Two actions on one key: the later override loses (the earlier one, or the default, keeps it).
    # App keys and the viewer's keys share one namespace: the viewer's would shadow the app's.
    taken: dict[str, str] = {}
    for action in _ALL_ACTIONS:
        if action not in wanted:
            for k in _ALL_ACTIONS[action].split(","):
                taken.setdefault(k, action)
    keep: list[tuple[str, str]] = []
    for action, keys in wanted.items():
        clash = next(((k, taken[k]) for k in keys if taken.get(k, action) != action), None)
        if clash:
            problems.append(_problem(path, f"keys.{action}", lines.get(f"keys.{action}"),
                                     f"{clash[0]!r} is already the key of {clash[1]}", repr(_ALL_ACTIONS[action])))
            for k in _ALL_ACTIONS[action].split(","):
                taken.setdefault(k, action)
            continue
        for k in keys:
            taken[k] = action
        keep.append((action, ",".join(keys)))
    return tuple(keep), problems


# ---------------------------------------------------------------------- finding lines

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ASSIGN = rf"\s*({_DOTTED})\s*="  # re.match compiles (and caches) them when a file is read
_HEADER = rf"\s*\[(\[?)\s*({_DOTTED})\s*\]"


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(_KEY, text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _key_lines(text: str) -> dict[str, int]:
    """The line each dotted key (and table) is first set on, found by scanning the text:
    tomllib gives values, not positions.  Good enough for the messages: keys inside
    multi-line strings could fool it, and then a message names a wrong line."""
    lines: dict[str, int] = {}
    table: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        m = re.match(_HEADER, line)
        if m and stripped.startswith("["):
            table = _split_dotted(m.group(2))
            lines.setdefault(".".join(table), n)
            continue
        m = re.match(_ASSIGN, line)
        if m:
            parts = table + _split_dotted(m.group(1))
            for i in range(len(table) + 1, len(parts) + 1):
                lines.setdefault(".".join(parts[:i]), n)
    return lines


# -------------------------------------------------------------------- the default file


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def effective_toml(settings: Settings) -> str:
    """The effective settings written as a settings file (every key, no comments)."""
    s = settings
    out = [f"timeout = {_toml_value(s.timeout)}",
           f"max_time = {_toml_value(s.max_time or 0)}",
           f"head_timeout = {_toml_value(s.head_timeout or 0)}",
           f"max_body = {_toml_value(s.max_body or 0)}",
           f"dns_server = {_toml_value(s.dns_server or '')}",
           f"theme = {_toml_value(s.theme or '')}",
           "", "[history]",
           f"size = {s.history_size}",
           f"body_cap = {s.history_body_cap}",
           f"bodies = {_toml_value(s.history_bodies)}",
           "", "[keys]"]
    out += [f"{action} = {_toml_value(s.keys_for(action))}" for action in _ALL_ACTIONS]
    out += ["", "[secrets]", f"headers = [{', '.join(_toml_value(n) for n in s.secret_headers)}]"]
    return "\n".join(out) + "\n"


def default_file_text() -> str:
    """A settings file with every key commented out at its default, and what each does."""
    keys = "\n".join(f"# {action} = {_toml_value(k)}" for action, k in _ALL_ACTIONS.items())
    return f"""\
# netlab settings (TOML).  Every key is optional: remove the "# " to set one.
# A bad value is reported with its line when netlab starts, and its default is used.
# `netlab settings` shows the values in effect and any problems.

# Seconds to wait for the connection and for each read (netlab send --timeout);
# above 0, at most {limits.MAX_SECONDS:g} (a day).
# timeout = {DEFAULT_TIMEOUT:g}

# Seconds for the whole exchange (--max-time); 0: no deadline.
# max_time = 0

# Seconds from the request sent to the whole response head received (--head-timeout):
# a server that trickles its head a byte at a time is stopped here; 0: no deadline.
# head_timeout = {DEFAULT_HEAD_TIMEOUT:g}

# A response body longer than this many bytes stops the exchange (--max-body); 0: no limit.
# max_body = {DEFAULT_MAX_BODY}

# The DNS server that sends (--dns-server) and the DNS pane ask: "ADDR" or "ADDR:PORT",
# "[IPv6]:PORT" for IPv6 with a port.  "": the system resolver (and /etc/hosts).
# dns_server = ""

# The TUI's theme, one of Textual's: textual-dark, textual-light, nord, gruvbox, dracula,
# tokyo-night, monokai, ... (`netlab settings` lists them).  "": Textual's default.
# theme = "textual-dark"

[history]
# How many exchanges the history keeps (the oldest are dropped first); 0: all of them.
# size = 0
# Bytes of each response body the history keeps.
# body_cap = {DEFAULT_BODY_CAP}
# false: keep no bodies (the request bytes, heads and timings are still kept).
# bodies = true

[keys]
# The TUI's keys: action = "key" or "key1,key2", in Textual's names (ctrl+s, alt+x, f9,
# escape, a, question_mark, ...).  send and replay_last work inside text fields, so
# their keys need ctrl or alt, or are F keys.  The actions and their default keys:
{keys}

[secrets]
# Header names whose values exports mask (as ********) besides netlab's own list:
# Authorization, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token, X-Amz-Security-Token...
# (the README lists them all).  The list adds names; it never unmasks one.
# headers = []
"""
