"""`netlab settings [--init] [--json]`: where the settings file is, whether it exists,
the values in effect and what is wrong with it; ``--init`` writes a commented file with
every default.  How the other commands read the settings is
``netlab.cli.common.current_settings`` (see netlab/settings.py for the format)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace

from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, SUMMARIES
from netlab.engine.text import safe_text


def add_parsers(sub) -> None:
    """Add ``settings`` to an argparse subparsers object."""
    p = sub.add_parser("settings", help=SUMMARIES["settings"],
                       description="Show where the settings file is, whether it exists, the values in effect "
                                   "and anything wrong with it (exit 1 when something is). NETLAB_SETTINGS=PATH "
                                   "overrides where the file is.")
    p.add_argument("--init", action="store_true",
                   help="write a settings file with every key at its default, commented out "
                        "(never overwrites one that exists)")
    p.add_argument("--json", action="store_true", help="print path, exists, settings and problems as JSON")


def _themes() -> list[str] | None:
    try:
        from textual.theme import BUILTIN_THEMES
    except ImportError:  # pragma: no cover - textual is a dependency
        return None
    return sorted(BUILTIN_THEMES)


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command != "settings":
        err.write(f"netlab: unknown command {args.command!r}\n")
        return EXIT_USAGE
    if args.init:
        return cmd_init(out, err)
    return cmd_show(args, out)


def cmd_show(args, out) -> int:
    from netlab.settings import ACTIONS, effective_toml, load

    loaded = load()
    problems = list(loaded.problems)
    themes = _themes()
    if themes is not None:
        bad = loaded.theme_problem(themes)
        if bad is not None:
            problems.append(bad)
            problems.sort(key=lambda p: p.line or 0)
    settings = loaded.settings if not any(p.key == "theme" for p in problems) else \
        replace(loaded.settings, theme=None)
    if args.json:
        from dataclasses import asdict

        values = asdict(settings)
        values["keys"] = {action: settings.keys_for(action) for action in ACTIONS}
        out.write(json.dumps({"path": loaded.path, "exists": loaded.exists, "settings": values,
                              "problems": [{"key": p.key, "line": p.line, "message": p.text} for p in problems]},
                             indent=2) + "\n")
        return EXIT_FAIL if problems else EXIT_OK
    state = "exists" if loaded.exists else "does not exist: the defaults apply (`netlab settings --init` writes one)"
    out.write(f"settings file: {safe_text(loaded.path, keep_newlines=False)}\n  {state}\n\n")
    out.write("# the values in effect\n")
    out.write(_safe_lines(effective_toml(settings)))
    if themes is not None:
        out.write(f"\n# themes: {', '.join(themes)}\n")
    if problems:
        out.write(f"\n{len(problems)} problem{'s' if len(problems) != 1 else ''} (those keys use their defaults):\n")
        for p in problems:
            out.write(f"  {safe_text(p.text, keep_newlines=False)}\n")
    out.flush()
    return EXIT_FAIL if problems else EXIT_OK


def _safe_lines(text: str) -> str:
    return "".join(safe_text(line, keep_newlines=False) + "\n" for line in text.splitlines())


def cmd_init(out, err) -> int:
    """Write the commented default file; never over an existing file."""
    from netlab.settings import default_file_text, settings_path

    path = settings_path()
    if os.path.lexists(path):
        err.write(f"netlab: {safe_text(path, keep_newlines=False)} exists; not overwritten (remove it first to "
                  "start again)\n")
        return EXIT_FAIL
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        # O_EXCL: a file that appeared since the check above is not replaced either.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(default_file_text())
    except FileExistsError:
        err.write(f"netlab: {safe_text(path, keep_newlines=False)} exists; not overwritten\n")
        return EXIT_FAIL
    except OSError as exc:
        err.write(f"netlab: cannot write {safe_text(path, keep_newlines=False)}: {exc.strerror or exc}\n")
        return EXIT_FAIL
    out.write(f"wrote {safe_text(path, keep_newlines=False)} (every key commented out at its default)\n")
    return EXIT_OK
