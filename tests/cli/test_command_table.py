"""The dispatcher's lazy command table (netlab/cli/__init__.py): a command's module is
imported only when that command runs, and `netlab --help` lists every command the same
whether their modules are loaded or not."""

from __future__ import annotations

import subprocess
import sys

from netlab.cli import COMMANDS, build_parser

COMMAND_MODULES = sorted({f"netlab.cli.{module}" for module in COMMANDS.values()})


def _modules_after(argv: list[str]) -> set[str]:
    """The netlab.cli command modules loaded once ``netlab ARGV`` has parsed (and exited)."""
    code = ("import sys\nfrom netlab.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print(' '.join(m for m in {COMMAND_MODULES!r} if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return set(p.stdout.splitlines()[-1].split()) if p.stdout.strip() else set()


def test_help_imports_no_command_module():
    assert _modules_after(["--help"]) == set()


def test_a_command_imports_its_module_alone():
    assert _modules_after(["dns", "--help"]) == {"netlab.cli.dns"}
    assert _modules_after(["replay", "--help"]) == {"netlab.cli.history"}


def test_the_summaries_are_the_commands_own_help():
    assert build_parser(()).format_help() == build_parser().format_help()
