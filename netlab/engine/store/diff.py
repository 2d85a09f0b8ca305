"""Compare two exchanges: "replay and see what changed".

``compare(a, b)`` gives the status change, the headers added, removed and changed
(names compared case-insensitively; repeated headers compared as their ordered list of
values), a line diff of the bodies when both are text (else sizes, SHA-256 and the
first differing byte), and the timings side by side.  ``diff_lines`` renders it as
plain text for the CLI and the TUI (untrusted bytes escaped by ``safe_text``).
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field

from netlab.engine.text import safe_text

__all__ = ["ExchangeDiff", "HeaderChange", "compare", "diff_lines", "body_lines"]

TIMING_KEYS = ("dns", "connect", "tls", "send", "ttfb", "download", "total")
MAX_DIFF_BODY = 1 << 20  # bodies above this are compared by hash and first difference only


@dataclass(frozen=True, slots=True)
class HeaderChange:
    name: str
    kind: str  # added | removed | changed
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeDiff:
    status: tuple[str, str]  # "200 OK" / "error: phase" on each side
    headers: tuple[HeaderChange, ...]
    body_same: bool
    body_sizes: tuple[int, int]
    body_sha256: tuple[str, str]
    body_text_diff: tuple[str, ...] | None  # unified diff lines, when both bodies are text
    first_difference: int | None  # byte offset, when the bodies differ and are not diffed as text
    timings: tuple[tuple[str, float, float], ...]  # (phase, a ms, b ms)
    request_same: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def same(self) -> bool:
        return self.body_same and not self.headers and self.status[0] == self.status[1] and self.request_same


def _status(ex) -> str:
    r = ex.response
    if r is not None and r.status:
        text = f"{r.status} {r.reason}".rstrip()
    else:
        text = "no response"
    if ex.error is not None:
        text += f" ({ex.error.phase} error)"
    return text


def _grouped(headers) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    for n, v in headers:
        key = n.lower()
        if key not in out:
            out[key] = (n, [])
        out[key][1].append(v)
    return out


def _headers(a, b, ignore: frozenset[str]) -> tuple[HeaderChange, ...]:
    ga = _grouped(a.response.headers if a.response else [])
    gb = _grouped(b.response.headers if b.response else [])
    changes: list[HeaderChange] = []
    for key, (name, values) in ga.items():
        if key in ignore:
            continue
        if key not in gb:
            changes.append(HeaderChange(name, "removed", before=tuple(values)))
        elif gb[key][1] != values:
            changes.append(HeaderChange(name, "changed", tuple(values), tuple(gb[key][1])))
    for key, (name, values) in gb.items():
        if key not in ga and key not in ignore:
            changes.append(HeaderChange(name, "added", after=tuple(values)))
    return tuple(changes)


def _body(ex) -> bytes:
    if ex.response is None:
        return b""
    try:
        return ex.response.body
    except Exception:  # noqa: BLE001 - a store that cannot be read compares as empty
        return b""


def _text(data: bytes) -> str | None:
    if len(data) > MAX_DIFF_BODY or b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def compare(a, b, *, ignore_headers=("date",), context: int = 3) -> ExchangeDiff:
    """What changed from exchange ``a`` to exchange ``b``.  ``Date`` is ignored by
    default (it differs on every replay); pass ``ignore_headers=()`` to see it."""
    ignore = frozenset(h.lower() for h in ignore_headers)
    ba, bb = _body(a), _body(b)
    same = ba == bb
    text_diff = None
    first = None
    notes = []
    if not same:
        ta, tb = _text(ba), _text(bb)
        if ta is not None and tb is not None:
            text_diff = tuple(difflib.unified_diff(ta.splitlines(), tb.splitlines(), "a", "b",
                                                   n=context, lineterm=""))
        else:
            n = min(len(ba), len(bb))
            first = next((i for i in range(n) if ba[i] != bb[i]), n)
            notes.append("bodies are not both UTF-8 text below 1 MiB: compared by bytes")
    timings = tuple((k, getattr(a.timings, k), getattr(b.timings, k)) for k in TIMING_KEYS)
    return ExchangeDiff(
        status=(_status(a), _status(b)),
        headers=_headers(a, b, ignore),
        body_same=same,
        body_sizes=(len(ba), len(bb)),
        body_sha256=(hashlib.sha256(ba).hexdigest(), hashlib.sha256(bb).hexdigest()),
        body_text_diff=text_diff,
        first_difference=first,
        timings=timings,
        request_same=a.request.data == b.request.data,
        notes=tuple(notes),
    )


def _s(value: str) -> str:
    return safe_text(value, keep_newlines=False)


def diff_lines(d: ExchangeDiff, labels: tuple[str, str] = ("a", "b")) -> list[tuple[str, str]]:
    """(kind, text) lines: kind is one of heading, same, added, removed, changed, plain.
    Every text went through ``safe_text``: peer bytes cannot reach a terminal raw."""
    la, lb = labels
    out: list[tuple[str, str]] = []
    add = out.append
    add(("heading", f"comparing {la} → {lb}"))
    if d.request_same:
        add(("same", "request bytes: identical"))
    else:
        add(("changed", "request bytes: differ"))
    if d.status[0] == d.status[1]:
        add(("same", f"status: {_s(d.status[0])}"))
    else:
        add(("changed", f"status: {_s(d.status[0])} → {_s(d.status[1])}"))
    add(("heading", "headers"))
    if not d.headers:
        add(("same", "  no header changed (Date ignored)"))
    for h in d.headers:
        name = _s(h.name)
        if h.kind == "added":
            for v in h.after:
                add(("added", f"+ {name}: {_s(v)}"))
        elif h.kind == "removed":
            for v in h.before:
                add(("removed", f"- {name}: {_s(v)}"))
        else:
            for v in h.before:
                add(("removed", f"- {name}: {_s(v)}"))
            for v in h.after:
                add(("added", f"+ {name}: {_s(v)}"))
    add(("heading", "body"))
    out += body_lines(d)
    add(("heading", "timings (ms)"))
    for k, ta, tb in d.timings:
        delta = tb - ta
        add(("plain", f"  {k:9} {ta:10.2f} {tb:10.2f}   {delta:+.2f}"))
    return out


def body_lines(d: ExchangeDiff) -> list[tuple[str, str]]:
    """The body part of ``diff_lines``: identical, or the sizes and a line diff (else the
    first differing byte and the hashes).  Escaped like the rest."""
    out: list[tuple[str, str]] = []
    sa, sb = d.body_sizes
    if d.body_same:
        out.append(("same", f"  identical ({sa} bytes, sha256 {d.body_sha256[0][:16]}…)"))
    else:
        out.append(("changed", f"  {sa} bytes → {sb} bytes"))
        if d.body_text_diff is not None:
            for line in d.body_text_diff[2:]:  # skip the ---/+++ file header
                kind = "added" if line.startswith("+") else "removed" if line.startswith("-") else "plain"
                out.append((kind, _s(line)))
        else:
            out.append(("plain", f"  first difference at byte {d.first_difference}"))
            out.append(("plain", f"  sha256 {d.body_sha256[0][:16]}… → {d.body_sha256[1][:16]}…"))
    out += [("plain", f"  ({note})") for note in d.notes]
    return out
