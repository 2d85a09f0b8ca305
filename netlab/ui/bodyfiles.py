"""The response's body leaving netlab: a file name to save it under, the bytes to save, the
pager or editor to open it in (the response viewer's s, S, v and e)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from urllib.parse import unquote, urlsplit

from netlab.ui.views.text import safe

SUFFIXES = {"json": ".json", "html": ".html", "xml": ".xml", "javascript": ".js", "css": ".css",
            "csv": ".csv", "plain": ".txt", "yaml": ".yaml", "png": ".png", "jpeg": ".jpg", "gif": ".gif",
            "svg": ".svg", "pdf": ".pdf", "zip": ".zip", "gzip": ".gz", "webp": ".webp", "wasm": ".wasm"}


def suffix_for(response) -> str:
    """A file name suffix for a body of this Content-Type (".bin" when unknown)."""
    ctype = (response.header("content-type") or "").split(";")[0].strip().lower()
    sub = ctype.rpartition("/")[2]
    for key in (sub, sub.rpartition("+")[2]):
        if key in SUFFIXES:
            return SUFFIXES[key]
    return ".txt" if ctype.startswith("text/") else ".bin"


def save_name(url: str, response, raw: bool = False) -> str:
    """A file name for the body (or, ``raw``, the raw response) from the URL's last path
    segment, letters, digits, ``.``, ``_`` and ``-`` kept: ``/files/report.pdf`` →
    ``report.pdf``; ``/ip`` → ``ip.txt`` (a suffix from the Content-Type); ``/`` → the host."""
    try:
        parts = urlsplit(url)
        segment, host = unquote(parts.path.rstrip("/").rpartition("/")[2]), parts.hostname or ""
    except ValueError:
        segment, host = "", ""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", segment).strip("._-")[:100]
    named = "." in clean[1:]  # the segment has a suffix of its own (report.pdf)
    if not clean:
        clean = re.sub(r"[^A-Za-z0-9._-]+", "_", host).strip("._-")[:100] or "response"
    if raw:
        return (clean.rpartition(".")[0] if named else clean) + ".raw"
    return clean if named else clean + suffix_for(response)


def external_command(kind: str) -> tuple[list[str], str | None]:
    """(argv, problem): $PAGER (default less) for ``kind`` "pager"; $VISUAL or $EDITOR
    (default vi, then nano) for "editor"; the file name is added at the end."""
    if kind == "pager":
        names, spec = ("PAGER",), os.environ.get("PAGER") or "less"
    else:
        names = ("VISUAL", "EDITOR")
        spec = os.environ.get("VISUAL") or os.environ.get("EDITOR") or \
            next((e for e in ("vi", "nano") if shutil.which(e)), "")
        if not spec:
            return [], "no editor: set $EDITOR (vi and nano are not installed)"
    try:
        argv = shlex.split(spec)
    except ValueError as exc:
        return [], f"cannot read ${' or $'.join(names)} {safe(spec)!r}: {exc}"
    if not argv:
        return [], f"${names[0]} is empty"
    return argv, None


def chunks(response, what: str):
    """The bytes to save: the body as received (after chunked framing, before any
    Content-Encoding is undone), or everything received (1xx heads, head, wire body)."""
    if what == "raw":
        for info in response.informational:
            yield info.raw
        yield response.raw_head
        yield from (response.raw_body_store or response.body_store).iter_chunks()
    else:
        yield from response.body_store.iter_chunks()


def stored_note(response) -> str:
    """A history entry may keep only the first bytes of a body: say so."""
    store = response.body_store
    if getattr(store, "truncated", False):
        return f"the history kept only {store.size} of its {store.full_size} body bytes"
    return ""

