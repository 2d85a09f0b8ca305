"""One rule for every option value, in one place (issue 12.4).

Each number a user can give netlab — on the command line (``netlab send --timeout``), in
the settings file (``timeout = 10``) or in the composer's Options tab — is checked here,
once, by the same rule, and refused with a message that names the option and the value:

    ======================  ==========================  ===========================================
    rule (Options field)    allowed                     0 means
    ======================  ==========================  ===========================================
    timeout                 0 < s <= 86400 (1 day)      refused (connect and each read need a limit)
    deadline (max time)     0 < s <= 86400              no deadline for the whole exchange
    head_timeout            0 < s <= 86400              no deadline for the response head
    max_body_bytes          0 <= n <= 2**40 (1 TiB)     no limit (as curl's --max-filesize 0)
    max_header_bytes        1 <= n <= 2**30 (1 GiB)     -
    max_headers             1 <= n <= 1,000,000         -
    spill_bytes             0 <= n <= 2**40             -
    history_size            0 <= n <= 2**31 - 1         keep all
    history_body_cap        0 <= n <= 2**40             keep no body bytes
    list_limit              0 <= n <= 2**31 - 1         list all (netlab history --limit)
    ======================  ==========================  ===========================================

Seconds are finite (NaN and infinity are refused), sizes and counts whole numbers.  A
day bounds every wait: beyond it a socket timeout stops meaning anything (and past about
2**31 s the C timeval the kernel takes overflows).  1 TiB bounds every size: more than a
disk holds, and far below what SQLite's 64-bit integers or the kernel's offsets take.

``parse(rule, text)`` reads text (the command line, the composer), ``check(rule, value)``
a number (the settings file); both apply "0 means none" where the rule says so and
raise ``OptionValueError``.  ``check_options(options)`` checks an ``Options`` as the
engine takes it (there, ``None`` is "none" and 0 is a real 0) and is the last guard
before a send.  This module imports only the standard library, and sits beside the
settings module rather than in the engine: the settings file is read with it before the
TUI's first frame, without importing the engine."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass

from netlab.engine.defaults import HEAD_TIMEOUT

__all__ = ["Rule", "RULES", "OptionValueError", "parse", "check", "check_options", "describe",
           "MAX_SECONDS", "MAX_BYTES", "MAX_COUNT", "DEFAULT_HEAD_TIMEOUT"]

MAX_SECONDS = 86400.0  # one day
MAX_BYTES = 1 << 40  # 1 TiB
MAX_COUNT = (1 << 31) - 1
DEFAULT_HEAD_TIMEOUT = HEAD_TIMEOUT  # Options.head_timeout's default

_SHOWN = 40  # characters of a refused text quoted in the message


@dataclass(frozen=True, slots=True)
class Rule:
    """What one option accepts.  ``unit`` is "seconds" (a float above ``low``), "bytes" or
    a word for a count (whole numbers from ``low``); ``zero`` says what 0 means when the
    user gives it (None: 0 is checked like any number)."""

    name: str  # the option in words, for messages that have no flag or key to name
    unit: str
    low: float
    high: float
    zero: str | None = None  # e.g. "no deadline": a user's 0 becomes None
    zero_is_none: bool = True  # False: a user's 0 stays 0 (and means ``zero``)

    @property
    def seconds(self) -> bool:
        return self.unit == "seconds"

    def why(self, user: bool = True) -> str:
        """What the option must be, in words: "a number of seconds above 0 and at most
        86400 (1 day)"; for a ``user`` also what 0 means."""
        notes = [n for n in (_size_words(self.high, self.unit), self.zero and user and f"0: {self.zero}") if n]
        notes_text = f" ({'; '.join(notes)})" if notes else ""
        if self.seconds:
            return f"a number of seconds above {self.low:g} and at most {self.high:g}{notes_text}"
        return f"a whole number, {int(self.low)} or more {self.unit} and at most {int(self.high)}{notes_text}"


def _size_words(n: float, unit: str) -> str:
    if unit == "seconds" and n == 86400:
        return "1 day"
    if unit == "bytes":
        for size, word in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB")):
            if n >= size and n % size == 0:
                return f"{int(n // size)} {word}"
    return ""


