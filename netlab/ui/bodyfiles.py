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



# -- the captured frames as pcap (the Packets tab's w) ----------------------------------------------

def pcap_name(exchange) -> str:
    """``ip.pcap`` for ``/ip``: the save name's stem with ``.pcap``."""
    url = getattr(getattr(exchange, "request", None), "url", "") or ""
    stem = save_name(url, None, raw=True).rpartition(".")[0] or "exchange"
    return stem + ".pcap"


def no_pcap_reason(prepared, in_flight: bool, below: dict) -> str:
    """Why ``w`` has no frames to save, and what to do."""
    if prepared is None:
        return "no exchange to save packets of yet" + (" (a request is in flight)" if in_flight else "")
    capture = below.get("capture")
    if capture is None:
        return ("no packets were captured for this exchange: tick Capture packets in the composer's Options tab "
                "(F8) or start netlab --packets, then send again")
    error = capture.get("error")
    if error:
        hint = f" · {safe(error.get('hint'))}" if error.get("hint") else ""
        return f"the capture failed: {safe(error.get('message'))}{hint}"
    return f"no frames were captured on {safe(capture.get('interface') or '?')}: nothing to save"


def save_pcap(fd: int, path: str, frames: list, post) -> None:
    """Write ``frames`` as pcap to ``path`` (opened as ``fd`` by the prompt: mode 0600) with
    ``engine.capture.pcap.write``; a worker thread.  Posts FileSaved."""
    from netlab.ui import messages as m

    try:
        os.close(fd)
        from netlab.engine.capture.pcap import write

        count = write(path, frames)
        size = os.path.getsize(path)
    except OSError as exc:
        post(m.FileSaved(path, 0, exc.strerror or str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - a frame dpkt cannot write: said, not a crash
        post(m.FileSaved(path, 0, f"{type(exc).__name__}: {exc}"))
        return
    post(m.FileSaved(path, size, None, f"{count} frames · tcpdump -r or Wireshark opens it"))
