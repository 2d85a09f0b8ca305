"""How an exchange is printed, for send, replay and `history show`: the steps (-v), the
bytes both ways, the head and the body as curl shows them, the --json object, and a
failure as one sentence with what to do next.

Every string that came from the peer (or from a history file) goes through
netlab.engine.text.safe_text on one line: a response cannot drive the terminal."""

from __future__ import annotations

from netlab.cli.common import EXIT_FAIL, EXIT_OK
from netlab.engine.request import host_port
from netlab.engine.text import safe_text

_FORBIDDEN_TRAILER = "  (a field not allowed in a trailer, RFC 9110 6.5.1: shown, ignored)"


def verbose_printer(err):
    """An on_event callback writing each step as `send -v` shows it (``* `` lines)."""
    from netlab.engine import events as ev

    def show(e) -> None:
        if isinstance(e, ev.Resolved):
            server = f" ({safe_text(e.server, keep_newlines=False)})" if e.server else ""
            err.write(f"* resolved {safe_text(e.name, keep_newlines=False)} via {e.source}{server}: "
                      f"{safe_text(', '.join(e.addresses), keep_newlines=False)} in {e.elapsed_ms:.2f} ms\n")
        elif isinstance(e, ev.Connecting):
            err.write(f"* connecting to {safe_text(e.address, keep_newlines=False)}"
                      f"{f' port {e.port}' if e.port else ''} ({e.family})\n")
        elif isinstance(e, ev.ConnectFailed):
            err.write(f"* connect to {safe_text(e.address, keep_newlines=False)} failed: "
                      f"{safe_text(e.message, keep_newlines=False)}\n")
        elif isinstance(e, ev.Connected):
            rtt = f", rtt {e.rtt_ms:.3f} ms" if e.rtt_ms is not None else ""
            err.write(f"* {'reusing' if e.reused else 'connected'}: local {_address(e.local)} -> "
                      f"remote {_address(e.remote)}{rtt}\n")
        elif isinstance(e, ev.TLSDone):
            alpn = safe_text(e.alpn, keep_newlines=False) if e.alpn else None
            err.write(f"* TLS {safe_text(e.version, keep_newlines=False)} {safe_text(e.cipher, keep_newlines=False)} "
                      f"alpn={alpn} verified={e.verified}\n")
        elif isinstance(e, ev.RequestSent):
            err.write(f"* sent {e.nbytes} bytes\n")
        elif isinstance(e, ev.InformationalHead):
            err.write(f"* informational {e.status} {safe_text(e.reason, keep_newlines=False)} (skipped)\n")
        err.flush()

    return show


def _address(addr) -> str:
    """A connection's end: ``host:port``, ``[v6]:port``, or a Unix socket's path."""
    host, port = addr
    host = safe_text(host, keep_newlines=False)
    if not port:
        return host or "(unnamed)"
    return host_port(host, port)


def _field(name: str, value: str) -> str:
    """A header or trailer field as one line (its value's latin-1 bytes, as received)."""
    shown = safe_text(value.encode("latin-1", "backslashreplace"), keep_newlines=False)
    return f"{safe_text(name, keep_newlines=False)}: {shown}"


def _print_raw(err, prefix: str, data: bytes) -> None:
    from netlab.engine.rawtext import visible_line_endings

    for line in visible_line_endings(data):
        err.write(f"{prefix}{line}\n")


def print_request_bytes(request, out) -> None:
    """A request's exact bytes as `send -v` shows them (``> `` lines, line endings written
    out): `send --dry-run`."""
    _print_raw(out, "> ", request.data)


def _request_line(ex) -> str:
    from netlab.engine.secrets import mask_url

    method, url = ex.request.method, mask_url(ex.request.url)
    return f"{safe_text(method, keep_newlines=False)} {safe_text(url, keep_newlines=False)}"


def print_notes(ex, err) -> None:
    """What following redirects or the cookie jar did to this exchange's request."""
    for note in ex.notes or ():
        err.write(f"*   {safe_text(note, keep_newlines=False)}\n")


def print_hop(ex, number: int, args, err) -> None:
    """One redirect hop on stderr: its request line and notes, then with -v its bytes both
    ways, else its status line and Location (the lines curl -v shows of a hop)."""
    err.write(f"* hop {number}: {_request_line(ex)}\n")
    print_notes(ex, err)
    r = ex.response
    if args.verbose:
        _print_wire(ex, args, err)
    elif r is not None and r.status:
        err.write(f"< {safe_text(r.http_version, keep_newlines=False)} {r.status} "
                  f"{safe_text(r.reason, keep_newlines=False)}\n")
        location = r.header("location")
        if location is not None:
            err.write(f"< {_field('Location', location)}\n")
    err.flush()


def hop_printer(args, err):
    """An on_hop callback for netlab.engine.redirects.follow: each hop as it is followed."""
    count = [0]

    def show(ex) -> None:
        count[0] += 1
        print_hop(ex, count[0], args, err)

    return show


