"""`netlab history`, `netlab history show ID` and `netlab replay ID`: the stored
exchanges, one of them in full, and sending one again (`history export` and `history
diff` are netlab/cli/export.py and diff.py; finding a stored exchange is store.py's).

The history file is ``netlab.engine.store.history.default_path()`` ($NETLAB_HISTORY overrides).
``replay`` sends the stored request's exact bytes to the same target, with the same
options (timeout, TLS settings, --resolve pins, Unix socket), stores the new exchange
too, and prints it the way ``netlab send`` does; an exchange sent with -L is replayed as a
chain (its first request's bytes, the redirects followed again, every hop stored and shown).
``history show ID`` prints a stored exchange as ``netlab send -v -i`` would have (all on
standard output), or with --json in the ``netlab send --json`` shape.  ID is a number from ``netlab history``, ``last``
or ``prev`` (the one before last) everywhere.  ``replay ID --repeat N`` is a load run
instead (netlab/cli/load.py): a latency summary, nothing stored."""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

from netlab.cli import diff, export
from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, OPTION_FLAGS, SUMMARIES, given
from netlab.cli.store import NotStored, open_history, stored_exchange, stored_exchanges
from netlab.engine.secrets import mask_url  # one masking rule for stored URLs
from netlab.engine.text import safe_text


def add_parsers(sub) -> None:
    """Add ``history`` (with its ``export``, ``diff`` and ``show``) and ``replay`` to an
    argparse subparsers object."""
    from netlab.cli.args import add_exchange_limits, option_value
    from netlab.cli.load import add_arguments as add_load_arguments

    h = sub.add_parser("history", help=SUMMARIES["history"],
                       description="List the exchanges netlab has stored, newest first.")
    h.add_argument("--limit", type=option_value("list_limit", "--limit"), default=50, metavar="N",
                   help="show at most N entries (default 50; 0: all)")
    h.add_argument("--json", action="store_true", help="print the entries as a JSON list")
    # plain `netlab history` (and --json) still lists the entries
    below = h.add_subparsers(dest="history_command", metavar="export|diff|show", parser_class=type(h))
    export.add_parser(below)  # `netlab history export ID --as FORMAT`
    diff.add_parser(below)  # `netlab history diff A B`
    _add_show(below)
    r = sub.add_parser("replay", help=SUMMARIES["replay"],
                       description="Send the exact request bytes of a stored exchange again, to the same "
                                   "target with the same options, and store the new exchange. With --repeat N, "
                                   "send them N times and print a latency summary instead; the repeats are "
                                   "not stored.")
    r.add_argument("id", metavar="ID", help=ID_HELP)
    r.add_argument("--json", action="store_true", help="print the new exchange as one JSON object")
    r.add_argument("-v", "--verbose", action="store_true",
                   help="show each step and the raw bytes both ways on stderr (standard output: the body only)")
    r.add_argument("-i", "--include", action="store_true",
                   help="put the response head on standard output too when -v shows it on stderr (as curl -v -i)")
    add_exchange_limits(r, head_timeout_only=True)  # --head-timeout S: the stored options' otherwise
    from netlab.cli.args import number
    from netlab.engine.redirects import DEFAULT_MAX_REDIRECTS

    r.add_argument("--max-redirs", type=number(int, "--max-redirs", 0, 10_000), default=DEFAULT_MAX_REDIRECTS,
                   metavar="N", help="an exchange sent with -L is replayed as a chain: its first request's bytes "
                                     "again, following at most N redirects (default "
                                     f"{DEFAULT_MAX_REDIRECTS}), with a fresh cookie jar if the chain used one")
    add_load_arguments(r)  # --repeat N, --concurrency C


ID_HELP = ("the exchange: its number in `netlab history`, 'last' (the newest) or 'prev' (the one "
           "before it)")


def _add_show(sub) -> None:
    """`netlab history show ID|last|prev [--json]`, beside `export` and `diff`."""
    s = sub.add_parser("show", help="print one stored exchange in full (--json: the `netlab send --json` shape)",
                       description="Print one stored exchange: the steps, the request and response bytes and "
                                   "the body, as `netlab send -v -i` shows them (on standard output), or with "
                                   "--json as the JSON object `netlab send --json` prints.")
    s.add_argument("id", metavar="ID", help=ID_HELP)
    s.add_argument("--json", action="store_true", help="print the exchange as one JSON object")


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "replay":
        return cmd_replay(args, out, err)
    if args.command != "history":
        err.write(f"netlab: unknown command {args.command!r}\n")
        return EXIT_USAGE
    below = getattr(args, "history_command", None)
    if below == "export":
        return export.run(args, out, err)
    if below == "diff":
        return diff.run(args, out, err)
    if below == "show":
        return cmd_history_show(args, out, err)
    return cmd_history(args, out, err)


