"""Load benchmark: `netlab replay --repeat` against the lab server, next to baselines.

    python bench/load.py [--n 10000] [--rounds 3] [--path /ip] [--concurrency 1 4]

Runs the lab server in its own process (`python -m netlab serve`, so it does not share
this process's GIL) and sends one keep-alive request N times from C threads with
``netlab.engine.load.run_load`` -- once with one Engine shared by the workers, once with
one Engine per worker -- and, in the same run, with two baselines driven the same way: a
raw socket loop (prebuilt request bytes, sendall, recv_into until Content-Length is met)
and http.client (one HTTPConnection per thread). Rounds alternate between clients, so a
noisy neighbour slows them alike; the figure kept for each is the median over rounds, and
"paired" is the median over rounds of a client's requests/s divided by the raw loop's
in the same round.

It prints requests/s and the ratio to the raw loop, netlab's latency summary, this
process's RSS before and after the netlab runs, and the file descriptors of this process
and of the server before and after (a leak shows as a difference). It asserts nothing
about time: the figures are for reading.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from array import array

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from netlab.engine import Engine, Options, Request  # noqa: E402
from netlab.engine.load import percentile, run_load  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib(pid: str = "self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / (1 << 20)


def fd_count(pid: str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# --- baselines: the same N requests from C threads, each its own keep-alive connection ------


def _split(n: int, c: int) -> list[int]:
    return [n // c + (1 if i < n % c else 0) for i in range(c)]


def _threads(n: int, c: int, worker) -> tuple[float, array]:
    """Run worker(count, samples) in c threads; (elapsed s, sorted latencies in ms)."""
    parts = [array("d") for _ in range(c)]
    threads = [threading.Thread(target=worker, args=(k, parts[i])) for i, k in enumerate(_split(n, c))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    merged = array("d")
    for p in parts:
        merged.extend(p)
    return elapsed, array("d", sorted(merged))


def raw_loop(host: str, port: int, path: str, n: int, c: int) -> tuple[float, array]:
    import socket

    data = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n".encode()

    def worker(count: int, samples: array) -> None:
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray(65536)
        view = memoryview(buf)
        clock = time.perf_counter
        try:
            for _ in range(count):
                t = clock()
                sock.sendall(data)
                got = bytearray()
                while (end := got.find(b"\r\n\r\n")) < 0:
                    k = sock.recv_into(view)
                    if not k:
                        raise RuntimeError("closed")
                    got += view[:k]
                i = got.lower().find(b"content-length:")
                length = int(got[i + 15: got.find(b"\r\n", i)])
                while len(got) - end - 4 < length:
                    k = sock.recv_into(view)
                    if not k:
                        raise RuntimeError("closed")
                    got += view[:k]
                samples.append((clock() - t) * 1000)
        finally:
            sock.close()

    return _threads(n, c, worker)


def httpclient_loop(host: str, port: int, path: str, n: int, c: int) -> tuple[float, array]:
    def worker(count: int, samples: array) -> None:
        conn = http.client.HTTPConnection(host, port)
        clock = time.perf_counter
        try:
            for _ in range(count):
                t = clock()
                conn.request("GET", path)
                conn.getresponse().read()
                samples.append((clock() - t) * 1000)
        finally:
            conn.close()

    return _threads(n, c, worker)


def netlab_loop(url: str, n: int, c: int, shared: bool, keep: dict) -> tuple[float, array]:
    request = Request.from_url(url)
    options = Options()
    if shared:
        with Engine(options) as engine:
            summary = run_load(engine, request, options, n, c)
    else:
        summary = run_load(None, request, options, n, c)
    if summary.errors:
        raise RuntimeError(f"netlab load had errors: {summary.error_groups}")
    keep[(c, shared)] = summary
    return summary.elapsed_s, summary.latencies_ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="requests per run (default 10000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per client (default 3)")
    ap.add_argument("--path", default="/ip", help="lab server path (default /ip)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4], help="worker counts (default 1 4)")
    args = ap.parse_args()

    server = subprocess.Popen([sys.executable, "-m", "netlab", "serve", "--max-connections", "1024"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        base = server.stdout.readline().split()[-1]
        host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        spid = str(server.pid)
        url = base + args.path
        print(f"lab server (pid {spid}) at {base}; {args.n} requests of GET {args.path} per run, "
              f"{args.rounds} rounds; python {sys.version.split()[0]}; {os.cpu_count()} cores\n")
        summaries: dict = {}
        netlab_loop(url, 500, 1, True, {})  # warm-up: imports, thread-local buffers, the server's threads
        raw_loop(host, port, args.path, 500, 1)
        time.sleep(0.2)
        rss0, fds0, sfds0 = rss_mib(), fd_count(), fd_count(spid)
        clients = {
            "raw socket loop": lambda c: raw_loop(host, port, args.path, args.n, c),
            "http.client": lambda c: httpclient_loop(host, port, args.path, args.n, c),
            "netlab, one shared Engine": lambda c: netlab_loop(url, args.n, c, True, summaries),
            "netlab, one Engine per worker": lambda c: netlab_loop(url, args.n, c, False, summaries),
        }
        results: dict = {}
        for c in args.concurrency:
            for _ in range(args.rounds):
                for name, run in clients.items():
                    elapsed, samples = run(c)
                    results.setdefault((c, name), []).append((args.n / elapsed, percentile(samples, 50),
                                                              percentile(samples, 99)))
        time.sleep(0.5)  # the server closes its side when it reads our FIN
        rss1, fds1, sfds1 = rss_mib(), fd_count(), fd_count(spid)
    finally:
        server.terminate()
        server.wait(10)

    for c in args.concurrency:
        print(f"concurrency {c}: {args.n} keep-alive requests, median of {args.rounds} rounds")
        print(f"  {'client':32} {'requests/s':>11} {'vs raw':>7} {'paired':>7} {'p50 ms':>8} {'p99 ms':>8}")
        raw_rows = results[(c, "raw socket loop")]
        raw_rps = statistics.median(r[0] for r in raw_rows)
        for name in clients:
            rows = results[(c, name)]
            rps = statistics.median(r[0] for r in rows)
            paired = statistics.median(r[0] / q[0] for r, q in zip(rows, raw_rows))
            p50 = statistics.median(r[1] for r in rows)
            p99 = statistics.median(r[2] for r in rows)
            print(f"  {name:32} {rps:11.1f} {rps / raw_rps:6.2f}x {paired:6.2f}x {p50:8.3f} {p99:8.3f}")
        shared, own = results[(c, "netlab, one shared Engine")], results[(c, "netlab, one Engine per worker")]
        ratio = statistics.median(a[0] / b[0] for a, b in zip(shared, own))
        print(f"  shared Engine / Engine per worker, paired by round: {ratio:.2f}x the requests/s\n")
    for c in args.concurrency:
        s = summaries[(c, True)]
        print(f"netlab latency summary, last round, concurrency {c}, shared engine: count {s.count}, ok {s.ok}, "
              f"errors {s.errors}; min {s.min_ms:.3f} p50 {s.p50_ms:.3f} p90 {s.p90_ms:.3f} p99 {s.p99_ms:.3f} "
              f"max {s.max_ms:.3f} ms; {s.requests_per_s:.1f} requests/s; statuses {dict(s.statuses)}; "
              f"connections opened {s.connections_opened}")
    runs = len(args.concurrency) * args.rounds * 2
    print(f"\nthis process: RSS {rss0:.1f} MiB before, {rss1:.1f} MiB after {runs} netlab runs of {args.n} "
          f"(growth {rss1 - rss0:+.1f} MiB; the samples of one run take {args.n * 8 / 1024:.0f} KiB)")
    print(f"file descriptors: this process {fds0} before, {fds1} after; the server {sfds0} before, {sfds1} after")
    growth_ok = math.isfinite(rss1) and rss1 - rss0 < 8
    print(f"bounded: RSS growth under 8 MiB: {'yes' if growth_ok else 'NO'}; "
          f"no leaked descriptors: {'yes' if fds1 <= fds0 and sfds1 <= sfds0 else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
