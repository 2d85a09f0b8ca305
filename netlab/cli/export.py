"""`netlab history export ID --as raw|http|curl|python-socket|python-requests`: a stored
exchange's request as its exact bytes, a .http entry, a curl command or a Python script.

    netlab history export 12 --as curl         # secrets masked unless --show-secrets
    netlab history export last --as raw -o req.bin"""

from __future__ import annotations

import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK
from netlab.cli.store import NotStored, stored_exchanges


def add_parser(sub) -> None:
    """Add ``export`` to the subparsers of `history` (plain `netlab history` and `netlab
    history --json` still list the entries)."""
    from netlab.engine.formats.export import FORMATS

    e = sub.add_parser("export", help="write a stored exchange's request as raw bytes, .http, curl, or a "
                                      "Python script",
                       description="Export a stored exchange's request: raw (the exact bytes), http (a .http "
                                   "entry), curl (a command that sends the same bytes), python-socket (a "
                                   "standard-library script that sends the same bytes and prints the "
                                   "response), python-requests (the equivalent requests call). Authorization, "
                                   "Proxy-Authorization and Cookie values are masked unless --show-secrets.")
    e.add_argument("id", metavar="ID", help="the exchange's id (see `netlab history`), or 'last'")
    e.add_argument("--as", dest="export_format", choices=FORMATS, default="curl", metavar="FORMAT",
                   help=f"one of {', '.join(FORMATS)} (default curl)")
    e.add_argument("--show-secrets", action="store_true", help="export credential header values as they were")
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE (mode 0600) instead of standard output")
    e.add_argument("--name", metavar="NAME", help="with --as http: the entry's name (default: history-ID)")


def run(args, out=None, err=None) -> int:
    from netlab.engine import NetlabError
    from netlab.engine.formats.export import export_exchange
    from netlab.engine.text import safe_text

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        [(ident, stored)] = stored_exchanges([args.id], err, "history export")
    except NotStored as exc:
        return exc.code
    try:
        result = export_exchange(stored, args.export_format, show_secrets=args.show_secrets,
                                 name=args.name or f"history-{ident}", source=f"netlab history #{ident}")
    except NetlabError as exc:
        err.write(f"netlab: history export #{ident} --as {args.export_format}: "
                  f"{safe_text(exc.message, keep_newlines=False)}\n")
        if exc.hint:
            err.write(f"  next: {safe_text(exc.hint, keep_newlines=False)}\n")
        return EXIT_FAIL
    for note in result.notes:
        err.write(f"netlab: note: {safe_text(note, keep_newlines=False)}\n")
    if args.output:
        try:
            result.save(args.output)
        except OSError as exc:
            err.write(f"netlab: cannot write {args.output!r}: {exc.strerror}\n")
            return EXIT_FAIL
        err.write(f"netlab: wrote {len(result.data)} bytes to {args.output}\n")
        return EXIT_OK
    if result.format == "raw":
        _write_raw(result.data, out, err)
    else:
        out.write(result.text)
    out.flush()
    return EXIT_OK


def _write_raw(data: bytes, out, err) -> None:
    """The exact bytes to a pipe or file; on a terminal, line endings and control bytes
    written out (the exact bytes: -o FILE)."""
    isatty = getattr(out, "isatty", lambda: False)()
    if isatty:
        from netlab.engine.rawtext import visible_line_endings

        for line in visible_line_endings(data):
            out.write(line + "\n")
        err.write("netlab: shown with line endings written out; -o FILE (or a pipe) gets the exact bytes\n")
        return
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
        buffer.flush()
    else:
        out.write(data.decode("latin-1"))
