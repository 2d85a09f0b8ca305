"""Connection-table benchmark: the live table at 100 and at ~9,500 loopback socket pairs.

    python bench/conns.py [--pairs 100,max] [--presses 40] [--refreshes 8] [--no-datatable]

For each size N (N = 100, and as many pairs as RLIMIT_NOFILE allows once the soft limit
is raised to the hard one: two descriptors a pair, 1,000 kept spare) this process opens
N connected loopback TCP pairs and measures, in one run:

1. scan: ``netstat.snapshot()`` (psutil.net_connections + one process_iter pass) next
   to ``ss -tan`` (iproute2, netlink) and ``ss -tanp`` (which also maps sockets to
   processes, as psutil must) — medians of a few runs, and the ratio;
2. UI-thread time per refresh: the real app (headless, ``App.run_test``) with the
   live table maximised; a background thread closes and reopens 10 pairs every
   0.5 s so each scan brings a diff; the time the ConnectionsChanged handler spends on
   the UI thread (``ConnectionsPane.apply``: the diff onto the keyed table and its
   sorted view, the status lines) over several refreshes — the first one, which loads
   every row (sorted in the worker and adopted whole), reported apart; and the time
   one repaint of the table widget takes (its render_lines); and, apart, the biggest
   diff the UI thread ever applies by key (300 rows: larger ones come sorted from the
   worker) on a table of this machine's real rows;
3. key-press-to-repaint latency of page-down, measured from outside: ``python -m
   netlab`` runs on a pseudo-terminal of 120 x 40 with the table maximised; this
   script answers Textual's synchronized-output query, so each frame ends with
   ESC[?2026l, writes PageDown/PageUp (5 down, 5 up, ...) after the screen has been
   quiet for 50 ms, and takes the time from the write to the end of the next frame;
   the live scans keep running meanwhile (their work competes for the GIL, as it
   would for a user); a second series is taken with the table paused (z); the small
   size is measured again after the large one and the two are averaged, so that a
   change in the machine's load meanwhile does not count as the table's;
4. the baseline the issue names: Textual's DataTable holding the same rows (a minimal
   app on the same pseudo-terminal): the time to fill it, and its page-down latency.

Targets: page-down latency at the large N <= 1.5x the latency at N = 100; UI-thread
time per refresh <= 30 ms at the large N.  Loopback only.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import random
import re
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from netlab.engine import netstat  # noqa: E402

COLS, ROWS = 120, 40
SPARE_FDS = 1000
HANG_GUARD = 120.0
KEYS = {"pagedown": b"\x1b[6~", "pageup": b"\x1b[5~", "f5": b"\x1b[15~", "f11": b"\x1b[23~", "z": b"z",
        "ctrl+q": b"\x11"}
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # "supported, reset": Textual then wraps every frame in 2026h ... 2026l
SYNC_END = b"\x1b[?2026l"


# ------------------------------------------------------------------------------ sockets

def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Pairs:
    """N connected TCP pairs on 127.0.0.1 (client and accepted ends), one listener."""

    def __init__(self, n: int) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4096)
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        for _ in range(n):
            self.pairs.append(self._pair())

    def _pair(self):
        c = socket.create_connection(self.listener.getsockname())
        a, _ = self.listener.accept()
        return c, a

    def churn(self, k: int) -> None:
        """Close k pairs and open k new ones (the table sees rows go, come and change)."""
        with self.lock:
            for _ in range(min(k, len(self.pairs))):
                c, a = self.pairs.pop(random.randrange(len(self.pairs)))
                c.close()
                a.close()
            for _ in range(k):
                self.pairs.append(self._pair())

    def close(self) -> None:
        """Close everything with an RST (SO_LINGER 0): no TIME_WAIT rows are left behind
        to swell the next size's table."""
        linger = struct.pack("ii", 1, 0)
        with self.lock:
            for c, a in self.pairs:
                for s in (c, a):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    s.close()
            self.pairs.clear()
        self.listener.close()


CHURN_PAIRS, CHURN_EVERY = 10, 0.5  # 20 connections closed and 20 opened a second


class Churner:
    def __init__(self, pairs: Pairs, k: int = CHURN_PAIRS, every: float = CHURN_EVERY) -> None:
        self.pairs, self.k, self.every = pairs, k, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.pairs.churn(self.k)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)


# ------------------------------------------------------------------------------ 1: scans

def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure_scans(runs: int) -> dict:
    ss = ["ss", "-tan"]
    snap = netstat.snapshot("inet")
    return {
        "rows": len(snap.rows),
        "psutil": median_ms(lambda: netstat.snapshot("inet"), runs),
        "ss": median_ms(lambda: subprocess.run(ss, stdout=subprocess.DEVNULL, check=True), runs),
        "ssp": median_ms(lambda: subprocess.run(ss[:1] + ["-tanp"], stdout=subprocess.DEVNULL, check=True), runs),
    }