def _status(entry) -> str:
    if entry.error_phase:
        return entry.error_phase
    return str(entry.status) if entry.status is not None else "-"


def cmd_history(args, out, err) -> int:
    """The listing; a password in a URL is shown as ``user:****@host`` (secrets.mask_url)."""
    from netlab.engine.store.history import HistoryError

    history = open_history(err)
    try:
        entries = history.list(args.limit)
    except HistoryError as exc:
        err.write(f"netlab: {exc}\n")
        return EXIT_FAIL
    finally:
        history.close()
    if args.json:
        out.write(json.dumps([{"id": e.id, "started": e.started, "method": e.method, "url": mask_url(e.url),
                               "status": e.status, "duration_ms": round(e.duration_ms, 3),
                               "error_phase": e.error_phase, "reused": e.reused} for e in entries],
                             indent=2) + "\n")
        out.flush()
        return EXIT_OK
    if not entries:
        err.write(f"netlab: no exchanges in history yet ({history.path})\n")
        return EXIT_OK
    rows = [(str(e.id), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.started)),
             safe_text(e.method or "-", keep_newlines=False), safe_text(mask_url(e.url), keep_newlines=False),
             safe_text(_status(e), keep_newlines=False), f"{e.duration_ms:.1f}", "reused" if e.reused else "new")
            for e in entries]
    head = ("ID", "TIME", "METHOD", "URL", "STATUS", "MS", "CONN")
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    right = {0, 5}  # numbers right-aligned

    def line(cells) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip() + "\n"

    out.write(line(head))
    for r in rows:
        out.write(line(r))
    out.flush()
    return EXIT_OK


def cmd_replay(args, out, err) -> int:
    if getattr(args, "concurrency", None) is not None and getattr(args, "repeat", None) is None:
        err.write("netlab: replay: --concurrency needs --repeat N\n")
        return EXIT_USAGE
    from dataclasses import replace

    from netlab.cli.output import report, verbose_printer
    from netlab.engine import Engine, NetlabError
    from netlab.engine.store.history import HistoryError

    history = open_history(err)
    try:
        try:
            ident, stored = stored_exchange(history, args.id, err, "replay")
        except NotStored as exc:
            return exc.code

        try:  # the stored options by the same rule as the command line's (a history file is data)
            if given(args, "head_timeout"):
                stored.options = replace(stored.options, head_timeout=args.head_timeout)
            stored.options = stored.options.checked(OPTION_FLAGS)
        except NetlabError as exc:
            err.write(f"netlab: replay: {safe_text(exc.message, keep_newlines=False)}\n")
            return EXIT_USAGE
        if getattr(args, "repeat", None) is not None:  # a load run: see netlab/cli/load.py
            from netlab.cli.load import run_repeat

            history.close()
            return run_repeat(args, ident, stored, out, err)
        on_event = verbose_printer(err) if args.verbose and not args.json else None
        if args.verbose and not args.json:
            err.write(f"* replaying #{ident}: {_request_line(stored)} ({len(stored.request.data)} bytes)\n")
        with Engine(stored.options) as engine:
            if stored.redirects is not None:  # sent with -L: the chain again, from its first request
                ex = _replay_chain(engine, stored, args, on_event, err)
            else:
                ex = engine.send(stored.request, on_event, options=stored.options)
        try:
            new_id = history.add(ex)
            if args.verbose and not args.json:
                err.write(f"* stored as #{new_id}\n")
        except HistoryError as exc:
            err.write(f"netlab: {exc}\n")
    finally:
        history.close()
    shown = SimpleNamespace(json=args.json, verbose=args.verbose, include=getattr(args, "include", False),
                            output=None, compressed=False)
    return report(ex, shown, out, err)


