"""Load (`netlab replay ID --repeat N`): run_load against the real lab server on loopback.

No test here times anything: counts, percentiles against the recorded samples, error
groups, a memory bound (RSS, not time), and file descriptors / server connections back
to where they were."""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netlab.engine import CancelToken, Engine, Options, Request
from netlab.engine.store.load import ErrorGroup, LoadSummary, percentile, run_load
from netlab.lab import LabServer
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD = 30.0  # seconds: only so that a broken run fails instead of hanging
PAGE = os.sysconf("SC_PAGE_SIZE")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def settle(condition, what: str) -> None:
    """Wait (generously) for something another thread finishes, e.g. the server closing."""
    end = time.monotonic() + HANG_GUARD
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not happen within {HANG_GUARD:g} s")
        time.sleep(0.01)


def nearest_rank(samples: list[float], p: float) -> float:
    """The reference: sort, take the ceil(p% of n)-th smallest (1-based)."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]


# ------------------------------------------------------------------------- run_load


@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_request_counted_and_percentiles_match_the_samples(lab_server, concurrency):
    n = 2000
    gc.collect()
    fds_before, conns_before = fds(), lab_server.connection_count
    seen: list[tuple[int, float, int, bool]] = []  # (status, latency, bytes, reused), from the workers

    def on_exchange(ex):
        seen.append((ex.response.status, ex.timings.total, ex.bytes_received, ex.connection.reused))

    request = Request.from_url(lab_server.url + "/ip")
    with Engine() as engine:
        summary = run_load(engine, request, Options(), n, concurrency, on_exchange=on_exchange)
    assert isinstance(summary, LoadSummary)
    assert (summary.requested, summary.count, summary.ok, summary.errors) == (n, n, n, 0)
    assert summary.concurrency == concurrency and summary.shared_engine
    assert summary.error_groups == () and not summary.cancelled and summary.interrupted == 0
    assert summary.statuses == ((200, n),)
    assert len(seen) == n and all(status == 200 for status, *_ in seen)

    latencies = [latency for _, latency, _, _ in seen]
    assert list(summary.latencies_ms) == sorted(latencies)
    assert summary.min_ms == min(latencies) and summary.max_ms == max(latencies)
    for p, got in ((50, summary.p50_ms), (90, summary.p90_ms), (99, summary.p99_ms)):
        assert got == nearest_rank(latencies, p)
    assert summary.min_ms <= summary.p50_ms <= summary.p90_ms <= summary.p99_ms <= summary.max_ms
    assert summary.mean_ms == pytest.approx(sum(latencies) / n)
    assert summary.bytes_received == sum(b for _, _, b, _ in seen)
    assert summary.requests_per_s == pytest.approx(n / summary.elapsed_s)

    # keep-alive: each worker opened one connection (at most) and reused it after that
    assert 1 <= summary.connections_opened <= concurrency
    assert summary.connections_opened + summary.connections_reused == n
    assert summary.connections_reused == sum(1 for *_, reused in seen if reused)

    # the engine is closed: our sockets are gone, and the server has closed its ends too
    settle(lambda: lab_server.connection_count <= conns_before, "the lab server closing its connections")
    settle(lambda: fds() <= fds_before, "the file descriptor count returning to its baseline")


def test_one_engine_per_worker_closes_its_engines(lab_server):
    gc.collect()
    fds_before, conns_before = fds(), lab_server.connection_count
    summary = run_load(None, Request.from_url(lab_server.url + "/ip"), Options(), 600, 3)
    assert (summary.count, summary.ok, summary.shared_engine) == (600, 600, False)
    assert summary.connections_opened == 3  # one each: no engine shares its pool
    settle(lambda: lab_server.connection_count <= conns_before, "the lab server closing its connections")
    settle(lambda: fds() <= fds_before, "the file descriptor count returning to its baseline")


def test_connection_close_costs_a_connection_per_request(lab_server):
    request = Request.from_url(lab_server.url + "/ip", headers=["Connection: close"])
    with Engine() as engine:
        summary = run_load(engine, request, Options(), 200, 2)
    assert (summary.ok, summary.connections_opened, summary.connections_reused) == (200, 200, 0)


def test_percentile_is_nearest_rank():
    samples = [float(i) for i in range(1, 101)]  # 1..100
    assert (percentile(samples, 50), percentile(samples, 90), percentile(samples, 99)) == (50.0, 90.0, 99.0)
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert percentile([], 50) is None


def test_zero_requests_and_bad_arguments(lab_server):
    request = Request.from_url(lab_server.url + "/ip")
    summary = run_load(None, request, Options(), 0, 4)
    assert (summary.count, summary.ok, summary.p50_ms, summary.requests_per_s) == (0, 0, None, 0.0)
    with pytest.raises(ValueError, match="concurrency"):
        run_load(None, request, Options(), 10, 0)
    with pytest.raises(ValueError, match="n must be"):
        run_load(None, request, Options(), -1, 1)


# --------------------------------------------------------------------------- errors


def test_refused_port_is_one_error_group():
    port = free_port()
    fds_before = fds()
    summary = run_load(None, Request.from_url(f"http://127.0.0.1:{port}/ip"), Options(), 300, 4)
    assert (summary.count, summary.ok, summary.errors) == (300, 0, 300)
    assert len(summary.error_groups) == 1
    group = summary.error_groups[0]
    assert isinstance(group, ErrorGroup)
    assert (group.phase, group.count) == ("connect", 300)
    assert "refused" in group.first_message and str(port) in group.first_message
    assert summary.statuses == ()
    assert (summary.min_ms, summary.p50_ms, summary.p99_ms, summary.max_ms) == (None, None, None, None)
    assert summary.to_dict()["errors_by_phase"] == [
        {"phase": "connect", "count": 300, "first_message": group.first_message}]
    assert fds() <= fds_before


def test_server_stopped_mid_run():
    lab = LabServer().start()
    n, stop_after = 20_000, 300
    lock, done = threading.Lock(), [0]

    def on_exchange(ex):
        with lock:
            done[0] += 1
            stop = done[0] == stop_after
        if stop:
            lab.stop()  # the server goes away while both workers keep sending

    try:
        with Engine() as engine:
            summary = run_load(engine, Request.from_url(lab.url + "/ip"), Options(), n, 2,
                               on_exchange=on_exchange)
    finally:
        lab.stop()
    assert summary.count == n == summary.ok + summary.errors
    assert stop_after <= summary.ok < n
    assert sum(g.count for g in summary.error_groups) == summary.errors
    assert dict(summary.statuses) == {200: summary.ok}
    phases = {g.phase: g for g in summary.error_groups}
    assert "connect" in phases and "refused" in phases["connect"].first_message
    assert set(phases) <= {"connect", "send", "receive"}
    assert [g.count for g in summary.error_groups] == sorted((g.count for g in summary.error_groups), reverse=True)


# ------------------------------------------------------------------ stopping early


def test_cancel_token_stops_early_and_keeps_the_summary(lab_server):
    gc.collect()
    fds_before = fds()
    cancel = CancelToken()

    def progress(p):
        assert p.requested == 1_000_000 and p.done == p.ok + p.errors
        if p.done >= 200:
            cancel.cancel()

    with Engine() as engine:
        summary = run_load(engine, Request.from_url(lab_server.url + "/ip"), Options(), 1_000_000, 3,
                           cancel=cancel, progress=progress)
    assert summary.cancelled
    assert 200 <= summary.count < 1_000_000
    assert summary.count == summary.ok and summary.errors == 0  # cut-short requests are not errors
    assert len(summary.latencies_ms) == summary.ok
    assert summary.interrupted <= 3
    settle(lambda: fds() <= fds_before, "the file descriptor count returning to its baseline")


def test_keyboard_interrupt_in_the_waiting_thread_returns_the_summary(lab_server):
    def progress(p):
        if p.done >= 100:
            raise KeyboardInterrupt  # as ctrl+c lands in the thread that waits

    summary = run_load(None, Request.from_url(lab_server.url + "/ip"), Options(), 1_000_000, 2,
                       progress=progress)
    assert summary.cancelled and 100 <= summary.count < 1_000_000
    assert summary.ok == summary.count


def test_an_exception_in_on_exchange_stops_the_run_and_propagates(lab_server):
    def on_exchange(ex):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_load(None, Request.from_url(lab_server.url + "/ip"), Options(), 1_000_000, 2,
                 on_exchange=on_exchange)


# ---------------------------------------------------------------------------- memory


@pytest.mark.parametrize("path", ["/bytes/16384", "/bytes/200000"])
def test_memory_stays_bounded(lab_server, path):
    """RSS after 2,000 requests minus RSS after 200 (the warm-up), each body 16 KB (read
    into memory, then freed) or 200 KB (to /dev/null). Keeping the bodies would cost 28 MB
    or 360 MB; the bound is 8 MiB."""
    request = Request.from_url(lab_server.url + path)
    with Engine() as engine:
        run_load(engine, request, Options(), 200, 2)
        gc.collect()
        before = rss_bytes()
        summary = run_load(engine, request, Options(), 2000, 2)
        gc.collect()
        after = rss_bytes()
    assert summary.ok == 2000
    assert summary.bytes_received > 2000 * int(path.rsplit("/", 1)[1])
    assert after - before < 8 << 20, f"RSS grew by {(after - before) / (1 << 20):.1f} MiB"


# ------------------------------------------------------------------------------- CLI


def _record(run_cli, url: str) -> None:
    code, out, err = run_cli("send", url)
    assert code in (0, 1), err


def _entries(run_cli) -> list:
    code, out, _ = run_cli("history", "--json")
    assert code == 0
    return json.loads(out)


def test_cli_repeat_human_summary(run_cli, lab_server):
    _record(run_cli, lab_server.url + "/ip")
    code, out, err = run_cli("replay", "last", "--repeat", 300, "--concurrency", 3)
    assert code == 0, err
    lines = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith(" "))
    assert lines["count"] == "300 of 300"
    assert lines["ok"] == "300" and lines["errors"] == "0"
    values = [float(lines[k].split()[0]) for k in ("min", "p50", "p90", "p99", "max")]
    assert values == sorted(values)
    assert lines["statuses"] == "200: 300"
    assert lines["requests/s"].split()[0].replace(".", "").isdigit()
    assert "not stored in the history" in err
    assert len(_entries(run_cli)) == 1  # only the send: the 300 repeats were not recorded


def test_cli_repeat_json(run_cli, lab_server):
    _record(run_cli, lab_server.url + "/status/404")
    code, out, err = run_cli("replay", "last", "--repeat", 250, "--concurrency", 2, "--json")
    assert code == 0, err  # a response arrived each time, whatever its status
    data = json.loads(out)
    assert (data["count"], data["ok"], data["errors"], data["requested"]) == (250, 250, 0, 250)
    assert data["statuses"] == {"404": 250}
    assert data["stored_in_history"] is False and data["url"].endswith("/status/404")
    latency = data["latency_ms"]
    assert latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert data["errors_by_phase"] == [] and data["cancelled"] is False
    assert data["concurrency"] == 2 and data["connections_opened"] <= 2
    assert len(_entries(run_cli)) == 1


def test_cli_repeat_errors_grouped_and_exit_1(run_cli):
    port = free_port()
    _record(run_cli, f"http://127.0.0.1:{port}/ip")  # stored although it failed
    code, out, err = run_cli("replay", "last", "--repeat", 40, "--concurrency", 2)
    assert code == 1
    lines = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith(" "))
    assert (lines["count"], lines["ok"], lines["errors"], lines["p50"]) == ("40 of 40", "0", "40", "-")
    error_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(error_lines) == 1
    phase, count, first = error_lines[0].split(None, 2)
    assert (phase, count) == ("connect", "40") and "refused" in first
    assert "p50" in out and "statuses" in out


def test_cli_repeat_escapes_what_the_peer_sent(run_cli, tcp_peer):
    def handler(conn, peer):
        conn.sendall(b"\x1b]52;c;AAAA\x07HTTP/1.1 200 \x1b[2J OK\r\n\r\n")

    peer = tcp_peer(handler)
    _record(run_cli, peer.url + "/")
    code, out, err = run_cli("replay", "last", "--repeat", 5)
    assert code == 1
    assert "\x1b" not in out and "\x1b" not in err
    assert "parse" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--concurrency", "2"], "--concurrency needs --repeat"),
     (["--repeat", "0"], "--repeat must be between 1"),
     (["--repeat", "abc"], "--repeat must be a number"),
     (["--repeat", "5", "--concurrency", "0"], "--concurrency must be between 1")],
)
def test_cli_repeat_usage_errors(run_cli, lab_server, args, message):
    _record(run_cli, lab_server.url + "/ip")
    code, out, err = run_cli("replay", "last", *args)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_cli_repeat_in_a_real_process(run_cli, run_cli_subprocess, lab_server):
    _record(run_cli, lab_server.url + "/ip")
    code, out, err = run_cli_subprocess("replay", "last", "--repeat", 500, "--concurrency", 2, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["count"], data["ok"], data["statuses"]) == (500, 500, {"200": 500})


def test_ctrl_c_stops_early_and_prints_the_summary(run_cli, lab_server):
    _record(run_cli, lab_server.url + "/ip")
    conns_before = lab_server.connection_count
    process = subprocess.Popen(
        [sys.executable, "-m", "netlab", "replay", "last", "--repeat", "10000000", "--concurrency", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, text=True,
    )
    try:
        assert process.stderr.readline().startswith("netlab: replaying #")  # about to start
        settle(lambda: process.poll() is not None or lab_server.connection_count >= 2,
               "the load reaching the lab server")
        threading.Event().wait(0.5)  # let some requests finish (the count is checked, not the time)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "stopped early" in err
    lines = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith(" "))
    done = int(lines["count"].split()[0])
    assert 0 < done < 10_000_000 and "(stopped early)" in lines["count"]
    assert int(lines["ok"]) == done
    settle(lambda: lab_server.connection_count <= conns_before, "the lab server closing the connections")
