"""`netlab send FILE.http` and `netlab send --curl 'curl ...'`: requests written elsewhere,
sent as `netlab send` sends one.

    netlab send requests.http --name login     # one entry of a .http file (by name or number)
    netlab send requests.http --all            # every entry, in order; exit 1 if any failed
    netlab send --curl 'curl -H "X: 1" http://127.0.0.1:8080/echo' -k     # more options add

With a .http file, the entry's settings (``# @insecure``, ``# @resolve``...) apply and the
command line's connection options override them; -X, -H, -d and --raw are refused (edit the
file).  With --curl, -X, -H, -d and --compressed are added to the curl command as if
written at its end (curl's rules: the last -X wins, -H adds, -d joins with &), and the
connection options (--resolve, -k, --cacert, --unix-socket, --timeout, --max-time) add to or
override the command's."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, exchange_options, given
from netlab.engine.text import safe_text


def add_send_arguments(p) -> None:
    """--curl, --name and --all for `netlab send`."""
    p.add_argument("--curl", metavar="'curl ...'",
                   help="send what this curl command would send (other options add to it or override it)")
    p.add_argument("--name", metavar="NAME",
                   help="with a .http file: send the entry with this name (or this number, from 1)")
    p.add_argument("--all", action="store_true", help="with a .http file: send every entry in order")


def wants_interop(args) -> bool:
    from netlab.engine.formats.httpfile import is_http_path

    return bool(getattr(args, "curl", None) is not None or is_http_path(getattr(args, "url", None))
                or getattr(args, "name", None) is not None or getattr(args, "all", False))


def send_interop(args, out=None, err=None) -> int:
    from netlab.engine import NetlabError
    from netlab.engine.formats.httpfile import is_http_path

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.curl is not None:
            if args.name is not None or args.all:
                raise NetlabError("usage", "--name and --all go with a .http file, not --curl", "")
            if args.raw is not None:
                raise NetlabError("usage", "--raw and --curl cannot be combined: the curl command is the request", "")
            if args.url:
                raise NetlabError("usage", f"with --curl the URL is in the curl command; remove {args.url!r}", "")
            jobs = [(None, *_from_curl(args, err))]
        elif is_http_path(args.url):
            jobs = _from_http_file(args)
        else:
            raise NetlabError("usage", "--name and --all go with a .http file (netlab send FILE.http --name NAME)", "")
    except NetlabError as exc:
        err.write(f"netlab: {safe_text(exc.message, keep_newlines=False)}\n")
        if exc.hint:
            err.write(f"  next: {safe_text(exc.hint, keep_newlines=False)}\n")
        return EXIT_USAGE
    return _send_all(jobs, args, out, err)


# ------------------------------------------------------------------------------ curl


def _from_curl(args, err):
    from netlab.engine.formats.curl import parse_curl

    extra: list[str] = []
    if args.method:
        extra += ["-X", args.method]
    for h in args.headers:
        extra += ["-H", h]
    if args.data is not None:
        extra += ["--data-binary", args.data]
    if args.compressed:
        extra.append("--compressed")
    stdin = None
    if (args.data == "@-" or "@-" in args.curl) and not sys.stdin.isatty():
        stdin = sys.stdin.buffer.read()
    command = parse_curl(args.curl, extra_args=extra, stdin=stdin)
    for note in command.notes:
        err.write(f"netlab: note: {safe_text(note, keep_newlines=False)}\n")
    base = exchange_options(args)
    c = command.options
    options = replace(
        base,
        insecure=base.insecure or c.insecure,
        cafile=args.cacert or c.cafile,
        resolve=tuple(base.resolve) + tuple(c.resolve),
        unix_socket=args.unix_socket or c.unix_socket,
        timeout=args.timeout if args.timeout is not None else (c.timeout if "timeout" in command.given
                                                               else base.timeout),
        deadline=base.deadline if given(args, "max_time") else (c.deadline if c.deadline is not None
                                                                 else base.deadline),
    ).checked()  # the curl command's values by the same rule as the command line's (netlab/limits.py)
    args.compressed = args.compressed or command.compressed
    return command.request, options


# ------------------------------------------------------------------------- .http files


def _from_http_file(args):
    from netlab.engine import NetlabError
    from netlab.engine.formats.httpfile import parse_file

    shaping = [flag for flag, value in (("-X", args.method), ("-H", args.headers), ("-d", args.data),
                                        ("--raw", args.raw)) if value]
    if shaping:
        raise NetlabError("usage", f"{', '.join(shaping)} cannot be combined with a .http file: "
                                   "edit the request in the file", "")
    if args.name is not None and args.all:
        raise NetlabError("usage", "give --name NAME or --all, not both", "")
    if args.all and args.output:
        raise NetlabError("usage", "-o FILE takes one body: use it with --name, not --all", "")
    http = parse_file(args.url)
    if not http.entries:
        raise NetlabError("usage", f"{args.url}: no requests in the file (a request line is METHOD URL)", "")
    if args.all:
        chosen = list(http.entries)
    elif args.name is not None:
        chosen = [http.find(args.name)]
    elif len(http.entries) == 1:
        chosen = list(http.entries)
    else:
        raise NetlabError("usage", f"{args.url} holds {len(http.entries)} requests: pick one with --name NAME "
                                   f"(or a number), or send them all with --all; {http.describe()}", "")
    base = exchange_options(args)
    jobs = []
    for entry in chosen:
        merged = entry.options.apply(base)
        # what the command line says explicitly wins over the file's settings
        merged = replace(
            merged,
            resolve=tuple(base.resolve) + tuple(entry.options.resolve),
            cafile=args.cacert or merged.cafile,
            unix_socket=args.unix_socket or merged.unix_socket,
            timeout=args.timeout if args.timeout is not None else merged.timeout,
            dns_server=base.dns_server if args.dns_server else merged.dns_server,
        ).checked()  # the file's values by the same rule as the command line's (netlab/limits.py)
        jobs.append((entry, entry.request, merged))
    return jobs


# ------------------------------------------------------------------------------ sending


def _send_all(jobs, args, out, err) -> int:
    from netlab.cli.output import exchange_json, report, verbose_printer
    from netlab.cli.store import record
    from netlab.engine import Engine

    on_event = verbose_printer(err) if args.verbose and not args.json else None
    results = []
    status = EXIT_OK
    with Engine() as engine:
        for entry, request, options in jobs:
            if entry is not None and len(jobs) > 1 and not args.json:
                where = f"{safe_text(entry.path or '', keep_newlines=False)}:{entry.line}"
                out.write(f"### {safe_text(entry.name or '(unnamed)', keep_newlines=False)}  ({where}: "
                          f"{safe_text(request.method, keep_newlines=False)} "
                          f"{safe_text(request.url, keep_newlines=False)})\n")
                out.flush()
            try:
                ex = engine.send(request, on_event, options=options, body_path=args.output)
            except OSError as exc:  # -o FILE cannot be opened
                err.write(f"netlab: cannot write {args.output!r}: {exc.strerror}\n")
                return EXIT_USAGE
            if not args.no_history:
                record(ex, err, store_bodies=False if getattr(args, "no_history_bodies", False) else None)
            if args.json and len(jobs) > 1:
                item = exchange_json(ex)
                item["entry"] = {"name": entry.name, "line": entry.line, "path": entry.path}
                results.append(item)
                if ex.error is not None:
                    status = EXIT_FAIL
                continue
            code = report(ex, args, out, err)
            if len(jobs) > 1 and not args.json:
                out.write("\n")
                out.flush()
            status = max(status, code)
    if results:
        out.write(json.dumps(results, indent=2) + "\n")
        out.flush()
    return status