def _replay_chain(engine, stored, args, on_event, err):
    """Replay a chain sent with -L: its first request's exact bytes with the first hop's
    options, following redirects again (each new hop is sent as the rules make it now).  If
    the chain used a cookie jar, a fresh one; a Cookie header the jar had put in the first
    request seeds it (as host-only cookies of that host) instead of staying a header of the
    user's, so that later Set-Cookie answers still reach the later hops."""
    from netlab.cli.output import hop_printer
    from netlab.engine import Request
    from netlab.engine.cookies import Jar
    from netlab.engine.redirects import JAR_ADDED, follow, used_jar

    chain = [*stored.redirects, stored]
    first = chain[0]
    request, jar = first.request, None
    if used_jar(chain):
        jar = Jar()
        value = request.header("cookie")
        if value and not request.is_raw and any(n.startswith(JAR_ADDED) for n in first.notes or ()):
            jar.add_string(value, request.url)
            request = Request.from_url(request.url, request.method,
                                       [(n, v) for n, v in request.headers if n.lower() != "cookie"], request.body)
    options = stored.options if first is stored else first.options.checked(OPTION_FLAGS)
    if options is not stored.options and given(args, "head_timeout"):
        from dataclasses import replace

        options = replace(options, head_timeout=args.head_timeout)
    return follow(engine, request, on_event, options=options, max_redirects=args.max_redirs, jar=jar,
                  on_hop=None if args.json else hop_printer(args, err))


def cmd_history_show(args, out, err) -> int:
    """One stored exchange, in full: the `send --json` object, or what `send -v -i` prints."""
    from netlab.cli.output import exchange_json, print_hop, print_human, report_error, verbose_printer

    try:
        [(ident, ex)] = stored_exchanges([args.id], err, "history show")
    except NotStored as exc:
        return exc.code
    if args.json:
        doc = exchange_json(ex)
        for one in (doc, *doc.get("redirects", ())):
            one["request"]["url"] = mask_url(one["request"]["url"])  # a stored URL's password stays stored
        out.write(json.dumps(doc, indent=2) + "\n")
        out.flush()
        return EXIT_OK
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ex.started)) if ex.started else "-"
    out.write(f"* #{ident} {started}: {_request_line(ex)}\n")
    show = verbose_printer(out)
    wire = SimpleNamespace(verbose=True, include=True)
    for number, hop in enumerate(ex.redirects or (), 1):  # sent with -L: each hop before the last
        for event in _stored_events(hop):
            show(event)
        print_hop(hop, number, wire, out)
    for event in _stored_events(ex):
        show(event)
    print_human(ex, SimpleNamespace(verbose=True, include=True, output=None, compressed=False,
                                     save_hint="the TUI's history (F6) shows them in the Hex tab"), out, out)
    t = ex.timings
    out.write(f"* timings: dns {t.dns:.2f} ms, connect {t.connect:.2f} ms, tls {t.tls:.2f} ms, "
              f"send {t.send:.2f} ms, first byte {t.ttfb:.2f} ms, download {t.download:.2f} ms, "
              f"total {t.total:.2f} ms\n")
    if ex.error is not None:
        report_error(ex.error, out)
    out.flush()
    return EXIT_OK


def _request_line(ex) -> str:
    """A stored exchange's method and URL, its password masked (secrets.mask_url)."""
    return (f"{safe_text(ex.request.method, keep_newlines=False)} "
            f"{safe_text(mask_url(ex.request.url), keep_newlines=False)}")


def _stored_events(ex) -> list:
    """The steps of a stored exchange as the events `send -v` printed when it ran."""
    from netlab.engine import events as ev

    out: list[ev.Event] = []
    d = ex.dns
    if d is not None and d.source != "unix":
        out.append(ev.Resolved(t=0.0, name=d.name, addresses=tuple(d.addresses), source=d.source, server=d.server,
                               elapsed_ms=ex.timings.dns))
    for address, why in ex.attempts:
        out.append(ev.ConnectFailed(t=0.0, address=address, port=ex.request.port, message=why))
    c = ex.connection
    if c is not None:
        out.append(ev.Connected(t=0.0, family=c.family, local=c.local, remote=c.remote, reused=c.reused,
                                rtt_ms=c.rtt_ms))
    if ex.tls is not None:
        out.append(ev.TLSDone(t=0.0, version=ex.tls.version, cipher=ex.tls.cipher, alpn=ex.tls.alpn,
                              verified=ex.tls.verified))
    return out