# ----------------------------------------------------------------- 2: UI-thread per refresh

def measure_ui_refresh(pairs: Pairs, refreshes: int) -> dict:
    import asyncio

    from netlab.ui.app import NetlabApp
    from netlab.ui.widgets.conntable import ConnTableView

    changes: list[int] = []
    adopted: list[bool] = []
    paints: list[float] = []
    real_render = ConnTableView.render_lines

    def timed_render(self, crop):
        t0 = time.perf_counter()
        try:
            return real_render(self, crop)
        finally:
            paints.append((time.perf_counter() - t0) * 1000)

    async def run():
        app = NetlabApp("http://127.0.0.1:9/", lab=False, live_connections=True, history=False)
        async with app.run_test(size=(COLS, ROWS)) as pilot:
            await pilot.press("f5", "f11")
            pane = app.connections
            real_apply = pane.apply

            def counting(msg):
                changes.append(len(msg.added) + len(msg.removed) + len(msg.changed))
                adopted.append(msg.table is not None)
                real_apply(msg)

            pane.apply = counting  # the app calls self.connections.apply(msg)
            end = time.monotonic() + HANG_GUARD * 3
            with Churner(pairs):
                while len(pane.apply_ms) < refreshes + 1 and time.monotonic() < end:
                    await asyncio.sleep(0.1)
            return list(pane.apply_ms), pane.total, pane.pacer.interval, pane.pacer.last_ms

    ConnTableView.render_lines = timed_render
    try:
        times, total, interval, scan_ms = asyncio.run(run())
    finally:
        ConnTableView.render_lines = real_render
    first, rest = times[0], times[1:] or [float("nan")]
    return {"first": first, "median": statistics.median(rest), "max": max(rest), "n": len(rest),
            "rows": total, "interval": interval, "scan": scan_ms, "changes": statistics.median(changes[1:] or [0]),
            "adopted": sum(adopted[1:]), "paint": statistics.median(paints) if paints else float("nan")}


def measure_keyed(runs: int = 7) -> float:
    """ms for the UI thread to apply, by key, the biggest diff it takes that way
    (ConnTable.BIG_CHANGES rows: half new sockets, half gone) to a table of this
    machine's real rows, with sort keys and filter texts from the worker as in the app."""
    snap = netstat.snapshot("inet")
    rows = list(snap.rows)
    half = netstat.ConnTable.BIG_CHANGES // 2
    times = []
    for _ in range(runs):
        random.shuffle(rows)
        held, base = rows[:half], rows[half:]
        mirror = netstat.ConnTable(view=False)
        mirror.apply(base, now=1.0)
        table = mirror.copy(netstat.ViewSpec(sort="state"))
        gone = [r.key for r in base[:half]]
        natural = {r.key: netstat.natural_key(r) for r in held}
        search = {r.key: netstat.search_text(r) for r in held}
        t0 = time.perf_counter()
        table.apply(held, gone, (), now=2.0, natural=natural, search=search)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------------- 3: key latency

class Tty:
    """A program on a pseudo-terminal; records when each synchronized frame ends."""

    def __init__(self, argv: list[str], env: dict) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.cond = threading.Condition()
        self.frames: list[float] = []
        self.last_byte = time.perf_counter()
        self.tail = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        carry = b""
        answered = False
        poller = select.poll()  # not select(): descriptors above 1024 with thousands of sockets open
        poller.register(self.master, select.POLLIN)
        while True:
            try:
                ready = poller.poll(500)
                if not ready:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            now = time.perf_counter()
            joined = carry + data
            if not answered and SYNC_QUERY in joined:
                os.write(self.master, SYNC_REPLY)
                answered = True
            ends = joined.count(SYNC_END) - carry.count(SYNC_END)
            carry = joined[-16:]
            with self.cond:
                self.last_byte = now
                self.frames.extend([now] * ends)
                self.tail = (self.tail + data)[-2_000_000:]
                self.cond.notify_all()

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_for(self, pattern: bytes, check=lambda m: True, timeout: float = HANG_GUARD) -> re.Match:
        end = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for m in reversed(list(rx.finditer(self.tail))):
                    if check(m):
                        return m
                    break
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    seen = [m.group() for m in rx.finditer(self.tail)][-3:]
                    raise SystemExit(f"gave up waiting for {pattern!r} on the terminal (exit code "
                                     f"{self.proc.poll()}; last matches {seen})")
                self.cond.wait(min(left, 0.5))

    def quiet(self, ms: float = 50.0, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.cond:
                idle = (time.perf_counter() - self.last_byte) * 1000
            if idle >= ms:
                return
            time.sleep((ms - idle) / 1000)

    def press(self, key: str, timeout: float = 10.0) -> float | None:
        """ms from writing the key to the end of the next frame."""
        with self.cond:
            seen = len(self.frames)
        t0 = time.perf_counter()
        self.write(KEYS[key])
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.frames) <= seen:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return (self.frames[seen] - t0) * 1000

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.write(KEYS["ctrl+q"])
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        os.close(self.master)
        self.thread.join(2)


