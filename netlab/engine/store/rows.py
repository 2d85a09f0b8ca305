"""An Exchange as one row of the history table, and back: the request exactly as sent, its
options (pins in their ``--resolve`` text), the DNS, connection and TLS details, the response
(bodies capped), the timings and the error.  JSON for the structured columns, BLOBs for bytes.
A followed chain (``send -L``) is its last exchange's row (``extra``: followed, notes) and one
row per hop before it in the hop table (HOP_COLUMNS), in the same shape."""

from __future__ import annotations

import dataclasses
import json

from netlab.engine.errors import PHASES, NetlabError
from netlab.engine.formats.pin import pin_text
from netlab.engine.http1 import SPILL_BYTES, BodyStore, Informational, Response
from netlab.engine.request import Request
from netlab.engine.resolve import Resolution, parse_pin
from netlab.engine.session import ConnectionInfo, Exchange, Options, Timings
from netlab.engine.transport import TLSInfo

__all__ = ["COLUMNS", "HOP_COLUMNS", "StoredBody", "encode", "decode"]

COLUMNS = ("started", "method", "url", "status", "duration_ms", "error_phase", "error_message", "error_hint",
            "reused", "request", "request_body", "request_data", "options", "dns", "connection", "tls",
            "response", "raw_head", "body", "body_bytes", "body_truncated", "raw_body", "raw_body_bytes",
            "raw_body_truncated", "timings", "extra")
# The hop table: each hop of a followed chain, by the id of the chain's last exchange and its place
HOP_COLUMNS = ("exchange_id", "position", *COLUMNS)


class StoredBody(BodyStore):
    """A body read back from history: ``size`` is what was stored; ``full_size`` what was
    received; ``truncated`` tells whether the two differ (the store caps bodies)."""

    def __init__(self, data: bytes, full_size: int, truncated: bool, spill_at: int = SPILL_BYTES) -> None:
        super().__init__(spill_at)
        self.write(data)
        self.finish()
        self.full_size = full_size
        self.truncated = truncated


