"""Writing a Request as a .http entry that reads back to the same bytes (``write_entry``),
in netlab's raw form when the format cannot carry it as written, and appending one to a
file atomically (``append_entry``)."""

from __future__ import annotations

import os
import re
import tempfile

from netlab.engine.errors import NetlabError
from netlab.engine.formats.httpfile.model import EntryOptions, HttpFileError, encode_raw
from netlab.engine.formats.httpfile.parse import FILE_REF, parse_text
from netlab.engine.request import Request

__all__ = ["write_entry", "append_entry"]

# characters a written .http file must not hold in literal form (they do not survive editors,
# or would be read differently): controls other than TAB, C1 controls, line separators, BOM
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\r]")


def _raw_lines(data: bytes) -> list[str]:
    lines = encode_raw(data).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        if line.endswith(" "):  # editors strip trailing blanks: write the last one out
            line = line[:-1] + "\\x20"
        out.append(f"#| {line}" if line else "#|")
    return out or ["#|"]


def write_entry(request: Request, name: str | None = None, options=None) -> str:
    """The text of one .http entry, starting with a ``###`` line, that ``parse_text`` reads
    back to ``request``'s exact bytes, scheme, host and port.  ``options`` (an engine Options
    or EntryOptions) adds the settings it can carry (``# @insecure``, ``# @resolve``...)."""
    if name is not None:
        name = name.strip()
        if _UNSAFE_TEXT.search(name) or "\n" in name:
            raise NetlabError("usage", f"a request name is one line of text, not {name!r}")
    if options is not None and not isinstance(options, EntryOptions):
        options = EntryOptions.from_options(options)
    head = [f"### {name}" if name else "###"] + (options.lines() if options is not None else [])
    literal = _literal_lines(request)
    if literal is not None:
        text = "\n".join(head + literal) + "\n"
        if _reads_back(text, request):
            return text
    return "\n".join(head + [f"# @netlab-raw {request.origin}"] + _raw_lines(request.data)) + "\n"


def _literal_lines(request: Request) -> list[str] | None:
    data = request.data
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head, body = data[:end], data[end + 4:]
    try:
        head_text = head.decode("utf-8")
        body_text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = head_text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[1].startswith("/"):
        return None
    method, target, version = parts
    url = f"{request.origin}{target}"
    out = [f"{method} {url}" + ("" if version == "HTTP/1.1" else f" {version}")] + lines[1:]
    if body_text:
        ctype = (request.header("content-type") or "").lower()
        eol = "\r\n" if ctype.startswith("multipart/form-data") else "\n"
        out += [""] + body_text.split(eol)
    text = "\n".join(out)
    if "{{" in text or _UNSAFE_TEXT.search(text):
        return None
    if any(FILE_REF.match(line) for line in out):
        return None
    return out


def _reads_back(text: str, request: Request) -> bool:
    try:
        parsed = parse_text(text, _read_files=False)
    except NetlabError:
        return False
    if len(parsed.entries) != 1:
        return False
    r = parsed.entries[0].request
    return (r.data, r.scheme, r.host.lower(), r.port) == (request.data, request.scheme, request.host.lower(),
                                                          request.port)


def append_entry(path: str, request: Request, name: str | None = None, options=None) -> int:
    """Append ``request`` to the .http file at ``path`` (created 0600 when missing; written
    atomically, keeping its mode and line endings).  Returns the new entry's first line."""
    try:
        with open(path, "rb") as f:
            existing = f.read().decode("utf-8")
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        existing, mode = "", 0o600
    except (OSError, UnicodeDecodeError) as exc:
        raise HttpFileError(path, None, f"cannot read the file to append to it: {exc}") from None
    entry = write_entry(request, name, options)
    crlf = "\r\n" in existing
    if existing and not existing.endswith("\n"):
        existing += "\r\n" if crlf else "\n"
    sep = ("\r\n" if crlf else "\n") if existing.strip() else ""
    if not existing.strip():
        existing = ""
    first_line = existing.count("\n") + (2 if sep else 1)
    if crlf:
        entry = entry.replace("\n", "\r\n")
    text = existing + sep + entry
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".netlab-", suffix=".http", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise HttpFileError(path, None, f"cannot write the file: {exc.strerror or exc}") from None
    return first_line