def _env(home: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TEXTUAL", "PYTHONDONTWRITEBYTECODE")}
    env.update(TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS), NETLAB_HISTORY=os.path.join(home, "h.db"),
               PYTHONPATH=ROOT)
    return env


def series(tty: Tty, presses: int) -> list[float]:
    out = []
    for i in range(presses):
        tty.quiet(50)
        time.sleep(random.uniform(0, 0.03))
        ms = tty.press("pagedown" if (i // 5) % 2 == 0 else "pageup")
        if ms is not None:
            out.append(ms)
    return out


def measure_keys(rows_expected: int, presses: int, home: str) -> dict:
    tty = Tty([sys.executable, "-m", "netlab", "http://127.0.0.1:9/"], _env(home))
    try:
        tty.wait_for(rb"\x1b\[\?2026l")  # the first frame
        tty.write(KEYS["f5"])
        time.sleep(0.3)
        tty.write(KEYS["f11"])

        def loaded(m: re.Match) -> bool:
            return int(m.group(1).replace(b",", b"")) >= rows_expected

        tty.wait_for(rb"([\d,]+) sockets", loaded)
        time.sleep(0.5)
        live = series(tty, presses)
        tty.quiet(50)
        tty.write(KEYS["z"])  # pause the table: the widget alone
        tty.wait_for(rb"PAUSED")
        paused = series(tty, presses)
    finally:
        tty.close()
    return {"live": statistics.median(live), "live_p90": _p90(live), "paused": statistics.median(paused),
            "n": len(live)}


def _p90(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.9 * len(values)))]


# ------------------------------------------------------------------ 4: DataTable baseline

DATATABLE_APP = r"""
import os, sys, time
from textual.app import App
from textual.widgets import DataTable
from netlab.engine import netstat

class Baseline(App):
    def compose(self):
        yield DataTable(cursor_type="row")

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("proto", "local", "remote", "state", "pid", "process")
        rows = netstat.snapshot("inet").rows
        self.t0 = time.perf_counter()
        table.add_rows([(r.proto, netstat.format_addr(r.local), netstat.format_addr(r.remote), r.state,
                         "-" if r.pid is None else str(r.pid), r.process or "") for r in rows])
        self.added = time.perf_counter()
        table.focus()
        self.call_after_refresh(self.painted, len(rows))

    def painted(self, n):
        with open(os.environ["NETLAB_BENCH_OUT"], "w") as f:
            f.write(f"{n} {(self.added - self.t0) * 1000} {(time.perf_counter() - self.t0) * 1000}")

Baseline().run()
"""


def measure_datatable(presses: int, home: str) -> dict:
    out = os.path.join(home, "datatable.txt")
    env = dict(_env(home), NETLAB_BENCH_OUT=out)
    if os.path.exists(out):
        os.unlink(out)
    tty = Tty([sys.executable, "-c", DATATABLE_APP], env)
    try:
        end = time.monotonic() + HANG_GUARD
        while not os.path.exists(out) or not open(out).read():
            if time.monotonic() > end or tty.proc.poll() is not None:
                raise SystemExit("the DataTable baseline did not start")
            time.sleep(0.1)
        n, add_ms, paint_ms = open(out).read().split()
        time.sleep(0.5)
        keys = series(tty, presses)
    finally:
        tty.close()
    return {"rows": int(n), "fill": float(add_ms), "fill_paint": float(paint_ms), "key": statistics.median(keys)}