def _text(value):
    """JSON-safe: bytes (an abstract Unix socket name, say) become Latin-1 text."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return value


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _addr(value) -> tuple[str, int]:
    return (value[0], int(value[1]))


def _encode_options(opts: Options) -> str:
    out = {}
    for f in dataclasses.fields(Options):
        if f.name == "keylog":  # an output of that one send (like -o), not part of the request to replay
            continue
        value = getattr(opts, f.name)
        if f.name == "resolve":
            value = [pin_text(p) for p in value]
        elif f.name == "dns_server":
            value = None if value is None else [value[0], int(value[1])]
        out[f.name] = value
    return _dumps(out)


def _decode_options(text: str) -> Options:
    data = json.loads(text)
    known = {f.name for f in dataclasses.fields(Options)}
    kwargs = {k: v for k, v in data.items() if k in known}
    if "resolve" in kwargs:
        kwargs["resolve"] = tuple(parse_pin(t) for t in kwargs["resolve"])
    if kwargs.get("dns_server") is not None:
        kwargs["dns_server"] = _addr(kwargs["dns_server"])
    return Options(**kwargs)


def _headers(items) -> list[list[str]]:
    return [[n, v] for n, v in items]


def _head(store: BodyStore, n: int) -> bytes:
    if n <= 0:
        return b""
    if store.path:  # written to a user's file (-o FILE): its handle is write-only, read the file
        store.finish()
        with open(store.path, "rb") as f:
            return f.read(n)
    return store.head(n)


def _capped(store: BodyStore | None, cap: int, keep: bool) -> tuple[bytes, int, bool]:
    """(the first ``cap`` bytes, the full size, whether bytes were left out)."""
    if store is None:
        return b"", 0, False
    size = store.size
    if not keep:
        return b"", size, size > 0
    try:
        data = _head(store, min(cap, size))
    except OSError:  # the body's file went away: keep the exchange without it
        data = b""
    return data, size, len(data) < size


def _error(phase: str | None, message: str | None, hint: str | None) -> NetlabError | None:
    if phase is None:
        return None
    if phase not in PHASES:  # written by a netlab that knows more phases
        return NetlabError("receive", f"{phase}: {message}", hint)
    return NetlabError(phase, message or "", hint)


def encode(ex: Exchange, body_cap: int, store_bodies: bool) -> tuple:
    """``ex`` as the values of one row, in COLUMNS' order: response bodies capped at
    ``body_cap`` bytes, or left out (their sizes kept) without ``store_bodies``."""
    req = ex.request
    r = ex.response
    err = ex.error
    request = _dumps({"scheme": req.scheme, "host": req.host, "port": req.port, "target": req.target,
                      "headers": _headers(req.headers), "is_raw": req.is_raw})
    dns = None
    if ex.dns is not None:
        d = ex.dns
        dns = _dumps({"name": d.name, "addresses": list(d.addresses), "source": d.source, "server": d.server,
                      "elapsed_ms": d.elapsed_ms, "used": d.used, "failed": [list(f) for f in d.failed]})
    connection = None
    if ex.connection is not None:
        c = ex.connection
        connection = _dumps({"family": c.family, "local": _text(list(c.local)), "remote": _text(list(c.remote)),
                             "reused": c.reused, "rtt_ms": c.rtt_ms})
    tls = None
    if ex.tls is not None:
        tls = _dumps({f.name: getattr(ex.tls, f.name) for f in dataclasses.fields(TLSInfo)})
    response = raw_head = body = body_bytes = raw_body = raw_body_bytes = None
    body_truncated = raw_body_truncated = False
    if r is not None:
        response = _dumps({
            "http_version": r.http_version, "status": r.status, "reason": r.reason,
            "headers": _headers(r.headers), "trailers": _headers(r.trailers), "framing": r.framing,
            "complete": r.complete,
            "informational": [{"status": i.status, "reason": i.reason, "headers": _headers(i.headers),
                               "raw": i.raw.decode("latin-1")} for i in r.informational],
        })
        raw_head = r.raw_head
        body, body_bytes, body_truncated = _capped(r.body_store, body_cap, store_bodies)
        if r.raw_body_store is not None:
            raw_body, raw_body_bytes, raw_body_truncated = _capped(r.raw_body_store, body_cap,
                                                                   store_bodies)
    more = {"attempts": [list(a) for a in ex.attempts], "bytes_received": ex.bytes_received,
            "keep_alive": ex.keep_alive, "tcp_info": ex.tcp_info}
    if ex.notes is not None:
        more["notes"] = list(ex.notes)
    if ex.redirects is not None:  # sent with -L: the hops are rows of their own (encode_hops)
        more["followed"] = True
    extra = _dumps(more)
    values = {
        "started": ex.started, "method": req.method, "url": req.url,
        "status": r.status if r is not None and r.status else None,
        "duration_ms": ex.timings.total,
        "error_phase": err.phase if err else None, "error_message": err.message if err else None,
        "error_hint": err.hint if err else None,
        "reused": int(bool(ex.connection and ex.connection.reused)),
        "request": request, "request_body": bytes(req.body), "request_data": bytes(req.data),
        "options": _encode_options(ex.options), "dns": dns, "connection": connection, "tls": tls,
        "response": response, "raw_head": raw_head, "body": body, "body_bytes": body_bytes,
        "body_truncated": int(body_truncated), "raw_body": raw_body, "raw_body_bytes": raw_body_bytes,
        "raw_body_truncated": int(raw_body_truncated),
        "timings": _dumps(dataclasses.asdict(ex.timings)), "extra": extra,
    }
    return tuple(values[c] for c in COLUMNS)


def decode(row: dict) -> Exchange:
    """The Exchange stored in ``row`` (column name -> value), as it was added."""
    rq = json.loads(row["request"])
    request = Request(method=row["method"], url=row["url"], scheme=rq["scheme"], host=rq["host"],
                      port=int(rq["port"]), target=rq["target"],
                      headers=tuple((n, v) for n, v in rq["headers"]), body=bytes(row["request_body"]),
                      data=bytes(row["request_data"]), is_raw=bool(rq["is_raw"]))
    dns = None
    if row["dns"]:
        d = json.loads(row["dns"])
        dns = Resolution(d["name"], list(d["addresses"]), d["source"], d.get("server"),
                         d.get("elapsed_ms", 0.0), d.get("used"), [tuple(f) for f in d.get("failed", [])])
    connection = None
    if row["connection"]:
        c = json.loads(row["connection"])
        connection = ConnectionInfo(c["family"], _addr(c["local"]), _addr(c["remote"]), bool(c["reused"]),
                                    c.get("rtt_ms"))
    tls = None
    if row["tls"]:
        t = json.loads(row["tls"])
        known = {f.name for f in dataclasses.fields(TLSInfo)}
        tls = TLSInfo(**{k: v for k, v in t.items() if k in known})
    response = None
    if row["response"]:
        h = json.loads(row["response"])
        body = StoredBody(bytes(row["body"] or b""), row["body_bytes"] or 0, bool(row["body_truncated"]))
        raw_store = None
        if row["raw_body"] is not None:
            raw_store = StoredBody(bytes(row["raw_body"]), row["raw_body_bytes"] or 0,
                                   bool(row["raw_body_truncated"]))
        response = Response(
            http_version=h["http_version"], status=h["status"], reason=h["reason"],
            headers=[(n, v) for n, v in h["headers"]], trailers=[(n, v) for n, v in h["trailers"]],
            framing=h["framing"], raw_head=bytes(row["raw_head"] or b""),
            informational=[Informational(i["status"], i["reason"], [(n, v) for n, v in i["headers"]],
                                         i["raw"].encode("latin-1")) for i in h.get("informational", [])],
            body_store=body, raw_body_store=raw_store, complete=bool(h.get("complete")),
        )
    known_t = {f.name for f in dataclasses.fields(Timings)}
    timings = Timings(**{k: v for k, v in json.loads(row["timings"]).items() if k in known_t})
    extra = json.loads(row["extra"])
    return Exchange(
        request=request, options=_decode_options(row["options"]), dns=dns, connection=connection, tls=tls,
        response=response, timings=timings,
        error=_error(row["error_phase"], row["error_message"], row["error_hint"]),
        started=row["started"], attempts=[tuple(a) for a in extra.get("attempts", [])],
        bytes_received=extra.get("bytes_received", 0), keep_alive=bool(extra.get("keep_alive")),
        tcp_info_raw=extra.get("tcp_info"),
        notes=list(extra["notes"]) if isinstance(extra.get("notes"), list) else None,
        redirects=[] if extra.get("followed") else None,  # History.get adds the hops
    )
