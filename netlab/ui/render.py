"""What the response viewer shows, prepared off the UI thread.

``prepare(exchange)`` turns a finished Exchange into ready-to-draw pieces: the status
line, the body (pretty JSON, text, or a hex view for binary bodies), the raw bytes
with their framing marked, a hex dump and the connection details.  Long views are
``Lines``: a count and a function that renders line *i* on demand, so a viewer only
draws what is visible.  It runs in the send worker, never on the UI thread.

Untrusted bytes (body, header names and values, reason phrase, certificate fields,
DNS data, process names, error messages that quote a peer) go through ``safe`` (every
control character and bidi/zero-width format character made a visible escape) and into
``rich.text.Text`` objects (``untrusted``): never into markup, never into a plain ``str``
that a Textual widget would parse as markup.  The panes use these two functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from rich.cells import cell_len
from rich.text import Text

from netlab.engine.rawtext import visible_line_endings
from netlab.engine.text import safe_text
from netlab.ui.styles import STATE_STYLES

__all__ = [
    "Lines",
    "Hanging",
    "wrap_text",
    "Prepared",
    "prepare",
    "hex_lines",
    "raw_lines",
    "body_lines",
    "connection_lines",
    "follow_lines",
    "status_text",
    "fmt_bytes",
    "fmt_ms",
    "fmt_addr",
    "safe",
    "untrusted",
    "Search",
    "hex_query",
    "iter_body",
    "pager_text",
]

BODY_TEXT_LIMIT = 2 << 20  # text/JSON bodies are shown up to this many bytes
JSON_LIMIT = 4 << 20  # bodies larger than this are not pretty-printed
HEX_LIMIT = 16 << 20  # hex views cover at most this many bytes
RAW_BODY_LIMIT = 1 << 20  # the Raw tab shows this much of the wire body
RAW_BINARY_LIMIT = 16 << 10  # ... or this much when it is binary
DECODE_LIMIT = 32 << 20  # gzip/deflate bodies are decoded for display up to this size
LINE_PIECE = 512  # long lines are cut into pieces of this many characters

MARK = "bold magenta"
NOTE = "dim italic"
ERROR = "bold red"



def safe(value, limit: int | None = None) -> str:
    """One line of untrusted text (str, bytes, or anything ``str()`` takes), every control
    character and every bidi/zero-width format character made a visible escape, newline
    and tab included: ``\\x1b[2J``, ``\\u202e``.  Markup such as ``[bold]`` stays as it
    is; show the result as plain Text (``untrusted``), never as markup."""
    if value is None:
        value = ""
    elif not isinstance(value, (str, bytes, bytearray, memoryview)):
        value = str(value)
    s = safe_text(value, keep_newlines=False)
    return s if limit is None or len(s) <= limit else s[: limit - 1] + "…"


def untrusted(value, style: str = "", limit: int | None = None) -> Text:
    """Untrusted text as a one-line ``Text`` that no widget parses as markup: for
    DataTable cells, Static.update and the like."""
    return Text(safe(value, limit), style, no_wrap=True)


def fmt_bytes(n: int | float) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.2f} ms"


def fmt_addr(addr) -> str:
    if not addr:
        return "-"
    host, port = addr[0], addr[1]
    if not port:
        return safe(host) or "(unnamed)"
    host = safe(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class Lines:
    """A long view: ``count`` lines, line ``i`` rendered by ``line(i)``, ``width`` cells wide.

    ``fit(cells)``, when set, gives the same view laid out for a viewer ``cells`` wide (a
    hex view picks 8 or 16 bytes a row, wrapped text breaks at spaces); a viewer calls it
    when it knows its width, and again when that changes."""

    count: int
    line: Callable[[int], Text]
    width: int
    data: bytes | None = None  # a hex view: the bytes it shows, ``row`` a line (what a search reads)
    row: int = 16  # a hex view's bytes a line
    columns: tuple[int, int] = (10, 61)  # a hex view's first hex cell and first ASCII cell
    fit: Callable[[int], "Lines"] | None = None

    @classmethod
    def of(cls, texts: list[Text]) -> "Lines":
        """Lines of fixed texts; when any is a ``Hanging`` text, the view wraps to its
        viewer's width (see ``wrap_text``)."""
        width = max((_width(t.plain) for t in texts), default=0)
        fit = None
        if any(isinstance(t, Hanging) for t in texts):
            fit = partial(_fit_wrapped, tuple(texts))
        return cls(len(texts), texts.__getitem__, width, fit=fit)

    @classmethod
    def empty(cls) -> "Lines":
        return cls.of([])

    def plain(self, limit: int = 10_000) -> str:
        """The text of the first ``limit`` lines (for tests and copying)."""
        return "\n".join(self.line(i).plain for i in range(min(self.count, limit)))


def _width(s: str) -> int:
    return len(s) if s.isascii() else cell_len(s)


# -- wrapping ----------------------------------------------------------------------------------

class Hanging(Text):
    """A line that wraps to its viewer's width at spaces, its continuation lines indented
    by ``hang`` cells (``key   value`` lines: under the value)."""

    __slots__ = ("hang",)

    def __init__(self, *args, hang: int = 0, **kw) -> None:
        super().__init__(*args, **kw)
        self.hang = hang


def _fits(s: str, cells: int) -> int:
    """How many characters of ``s`` fit in ``cells`` cells (at least one)."""
    if s.isascii():
        return max(1, min(len(s), cells))
    used = 0
    for i, ch in enumerate(s):
        used += cell_len(ch)
        if used > cells:
            return max(1, i)
    return len(s)


def _breaks(plain: str, first: int, rest: int) -> list[int]:
    """Where to break ``plain`` into lines of at most ``first`` cells, then ``rest`` cells:
    before a word that does not fit; inside a word only when it is longer than a line."""
    out: list[int] = []
    start, avail = 0, first
    for m in re.finditer(r"\S+", plain):
        w_start, w_end = m.span()
        if _width(plain[start:w_end]) <= avail:
            continue
        if plain[start:w_start].strip() and _width(m.group()) <= rest:  # the next line takes it whole
            out.append(w_start)
            start, avail = w_start, rest
        while _width(plain[start:w_end]) > avail:  # longer than a line: fold it
            start += _fits(plain[start:w_end], avail)
            while start < w_start and plain[start].isspace():  # (a line starts with the word, not a space)
                start += 1
            out.append(start)
            avail = rest
    return out


def wrap_text(text: Text, width: int, hang: int = 0) -> list[Text]:
    """``text`` as lines at most ``width`` cells wide (words whole when they fit a line),
    continuation lines indented by ``hang`` cells (less when that would leave a narrow column)."""
    if width <= 0 or _width(text.plain) <= width:
        return [text]
    if width - hang < 20:  # too little room beside the indent: indent less
        hang = min(hang, max(0, width // 3))
    cuts = _breaks(text.plain, width, width - hang)
    pieces = text.divide(cuts)
    out = [pieces[0]]
    out[0].rstrip()
    for piece in pieces[1:]:
        piece.rstrip()
        line = Text(" " * hang, no_wrap=True)
        line.append_text(piece)
        out.append(line)
    for line in out:
        line.no_wrap = True
    return out


def _fit_wrapped(texts: tuple, width: int) -> "Lines":
    out: list[Text] = []
    for t in texts:
        out.extend(wrap_text(t, width, getattr(t, "hang", 0)) if isinstance(t, Hanging) else (t,))
    width_now = max((_width(t.plain) for t in out), default=0)
    return Lines(len(out), out.__getitem__, width_now, fit=partial(_fit_wrapped, texts))


# -- hex -------------------------------------------------------------------------------------
#
# offset, hex and ASCII columns, 16 bytes a row as hexdump -C; hex_lines(...).fit(width)
# picks what fits: that, or 16 bytes with an offset of only the digits it needs (an 80-column
# terminal), or 8 bytes a row (with the shorter offset when even that is too wide).


def _hex_columns(row: int, digits: int = 8) -> tuple[int, int]:
    """(first hex cell, first ASCII cell) of a row of ``row`` bytes."""
    hex_w = 3 * row - 1 + (1 if row > 8 else 0)  # two spaces between the two halves of a 16-byte row
    return digits + 2, digits + 2 + hex_w + 3


def _hex_width(row: int, digits: int = 8) -> int:
    """Cells of a full row: offset, two spaces, hex, two spaces, |ASCII|."""
    return _hex_columns(row, digits)[1] + row + 1


def _hex_cell(j: int, row: int = 16, first: int = 10) -> int:
    """The column of byte ``j`` of a row in the hex column (which starts at ``first``)."""
    return first + 3 * j + (1 if row > 8 and j >= 8 else 0)


def _hex_line(data: bytes, i: int, base: int = 0, row: int = 16, digits: int = 8) -> Text:
    chunk = data[i * row : i * row + row]
    hexes = " ".join(f"{b:02x}" for b in chunk[:8])
    if len(chunk) > 8:
        hexes += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
    ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
    first, ascii_at = _hex_columns(row, digits)
    t = Text(no_wrap=True)
    t.append(f"{base + i * row:0{digits}x}", "dim")
    t.append("  ")
    t.append(f"{hexes:<{ascii_at - first - 3}}")
    t.append("  |")
    t.append(ascii_, "cyan")
    t.append("|")
    return t


def hex_lines(data: bytes, total: int | None = None, row: int = 16, digits: int = 8) -> Lines:
    """offset / hex / ASCII columns, ``row`` (16 or 8) bytes a line, offsets ``digits`` hex
    digits; ``total`` > len(data) adds a note.  ``fit(width)`` gives the view that fits."""
    data = bytes(data)
    n = (len(data) + row - 1) // row
    cut = total is not None and total > len(data)

    def line(i: int) -> Text:
        if i == n:
            return Text(f"… {fmt_bytes(total - len(data))} more not shown (hex view is limited to "
                        f"{fmt_bytes(len(data))})", NOTE)
        return _hex_line(data, i, row=row, digits=digits)

    def fit(width: int) -> Lines:
        short = max(4, len(f"{max(0, len(data) - 1):x}"))  # the digits the last offset needs
        for want in ((16, 8), (16, short), (8, 8), (8, short)):
            if _hex_width(*want) <= width:
                break
        return lines if want == (row, digits) else hex_lines(data, total, *want)

    lines = Lines(n + (1 if cut else 0), line, _hex_width(row, digits), data, row, _hex_columns(row, digits), fit)
    return lines


# -- raw bytes with framing -------------------------------------------------------------------

def _pieces(s: str) -> list[str]:
    """A long line of raw notation in pieces of LINE_PIECE characters, no escape cut in two."""
    from netlab.engine.rawtext import split_pieces

    return split_pieces(s, LINE_PIECE)


def _wire(out: list[Text], data: bytes, style: str = "", note: str = "") -> None:
    """Append raw bytes as display lines in the raw notation (the composer's and ``send
    -v``'s: a backslash is ``\\\\``), line endings visible, long lines cut."""
    for line, ending in visible_line_endings(data, pairs=True):
        pieces = _pieces(line)
        for k, piece in enumerate(pieces):
            t = Text(no_wrap=True)
            if k:
                t.append("↪ ", NOTE)
            t.append(piece, style)
            last = k == len(pieces) - 1
            if last and ending:  # known from the bytes: an escaped backslash before an n is no ending
                t.append(ending, "dim cyan")
            if note and last:
                t.append(f"  ← {note}", NOTE)
            out.append(t)


def _marker(text: str, style: str = MARK) -> Text:
    return Text(f"── {text} ──", style, no_wrap=True)


def _chunk_segments(raw: bytes) -> list[tuple]:
    """Split a chunked wire body into ("size", line, n), ("data", bytes), ("crlf", bytes),
    ("trailer", line), ("final", line), ("partial", bytes)."""
    out: list[tuple] = []
    pos, n = 0, len(raw)
    while pos < n:
        eol = raw.find(b"\n", pos)
        if eol < 0:
            out.append(("partial", raw[pos:]))
            return out
        line = raw[pos : eol + 1]
        pos = eol + 1
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            out.append(("partial", line + raw[pos:]))
            return out
        out.append(("size", line, size))
        if size == 0:
            while pos < n:
                eol = raw.find(b"\n", pos)
                if eol < 0:
                    out.append(("partial", raw[pos:]))
                    return out
                line = raw[pos : eol + 1]
                pos = eol + 1
                if not line.strip():
                    out.append(("final", line))
                    return out
                out.append(("trailer", line))
            return out
        data = raw[pos : pos + size]
        out.append(("data", data))
        pos += len(data)
        if len(data) < size:
            return out
        for end in (b"\r\n", b"\n"):
            if raw.startswith(end, pos):
                out.append(("crlf", end))
                pos += len(end)
                break
    return out


_FRAMING = {
    "content-length": "the body is framed by Content-Length: {cl} bytes",
    "chunked": "the body is framed by Transfer-Encoding: chunked (size lines in cyan)",
    "close": "no Content-Length and not chunked: the body ends when the server closes the connection",
    "none": "no body (a HEAD request, or a 1xx, 204 or 304 status)",
}


def _raw_error(out: list[Text], error) -> None:
    """Append why the exchange stopped (``phase: message``), when it failed."""
    if error is not None:
        out.append(_marker(f"{safe(error.phase)}: {safe(error.message)}", ERROR))


def _raw_informational(out: list[Text], response) -> None:
    """Append each 1xx informational head as received, each closed by a marker."""
    for info in response.informational:
        _wire(out, info.raw)
        out.append(_marker(f"end of informational head {info.status} ({len(info.raw)} bytes); "
                           "the real response follows"))


def _raw_head_end(out: list[Text], response) -> None:
    """Append the end-of-head marker and the note on how the body is framed."""
    framing = response.framing
    why = _FRAMING.get(framing, framing).format(cl=response.header("content-length"))
    out.append(_marker(f"end of head ({len(response.raw_head)} bytes)"))
    out.append(Text(f"   {why}", NOTE))


def _raw_chunk(out: list[Text], seg: tuple) -> None:
    """Append one segment of a chunked body (see ``_chunk_segments``), its role noted."""
    kind = seg[0]
    if kind == "size":
        note = ("last chunk (size 0), trailers follow" if seg[2] == 0 else
                f"chunk size 0x{safe(seg[1].split(b';')[0].strip().decode('latin-1'), 40)} = {seg[2]} bytes")
        _wire(out, seg[1], "bold cyan", note)
    elif kind == "crlf":
        _wire(out, seg[1], "", "end of chunk data")
    elif kind == "trailer":
        _wire(out, seg[1], "yellow", "trailer")
    elif kind == "final":
        _wire(out, seg[1], "", "end of the chunked body")
    else:  # data, or a partial line at the end
        _wire(out, seg[1])


def _raw_body(out: list[Text], response) -> int:
    """Append the body as on the wire (binary cut short, chunk framing marked) and a note
    on what is not shown; return the body's size on the wire."""
    store = response.raw_body_store or response.body_store
    wire_size = store.size
    shown = store.head(RAW_BODY_LIMIT) if wire_size else b""
    if _looks_binary(shown[:8192]):
        shown = shown[:RAW_BINARY_LIMIT]  # escaped binary is unreadable at length: the Hex tab shows it
    if response.framing == "chunked":
        for seg in _chunk_segments(shown):
            _raw_chunk(out, seg)
    elif shown:
        _wire(out, shown)
    if wire_size > len(shown):
        out.append(Text(f"… {fmt_bytes(wire_size - len(shown))} more body bytes not shown here "
                        f"(the Hex tab shows up to {fmt_bytes(HEX_LIMIT)})", NOTE))
    return wire_size


def _raw_body_end(response, wire_size: int) -> Text:
    """The marker closing a complete response: what, by its framing, ended the body."""
    framing = response.framing
    if framing == "content-length":
        return _marker(f"end of body: all {response.body_bytes} bytes of Content-Length received")
    if framing == "chunked":
        return _marker(f"end of body: the size-0 chunk ({response.body_bytes} body bytes in "
                       f"{wire_size} bytes on the wire)")
    if framing == "close":
        return _marker(f"end of body: the server closed the connection ({response.body_bytes} bytes)")
    return _marker("end of response: no body")


def raw_lines(response, error=None) -> Lines:
    """The bytes received, exactly, line endings visible, framing marked."""
    out: list[Text] = []
    if response is None or (not response.status and not response.raw_head):
        out.append(Text("(nothing received)", NOTE))
        _raw_error(out, error)
        return Lines.of(out)
    _raw_informational(out, response)
    _wire(out, response.raw_head)
    if not response.status:  # no valid head arrived: the bytes that did, then why it stopped
        out.append(_marker(f"no complete response head: {len(response.raw_head)} bytes received"))
        _raw_error(out, error)
        return Lines.of(out)
    _raw_head_end(out, response)
    wire_size = _raw_body(out, response)
    if error is not None:
        out.append(_marker(f"incomplete: {safe(error.phase)} failed after {fmt_bytes(wire_size)} of body: "
                           f"{safe(error.message)}", ERROR))
    elif response.complete:
        out.append(_raw_body_end(response, wire_size))
    return Lines.of(out)


# -- body ----------------------------------------------------------------------------------

def _looks_binary(sample: bytes) -> bool:
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
        for k, piece in enumerate(_pieces(safe(line.expandtabs(4)))):
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
    if _looks_binary(data[:8192]):
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


# -- connection ------------------------------------------------------------------------------

def _kv(out: list[Text], key: str, value, style: str = "") -> None:
    t = Hanging(no_wrap=True, hang=16)  # wrapped lines go on under the value
    t.append(f"  {key:<14}", "bold")
    t.append(value if isinstance(value, str) else str(value), style)
    out.append(t)


def _section(out: list[Text], title: str) -> None:
    if out:
        out.append(Text(""))
    out.append(Text(title, "bold underline"))


def connection_lines(ex, follow=None) -> Lines:
    """The Connection tab; ``follow`` (a netstat.Follow of this connection) adds its TCP
    state history right below the connection itself."""
    out: list[Text] = []
    c = ex.connection
    _section(out, "Connection")
    if c is None:
        out.append(Text("  (no connection was made)", NOTE))
    else:
        _kv(out, "family", c.family)
        _kv(out, "local", fmt_addr(c.local) + ("   (the port the kernel chose)" if c.local and c.local[1] else ""))
        _kv(out, "remote", fmt_addr(c.remote))
        _kv(out, "connection", "reused (keep-alive)" if c.reused else "new", "green" if c.reused else "")
        _kv(out, "RTT", fmt_ms(c.rtt_ms) + ("  (kernel TCP_INFO)" if c.rtt_ms is not None else ""))
        _kv(out, "after", "kept open for reuse" if ex.keep_alive else "closed")
    if follow is not None:
        out.extend(follow_lines(follow))
    d = ex.dns
    if d is not None:
        _section(out, "Name resolution")
        _kv(out, "name", safe(d.name))
        _kv(out, "source", d.source)
        if d.server:
            _kv(out, "server", safe(d.server))
        _kv(out, "addresses", safe(", ".join(d.addresses)))
        if d.used:
            _kv(out, "used", safe(d.used))
        _kv(out, "time", fmt_ms(d.elapsed_ms))
        for addr, why in list(getattr(d, "failed", []) or []):
            _kv(out, "failed", f"{safe(addr)}: {safe(why)}", "red")
    tls = ex.tls
    if tls is not None:
        _section(out, "TLS")
        _kv(out, "version", safe(tls.version))
        _kv(out, "cipher", safe(tls.cipher))
        _kv(out, "ALPN", safe(tls.alpn or "-"))
        _kv(out, "SNI", safe(tls.sni or "-"))
        _kv(out, "verified", "yes" if tls.verified else "no (--insecure)", "green" if tls.verified else "yellow")
        cert = tls.peer_cert or {}
        if cert:
            _section(out, "Certificate")
            _kv(out, "subject", safe(cert.get("subject")))
            _kv(out, "issuer", safe(cert.get("issuer")))
            for san in cert.get("san") or ():
                _kv(out, "SAN", safe(san))
            _kv(out, "not before", safe(cert.get("not_before")))
            _kv(out, "not after", safe(cert.get("not_after")))
            _kv(out, "sha256", safe(cert.get("sha256")))
    _section(out, "Request")
    _kv(out, "target", safe(f"{ex.request.origin}{ex.request.target}"))
    _kv(out, "bytes sent", str(len(ex.request.data)))
    if ex.options.resolve:
        _kv(out, "pinned", ", ".join(f"{p.host}:{p.port or '*'}:{','.join(p.addresses)}" for p in ex.options.resolve))
    if ex.options.unix_socket:
        _kv(out, "unix socket", safe(ex.options.unix_socket))
    if ex.options.insecure:
        _kv(out, "TLS check", "off (--insecure)", "yellow")
    for addr, why in ex.attempts:
        _kv(out, "attempt", f"{safe(addr)}: {safe(why)}", "red")
    return Lines.of(out)


# -- TCP states of a followed connection -------------------------------------------------------

def _timeline(out: list[Text], follow) -> None:

    for when, step in follow.timeline():
        t = Hanging(no_wrap=True, hang=40)  # wrapped notes go on under the note
        t.append(f"  {when:>14}  ", "dim")
        t.append(f"{step.state:<12}", STATE_STYLES.get(step.state, "bold"))
        t.append(f"{step.source:<10}", "dim")
        note = step.note[len(step.source) + 1:] if step.note.startswith(step.source + " ") else step.note
        t.append(safe(note), NOTE if step.source != "connect()" else "")  # (not "connect() connect() called")
        out.append(t)


def follow_lines(follow) -> list[Text]:
    """A followed connection's TCP state history (both ends when the server is on this
    machine), each step with its time since connect() and where it was seen."""

    out: list[Text] = [Text("")]
    out.append(Text("TCP states", "bold underline"))
    how = "reused keep-alive connection" if follow.reused else "new connection"
    uses = f" · {follow.exchanges} requests on it" if follow.exchanges > 1 else ""
    _kv(out, "followed", f"{fmt_addr(follow.local)} → {fmt_addr(follow.remote)} ({how}{uses})",
        "green" if follow.reused else "")
    _kv(out, "now", follow.state or "?", STATE_STYLES.get(follow.state or "", "bold"))
    out.append(Text("  our end:", "bold"))
    _timeline(out, follow)
    peer = follow.peer
    if peer is not None and peer.steps:
        out.append(Text("  the server's end (on this machine too):", "bold"))
        _timeline(out, peer)
    out.append(Hanging("  connect(): the engine's own step · probe: asked the kernel (sock_diag) · scan: a snapshot",
                       NOTE, hang=2))
    return out


# -- status --------------------------------------------------------------------------------

def status_style(status: int) -> str:
    if status >= 500:
        return "bold white on red"
    if status >= 400:
        return "bold black on yellow"
    if status >= 300:
        return "bold black on cyan"
    return "bold black on green"


def status_text(ex) -> Text:
    """The response viewer's status line: status, body size and total time on the first
    line, the connection (new or reused, the whole local ip:port → remote) on the next, then
    any error.  It may wrap further, at spaces: the viewer never cuts an address."""
    t = Text()
    r = ex.response
    if r is not None and r.status:
        t.append(f" {safe(r.http_version, 20)} {r.status} {safe(r.reason, 60)} ", status_style(r.status))
        t.append(f"  {fmt_bytes(r.body_bytes)} · {fmt_ms(ex.timings.total)}")
    if ex.connection is not None:
        if t.plain:
            t.append("\n")
        t.append(" reused " if ex.connection.reused else " new ")
        t.append(fmt_addr(ex.connection.local), "bold")
        t.append(f" → {fmt_addr(ex.connection.remote)}", "dim")
    if ex.error is not None:
        if t.plain:
            t.append("\n")
        t.append(f" ✗ {safe(ex.error.phase)} ", "bold white on red")
        t.append(f" {safe(ex.error.message)}")
        if ex.error.hint:
            t.append(f"\n   next: {safe(ex.error.hint)}", NOTE)
    return t


@dataclass(frozen=True, slots=True)
class Prepared:
    """A finished exchange, ready to draw."""

    exchange: object
    status: Text
    body_note: Text
    body: Lines
    body_kind: str
    headers: tuple[tuple[str, str], ...]
    trailers: tuple[tuple[str, str], ...]
    raw: Lines
    hex: Lines
    connection: Lines
    history_id: int | None = None
    extra: dict = field(default_factory=dict)


def prepare(ex, history_id: int | None = None) -> Prepared:
    r = ex.response
    if r is not None and r.status:
        note, body, kind = body_lines(r)
        store = r.raw_body_store or r.body_store
        prefix = b"".join(i.raw for i in r.informational) + r.raw_head
        wire = prefix + store.head(max(0, HEX_LIMIT - len(prefix)))
        hexv = hex_lines(wire, len(prefix) + store.size)
        headers, trailers = tuple(r.headers), tuple(r.trailers)
    else:
        note, body, kind = Text("(no response)", NOTE), Lines.empty(), "empty"
        hexv = hex_lines(r.raw_head if r is not None else b"")
        headers = trailers = ()
    return Prepared(ex, status_text(ex), note, body, kind, headers, trailers, raw_lines(r, ex.error), hexv,
                    connection_lines(ex), history_id)


# -- search ------------------------------------------------------------------------------------
#
# The response viewer's search (/, n, N) reads what a view shows without rendering it: a
# text view's lines' plain strings, a hex view's bytes.  Matches are listed in a worker
# thread (``Search.find``); each line is highlighted as it is drawn (``Search.spans``).
# The query is plain text (no regular expressions: Python's ``re`` holds the GIL while it
# backtracks, so one bad pattern over a 16 MiB body would freeze the UI), case-insensitive
# unless ``match_case``.

SEARCH_CAP = 100_000  # matches listed at most; n/N move among these
HIT = "#000000 on #d7af00"  # every match: yellow
HIT_NOW = "bold #000000 on #5fd7ff"  # the current match: light blue
_HEX_PAIRS = re.compile(r"(?:0[xX])?(?:[0-9a-fA-F]{2})+(?:\s+(?:[0-9a-fA-F]{2})+)*")


def hex_query(query: str) -> bytes | None:
    """The bytes a query written in hex stands for (``48 54``, ``4854``, ``0x0d0a``: pairs
    of hex digits, spaces between pairs allowed), or None when it is not written so."""
    q = query.strip()
    if not _HEX_PAIRS.fullmatch(q):
        return None
    if q[:2] in ("0x", "0X"):
        q = q[2:]
    return bytes.fromhex("".join(q.split()))


SEARCH_WINDOW = 1 << 20


def _find_all(data: bytes, needle: bytes, fold: bool, stop: Callable[[], bool]) -> list[int] | None:
    """Start offsets of ``needle`` in ``data``, not overlapping (``fold``: ASCII letters in
    any case; ``needle`` is lowercase then), at most SEARCH_CAP + 1; None when ``stop()``."""
    out: list[int] = []
    n, size = len(data), len(needle)
    pos = 0
    while pos < n:
        if stop():
            return None
        hi = min(n, pos + SEARCH_WINDOW)
        window = data[pos : min(n, hi + size - 1)]
        if fold:
            window = window.lower()
        i = window.find(needle)
        nxt = hi
        while 0 <= i and pos + i < hi:
            out.append(pos + i)
            if len(out) > SEARCH_CAP:
                return out
            nxt = max(hi, pos + i + size)
            i = window.find(needle, i + size)
        pos = nxt
    return out


class Search:
    """One query over one view (a ``Lines``).  A match is ``(line, start, end)``: character
    offsets in that line's plain text; in a hex view (``lines.data`` set) byte offsets in
    the data, so that one match may span lines.

    In a hex view a query matches bytes two ways: as text (its UTF-8 bytes, ASCII letters
    in either case unless ``match_case``) and, when it is written as hex bytes (``48 54``,
    ``0d0a``, ``0xff``), as those bytes; each match is highlighted in both columns."""

    def __init__(self, lines: Lines, query: str, match_case: bool = False) -> None:
        self.lines = lines
        self.query = query
        self.match_case = match_case
        self.hex = lines.data is not None
        self.as_bytes: bytes | None = None
        if self.hex:
            text = query.encode("utf-8", "surrogateescape")
            pattern = re.escape(text) if match_case else b"(?i:" + re.escape(text) + b")"
            self.as_bytes = hex_query(query)
            if self.as_bytes:
                pattern += b"|" + re.escape(self.as_bytes)
            self.longest = max(len(text), len(self.as_bytes or b""))
            self.pattern = re.compile(pattern)
        else:
            self.pattern = re.compile(re.escape(query), 0 if match_case else re.IGNORECASE)

    def describe(self) -> str:
        """What is searched for, for the status line (escaped, one line)."""
        how = "" if self.match_case else ", any case"
        if self.as_bytes:
            return f"'{safe(self.query, 60)}' (as text{how}, or as the bytes {self.as_bytes[:16].hex(' ')})"
        return f"'{safe(self.query, 60)}'" + (" (case as typed)" if self.match_case else "")

    def find(self, stop: Callable[[], bool] = lambda: False) -> tuple[list[tuple[int, int, int]], bool] | None:
        """(matches in order, capped: more than SEARCH_CAP exist); None when ``stop()``
        said so (a newer search replaced this one)."""
        out: list[tuple[int, int, int]] = []
        if self.hex:
            return self._find_bytes(stop)
        line, finditer = self.lines.line, self.pattern.finditer
        for i in range(self.lines.count):
            if i & 1023 == 0 and stop():
                return None
            for m in finditer(line(i).plain):
                if len(out) >= SEARCH_CAP:
                    return out, True
                out.append((i, m.start(), m.end()))
        return out, False

    def _find_bytes(self, stop: Callable[[], bool]) -> tuple[list[tuple[int, int, int]], bool] | None:
        """The hex view's matches: ``bytes.find`` over windows of SEARCH_WINDOW bytes
        (lowered for any case), never one long regex call (``re`` keeps the GIL while
        it scans, and the UI thread would wait for it)."""
        data = self.lines.data
        text = self.query.encode("utf-8", "surrogateescape")
        found: list[tuple[int, int]] = []
        capped = False
        for needle, fold in ((text.lower() if not self.match_case else text, not self.match_case),
                             (self.as_bytes, False)):
            if not needle:
                continue
            starts = _find_all(data, needle, fold, stop)
            if starts is None:
                return None
            capped = capped or len(starts) > SEARCH_CAP
            found += [(start, start + len(needle)) for start in starts[:SEARCH_CAP]]
        found.sort()
        out: list[tuple[int, int, int]] = []
        end = 0
        row = self.lines.row
        for start, stop_at in found:  # a text match and a bytes match may overlap: the first wins
            if start >= end:
                out.append((start // row, start, stop_at))
                end = stop_at
        if len(out) > SEARCH_CAP:
            out, capped = out[:SEARCH_CAP], True
        return out, capped

    def spans(self, index: int, plain: str, current: tuple | None = None) -> list[tuple[int, int, str]]:
        """(start, end, style) to highlight on line ``index`` (whose text is ``plain``);
        ``current`` (a match) gets HIT_NOW, every other match HIT."""
        if not self.hex:
            out = []
            for m in self.pattern.finditer(plain):
                now = current is not None and current[0] == index and current[1:] == m.span()
                out.append((m.start(), m.end(), HIT_NOW if now else HIT))
            return out
        data, row, (first_at, ascii_at) = self.lines.data, self.lines.row, self.lines.columns
        base = index * row
        if base >= len(data):
            return []
        top = min(len(data), base + row)
        out = []
        for m in self.pattern.finditer(data, max(0, base - self.longest + 1), min(len(data), top + self.longest - 1)):
            first, last = max(m.start(), base) - base, min(m.end(), top) - base - 1
            if first > last:
                continue
            style = HIT_NOW if current is not None and current[1:] == m.span() else HIT
            out.append((_hex_cell(first, row, first_at), _hex_cell(last, row, first_at) + 2, style))
            out.append((ascii_at + first, ascii_at + last + 1, style))
        return out

    def where(self, match: tuple[int, int, int]) -> tuple[int, int, int]:
        """(line, first cell, end cell) of a match: what to scroll into view."""
        line, start, end = match
        if self.hex:
            row = self.lines.row
            j = start % row
            first_at, ascii_at = self.lines.columns
            return line, _hex_cell(j, row, first_at), ascii_at + min(row - 1, j + end - start - 1) + 1
        plain = self.lines.line(line).plain
        first = _width(plain[:start])
        return line, first, first + _width(plain[start:end])


# -- the body for a pager or an editor -----------------------------------------------------------

OPEN_DECODE_LIMIT = 256 << 20  # a pager's or editor's decoded body at most (a small gzip can hold GiBs)


DISPLAY_DECODE_LIMIT = 64 << 20  # what the Body tab decodes (gzip can expand 1000x)


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


def _hex_plain(chunk: bytes, offset: int) -> str:
    hexes = chunk[:8].hex(" ")
    if len(chunk) > 8:
        hexes += "  " + chunk[8:].hex(" ")
    ascii_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
    return f"{offset:08x}  {hexes:<48}  |{ascii_}|"


def pager_text(prepared, write: Callable[[str], object]) -> None:
    """The body as text for a pager, through ``write``: what the Body tab shows, whole —
    JSON pretty-printed, text decoded (Content-Encoding undone, UTF-8 where valid, other
    bytes as ``\\xNN``) with every control character but newline and tab made a visible
    escape, a binary body as a hex dump (up to HEX_LIMIT)."""
    from netlab.engine.errors import NetlabError

    r = prepared.exchange.response
    kind = prepared.body_kind
    try:
        if kind == "binary":
            _pager_hex(r, write)
        elif kind == "json" and r.body_bytes <= JSON_LIMIT:
            text = b"".join(iter_body(r, limit=JSON_LIMIT * 4)).decode("utf-8", "backslashreplace")
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
            except ValueError:
                pass
            write(safe_text(text))
        else:
            _pager_lines(iter_body(r, limit=OPEN_DECODE_LIMIT), write)
    except NetlabError as exc:
        write(f"({safe(exc.message)}; the body as received follows)\n")
        if kind == "binary":
            _pager_hex(r, write, decode=False)
        else:
            _pager_lines(r.body_store.iter_chunks(), write)


def _pager_lines(chunks, write: Callable[[str], object]) -> None:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
    held = ""  # a CR at the end of a piece: CR LF may straddle two chunks
    for chunk in chunks:
        text = held + decoder.decode(chunk)
        held = "\r" if text.endswith("\r") else ""
        if held:
            text = text[:-1]
        write(safe_text(text.replace("\r\n", "\n")))
    write(safe_text(held + decoder.decode(b"", final=True)))


def _pager_hex(response, write: Callable[[str], object], decode: bool = True) -> None:
    buf, offset = b"", 0
    for chunk in iter_body(response, decode, limit=OPEN_DECODE_LIMIT):
        buf += chunk
        whole = len(buf) & ~15
        rows = range(0, min(whole, HEX_LIMIT - offset), 16)
        write("".join(_hex_plain(buf[k : k + 16], offset + k) + "\n" for k in rows))
        offset += whole
        buf = buf[whole:]
        if offset >= HEX_LIMIT:
            write(f"… the hex dump stops at {fmt_bytes(HEX_LIMIT)}\n")
            return
    if buf:
        write(_hex_plain(buf, offset) + "\n")
