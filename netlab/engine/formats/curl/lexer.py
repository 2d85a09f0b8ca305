"""A curl command's text into words, the way a POSIX shell (bash) reads them, without
running anything:

``'single'``, ``"double"`` (with ``\\`` escapes and ``$NAME``/``${NAME}`` taken from
the environment; an unset one is an error), ``$'ANSI-C'`` (``\\n``, ``\\xHH``, ``\\uHHHH``...),
backslashes, line continuations (``\\`` + newline), ``#`` comments, ``~/`` at the start of a
word, a leading ``$ `` prompt.  One pipeline form is understood: ``printf 'FORMAT' | curl
... --data-binary @-`` (how ``to_curl`` passes a body holding NUL bytes, which no shell
argument can).  Command substitution and other shell operators are errors.

CurlError is here too: the lexer is the first to raise it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from netlab.engine.errors import NetlabError

__all__ = ["CurlError", "Word", "split_words", "printf_bytes"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CurlError(NetlabError):
    """A curl command netlab cannot read, or a request curl cannot send."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__("usage", message, hint if hint is not None else "")

    def __reduce__(self):
        return (CurlError, (self.message, self.hint))


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # the word after quoting; bytes that are not UTF-8 as surrogate escapes
    start: int  # offset of its first character in the command
    number: int  # 1-based index among the words (curl is word 1)
    line: int = 1
    column: int = 1
    operator: bool = False  # a shell operator such as |

    @property
    def where(self) -> str:
        """Where the word is, for messages; words added after the command (``extra_args``,
        start -1) have no place in it."""
        if self.start < 0:
            return "in the options added to the command"
        return f"word {self.number}, line {self.line} column {self.column}"

    def data(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def split_words(text: str, environ: dict | None = None) -> list[Word]:
    """Split a command into words as a POSIX shell (bash) would, without running anything."""
    text = text.replace("\r\n", "\n")
    if "\0" in text:
        raise CurlError(f"curl command, line {_position(text, text.index(chr(0)))[0]}: it holds a NUL character, "
                        "which no shell word can")
    return _Lexer(text, os.environ if environ is None else environ).words()


_NO_SHELL = "netlab reads the command without a shell: write the value itself"


class _Lexer:
    """A shell's reading of one command into words.  ``i`` walks the text; ``buf`` collects the
    bytes of the word being read, which begins at ``start`` and exists once ``started`` (an empty
    quote starts one).  Each step reads one construct at ``i`` and moves past it: blanks end the
    word, ``#`` and ``~`` mean something at its start only, and _STEPS names the step for each
    character that opens a quote, an escape, an expansion or an operator; any other is itself."""

    def __init__(self, text: str, env: Mapping[str, str]) -> None:
        self.text, self.n, self.env = text, len(text), env
        i = 0
        while i < self.n and text[i] in " \t\n":
            i += 1
        if text.startswith("$ ", i) or text.startswith("$\t", i):
            i += 2  # a prompt pasted with the command
        self.i = self.start = i
        self.buf = bytearray()
        self.started = False
        self.found: list[Word] = []

    def words(self) -> list[Word]:
        while self.i < self.n:
            c = self.text[self.i]
            if c in " \t\n":
                self._finish()
                self.i += 1
                continue
            if not self.started:
                self.start = self.i
                if self._word_start(c):
                    continue
            _STEPS.get(c, _Lexer._literal)(self)
        self._finish()
        return self.found

    def fail(self, message: str, at: int, hint: str = "") -> CurlError:
        line, column = _position(self.text, at)
        return CurlError(f"curl command, line {line} column {column}: {message}", hint)

    def _finish(self) -> None:
        """End the word being read, if one was started."""
        if self.started:
            line, column = _position(self.text, self.start)
            self.found.append(Word(bytes(self.buf).decode("utf-8", "surrogateescape"), self.start,
                                   len(self.found) + 1, line, column))
        self.buf = bytearray()
        self.started = False

    def _add(self, piece: bytes, end: int) -> None:
        """Add ``piece`` to the word and go on at ``end``."""
        self.buf += piece
        self.started = True
        self.i = end

    def _word_start(self, c: str) -> bool:
        """A # comment (to the end of the line) or a ~ (the home directory) where a word starts;
        True when it was one."""
        text, i = self.text, self.i
        if c == "#":
            end = text.find("\n", i)
            self.i = self.n if end < 0 else end
            return True
        if c == "~" and (i + 1 == self.n or text[i + 1] in "/ \t\n"):
            self._add(os.path.expanduser("~").encode("utf-8", "surrogateescape"), i + 1)
            return True
        return False

    def _literal(self) -> None:
        self._add(self.text[self.i].encode("utf-8", "surrogateescape"), self.i + 1)

    def _backslash(self) -> None:
        """\\ + newline continues the line; \\ + any other character is that character."""
        text, i = self.text, self.i
        if i + 1 < self.n and text[i + 1] == "\n":
            self.i += 2
            return
        if i + 1 >= self.n:
            raise self.fail("the command ends with a backslash", i)
        self._add(text[i + 1].encode("utf-8", "surrogateescape"), i + 2)

    def _single(self) -> None:
        """'...': everything up to the next ' as it is."""
        close = self.text.find("'", self.i + 1)
        if close < 0:
            raise self.fail("a single quote is not closed", self.i)
        self._add(self.text[self.i + 1:close].encode("utf-8", "surrogateescape"), close + 1)

    def _dollar(self) -> None:
        """$'ANSI-C', $"..." (as "..."), $NAME and ${NAME}; $( is refused; a lone $ is itself."""
        after = self.text[self.i + 1:self.i + 2]
        if after == "'":
            self._add(b"", _ansi_c(self.text, self.i + 2, self.buf, self.fail))  # decodes into buf
        elif after == '"':
            self._double_quoted(2)
        elif self._expands(self.i):
            value, end = self._expand(self.i)
            self._add(value, end)
        elif after == "(":
            self._backquote()
        else:
            self._literal()

    def _double(self) -> None:
        self._double_quoted(1)

    def _double_quoted(self, opening: int) -> None:
        """"...": \\ escapes only $ ` " \\ and newline; $NAME and ${NAME} expand; `...` and $(...)
        are refused."""
        text, n = self.text, self.n
        i = self.i + opening
        self.started = True
        while True:
            if i >= n:
                raise self.fail('a double quote is not closed', self.start)
            d = text[i]
            if d == '"':
                self.i = i + 1
                return
            if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    self.buf += text[i + 1].encode()
                i += 2
            elif d == "$" and self._expands(i):
                value, i = self._expand(i)
                self.buf += value
            elif d == "`" or text.startswith("$(", i):
                raise self.fail("command substitution is not supported", i, _NO_SHELL)
            else:
                self.buf += d.encode("utf-8", "surrogateescape")
                i += 1

    def _backquote(self) -> None:
        raise self.fail("command substitution is not supported", self.i, _NO_SHELL)

    def _operator(self) -> None:
        """| & ; < > ( ) and their doubled forms: a word of their own, marked as an operator."""
        self._finish()
        text, i = self.text, self.i
        op = text[i:i + 2] if text[i:i + 2] in ("||", "&&", ";;", ">>", "<<") else text[i]
        line, column = _position(text, i)
        self.found.append(Word(op, i, len(self.found) + 1, line, column, operator=True))
        self.i += len(op)

    def _expands(self, at: int) -> bool:
        """Does the $ at ``at`` start $NAME or ${NAME}?"""
        return at + 1 < self.n and (self.text[at + 1] == "{" or _NAME.match(self.text, at + 1) is not None)

    def _expand(self, at: int) -> tuple[bytes, int]:
        """$NAME or ${NAME} at ``at`` (pointing at the $): its value and the index after it."""
        text = self.text
        if text.startswith("${", at):
            close = text.find("}", at + 2)
            name = text[at + 2:close] if close > 0 else ""
            if close < 0 or not _NAME.fullmatch(name):
                raise self.fail(f"unsupported expansion {text[at:at + 20]!r}", at, _NO_SHELL)
            end = close + 1
        else:
            m = _NAME.match(text, at + 1)
            assert m is not None  # _expands: a name follows the $
            name, end = m.group(0), m.end()
        if name not in self.env:
            raise self.fail(f"${name} is not set in netlab's environment", at,
                            "a shell would expand it: write the value into the command")
        return self.env[name].encode("utf-8", "surrogateescape"), end


# the step for each character that is not itself in a word
_STEPS: dict[str, Callable[[_Lexer], None]] = {
    "\\": _Lexer._backslash, "'": _Lexer._single, '"': _Lexer._double, "$": _Lexer._dollar,
    "`": _Lexer._backquote, **dict.fromkeys("|&;<>()", _Lexer._operator),
}


_ANSI_SIMPLE = {"a": 7, "b": 8, "e": 27, "E": 27, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11,
                "\\": 92, "'": 39, '"': 34, "?": 63}


def _ansi_c(text: str, i: int, buf: bytearray, fail) -> int:
    """Decode a $'...' body starting at ``i`` into ``buf``; returns the index after the quote."""
    n = len(text)
    begin = i - 2
    start = len(buf)
    while True:
        if i >= n:
            raise fail("a $'...' quote is not closed", begin)
        c = text[i]
        if c == "'":
            cut = buf.find(b"\0", start)
            if cut >= 0:  # bash ends the string at a NUL byte
                del buf[cut:]
            return i + 1
        if c != "\\" or i + 1 >= n:
            buf += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        e = text[i + 1]
        if e in _ANSI_SIMPLE:
            buf.append(_ANSI_SIMPLE[e])
            i += 2
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", text[i + 1:i + 4])
            assert m is not None  # text[i + 1] is an octal digit
            buf.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        elif e == "x":
            m = re.match(r"[0-9A-Fa-f]{1,2}", text[i + 2:i + 4])
            if not m:
                buf += b"\\x"
                i += 2
                continue
            buf.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
        elif e in "uU":
            size = 4 if e == "u" else 8
            m = re.match(r"[0-9A-Fa-f]{1,%d}" % size, text[i + 2:i + 2 + size])
            if not m:
                buf += b"\\" + e.encode()
                i += 2
                continue
            try:
                buf += chr(int(m.group(0), 16)).encode("utf-8")
            except (ValueError, UnicodeEncodeError):
                raise fail(f"bad \\{e} escape", i) from None
            i += 2 + len(m.group(0))
        elif e == "c" and i + 2 < n:
            buf.append(ord(text[i + 2]) & 0x1F)
            i += 3
        else:
            buf += ("\\" + e).encode("utf-8", "surrogateescape")
            i += 2


def printf_bytes(fmt: bytes, word: Word) -> bytes:
    """What ``printf FORMAT`` writes, for the escapes ``to_curl`` uses (and a few more)."""
    out = bytearray()
    i, n = 0, len(fmt)
    simple = {ord("\\"): 92, ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13,
              ord("t"): 9, ord("v"): 11, ord('"'): 34, ord("'"): 39}
    while i < n:
        c = fmt[i]
        if c == 0x5C and i + 1 < n:  # backslash
            e = fmt[i + 1]
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            m = re.match(rb"[0-7]{1,3}", fmt[i + 1:i + 4])
            if m:
                out.append(int(m.group(0), 8) & 0xFF)
                i += 1 + len(m.group(0))
                continue
            out.append(c)
            i += 1
            continue
        if c == 0x25:  # %
            if fmt[i + 1:i + 2] == b"%":
                out.append(0x25)
                i += 2
                continue
            raise CurlError(f"printf at {word.where}: only %% is supported in the format (no arguments)")
        out.append(c)
        i += 1
    return bytes(out)
