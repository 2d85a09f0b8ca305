"""File variables of a .http file (``@name = value``, global to the file, resolved on first
use) and the system variables (``{{$guid}}``, ``{{$datetime iso8601}}``, ``{{$dotenv NAME}}``...)."""

from __future__ import annotations

import calendar
import datetime as _dt
import os
import random
import re
import uuid
from collections.abc import Callable

from netlab.engine.formats.httpfile.model import HttpFileError

__all__ = ["Variables"]

_VAR_REF = re.compile(r"\{\{(.+?)\}\}")


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _offset(now: _dt.datetime, words: list[str], err) -> _dt.datetime:
    if not words:
        return now
    if len(words) != 2:
        raise err("expected OFFSET UNIT (e.g. -1 d) after the format")
    try:
        amount = int(words[0])
    except ValueError:
        raise err(f"offset {words[0]!r} is not a whole number") from None
    unit = words[1]
    if unit in ("y", "M"):
        months = amount * (12 if unit == "y" else 1)
        total = now.month - 1 + months
        year, month = now.year + total // 12, total % 12 + 1
        day = min(now.day, calendar.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day)
    if unit not in _UNITS:
        raise err(f"unknown unit {unit!r} (use y, M, w, d, h, m, s or ms)")
    return now + _dt.timedelta(seconds=amount * _UNITS[unit])


class Variables:
    """File variables (global to the file), resolved on first use."""

    def __init__(self, path: str | None, definitions: dict, given: dict, base_dir: str) -> None:
        self.path = path
        self.defs = definitions  # name -> (line, raw value)
        self.given = dict(given)
        self.done: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.stack: list[str] = []
        self.base_dir = base_dir
        self._dotenv: dict[str, str] | None = None

    def error(self, line: int | None, message: str, hint: str = "") -> HttpFileError:
        return HttpFileError(self.path, line, message, hint)

    def value(self, name: str, line: int) -> str:
        if name in self.given:
            self.used[name] = self.given[name]
            return self.given[name]
        if name in self.done:
            return self.done[name]
        if name not in self.defs:
            if re.match(r"^[^.\s]+\.(?:request|response)\.", name):
                raise self.error(line, f"{{{{{name}}}}}: request variables (NAME.response...) are not supported",
                                 "netlab sends one request at a time; copy the value into a file variable")
            raise self.error(line, f"undefined variable {{{{{name}}}}}",
                             f"define it in the file with a line '@{name} = value'")
        if name in self.stack:
            cycle = " -> ".join(self.stack[self.stack.index(name):] + [name])
            raise self.error(self.defs[name][0], f"variable {name!r} refers to itself: {cycle}")
        self.stack.append(name)
        try:
            def_line, raw = self.defs[name]
            value = self.expand(raw, def_line, unescape=True)
        finally:
            self.stack.pop()
        self.done[name] = self.used[name] = value
        return value

    def expand(self, text: str, line: int, unescape: bool = False) -> str:
        if "{{" not in text:
            return _unescape(text) if unescape else text
        out = []
        pos = 0
        for m in _VAR_REF.finditer(text):
            literal = text[pos:m.start()]
            out.append(_unescape(literal) if unescape else literal)
            ref = m.group(1).strip()
            out.append(self.system(ref, line) if ref.startswith("$") else self.value(ref, line))
            pos = m.end()
        tail = text[pos:]
        out.append(_unescape(tail) if unescape else tail)
        return "".join(out)

    def system(self, ref: str, line: int) -> str:
        """The value of a system variable such as ``{{$guid}}`` or ``{{$datetime iso8601 1 d}}``."""
        words = ref.split()
        name, args = words[0], words[1:]

        def err(message: str) -> HttpFileError:
            return self.error(line, f"{{{{{ref}}}}}: {message}")

        handler = self._SYSTEM.get(name)
        if handler is None:
            raise err("this system variable is not supported by netlab")
        return handler(self, name, args, line, err)

    def _sys_guid(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$guid}}``: a fresh random UUID."""
        return str(uuid.uuid4())

    def _sys_random_int(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$randomInt MIN MAX}}``: a whole number in [MIN, MAX)."""
        try:
            low, high = int(args[0]), int(args[1])
        except (IndexError, ValueError):
            raise err("expected two whole numbers: {{$randomInt MIN MAX}}") from None
        if high <= low:
            raise err("MAX must be greater than MIN")
        return str(random.randrange(low, high))

    def _sys_timestamp(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$timestamp [OFFSET UNIT]}}``: Unix seconds, optionally shifted."""
        now = _offset(_dt.datetime.now(_dt.timezone.utc), args, err)
        return str(int(now.timestamp()))

    def _sys_datetime(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$datetime|$localDatetime rfc1123|iso8601 [OFFSET UNIT]}}``: now, UTC or local."""
        if not args or args[0] not in ("rfc1123", "iso8601"):
            raise err("expected the format rfc1123 or iso8601 (custom formats are not supported)")
        now = _dt.datetime.now(_dt.timezone.utc)
        if name == "$localDatetime":
            now = now.astimezone()
        now = _offset(now, args[1:], err)
        if args[0] == "rfc1123":
            if name == "$datetime":
                return now.strftime("%a, %d %b %Y %H:%M:%S GMT")
            return now.strftime("%a, %d %b %Y %H:%M:%S %z")
        if name == "$datetime":
            return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        return now.isoformat(timespec="milliseconds")

    def _sys_env(self, name: str, args: list[str], line: int, err) -> str:
        """``{{$processEnv NAME}}`` / ``{{$dotenv NAME}}``; ``%NAME`` names a file variable
        that holds the name."""
        if len(args) != 1:
            raise err(f"expected one name: {{{{{name} NAME}}}}")
        key = args[0]
        if key.startswith("%"):
            key = self.value(key[1:], line)
        if name == "$processEnv":
            if key not in os.environ:
                raise err(f"the environment variable {key!r} is not set")
            return os.environ[key]
        env = self.dotenv()
        if key not in env:
            raise err(f"{key!r} is not in {os.path.join(self.base_dir, '.env')}")
        return env[key]

    # system variable name -> the method that computes it
    _SYSTEM: dict[str, Callable[..., str]] = {
        "$guid": _sys_guid, "$randomInt": _sys_random_int, "$timestamp": _sys_timestamp,
        "$datetime": _sys_datetime, "$localDatetime": _sys_datetime,
        "$processEnv": _sys_env, "$dotenv": _sys_env,
    }

    def dotenv(self) -> dict[str, str]:
        if self._dotenv is None:
            self._dotenv = {}
            try:
                with open(os.path.join(self.base_dir, ".env"), encoding="utf-8") as f:
                    for text in f:
                        text = text.strip()
                        if not text or text.startswith("#") or "=" not in text:
                            continue
                        key, _, value = text.partition("=")
                        value = value.strip()
                        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                            value = value[1:-1]
                        self._dotenv[key.strip()] = value
            except (OSError, UnicodeDecodeError):
                pass
        return self._dotenv


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    it = iter(text)
    for c in it:
        if c == "\\":
            nxt = next(it, "")
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)
