"""`netlab conns`: the connection table headless, the same rows the TUI's pane shows.

    netlab conns [--kind inet|tcp|udp|unix|all] [--state S]... [--port N] [--pid N]
                 [-l/--listening] [--sort COLUMN [-r]] [--json]

One psutil snapshot (``netlab.engine.netstat.snapshot``), filtered and sorted by the
same ``ViewSpec`` the pane uses.  The human table is ``netstat -tunap``'s; process names
are untrusted text and are printed escaped.  ``--json`` prints a list of objects:
``{"family", "type", "local": [ip, port], "remote": [ip, port] | null, "status", "pid",
"process"}`` (Unix sockets: ``local`` is ``[path, null]``)."""

from __future__ import annotations

import argparse
import json
import sys

from netlab.cli.common import EXIT_OK, EXIT_USAGE, SUMMARIES
from netlab.engine.text import safe_text

KIND_CHOICES = ("inet", "inet4", "inet6", "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "all")


def add_parsers(sub) -> None:
    """Add ``conns`` to an argparse subparsers object."""
    from netlab.engine.netstat import COLUMNS

    c = sub.add_parser("conns", help=SUMMARIES["conns"],
                       description="List the machine's sockets with their state, pid and process, as the "
                                   "TUI's connection pane shows them.  Sockets of other users or PID "
                                   "namespaces show with no pid ('-').",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  netlab conns --state established --port 443\n"
                              "  netlab conns --kind tcp -l\n  netlab conns --kind all --json")
    c.add_argument("--kind", default="inet", choices=KIND_CHOICES, metavar="KIND",
                   help="which sockets: inet (default: TCP and UDP, IPv4 and IPv6), tcp, udp, unix, all "
                        "(also inet4, inet6, tcp4, tcp6, udp4, udp6)")
    c.add_argument("--state", action="append", default=[], metavar="S",
                   help="only sockets in state S (established, listen, time-wait, ...; ss and psutil "
                        "spellings both work; repeatable: any of them)")
    c.add_argument("--port", type=int, metavar="N", help="only sockets with local or remote port N")
    c.add_argument("--pid", type=int, metavar="N", help="only sockets of process N")
    c.add_argument("-l", "--listening", action="store_true",
                   help="only listening sockets (TCP LISTEN, and UDP sockets with no peer)")
    c.add_argument("--sort", default="proto", choices=COLUMNS, metavar="COLUMN",
                   help=f"sort by one of: {', '.join(COLUMNS)} (default proto: protocol, local, remote)")
    c.add_argument("-r", "--reverse", action="store_true", help="reverse the order")
    c.add_argument("--json", action="store_true", help="print the rows as a JSON list")


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command == "conns":
        return cmd_conns(args, out, err)
    err.write(f"netlab: unknown command {args.command!r}\n")
    return EXIT_USAGE


def _spec(args):
    from netlab.engine.netstat import ViewSpec, normalize_state

    states = set()
    for text in args.state:
        for part in text.split(","):
            if part.strip():
                states.add(normalize_state(part))  # ValueError: reported as usage
    if args.port is not None and not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be 0..65535, not {args.port}")
    return ViewSpec(states=frozenset(states), listening=args.listening, port=args.port, pid=args.pid,
                    sort=args.sort, reverse=args.reverse)


def to_json(row) -> dict:
    """One row as ``netlab conns --json`` prints it."""
    unix = row.proto == "unix"
    local = [row.local[0], None if unix else row.local[1]]
    remote = None
    if row.remote is not None:
        remote = [row.remote[0], None if unix else row.remote[1]]
    return {"family": row.family, "type": row.type, "local": local, "remote": remote, "status": row.state,
            "pid": row.pid, "process": row.process}


def cmd_conns(args, out, err) -> int:
    from netlab.engine.netstat import filter_sort, snapshot

    try:
        spec = _spec(args)
    except ValueError as exc:
        err.write(f"netlab: conns: {exc}\n")
        return EXIT_USAGE
    snap = snapshot(args.kind)
    if snap.notice:
        err.write(f"netlab: {safe_text(snap.notice, keep_newlines=False)}\n")
    rows = filter_sort(snap.rows, spec)
    if args.json:
        out.write(json.dumps([to_json(r) for r in rows], indent=2) + "\n")
        out.flush()
        return EXIT_OK
    _print_table(rows, out)
    missing = sum(1 for r in rows if r.pid is None)
    err.write(f"netlab: {len(rows)} of {len(snap.rows)} sockets shown (scan {snap.elapsed_ms:.0f} ms)"
              + (f"; {missing} with no pid: kernel-owned (TIME_WAIT) or another user's or PID namespace's"
                 if missing else "") + "\n")
    return EXIT_OK


def _print_table(rows, out) -> None:
    from netlab.engine.netstat import format_addr

    head = ("Proto", "Local Address", "Foreign Address", "State", "PID/Program name")
    lines = []
    for r in rows:
        who = "-" if r.pid is None else f"{r.pid}/{safe_text(r.process or '?', keep_newlines=False)}"
        state = "" if r.state == "NONE" else r.state
        proto = r.proto if r.proto != "unix" else ("unix/" + r.type.removeprefix("SOCK_").lower()
                                                   if r.type else "unix")
        lines.append((proto, safe_text(format_addr(r.local), keep_newlines=False),
                      safe_text(format_addr(r.remote), keep_newlines=False), state, who))
    widths = [max(len(head[i]), *(len(line[i]) for line in lines)) if lines else len(head[i])
              for i in range(len(head))]

    def fmt(cells) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() + "\n"

    out.write(fmt(head))
    for line in lines:
        out.write(fmt(line))
    out.flush()
