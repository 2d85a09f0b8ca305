"""``prepare(exchange)`` turns a finished Exchange into ready-to-draw pieces: the status
line, the body, the raw bytes with their framing marked, a hex dump and the connection
details.  It runs in the send worker, never on the UI thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from netlab.ui.views.body import body_lines
from netlab.ui.views.connection import connection_lines
from netlab.ui.views.hexdump import HEX_LIMIT, hex_lines
from netlab.ui.views.lines import Lines
from netlab.ui.views.raw import raw_lines
from netlab.ui.views.status import status_text
from netlab.ui.views.text import NOTE


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
