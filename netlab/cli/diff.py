"""`netlab history diff A B`: what changed between two stored exchanges (status,
headers added/removed/changed, a body diff, timings) — "replay and see what changed".
``B`` defaults to 'last'; ids may also be 'last' and 'prev' (the one before last)."""

from __future__ import annotations

import json
import sys

from netlab.cli.common import EXIT_OK
from netlab.cli.store import NotStored, stored_exchanges

_COLOURS = {"added": "\x1b[32m", "removed": "\x1b[31m", "changed": "\x1b[33m", "heading": "\x1b[1m"}


def add_parser(sub) -> None:
    """Add ``diff`` to the subparsers of `history`."""
    d = sub.add_parser("diff", help="compare two stored exchanges: status, headers, body, timings",
                       description="Compare two stored exchanges: status, headers added/removed/changed "
                                   "(Date ignored unless --all-headers), a line diff of text bodies (else "
                                   "sizes, SHA-256 and the first differing byte), and timings side by side. "
                                   "IDs are numbers from `netlab history`, 'last' or 'prev'.")
    d.add_argument("a", metavar="A", help="the older exchange's id (or 'prev')")
    d.add_argument("b", metavar="B", nargs="?", default="last", help="the newer exchange's id (default 'last')")
    d.add_argument("--all-headers", action="store_true", help="compare Date too")
    d.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    d.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour added/removed lines (default: when writing to a terminal)")


def run(args, out=None, err=None) -> int:
    from netlab.engine.store.diff import compare, diff_lines

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        (ia, a), (ib, b) = stored_exchanges([args.a, args.b], err, "history diff")
    except NotStored as exc:
        return exc.code
    d = compare(a, b, ignore_headers=() if args.all_headers else ("date",))
    if args.json:
        json.dump({
            "a": ia, "b": ib, "same": d.same, "request_same": d.request_same, "status": list(d.status),
            "headers": [{"name": h.name, "kind": h.kind, "before": list(h.before), "after": list(h.after)}
                        for h in d.headers],
            "body": {"same": d.body_same, "bytes": list(d.body_sizes), "sha256": list(d.body_sha256),
                     "diff": list(d.body_text_diff) if d.body_text_diff is not None else None,
                     "first_difference": d.first_difference},
            "timings_ms": {k: [round(x, 3), round(y, 3)] for k, x, y in d.timings},
        }, out, indent=2)
        out.write("\n")
        return EXIT_OK
    colour = args.color == "always" or (args.color == "auto" and getattr(out, "isatty", lambda: False)())
    for kind, text in diff_lines(d, (f"#{ia}", f"#{ib}")):  # every text is already escaped
        if colour and kind in _COLOURS:
            out.write(f"{_COLOURS[kind]}{text}\x1b[0m\n")
        else:
            out.write(text + "\n")
    return EXIT_OK