RULES: dict[str, Rule] = {
    "timeout": Rule("timeout", "seconds", 0, MAX_SECONDS),
    "deadline": Rule("max time", "seconds", 0, MAX_SECONDS, zero="no deadline"),
    "head_timeout": Rule("head timeout", "seconds", 0, MAX_SECONDS, zero="no deadline for the head"),
    "max_body_bytes": Rule("max body", "bytes", 0, MAX_BYTES, zero="no limit"),
    "max_header_bytes": Rule("max header bytes", "bytes", 1, 1 << 30),
    "max_headers": Rule("max headers", "header lines", 1, 1_000_000),
    "spill_bytes": Rule("spill bytes", "bytes", 0, MAX_BYTES),
    "history_size": Rule("history size", "exchanges", 0, MAX_COUNT, zero="keep all", zero_is_none=False),
    "history_body_cap": Rule("history body cap", "bytes", 0, MAX_BYTES),
    "list_limit": Rule("limit", "entries", 0, MAX_COUNT, zero="all", zero_is_none=False),  # history --limit
}


class OptionValueError(ValueError):
    """A value an option does not take.  ``str()`` names the option and the value:
    "--timeout must be a number of seconds above 0 and at most 86400 (1 day), not nan"."""

    def __init__(self, name: str, why: str, shown: str) -> None:
        self.name, self.why, self.shown = name, why, shown
        super().__init__(f"{name} must be {why}, not {shown}")

    @property
    def expected(self) -> str:
        """The message without the option's name: "expected ..., not nan" (the settings
        file's problems name the key before it)."""
        return f"expected {self.why}, not {self.shown}"


def _show(value) -> str:
    if isinstance(value, str):  # repr escapes control, bidi and zero-width characters
        return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")
    if isinstance(value, float):
        return repr(value)  # nan, inf, -1.5, 1e+300
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{type(value).__name__} {value!r}"[:_SHOWN + 20]
    text = str(value) if value.bit_length() < 200 else f"{'-' if value < 0 else ''}a {value.bit_length()}-bit number"
    return text


def _rule(rule: str | Rule) -> Rule:
    return rule if isinstance(rule, Rule) else RULES[rule]


def describe(rule: str | Rule) -> str:
    """What ``rule`` accepts, in words (for --help texts and the settings file)."""
    return _rule(rule).why()


def _in_range(r: Rule, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if r.seconds:  # (an int compares with a float exactly, however large)
        return (isinstance(value, int) or math.isfinite(value)) and r.low < value <= r.high
    return isinstance(value, int) and r.low <= value <= r.high


def check(rule: str | Rule, value, name: str | None = None):
    """A user's number for ``rule`` -> the value to use (None where 0 means none); raises
    OptionValueError naming ``name`` (default: the rule's name) and the value."""
    r = _rule(rule)
    if r.zero and r.zero_is_none and not isinstance(value, bool) and value == 0:
        return None
    if not _in_range(r, value):
        raise OptionValueError(name or r.name, r.why(), _show(value))
    return float(value) if r.seconds else value


def parse(rule: str | Rule, text: str, name: str | None = None):
    """A user's text for ``rule`` ("2.5", "0", "nan", "ten") -> the value to use, as
    ``check``; raises OptionValueError for text that is no number or out of range."""
    r = _rule(rule)
    if not isinstance(text, str):
        return check(r, text, name)
    try:
        value = float(text) if r.seconds else int(text.strip())
    except ValueError:  # also int()'s "Exceeds the limit (4300 digits)"
        raise OptionValueError(name or r.name, r.why(), _show(text)) from None
    if not _in_range(r, value) and not (r.zero and value == 0):
        raise OptionValueError(name or r.name, r.why(), _show(text))
    return check(r, value, name)


def check_options(options, names: dict[str, str] | None = None):
    """Check every number of an engine ``Options`` (None is "none" there, 0 a real 0);
    returns ``options`` or raises OptionValueError for the first value out of its rule,
    named by ``names[field]`` when given (e.g. {"deadline": "--max-time"}).  A number
    field no rule knows must still be finite and not negative."""
    names = names or {}
    for f in fields(options) if is_dataclass(options) else ():
        value = getattr(options, f.name)
        if value is None or isinstance(value, (bool, str, tuple)):
            continue
        r = RULES.get(f.name)
        label = names.get(f.name) or (r.name if r else f.name)
        if r is None:
            if isinstance(value, (int, float)) and not (math.isfinite(value) and value >= 0):
                raise OptionValueError(label, "a finite number, 0 or more", _show(value))
            continue
        if not _in_range(r, value):
            raise OptionValueError(label, r.why(user=False), _show(value))
    return options
