"""Sans-IO framing of HTTP/1.x responses over h11: bytes in, steps out.

No socket is opened here (h11's ``receive_data`` / ``next_event`` style).  Next to the
parsed form the reader keeps the bytes exactly as received: each 1xx head, the final
head, and — for chunked framing, where the wire differs from the body — the raw body
with its chunk-size lines, and where each chunk sits in it.  For Content-Length and
close-delimited framing the wire body *is* the body, so it is stored once.

- ``reader``: ``ResponseReader`` and its steps (``InterimHead``, ``FinalHead``,
  ``BodyBytes``, ``MessageEnd``), the limits on heads;
- ``head``: the grammar of a head (the strict fast path, header and trailer lines);
- ``chunked``: a chunked body framed as it arrives (``ChunkedBody``, ``Chunk``);
- ``response``: the ``Response`` value; ``store``: ``BodyStore``; ``decode``: gzip/deflate.
"""

from netlab.engine.http1.chunked import Chunk
from netlab.engine.http1.decode import DECODE_LIMIT, decode_content, decode_into
from netlab.engine.http1.head import parse_head_strict, scan_head_strict, split_header_lines
from netlab.engine.http1.reader import (
    END,
    HEAD_BYTES_TOTAL,
    MAX_HEADERS,
    MAX_INFORMATIONAL,
    BodyBytes,
    FinalHead,
    InterimHead,
    MessageEnd,
    ResponseReader,
    Step,
)
from netlab.engine.http1.response import FORBIDDEN_TRAILERS, Informational, Response
from netlab.engine.http1.store import SPILL_BYTES, BodyStore

__all__ = ["BodyStore", "Response", "ResponseReader", "SPILL_BYTES", "decode_content", "decode_into",
           "FORBIDDEN_TRAILERS", "HEAD_BYTES_TOTAL", "MAX_INFORMATIONAL", "MAX_HEADERS", "DECODE_LIMIT",
           "Informational", "Chunk", "parse_head_strict", "scan_head_strict", "split_header_lines",
           "InterimHead", "FinalHead", "BodyBytes", "MessageEnd", "END", "Step"]
