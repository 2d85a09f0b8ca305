"""The two argparse pieces the command line adds: a parser whose usage errors are one
line and exit 2, and an action that remembers which options were given.

A module of their own, imported when a command line is parsed: a bare ``netlab`` (the
TUI) then imports no argparse before its first frame (bench/startup.py)."""

from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2, one clear line
        from netlab.cli import EXIT_USAGE, _safe

        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"netlab: error: {_safe(message)}\n")


class Given(argparse.Action):
    """Store the value and remember that the option was given: ``--max-time 0`` (no
    deadline, stored as None) is not the same as no --max-time (the settings file's)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace._given_options = {*getattr(namespace, "_given_options", ()), self.dest}
