"""`netlab replay ID --repeat N [--concurrency C]`: a stored request sent N times, and
its latency summary.

The load itself is ``netlab.engine.store.load.run_load``; this module reads the options,
shows progress on a terminal, and prints the summary (or ``--json``). The repeats are
not stored in the history, one by one or otherwise: N rows of the same request would
bury the exchanges the history is for. The summary is what a load run produces.

Exit status: 0 when every request received a response (any status), 1 when any failed,
130 when ctrl+c stopped the run (the summary of what finished is still printed)."""

from __future__ import annotations

import json
import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK
from netlab.engine.text import safe_text

MAX_REPEAT = 10_000_000  # the samples take 8 bytes each: 80 MB at this many
MAX_CONCURRENCY = 512  # one thread and one connection (two file descriptors on loopback) each
EXIT_INTERRUPTED = 130


def add_arguments(parser) -> None:
    """--repeat and --concurrency, for the replay subparser."""
    from netlab.cli.args import number

    parser.add_argument("--repeat", type=number(int, "--repeat", 1, MAX_REPEAT), metavar="N",
                        help="send the request N times and print a latency summary (min, p50, p90, p99, max, "
                             "requests/s, errors by phase, status codes); the repeats are not stored in the history")
    parser.add_argument("--concurrency", type=number(int, "--concurrency", 1, MAX_CONCURRENCY), metavar="C",
                        help=f"with --repeat: C worker threads, each with one request in flight and its own "
                             f"keep-alive connection (default 1, at most {MAX_CONCURRENCY})")


def run_repeat(args, ident: int, stored, out=None, err=None) -> int:
    """Run the load for the stored exchange ``stored`` (its request and options)."""
    from netlab.engine import Engine
    from netlab.engine.store.load import run_load

    out = out or sys.stdout
    err = err or sys.stderr
    n = args.repeat
    concurrency = min(args.concurrency or 1, n)
    request, options = stored.request, stored.options
    if not args.json:
        shown = f"{safe_text(request.method or '-', keep_newlines=False)} {safe_text(request.url, keep_newlines=False)}"
        err.write(f"netlab: replaying #{ident} {n} times: {shown}, "
                  f"concurrency {concurrency}; the repeats are not stored in the history\n")
        if args.verbose:
            err.write(f"* {concurrency} worker thread(s) share one engine; each response body is dropped once "
                      f"measured; {len(request.data)} request bytes each time\n")
        err.flush()
    show = _progress_printer(err) if not args.json and _is_tty(err) else None
    with Engine(options) as engine:
        summary = run_load(engine, request, options, n, concurrency, progress=show)
    if show is not None:
        show(None)
    if args.json:
        data = {"id": ident, "method": request.method, "url": request.url, "stored_in_history": False,
                **summary.to_dict()}
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(format_summary(summary, request))
    out.flush()
    if summary.cancelled:
        if not args.json:
            err.write(f"netlab: stopped early: {summary.count} of {n} requests finished\n")
        return EXIT_INTERRUPTED
    return EXIT_FAIL if summary.errors else EXIT_OK


def format_summary(summary, request=None) -> str:
    """The human summary: one "name  value" line each, errors by phase, peer text escaped."""

    def ms(value) -> str:
        return "-" if value is None else f"{value:.3f} ms"

    lines = [("count", f"{summary.count} of {summary.requested}" + (" (stopped early)" if summary.cancelled else "")),
             ("ok", str(summary.ok)),
             ("errors", str(summary.errors))]
    rows = [(f"  {g.phase}", f"{g.count}  first: {safe_text(g.first_message, keep_newlines=False)}")
            for g in summary.error_groups]
    lines += rows
    lines += [("min", ms(summary.min_ms)), ("p50", ms(summary.p50_ms)), ("p90", ms(summary.p90_ms)),
              ("p99", ms(summary.p99_ms)), ("max", ms(summary.max_ms)), ("mean", ms(summary.mean_ms)),
              ("requests/s", f"{summary.requests_per_s:.1f}  ({summary.count} in {summary.elapsed_s:.3f} s, "
                             f"concurrency {summary.concurrency})"),
              ("statuses", "  ".join(f"{code}: {count}" for code, count in summary.statuses) or "-")]
    conns = f"{summary.connections_opened} opened, {summary.connections_reused} requests reused one"
    if request is not None and getattr(request, "wants_close", False):
        conns += " (the request says Connection: close: a new connection each time)"
    lines.append(("connections", conns))
    if summary.interrupted:
        lines.append(("interrupted", f"{summary.interrupted} in flight when stopped (not counted)"))
    width = max(len(name) for name, _ in lines) + 2
    return "".join(f"{name.ljust(width)}{value}\n" for name, value in lines)


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _progress_printer(err):
    """A one-line progress display on a terminal (``None`` clears it)."""
    state = {"width": 0}

    def show(p) -> None:
        if p is None:
            if state["width"]:
                err.write("\r" + " " * state["width"] + "\r")
                err.flush()
            return
        text = f"  {p.done}/{p.requested} done, ok {p.ok}, errors {p.errors}, {p.elapsed_s:.1f} s"
        state["width"] = max(state["width"], len(text))
        err.write("\r" + text.ljust(state["width"]))
        err.flush()

    return show