# --------------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", default="100,max", help="sizes, comma-separated; 'max' as RLIMIT_NOFILE allows")
    ap.add_argument("--presses", type=int, default=40, help="key presses per latency series (default 40)")
    ap.add_argument("--refreshes", type=int, default=8, help="refreshes measured per size (default 8)")
    ap.add_argument("--scans", type=int, default=5, help="runs per scan measurement (default 5)")
    ap.add_argument("--no-datatable", action="store_true", help="skip the DataTable baseline")
    args = ap.parse_args()
    limit = raise_nofile()
    biggest = (limit - SPARE_FDS) // 2
    sizes = [biggest if s.strip() == "max" else int(s) for s in args.pairs.split(",")]
    home = tempfile.mkdtemp(prefix="netlab-bench-conns-")
    print(f"RLIMIT_NOFILE {limit}: up to {biggest:,} pairs; terminal {COLS}x{ROWS}; {os.cpu_count()} CPUs; "
          f"Python {sys.version.split()[0]}", flush=True)
    results = {}
    for n in sizes:
        print(f"\n== {n:,} pairs ==", flush=True)
        pairs = Pairs(n)
        try:
            scan = measure_scans(args.scans)
            print(f"scan: {scan['rows']:,} inet rows; netlab snapshot {scan['psutil']:.1f} ms, ss -tan "
                  f"{scan['ss']:.1f} ms, ss -tanp {scan['ssp']:.1f} ms", flush=True)
            ui = measure_ui_refresh(pairs, args.refreshes)
            ui["keyed"] = measure_keyed()
            print(f"UI thread per refresh: first (all rows) {ui['first']:.1f} ms; then median {ui['median']:.2f} ms, "
                  f"max {ui['max']:.2f} ms over {ui['n']} refreshes of ~{ui['changes']:.0f} changed rows "
                  f"({ui['adopted']} of them sorted in the worker and adopted whole) "
                  f"(scan in the app {ui['scan']:.0f} ms, next after {ui['interval']:.1f} s); "
                  f"a repaint of the table {ui['paint']:.2f} ms; the biggest diff applied by key "
                  f"({netstat.ConnTable.BIG_CHANGES} rows) {ui['keyed']:.2f} ms", flush=True)
            keys = measure_keys(2 * n, args.presses, home)
            print(f"page-down, key to repaint: live {keys['live']:.1f} ms (p90 {keys['live_p90']:.1f}), "
                  f"paused {keys['paused']:.1f} ms", flush=True)
            base = None
            if not args.no_datatable:
                base = measure_datatable(args.presses, home)
                print(f"DataTable baseline: {base['rows']:,} rows filled in {base['fill']:.0f} ms "
                      f"({base['fill_paint']:.0f} ms to the first paint); page-down {base['key']:.1f} ms", flush=True)
        finally:
            pairs.close()
        results[n] = (scan, ui, keys, base)
    if len(sizes) >= 2:  # the machine may have changed meanwhile: the small size's latency once more
        n = sizes[0]
        pairs = Pairs(n)
        try:
            again = measure_keys(2 * n, args.presses, home)
        except SystemExit as exc:  # a measurement that could not be taken: say so, keep the first one
            print(f"\n== {n:,} pairs again == not measured: {exc}", flush=True)
            again = None
        finally:
            pairs.close()
        if again is not None:
            keys = results[n][2]
            print(f"\n== {n:,} pairs again == page-down live {again['live']:.1f} ms, paused {again['paused']:.1f} ms "
                  f"(before: {keys['live']:.1f}, {keys['paused']:.1f}); the baseline is the mean of the two",
                  flush=True)
            for k in ("live", "paused", "live_p90"):
                keys[k] = (keys[k] + again[k]) / 2

    print("\n| pairs | inet rows | netlab snapshot (psutil) | ss -tan | psutil / ss | ss -tanp | UI thread per "
          "refresh: median / max (first load) | 300-row diff by key | page-down live (p90) | page-down paused | "
          "DataTable fill / page-down |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, (scan, ui, keys, base) in results.items():
        dt = f"{base['fill']:,.0f} ms / {base['key']:.1f} ms" if base else "-"
        print(f"| {n:,} | {scan['rows']:,} | {scan['psutil']:.1f} ms | {scan['ss']:.1f} ms | "
              f"{scan['psutil'] / scan['ss']:.1f}x | {scan['ssp']:.1f} ms | {ui['median']:.2f} / {ui['max']:.2f} ms "
              f"({ui['first']:.1f} ms) | {ui['keyed']:.2f} ms | {keys['live']:.1f} ms ({keys['live_p90']:.1f}) | "
              f"{keys['paused']:.1f} ms | {dt} |")
    if len(results) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        ratio = large[2]["live"] / small[2]["live"]
        ratio_p = large[2]["paused"] / small[2]["paused"]
        ui_ms = large[1]["median"]
        print("\n| target | measured | |\n|---|---:|---|")
        print(f"| page-down latency at {sizes[-1]:,} pairs <= 1.5x at {sizes[0]:,} (live table) | {ratio:.2f}x | "
              f"{'met' if ratio <= 1.5 else 'missed'} |")
        print(f"| the same, table paused | {ratio_p:.2f}x | {'met' if ratio_p <= 1.5 else 'missed'} |")
        print(f"| UI-thread time per refresh at {sizes[-1]:,} pairs <= 30 ms (median) | {ui_ms:.2f} ms | "
              f"{'met' if ui_ms <= 30 else 'missed'} |")
        print(f"| ... the worst refresh after the first | {large[1]['max']:.2f} ms | "
              f"{'met' if large[1]['max'] <= 30 else 'missed'} |")
        print(f"| ... the biggest diff the UI thread applies by key | {large[1]['keyed']:.2f} ms | "
              f"{'met' if large[1]['keyed'] <= 30 else 'missed'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
