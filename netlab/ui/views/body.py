"""The Body tab: the body for reading (pretty JSON, text, or a hex view for binary bodies),
and the body read back from its store, Content-Encoding undone, for a copy or a file."""

from __future__ import annotations

import json

from rich.text import Text

from netlab.ui.views.hexdump import HEX_LIMIT, hex_lines
from netlab.ui.views.lines import Lines, pieces
from netlab.ui.views.text import NOTE, fmt_bytes, safe

BODY_TEXT_LIMIT = 2 << 20  # text/JSON bodies are shown up to this many bytes
JSON_LIMIT = 4 << 20  # bodies larger than this are not pretty-printed
DECODE_LIMIT = 32 << 20  # gzip/deflate bodies are decoded for display up to this size
DISPLAY_DECODE_LIMIT = 64 << 20  # what the Body tab decodes (gzip can expand 1000x)


def looks_binary(sample: bytes) -> bool:
    """Does this sample of a body look binary (a NUL, invalid UTF-8, many control characters)?"""
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not just a character cut at the end of the sample
            return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) // 10


def _json_lines(text: str) -> list[Text] | None:
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    from rich.highlighter import JSONHighlighter

    hl = JSONHighlighter()
    pretty = json.dumps(obj, indent=2, ensure_ascii=False)
    out = []
    for line in pretty.split("\n"):
        t = Text(safe(line), no_wrap=True)
        hl.highlight(t)
        out.append(t)
    return out


def _text_lines(text: str) -> list[Text]:
    out = []
    for line in text.split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        for k, piece in enumerate(pieces(safe(line.expandtabs(4)))):
            out.append(Text(("↪ " if k else "") + piece, no_wrap=True))
    return out


def body_lines(response) -> tuple[Text, Lines, str]:
    """(note, lines, kind): the body for reading; kind is json | text | binary | empty."""
    from netlab.engine.errors import NetlabError

    size = response.body_bytes
    ctype = safe(response.header("content-type") or "", 80)
    note = Text(no_wrap=True)
    if not size:
        note.append("(no body)", NOTE)
        return note, Lines.empty(), "empty"
    data = response.body_store.head(max(HEX_LIMIT, BODY_TEXT_LIMIT)) if size > DECODE_LIMIT else response.body
    encoding = (response.header("content-encoding") or "").strip().lower()
    note.append(fmt_bytes(size))
    if ctype:
        note.append(f" · {ctype}")
    if encoding and encoding != "identity":
        if size > DECODE_LIMIT:
            note.append(f" · {safe(encoding, 20)} body too large to decode here", "yellow")
        else:
            try:
                decoded = response.decoded_body(DISPLAY_DECODE_LIMIT)
            except NetlabError as exc:
                note.append(f" · {safe(exc.message)}", "red")
            else:
                note.append(f" · {safe(encoding, 20)}: {fmt_bytes(size)} on the wire → "
                            f"{fmt_bytes(len(decoded))} decoded",
                            "green")
                data = decoded
                size = len(decoded)
    if looks_binary(data[:8192]):
        note.append(" · binary, shown as hex")
        return note, hex_lines(data[:HEX_LIMIT], size), "binary"
    text_part = data[:BODY_TEXT_LIMIT]
    text = text_part.decode("utf-8", "backslashreplace")
    if len(data) <= JSON_LIMIT and ("json" in ctype.lower() or text.lstrip()[:1] in ("{", "[")):
        lines = _json_lines(data.decode("utf-8", "backslashreplace"))
        if lines is not None:
            note.append(" · JSON, pretty-printed")
            return note, Lines.of(lines), "json"
    lines = _text_lines(text)
    if len(data) > len(text_part):
        lines.append(Text(f"… {fmt_bytes(len(data) - len(text_part))} more not shown", NOTE))
    return note, Lines.of(lines), "text"


def iter_body(response, decode: bool = True, size: int = 1 << 20, limit: int | None = None):
    """The body in chunks of at most ``size`` bytes, read from its store (memory or the
    spilled temporary file), with a gzip or deflate Content-Encoding undone as it streams
    when ``decode`` (never the whole body in memory).  Raises NetlabError('parse') when
    the encoded data is bad, NetlabError('limit') when it decodes to more than ``limit``."""
    import zlib

    from netlab.engine.errors import NetlabError

    store = response.body_store
    enc = (response.header("content-encoding") or "").strip().lower()
    if not decode or enc not in ("gzip", "x-gzip", "deflate"):
        yield from store.iter_chunks(size)
        return
    d = None
    total = 0
    try:
        for chunk in store.iter_chunks(size):
            if d is None:
                if enc == "deflate":  # zlib-wrapped, as the RFC says, or raw deflate, as some servers send
                    wrapped = len(chunk) >= 2 and chunk[0] & 0x0F == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
                    d = zlib.decompressobj(15 if wrapped else -15)
                else:
                    d = zlib.decompressobj(31)
            buf = chunk
            while buf and not d.eof:
                out = d.decompress(buf, size)
                total += len(out)
                if limit is not None and total > limit:
                    raise NetlabError("limit", f"the {enc} body decodes to more than {fmt_bytes(limit)}")
                if out:
                    yield out
                buf = d.unconsumed_tail
        if d is not None and not d.eof:
            tail = d.flush()
            if tail:
                yield tail
    except zlib.error as exc:
        raise NetlabError("parse", f"cannot decode the {enc} body: {exc}") from None


def body_text(response, limit: int) -> str | None:
    """The body as text (Content-Encoding undone, UTF-8 where valid, other bytes as
    ``\\xNN``, CR LF as LF), or None when it is longer than ``limit`` bytes."""
    from netlab.engine.errors import NetlabError

    def read(decode: bool) -> bytes | None:
        out = bytearray()
        for chunk in iter_body(response, decode, size=limit + 1):
            out += chunk
            if len(out) > limit:
                return None
        return bytes(out)

    try:
        data = read(True)
    except NetlabError:
        data = read(False)
    return None if data is None else data.decode("utf-8", "backslashreplace").replace("\r\n", "\n")
