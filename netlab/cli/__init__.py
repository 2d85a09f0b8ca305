"""The command line: `netlab [URL]` opens the TUI; `netlab send|serve ...` run headless.

Every subcommand goes through the same engine the TUI uses.  Each command is a module
of this package (``COMMANDS``) with ``add_parsers(sub)`` and ``run(args)``, imported only
when that command runs: ``netlab --help`` lists the others by their summary
(common.SUMMARIES).  The command modules share common.py, args.py, output.py and
store.py and never import this module back."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Iterable, Sequence

from netlab import __version__
from netlab.cli.common import EXIT_FAIL, SUMMARIES

if TYPE_CHECKING:
    import argparse
# argparse and json are imported where a command line is parsed or JSON written: a bare
# `netlab` (the TUI) needs neither before its first frame (bench/startup.py).

# Each command and the module that defines and runs it, in the order `netlab --help` lists them.
COMMANDS = {"send": "send", "serve": "serve", "history": "history", "replay": "history", "conns": "conns",
            "dns": "dns", "settings": "settings", "labnet": "labnet", "stack": "stack"}
SUBCOMMANDS = tuple(COMMANDS)


def _command_module(command: str):
    import importlib

    return importlib.import_module(f"netlab.cli.{COMMANDS[command]}")


def build_parser(commands: Iterable[str] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The parser of the whole command line, with the arguments of ``commands`` (every
    command's by default), whose modules it imports; any other command is listed by its
    summary alone, for `netlab --help`."""
    from netlab.cli.args import Parser

    p = Parser(prog="netlab", description="A terminal network lab. `netlab [URL]` opens the TUI.")
    p.add_argument("--version", action="version", version=f"netlab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    wanted = {COMMANDS[c] for c in commands}
    added: set[str] = set()
    for name, module in COMMANDS.items():
        if module not in wanted:
            sub.add_parser(name, help=SUMMARIES[name])
        elif module not in added:  # one module may add several commands (history and replay)
            _command_module(name).add_parsers(sub)
            added.add(module)
    return p


def cmd_tui(argv: Sequence[str]) -> int:
    if not argv:  # a bare `netlab`: nothing to parse (argparse stays unimported before the first frame)
        from netlab.ui.app import run_app

        return run_app(None)
    from netlab.cli.args import Parser

    p = Parser(prog="netlab", description="Open the netlab TUI.")
    p.add_argument("url", nargs="?", help="URL to pre-fill (default: the built-in lab server's /ip)")
    p.add_argument("--packets", action="store_true",
                   help="capture each exchange's packets (the Packets tab; root or CAP_NET_RAW)")
    p.add_argument("--version", action="version", version=f"netlab {__version__}")
    args = p.parse_args(argv)
    from netlab.ui.app import run_app

    return run_app(args.url, packets=args.packets)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `netlab send ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        return cmd_tui(argv)
    args = build_parser(argv[:1] if argv[0] in SUBCOMMANDS else ()).parse_args(argv)  # -h: summaries only
    return _command_module(args.command).run(args)
