"""`netlab history`, `netlab history show ID` and `netlab replay ID`: the stored
exchanges, one of them in full, and sending one again.

The history file is ``netlab.engine.history.default_path()`` ($NETLAB_HISTORY overrides).
``replay`` sends the stored request's exact bytes to the same target, with the same
options (timeout, TLS settings, --resolve pins, Unix socket), stores the new exchange
too, and prints it the way ``netlab send`` does.  ``history show ID`` prints a stored
exchange as ``netlab send -v -i`` would have (all on standard output), or with --json
in the ``netlab send --json`` shape.  ID is a number from ``netlab history``, ``last``
or ``prev`` (the one before last) everywhere.  ``replay ID --repeat N`` is a load run
instead (netlab/cli_load.py): a latency summary, nothing stored."""

from __future__ import annotations

import argparse
import json
import sys
import time
from types import SimpleNamespace

__all__ = ["add_parsers", "run", "record"]

from netlab.cli import EXIT_FAIL, EXIT_OK, EXIT_USAGE  # noqa: E402 - one set of exit codes
from netlab.engine.secrets import mask_url  # noqa: E402 - one masking rule for stored URLs


def add_parsers(sub) -> None:
    """Add ``history`` and ``replay`` to an argparse subparsers object."""
    h = sub.add_parser("history", help="list the stored exchanges, newest first",
                       description="List the exchanges netlab has stored, newest first.")
    from netlab.cli import option_value

    h.add_argument("--limit", type=option_value("list_limit", "--limit"), default=50, metavar="N",
                   help="show at most N entries (default 50; 0: all)")
    h.add_argument("--json", action="store_true", help="print the entries as a JSON list")
    from netlab.cli_export import add_history_export  # `netlab history export ID --as FORMAT`

    add_history_export(h)
    _add_show(h)
    r = sub.add_parser("replay", help="send a stored exchange's request again (same bytes, same target)",
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
    from netlab.cli import add_exchange_limits

    add_exchange_limits(r, head_timeout_only=True)  # --head-timeout S: the stored options' otherwise
    from netlab.cli_load import add_arguments as add_load_arguments  # --repeat N, --concurrency C

    add_load_arguments(r)


ID_HELP = ("the exchange: its number in `netlab history`, 'last' (the newest) or 'prev' (the one "
           "before it)")


def _add_show(history_parser) -> None:
    """`netlab history show ID|last|prev [--json]`, beside `export` and `diff`."""
    sub = next(a for a in history_parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.metavar = "export|diff|show"
    s = sub.add_parser("show", help="print one stored exchange in full (--json: the `netlab send --json` shape)",
                       description="Print one stored exchange: the steps, the request and response bytes and "
                                   "the body, as `netlab send -v -i` shows them (on standard output), or with "
                                   "--json as the JSON object `netlab send --json` prints.")
    s.add_argument("id", metavar="ID", help=ID_HELP)
    s.add_argument("--json", action="store_true", help="print the exchange as one JSON object")


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "history" and getattr(args, "history_command", None) == "export":
        from netlab.cli_export import cmd_history_export

        return cmd_history_export(args, out, err)
    if args.command == "history" and getattr(args, "history_command", None) == "diff":
        from netlab.cli_diff import cmd_history_diff

        return cmd_history_diff(args, out, err)
    if args.command == "history" and getattr(args, "history_command", None) == "show":
        return cmd_history_show(args, out, err)
    if args.command == "history":
        return cmd_history(args, out, err)
    if args.command == "replay":
        return cmd_replay(args, out, err)
    err.write(f"netlab: unknown command {args.command!r}\n")
    return EXIT_USAGE


def record(exchange, err=None, *, store_bodies: bool | None = None) -> int | None:
    """Store ``exchange`` in the history (for `netlab send`); a history that cannot be
    written is reported on ``err`` and never fails the command.  Returns the new id.
    ``store_bodies=False`` (--no-history-bodies) keeps the response body out of the file,
    whatever the settings say (so does NETLAB_HISTORY_BODIES=0, see History)."""
    from netlab.engine.history import History, HistoryError

    from netlab.cli_settings import current

    err = err or sys.stderr
    options = current(err).history_options()  # [history] size, body_cap, bodies
    if store_bodies is False:
        options["store_bodies"] = False
    try:
        with History(**options) as history:
            if history.notice:
                err.write(f"netlab: {history.notice}\n")
            return history.add(exchange)
    except HistoryError as exc:
        err.write(f"netlab: {exc}\n")
        return None


def _open(err):
    from netlab.engine.history import History

    history = History()
    if history.notice:
        err.write(f"netlab: {history.notice}\n")
    return history


class _NotStored(Exception):
    """An id that names no stored exchange: the message is written, the exit code kept."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def stored_exchange(history, text, err, what: str):
    """(id, Exchange) for ``text`` — a number from `netlab history` (``#12`` too), 'last'
    or 'prev' — or _NotStored after writing why to ``err``.  ``what`` names the command."""
    from netlab.cli import _safe
    from netlab.engine.history import HistoryError

    t = str(text).strip().lower().lstrip("#")
    if t in ("last", "prev"):
        ids = [e.id for e in history.list(2)]
        want = 0 if t == "last" else 1
        if len(ids) <= want:
            why = "is empty" if not ids else "holds one exchange, so there is no 'prev'"
            err.write(f"netlab: {what}: the history {why} ({history.path}); see `netlab history`\n")
            raise _NotStored(EXIT_USAGE)
        ident = ids[want]
    else:
        try:
            ident = int(t)
        except ValueError:
            err.write(f"netlab: {what}: {_safe(str(text))!r} is not an exchange id (a number from "
                      "`netlab history`, 'last' or 'prev')\n")
            raise _NotStored(EXIT_USAGE) from None
    try:
        return ident, history.get(ident)
    except KeyError:
        err.write(f"netlab: no exchange with id {ident} in the history ({history.path}); see `netlab history`\n")
        raise _NotStored(EXIT_USAGE) from None
    except HistoryError as exc:
        err.write(f"netlab: {exc}\n")
        raise _NotStored(EXIT_FAIL) from None


def _status(entry) -> str:
    if entry.error_phase:
        return entry.error_phase
    return str(entry.status) if entry.status is not None else "-"


def cmd_history(args, out, err) -> int:
    """The listing; a password in a URL is shown as ``user:****@host`` (secrets.mask_url)."""
    from netlab.cli import _safe
    from netlab.engine.history import HistoryError

    history = _open(err)
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
    rows = [(str(e.id), time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.started)), _safe(e.method) or "-",
             _safe(mask_url(e.url)), _safe(_status(e)), f"{e.duration_ms:.1f}", "reused" if e.reused else "new") for e in entries]
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
    from netlab.cli import _safe, _verbose_printer, report
    from netlab.engine import Engine
    from netlab.engine.history import HistoryError

    history = _open(err)
    try:
        try:
            ident, stored = stored_exchange(history, args.id, err, "replay")
        except _NotStored as exc:
            return exc.code
        from dataclasses import replace

        from netlab.cli import OPTION_FLAGS, given
        from netlab.engine import NetlabError

        try:  # the stored options by the same rule as the command line's (a history file is data)
            if given(args, "head_timeout"):
                stored.options = replace(stored.options, head_timeout=args.head_timeout)
            stored.options = stored.options.checked(OPTION_FLAGS)
        except NetlabError as exc:
            err.write(f"netlab: replay: {_safe(exc.message)}\n")
            return EXIT_USAGE
        if getattr(args, "repeat", None) is not None:  # a load run: see netlab/cli_load.py
            from netlab.cli_load import run_repeat

            history.close()
            return run_repeat(args, ident, stored, out, err)
        on_event = _verbose_printer(err) if args.verbose and not args.json else None
        if args.verbose and not args.json:
            err.write(f"* replaying #{ident}: {_safe(stored.request.method)} {_safe(mask_url(stored.request.url))} "
                      f"({len(stored.request.data)} bytes)\n")
        with Engine(stored.options) as engine:
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


def cmd_history_show(args, out, err) -> int:
    """One stored exchange, in full: the `send --json` object, or what `send -v -i` prints."""
    from netlab.cli import _print_human, _safe, _verbose_printer, exchange_json, report_error

    history = _open(err)
    try:
        ident, ex = stored_exchange(history, args.id, err, "history show")
    except _NotStored as exc:
        return exc.code
    finally:
        history.close()
    if args.json:
        doc = exchange_json(ex)
        doc["request"]["url"] = mask_url(doc["request"]["url"])  # a stored URL's password stays stored
        out.write(json.dumps(doc, indent=2) + "\n")
        out.flush()
        return EXIT_OK
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ex.started)) if ex.started else "-"
    out.write(f"* #{ident} {started}: {_safe(ex.request.method)} {_safe(mask_url(ex.request.url))}\n")
    show = _verbose_printer(out)
    for event in _stored_events(ex):
        show(event)
    _print_human(ex, SimpleNamespace(verbose=True, include=True, output=None, compressed=False,
                                     save_hint="the TUI's history (F6) shows them in the Hex tab"), out, out)
    t = ex.timings
    out.write(f"* timings: dns {t.dns:.2f} ms, connect {t.connect:.2f} ms, tls {t.tls:.2f} ms, "
              f"send {t.send:.2f} ms, first byte {t.ttfb:.2f} ms, download {t.download:.2f} ms, "
              f"total {t.total:.2f} ms\n")
    if ex.error is not None:
        report_error(ex.error, out)
    out.flush()
    return EXIT_OK


def _stored_events(ex) -> list:
    """The steps of a stored exchange as the events `send -v` printed when it ran."""
    from netlab.engine import events as ev

    out = []
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
