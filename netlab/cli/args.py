"""The argparse pieces the command line adds: a parser whose usage errors are one line
and exit 2, an action that remembers which options were given, the argparse types for
option values and numbers, and the exchange limits' options.

A module of their own, imported when a command line is parsed: a bare ``netlab`` (the
TUI) then imports no argparse before its first frame (bench/startup.py)."""

from __future__ import annotations

import argparse
import sys

from netlab.cli.common import EXIT_USAGE, GIVEN


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2, one clear line
        from netlab.engine.text import safe_text

        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"netlab: error: {safe_text(message, keep_newlines=False)}\n")


class Given(argparse.Action):
    """Store the value and remember that the option was given: ``--max-time 0`` (no
    deadline, stored as None) is not the same as no --max-time (the settings file's)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, GIVEN, {*getattr(namespace, GIVEN, ()), self.dest})


def option_value(rule: str, flag: str):
    """An argparse type for an option value, by the one rule every value follows
    (netlab/limits.py): the value to use, or a usage error naming the flag and the value."""
    from netlab import limits

    def parse(text: str):
        try:
            return limits.parse(rule, text, flag)
        except limits.OptionValueError as exc:
            raise argparse.ArgumentTypeError(f"must be {exc.why}, not {exc.shown}") from None

    parse.__name__ = flag  # argparse names the type in some messages
    return parse


def number(kind, what: str, low, high=None):
    """An argparse type: a number of ``kind`` in [low, high], or a one-line usage error."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text[:40]!r}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < low or \
                (high is not None and value > high):  # NaN and infinity too
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{what} must be {bound}, not {text}")
        return value

    return parse


def add_exchange_limits(p, *, head_timeout_only: bool = False) -> None:
    """--timeout, --max-time, --head-timeout and --max-body (``head_timeout_only``: the
    last alone, for replay, which keeps the stored exchange's other options)."""
    from netlab import limits

    day = f"at most {limits.MAX_SECONDS:g} s, a day"
    if not head_timeout_only:
        p.add_argument("--timeout", type=option_value("timeout", "--timeout"), action=Given, metavar="S",
                       help=f"connect and per-read timeout, above 0 and {day} (default: the settings file's "
                            "timeout, else 10)")
        p.add_argument("--max-time", type=option_value("deadline", "--max-time"), action=Given, metavar="S",
                       help=f"overall deadline for the whole exchange, {day}; 0: none (default: the settings "
                            "file's max_time, else none)")
    p.add_argument("--head-timeout", type=option_value("head_timeout", "--head-timeout"), action=Given,
                   metavar="S",
                   help=f"deadline from the request sent to the whole response head received, so a server "
                        f"trickling its head byte by byte cannot hold netlab; {day}; 0: none (default: the "
                        f"settings file's head_timeout, else {limits.DEFAULT_HEAD_TIMEOUT:g})")
    if not head_timeout_only:
        p.add_argument("--max-body", type=option_value("max_body_bytes", "--max-body"), action=Given,
                       metavar="BYTES",
                       help="stop when the body exceeds this many bytes, at most 1 TiB; 0: no limit "
                            "(default: the settings file's max_body, else 1 GiB)")
