"""The Raw tab: the bytes received, exactly, line endings visible, the framing marked (where
the head ends, how the body is framed, each chunk's size line, what ended the body)."""

from __future__ import annotations

from rich.text import Text

from netlab.engine.rawtext import visible_line_endings
from netlab.ui.views.body import looks_binary
from netlab.ui.views.hexdump import HEX_LIMIT
from netlab.ui.views.lines import Lines, pieces
from netlab.ui.views.text import ERROR, MARK, NOTE, fmt_bytes, safe

RAW_BODY_LIMIT = 1 << 20  # the Raw tab shows this much of the wire body
RAW_BINARY_LIMIT = 16 << 10  # ... or this much when it is binary


def _wire(out: list[Text], data: bytes, style: str = "", note: str = "") -> None:
    """Append raw bytes as display lines in the raw notation (the composer's and ``send
    -v``'s: a backslash is ``\\\\``), line endings visible, long lines cut."""
    for line, ending in visible_line_endings(data, pairs=True):
        parts = pieces(line)
        for k, piece in enumerate(parts):
            t = Text(no_wrap=True)
            if k:
                t.append("↪ ", NOTE)
            t.append(piece, style)
            last = k == len(parts) - 1
            if last and ending:  # known from the bytes: an escaped backslash before an n is no ending
                t.append(ending, "dim cyan")
            if note and last:
                t.append(f"  ← {note}", NOTE)
            out.append(t)


def _marker(text: str, style: str = MARK) -> Text:
    return Text(f"── {text} ──", style, no_wrap=True)


def _chunk_segments(response, shown: bytes) -> list[tuple]:
    """The chunked wire body's first ``shown`` bytes as ("size", line, n), ("data", bytes),
    ("crlf", bytes), ("trailer", line), ("final", line), ("partial", bytes), from the chunk
    boundaries the engine found while framing it (``Response.chunks``): no second parse.
    Bytes after the last framed chunk (a cut-off or malformed body) are "partial"."""
    out: list[tuple] = []
    limit = len(shown)
    pos = 0
    for chunk in response.chunks():
        if chunk.start >= limit:
            return out
        out.append(("size", shown[chunk.start : chunk.start + chunk.line], chunk.size))
        pos = chunk.start + chunk.line
        if chunk.size == 0:  # the trailer section: field lines, then the blank line
            for line in shown[pos:].splitlines(keepends=True):
                out.append(("final" if not line.strip() else "trailer", line))
            return out
        data = shown[pos : pos + chunk.size]
        out.append(("data", data))
        pos += len(data)
        if len(data) < chunk.size:
            return out
        end = shown[pos : pos + 2]
        if end:
            out.append(("crlf", end))
            pos += len(end)
    if pos < limit:
        out.append(("partial", shown[pos:]))
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
    if looks_binary(shown[:8192]):
        shown = shown[:RAW_BINARY_LIMIT]  # escaped binary is unreadable at length: the Hex tab shows it
    if response.framing == "chunked":
        for seg in _chunk_segments(response, shown):
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