def print_human(ex, args, out, err) -> None:
    """The exchange as `netlab send` shows it.  Each head is shown once: on stdout (as
    curl -i), or with -v on stderr as its raw bytes (``< `` lines, as curl -v) and on
    stdout too only when -i asks for it (as curl -v -i)."""
    r = ex.response
    if ex.redirects:  # the last of a chain; its hops were shown as they were followed
        err.write(f"* hop {len(ex.redirects) + 1} (last): {_request_line(ex)}\n")
    print_notes(ex, err)
    if args.verbose:
        _print_wire(ex, args, err)
    if r is None or not r.status:
        return
    include = not args.verbose or getattr(args, "include", False)
    if include:
        out.write(f"{safe_text(r.http_version, keep_newlines=False)} {r.status} "
                  f"{safe_text(r.reason, keep_newlines=False)}\n")
        for name, value in r.headers:
            out.write(_field(name, value) + "\n")
        out.write("\n")
    body = b"" if args.output else _shown_body(r, args, err)
    if body:
        _print_body(body, args, out)
        if include:
            _print_trailers(r, out, err)
    out.flush()


def _print_wire(ex, args, err) -> None:
    """-v: the request and response heads as their bytes on stderr, and what the head
    alone does not say (the chunked body's size on the wire; trailers unless -i)."""
    r = ex.response
    _print_raw(err, "> ", ex.request.data)
    if r is not None:
        for info in r.informational:
            _print_raw(err, "< ", info.raw)
        _print_raw(err, "< ", r.raw_head)
        if r.framing == "chunked" and r.raw_body_store is not None:
            err.write(f"* chunked body: {r.raw_body_store.size} bytes on the wire, {r.body_bytes} after de-chunking\n")
        if not getattr(args, "include", False):
            for name, value in r.trailers:  # the head's tail, after the body: -i prints them on stdout
                forbidden = _FORBIDDEN_TRAILER if (name, value) in r.trailers_forbidden else ""
                err.write(f"* trailer: {_field(name, value)}{forbidden}\n")
    err.flush()


def _shown_body(r, args, err) -> bytes:
    """The body as received, or decoded with --compressed (as received if it cannot be)."""
    if not args.compressed:
        return r.body
    from netlab.engine import NetlabError

    try:
        return r.decoded_body()
    except NetlabError as exc:
        err.write(f"netlab: {safe_text(exc.message, keep_newlines=False)}; showing the body as received\n")
        return r.body


def _print_body(body: bytes, args, out) -> None:
    """Text escaped (newlines kept), or one line saying binary bytes were left out."""
    try:
        text = body.decode("utf-8")
        binary = "\x00" in text
    except UnicodeDecodeError:
        binary = True
    if binary:
        save = getattr(args, "save_hint", "use -o FILE to save them")
        out.write(f"[{len(body)} bytes of binary body not shown; {save}]\n")
        return
    out.write(safe_text(text))
    if not text.endswith("\n"):
        out.write("\n")


def _print_trailers(r, out, err) -> None:
    """After the last chunk, as curl -i shows them; the forbidden mark goes to stderr
    (stdout stays as received)."""
    for name, value in r.trailers:
        out.write(_field(name, value) + "\n")
        if (name, value) in r.trailers_forbidden:
            err.write(f"* trailer {safe_text(name, keep_newlines=False)}:{_FORBIDDEN_TRAILER}\n")


def exchange_json(ex, extras: dict | None = None) -> dict:
    """The JSON shape of ``netlab send --json`` (``Exchange.to_dict``), for send, replay
    and ``history show``.  ``dns.elapsed_ms`` is the step ``timings_ms.dns`` timed: one
    number for one step (the resolver's own clock reads a hair less).  ``extras``: what
    a live send adds below the socket (route, capture, packets: netlab/cli/packets.py)."""
    doc = ex.to_dict()
    for one in (doc, *doc.get("redirects", ())):
        if one.get("dns") and one.get("timings_ms") and "dns" in one["timings_ms"]:
            one["dns"]["elapsed_ms"] = one["timings_ms"]["dns"]
    if extras:
        doc.update(extras)
    return doc


def report_error(error, err) -> None:
    """A failure as one sentence ("netlab: timed out: ...") and what to do next."""
    err.write(f"netlab: {safe_text(error.sentence(), keep_newlines=False)}\n")
    if error.hint:
        err.write(f"  next: {safe_text(error.hint, keep_newlines=False)}\n")


def report(ex, args, out, err, extras: dict | None = None) -> int:
    """Print an exchange (human or --json) and give the exit status: send and replay."""
    if args.json:
        import json

        out.write(json.dumps(exchange_json(ex, extras), indent=2) + "\n")
        out.flush()
    else:
        print_human(ex, args, out, err)
        if extras and "capture" in extras:
            from netlab.cli.packets import print_packets

            print_packets(extras, err)
    if ex.error is not None:
        if not args.json:
            report_error(ex.error, err)
        return EXIT_FAIL
    return EXIT_OK
