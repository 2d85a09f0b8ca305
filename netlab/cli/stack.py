"""`netlab stack URL [--json] [--timeout S]`: the same GET through each layer of the stack.

    requests -> urllib3 -> urllib / http.client -> socket

Each client that is installed sends one GET its own default way; what it really writes
and reads at its sockets is recorded in-process (netlab.engine.stack).  The human output
is one block per client, bottom of the stack first: the exact request bytes of each
request it sent, every header line marked against the raw socket's request (``+`` a
header the socket does not send, ``~`` another value, ``-`` one the client left out),
the status line of each response; then a summary table.  https: the bytes are the
plaintext at the TLS layer, with the TLS version and cipher.  Everything that came from
the network is escaped (safe_text).

``--json``: a list, one object per client: ``{"client", "version", "requests": [latin-1
text of each request on the wire], "responses": [each response head], "statuses",
"connections", "redirects", "decompressed", "elapsed_ms", "error", "tls"}``.

Exit status: 0 when every installed client got its responses, 1 when one failed, 2 on
bad usage (a bad URL)."""

from __future__ import annotations

import argparse
import json
import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, SUMMARIES, current_settings, given
from netlab.engine.text import safe_text

LEGEND = ("+ a header the raw socket does not send, ~ another value than the socket's, "
          "- a socket header this client left out")


def add_parsers(sub) -> None:
    """Add ``stack`` to an argparse subparsers object."""
    from netlab.cli.args import Given, option_value

    p = sub.add_parser("stack", help=SUMMARIES["stack"],
                       description="Send the same GET through each layer of the stack that is installed: a raw\n"
                                   "socket, http.client, urllib.request, urllib3 and requests (the last two:\n"
                                   "pip install 'netlab[stack]').  Each one's bytes are recorded at its own socket\n"
                                   "as it wrote and read them: the request bytes, the headers each adds to the raw\n"
                                   "socket's (+ added, ~ another value, - left out), the redirects it followed, the\n"
                                   "connections it opened, whether it decompressed the body.  For https the bytes\n"
                                   "are the plaintext at the TLS layer.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  netlab serve --port 8080 &\n  netlab stack http://127.0.0.1:8080/echo\n"
                              "  netlab stack http://127.0.0.1:8080/redirect/2 --json")
    p.add_argument("url", metavar="URL", help="an http:// or https:// URL (no scheme: http://)")
    p.add_argument("--json", action="store_true", help="print one JSON object per client, as a list")
    p.add_argument("--timeout", type=option_value("timeout", "--timeout"), action=Given, metavar="S",
                   help="connect and per-read timeout of each client (default: the settings file's timeout, "
                        "else 10)")


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    from netlab.engine import NetlabError
    from netlab.engine.request import parse_target
    from netlab.engine.stack import run_stack

    try:
        target = parse_target(args.url)
    except NetlabError as exc:
        err.write(f"netlab: stack: {safe_text(exc.message, keep_newlines=False)}\n")
        return EXIT_USAGE
    timeout = args.timeout if given(args, "timeout") else current_settings(err).timeout
    results = run_stack(args.url, timeout=timeout)
    if args.json:
        out.write(json.dumps([r.to_json() for r in results], indent=2) + "\n")
    else:
        print_stack(results, target, out)
    out.flush()
    failed = [r for r in results if r.error and r.version is not None]
    return EXIT_FAIL if failed else EXIT_OK


def _line(data: bytes) -> str:
    return safe_text(data, keep_newlines=False)


def _first_line(head: bytes) -> bytes:
    return head.split(b"\n", 1)[0].rstrip(b"\r")


def _status(r) -> str:
    return " -> ".join(str(s) for s in r.statuses) or "-"


def print_stack(results, target, out) -> None:
    """One block per client, then the summary table."""
    from netlab.engine.stack import header_marks, seed_request

    baseline = seed_request(target)
    write = out.write
    write(f"GET {_line(target.target.encode('latin-1'))} through each layer of the stack ({LEGEND})\n")
    if target.scheme == "https":
        write("https: the bytes shown are the plaintext each client wrote into and read out of its TLS socket "
              "(recorded in-process, inside TLS)\n")
    for r in results:
        write(f"\n== {r.client} {r.version or ''} ".ljust(60, "=") + "\n")
        if r.version is None:
            write(f"  {r.error}\n")
            continue
        for version, cipher in dict.fromkeys(r.tls):
            write(f"  TLS: {_line(version.encode())} {_line(cipher.encode())}\n")
        for i, request in enumerate(r.requests):
            if len(r.requests) > 1:
                write(f"  request {i + 1} of {len(r.requests)}\n")
            for mark, text in header_marks(request, baseline):
                write(f"  {mark} {_line(text)}\n")
            if i < len(r.responses):
                write(f"  < {_line(_first_line(r.responses[i]))}\n")
        if r.unrecorded:
            write(f"  ({r.unrecorded} connection(s) on a socket object netlab cannot record)\n")
        if r.error:
            write(f"  error: {_line(r.error.encode('utf-8', 'surrogateescape'))}\n")
    write("\n")
    _table(results, out)


def _table(results, out) -> None:
    head = ("client", "version", "requests", "connections", "redirects", "status", "decompressed", "ms")
    rows = [head]
    for r in results:
        if r.version is None:
            rows.append((r.client, "-", "-", "-", "-", "not installed", "-", "-"))
            continue
        rows.append((r.client, r.version, str(len(r.requests)), str(r.connections), str(r.redirects),
                     "error" if r.error and not r.statuses else _status(r), "yes" if r.decompressed else "no",
                     f"{r.elapsed_ms:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
