"""Start-up benchmark: time from process start to the first frame, netlab against a
minimal Textual app (Header, Static, Footer), measured side by side in one run.

Each app runs in a fresh subprocess on a pseudo-terminal of 120 x 40 (the real Linux
driver draws to it; this script drains the output).  The clock starts just before the
spawn; the app writes ``time.time()`` to $NETLAB_FIRST_FRAME_FILE once its first frame
has been drawn (``call_after_refresh`` from ``on_mount``) and exits.  The apps run in
rounds, one run each, after one discarded warm-up run each (which also writes the
byte-code cache to a private directory, as an installed package would have it); each
round starts with the next app in turn (no app always runs right after the same one), and
the medians are compared.  Target: netlab within 1.5x the minimal app, checked on the
paired ratio (the median of each run's ratio to the minimal app's run in the same round:
the machine's load moves both alike).  On a shared machine the same tree in two slots of
one run has read 0.1-0.15 apart: judge a change by several runs, or by instructions
(valgrind --tool=cachegrind), not by one run.

``--compare DIR`` (repeatable) adds another netlab tree to the same alternation, e.g. the
code before a change, ``git archive HEAD~1 | tar -x -C /tmp/before``: an A/B whose ratios
were measured side by side, not in two runs at different loads.

    python bench/startup.py [--runs N] [--compare DIR ...]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

MINIMAL = r"""
import os, time
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("Hello from a minimal Textual app")
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(self.first_frame)

    def first_frame(self):
        with open(os.environ["NETLAB_FIRST_FRAME_FILE"], "w") as f:
            f.write(repr(time.time()))
        self.exit()

Minimal().run()
"""

NETLAB = "import sys; from netlab.cli import main; sys.exit(main([]))"
TREE = "import sys; sys.path.insert(0, {path!r}); from netlab.cli import main; sys.exit(main([]))"
TARGET = 1.5
COLS, ROWS = 120, 40
HANG_GUARD = 60.0


def first_frame_ms(code: str, env: dict) -> float:
    """Spawn ``python -c code`` on a pty; ms from spawn to its first frame."""
    fd, path = tempfile.mkstemp(prefix="netlab-frame-")
    os.close(fd)
    os.unlink(path)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = dict(env, NETLAB_FIRST_FRAME_FILE=path)
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True, start_new_session=True)
    os.close(slave)
    end = time.monotonic() + HANG_GUARD
    try:
        while proc.poll() is None and time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        proc.wait(timeout=max(0.1, end - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    try:
        with open(path) as f:
            t1 = float(f.read())
    except (OSError, ValueError):
        raise SystemExit(f"the app did not report a first frame (exit code {proc.returncode})") from None
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return (t1 - t0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="measured runs per app (default 15)")
    ap.add_argument("--compare", action="append", default=[], metavar="DIR",
                    help="another netlab source tree (holding netlab/) to time in the same runs")
    args = ap.parse_args()
    for path in args.compare:
        if not any(os.path.isfile(os.path.join(path, "netlab", *p)) for p in (("cli.py",), ("cli", "__init__.py"))):
            ap.error(f"--compare {path}: no netlab/cli there")
    cache = tempfile.mkdtemp(prefix="netlab-bench-pycache-")
    home = tempfile.mkdtemp(prefix="netlab-bench-home-")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TEXTUAL")}
    env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), PYTHONPYCACHEPREFIX=cache,
               NETLAB_HISTORY=os.path.join(home, "history.sqlite3"),
               NETLAB_SETTINGS=os.path.join(home, "settings.toml"))
    apps = [("minimal Textual app", MINIMAL), ("netlab", NETLAB)]
    apps += [(os.path.basename(os.path.normpath(p)) or p, TREE.format(path=os.path.abspath(p))) for p in args.compare]
    for _name, code in apps:  # warm-up: byte-code cache, page cache
        first_frame_ms(code, env)
    times: dict[str, list[float]] = {name: [] for name, _ in apps}
    for r in range(args.runs):
        for name, code in apps[r % len(apps):] + apps[:r % len(apps)]:  # each app leads a round in turn
            times[name].append(first_frame_ms(code, env))
    print(f"first frame at {COLS}x{ROWS}, {args.runs} runs each, alternating (ms from spawn)")
    print(f"{'run':>4}  " + "  ".join(f"{name:>20}" for name, _ in apps))
    for i in range(args.runs):
        print(f"{i + 1:>4}  " + "  ".join(f"{times[name][i]:>20.1f}" for name, _ in apps))
    medians = {name: statistics.median(v) for name, v in times.items()}
    print(f"{'med':>4}  " + "  ".join(f"{medians[name]:>20.1f}" for name, _ in apps))
    base = times["minimal Textual app"]
    print()
    for name, _code in apps[1:]:
        ratio = medians[name] / medians["minimal Textual app"]
        paired = statistics.median(n / m for n, m in zip(times[name], base))
        print(f"{name} / minimal = {ratio:.2f}x of the medians; paired (median over the rounds of its run / the "
              f"minimal app's run in that round) = {paired:.2f}x" + (f"  (target <= {TARGET}x, checked on the "
                                                                 "paired ratio)" if name == "netlab" else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
