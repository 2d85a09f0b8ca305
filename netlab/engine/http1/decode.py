"""gzip / deflate Content-Encoding undone for display, as a stream and bounded."""

from __future__ import annotations

import zlib

from netlab.engine.errors import NetlabError
from netlab.engine.http1.store import BodyStore

DECODE_LIMIT = 256 << 20  # bytes a gzip/deflate body may decode to for display
_DECODE_IN = 64 * 1024  # compressed bytes given to zlib at a time (its unconsumed tail is copied per call)
_DECODE_OUT = 256 * 1024  # decoded bytes asked of zlib at a time


def decode_content(body: bytes, encoding: str | None, limit: int | None = None) -> bytes:
    """gzip / deflate decoding for display; raises NetlabError('parse') on bad data and
    NetlabError('limit') when the result would exceed ``limit`` bytes (a few hundred KB
    of gzip can decode to gigabytes: the decoder stops at the limit, not after).  Other
    encodings come back as they are."""
    out = BodyStore()
    try:
        if not decode_into(lambda: (body,), encoding, out, limit):
            return body
        return out.getvalue()
    finally:
        out.close()


def decode_into(chunks, encoding: str | None, out: BodyStore, limit: int | None = None) -> bool:
    """Undo a gzip / deflate Content-Encoding as a stream: ``chunks()`` gives the encoded
    bytes piece by piece (a store's ``iter_chunks``), the decoded bytes go to ``out``
    (a BodyStore: past its spill size they are in a temporary file, not in memory), a
    quarter MiB at a time.  So memory stays near one piece, whatever the body decodes to;
    ``out`` never holds more than ``limit`` bytes (default DECODE_LIMIT): the decoder
    stops there with NetlabError('limit'), and NetlabError('parse') on bad data.  Returns
    False, writing nothing, for an encoding it does not decode (identity, br, none)."""
    enc = (encoding or "").strip().lower()
    limit = DECODE_LIMIT if limit is None else limit
    tries: tuple[int, ...]
    if enc in ("gzip", "x-gzip"):
        tries = (16 + zlib.MAX_WBITS,)
    elif enc == "deflate":
        tries = (zlib.MAX_WBITS, -zlib.MAX_WBITS)  # zlib-wrapped, or raw deflate as some servers send
    else:
        return False
    last: Exception | None = None
    for wbits in tries:
        out.truncate(0)
        try:
            _inflate_into(chunks(), wbits, limit, enc, out)
            out.finish()
            return True
        except zlib.error as exc:
            last = exc
    out.truncate(0)
    raise NetlabError("parse", f"cannot decode {enc} body: {last}") from None


def _inflate_into(chunks, wbits: int, limit: int, enc: str, out: BodyStore) -> None:
    gzip = wbits > 16
    d = zlib.decompressobj(wbits)
    padding = False  # after the last gzip member: only NUL bytes may follow
    fed = False
    for chunk in chunks:
        fed = fed or len(chunk) > 0
        view = memoryview(chunk)
        for at in range(0, len(view), _DECODE_IN):
            data: memoryview | bytes = view[at: at + _DECODE_IN]
            while data:
                if d.eof:
                    if not gzip:
                        return  # bytes after a deflate stream are ignored, as before
                    if padding or not bytes(data).strip(b"\x00"):
                        if bytes(data).strip(b"\x00"):
                            raise zlib.error("bytes after the end of the compressed data")
                        padding = True
                        break
                    d = zlib.decompressobj(wbits)  # gzip allows several members one after another
                piece = d.decompress(data, _DECODE_OUT)
                _put(out, piece, limit, enc)
                data = d.unused_data if d.eof else d.unconsumed_tail
    if fed and not d.eof:  # (an empty body decodes to nothing)
        _put(out, d.flush(), limit, enc)  # what zlib still holds of the input it was given
        if not d.eof:
            raise zlib.error("truncated stream (the compressed data ends early)")


def _put(out: BodyStore, piece: bytes, limit: int, enc: str) -> None:
    if out.size + len(piece) > limit:
        out.write(piece[: limit - out.size])  # what was decoded up to the limit, never more
        raise NetlabError("limit", f"the {enc} body decodes to more than {limit} bytes (a compression "
                          "bomb?); it is shown as received", "save it with -o FILE and decode it yourself")
    if piece:
        out.write(piece)
