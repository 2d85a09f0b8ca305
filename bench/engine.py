"""Engine benchmark: netlab against a raw-socket baseline and the usual clients, one run.

    python bench/engine.py [--quick]

One loopback server (nginx when installed, else netlab's lab server).  Prints a table
of keep-alive and new-connection latency, 100 MiB download throughput and peak RSS
while streaming a 1 GiB body to a file, each with its ratio to the baseline measured
in the same run.  Rounds alternate between clients so that a noisy neighbour hurts
all of them alike; the figure kept is the median of the per-round medians.  As root, the
same netlab clients also run with a packet capture on the server's port (``--packets``):
their ratio to the capture-free client is the capture's cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.peers import NGINX, Nginx  # noqa: E402
from netlab.engine import Engine, Options, Request  # noqa: E402

MiB = 1 << 20
SMALL = "/small"
BIG = "/big"  # 100 MiB
HUGE = "/huge"  # 1 GiB


def _optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def _can_capture() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        from netlab.engine.capture.sniffer import Sniffer

        Sniffer(None, [1]).start()
    except Exception:  # noqa: BLE001 - no AF_PACKET here: the capture rows are left out
        return False
    return True


CAPTURE = _can_capture()


class Captured:
    """A client with a packet capture running on the server's port (netlab send --packets):
    every frame of its exchanges is read by the capture thread and kept (payloads past the
    capture's 16 MiB budget as headers only, as the Packets tab says); started before each
    round (outside its clock: starting and stopping a capture is per exchange, not per
    request, and ~ms) and stopped after it."""

    def __init__(self, send, port):
        self.send, self.port, self.sniffer = send, port, None

    def begin_round(self):
        from netlab.engine.capture.sniffer import Sniffer

        self.sniffer = Sniffer(None, [self.port])
        self.sniffer.start()

    def __call__(self):
        return self.send()

    def end_round(self):
        if self.sniffer is not None:
            frames = self.sniffer.stop()
            self.sniffer = None
            assert frames, "the capture saw no frames"


# --- one request, by each client -----------------------------------------------------------

class RawKeepAlive:
    """The floor: a prebuilt request, sendall, recv_into until Content-Length is met."""

    def __init__(self, host, port, path):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.data = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        self.buf = bytearray(65536)

    def __call__(self):
        self.sock.sendall(self.data)
        got = b""
        while True:
            n = self.sock.recv_into(self.buf)
            if not n:
                raise RuntimeError("closed")
            got += self.buf[:n]
            end = got.find(b"\r\n\r\n")
            if end >= 0:
                break
        i = got.lower().find(b"content-length:")
        length = int(got[i + 15: got.find(b"\r\n", i)])
        while len(got) - end - 4 < length:
            got += self.buf[: self.sock.recv_into(self.buf)]


def raw_new_connection(host, port, path):
    data = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    buf = bytearray(65536)

    def one():
        with socket.create_connection((host, port)) as s:
            s.sendall(data)
            while s.recv_into(buf):
                pass
    return one


def keepalive_clients(base, host, port):
    clients = {"raw socket loop": RawKeepAlive(host, port, SMALL)}
    engine = Engine()
    req = Request.from_url(base + SMALL)
    clients["netlab engine"] = lambda: engine.send(req)
    if CAPTURE:
        clients["netlab engine, capture running"] = Captured(lambda: engine.send(req), port)
    import http.client

    hc = http.client.HTTPConnection(host, port)

    def httpclient():
        hc.request("GET", SMALL)
        hc.getresponse().read()
    clients["http.client"] = httpclient
    urllib3 = _optional("urllib3")
    if urllib3:
        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
        clients["urllib3"] = lambda: pool.request("GET", SMALL).data
    requests = _optional("requests")
    if requests:
        session = requests.Session()
        clients["requests"] = lambda: session.get(base + SMALL).content
    httpx = _optional("httpx")
    if httpx:
        client = httpx.Client()
        clients["httpx"] = lambda: client.get(base + SMALL).content
    return clients


def new_connection_clients(base, host, port):
    clients = {"raw socket loop": raw_new_connection(host, port, SMALL)}
    engine = Engine(Options(reuse=False))
    req = Request.from_url(base + SMALL, headers=[("Connection", "close")])
    clients["netlab engine"] = lambda: engine.send(req)
    import http.client

    def httpclient():
        c = http.client.HTTPConnection(host, port)
        c.request("GET", SMALL, headers={"Connection": "close"})
        c.getresponse().read()
        c.close()
    clients["http.client"] = httpclient
    close = {"Connection": "close"}
    urllib3 = _optional("urllib3")
    if urllib3:
        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
        clients["urllib3"] = lambda: pool.request("GET", SMALL, headers=close).data
    requests = _optional("requests")
    if requests:
        clients["requests"] = lambda: requests.get(base + SMALL, headers=close).content
    httpx = _optional("httpx")
    if httpx:
        clients["httpx"] = lambda: httpx.get(base + SMALL, headers=close).content
    return clients


def latency(clients, rounds, per_round):
    """µs per request for each client (median of its per-round means) and, for each, the
    median over rounds of its round mean divided by the baseline's (the first client) in
    the same round.  Rounds are short and alternate, so a noisy neighbour slows a client
    and the baseline it is compared with alike; the paired ratio is the figure a target
    is checked against."""
    times = {name: [] for name in clients}
    for f in clients.values():  # warm up
        for _ in range(min(20, per_round)):
            f()
    for _ in range(rounds):
        for name, f in clients.items():
            if isinstance(f, Captured):
                f.begin_round()
            t = time.perf_counter()
            for _ in range(per_round):
                f()
            times[name].append((time.perf_counter() - t) / per_round * 1e6)
            if isinstance(f, Captured):
                f.end_round()
    base = times[next(iter(clients))]
    ratios = {name: statistics.median(x / b for x, b in zip(v, base)) for name, v in times.items()}
    return {name: statistics.median(v) for name, v in times.items()}, ratios


# --- download ------------------------------------------------------------------------------

def download_clients(base, host, port, size):
    def raw():
        buf = bytearray(256 * 1024)
        with socket.create_connection((host, port)) as s:
            s.sendall(f"GET {BIG} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            while s.recv_into(buf):
                pass
    clients = {"raw recv_into": raw}
    engine = Engine(Options(reuse=False))
    req = Request.from_url(base + BIG)

    def netlab_stream():
        ex = engine.send(req, body_path=os.devnull)
        assert ex.ok and ex.response.body_bytes == size, ex.error
    clients["netlab (body to /dev/null, as curl -o)"] = netlab_stream

    def netlab_keep():
        ex = engine.send(req)
        assert ex.ok and ex.response.body_bytes == size, ex.error
        ex.response.body_store.close()
    clients["netlab (body kept: temp file)"] = netlab_keep
    urllib3 = _optional("urllib3")
    if urllib3:
        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)

        def u3():
            r = pool.request("GET", BIG, preload_content=False)
            for _ in r.stream(256 * 1024):
                pass
            r.release_conn()
        clients["urllib3 (stream)"] = u3
    requests = _optional("requests")
    if requests:
        session = requests.Session()

        def rq():
            with session.get(base + BIG, stream=True) as r:
                for _ in r.iter_content(256 * 1024):
                    pass
        clients["requests (iter_content)"] = rq
    httpx = _optional("httpx")
    if httpx:
        client = httpx.Client()

        def hx():
            with client.stream("GET", base + BIG) as r:
                for _ in r.iter_bytes(256 * 1024):
                    pass
        clients["httpx (iter_bytes)"] = hx
    curl = shutil.which("curl")
    if curl:
        clients["curl -o /dev/null"] = lambda: subprocess.run([curl, "-s", "-o", os.devnull, base + BIG], check=True)
    return clients


def throughput(clients, rounds, size):
    rates = {name: [] for name in clients}
    for _ in range(rounds):
        for name, f in clients.items():
            if isinstance(f, Captured):
                f.begin_round()
            t = time.perf_counter()
            f()
            rates[name].append(size / MiB / (time.perf_counter() - t))
            if isinstance(f, Captured):
                f.end_round()
    return {name: statistics.median(v) for name, v in rates.items()}


# --- memory --------------------------------------------------------------------------------

_MAXRSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss_kib(url: str, out: str) -> int:
    cmd = [sys.executable, "-c", _MAXRSS, sys.executable, "-m", "netlab", "send", url, "-o", out,
           "--max-body", str(4 << 30), "--timeout", "60"]
    return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


# --- main ----------------------------------------------------------------------------------

def main() -> int:
    global SMALL, BIG, HUGE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (for a smoke run)")
    ap.add_argument("--no-huge", action="store_true", help="skip the 1 GiB RSS measurement")
    args = ap.parse_args()
    rounds, per_round, new_per_round, dl_rounds = (5, 30, 10, 1) if args.quick else (41, 50, 15, 5)
    big_size, huge_size = 100 * MiB, 1 << 30

    if NGINX:
        server = Nginx({SMALL[1:]: 13, BIG[1:]: big_size, HUGE[1:]: huge_size})
        name, host, port, base = "nginx", "127.0.0.1", server.port, server.url
    else:  # the lab server serves the same shapes
        from netlab.lab import LabServer

        server = LabServer().start()
        name, host, port, base = "netlab lab server (nginx not installed)", "127.0.0.1", server.port, server.url
        SMALL, BIG, HUGE = "/bytes/13", f"/bytes/{big_size}", f"/bytes/{huge_size}"
    print(f"server: {name} at {base}; python {sys.version.split()[0]}; {os.cpu_count()} cores\n")
    rows = []
    try:
        ka, ka_paired = latency(keepalive_clients(base, host, port), rounds, per_round)
        nc, nc_paired = latency(new_connection_clients(base, host, port), rounds, new_per_round)
        dl_clients = download_clients(base, host, port, big_size)
        if CAPTURE:
            dl_clients["netlab (to /dev/null), capture running"] = Captured(
                dl_clients["netlab (body to /dev/null, as curl -o)"], port)
        dl = throughput(dl_clients, dl_rounds, big_size)
        rss = None
        if not args.no_huge:
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "body")
                small_rss = peak_rss_kib(base + SMALL, out)
                huge_rss = peak_rss_kib(base + HUGE, out)
                assert os.path.getsize(out) == huge_size
            rss = (small_rss, huge_rss)
    finally:
        server.stop()

    def table(title, unit, data, base_key, paired=None):
        print(f"{title}")
        head = f"  {'client':42} {unit:>12} {'vs baseline':>12}"
        print(head + (f" {'paired':>8}" if paired else ""))
        for k, v in data.items():
            ratio = v / data[base_key]
            print(f"  {k:42} {v:12.1f} {ratio:11.2f}x" + (f" {paired[k]:7.2f}x" if paired else ""))
        print()

    print("latency: 'vs baseline' divides the medians; 'paired' is the median of per-round ratios\n")
    table("keep-alive request latency (small body)", "µs/request", ka, "raw socket loop", ka_paired)
    table("new-connection request latency", "µs/request", nc, "raw socket loop", nc_paired)
    table("100 MiB download", "MiB/s", dl, "raw recv_into")
    ka_ratio = ka_paired["netlab engine"]
    nc_ratio = nc_paired["netlab engine"]
    dl_ratio = dl["netlab (body to /dev/null, as curl -o)"] / dl["raw recv_into"]
    rows.append(("keep-alive latency vs raw loop", f"{ka_ratio:.2f}x", "<= 2.5x", ka_ratio <= 2.5))
    if "requests" in ka:
        sp = ka["requests"] / ka["netlab engine"]
        rows.append(("keep-alive: netlab faster than requests Session", f"{sp:.2f}x", ">= 5x", sp >= 5))
    rows.append(("new connection vs raw socket", f"{nc_ratio:.2f}x", "<= 1.5x", nc_ratio <= 1.5))
    rows.append(("100 MiB download vs raw recv_into", f"{dl_ratio:.2f}x", ">= 0.6x", dl_ratio >= 0.6))
    if CAPTURE:
        cap_ka = ka_paired["netlab engine, capture running"] / ka_paired["netlab engine"]  # both paired to raw
        cap_dl = dl["netlab (body to /dev/null, as curl -o)"] / dl["netlab (to /dev/null), capture running"]
        rows.append(("keep-alive latency, capture on vs off", f"{cap_ka:.2f}x", "<= 1.3x", cap_ka <= 1.3))
        rows.append(("100 MiB download time, capture on vs off", f"{cap_dl:.2f}x", "printed", True))
    else:
        print("capture rows left out: packet capture needs root or CAP_NET_RAW\n")
    if rss:
        growth = (rss[1] - rss[0]) / 1024
        print(f"peak RSS: netlab send -o FILE: small body {rss[0] / 1024:.1f} MiB, "
              f"1 GiB body {rss[1] / 1024:.1f} MiB\n")
        rows.append(("RSS growth streaming 1 GiB to -o", f"{growth:.1f} MiB", "<= 32 MiB", growth <= 32))
    print(f"  {'target':48} {'measured':>10} {'target':>10}")
    for what, got, want, ok in rows:
        print(f"  {what:48} {got:>10} {want:>10}  {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
