"""Load: one request sent N times by C worker threads, and a latency summary.

    with Engine(options) as engine:
        summary = run_load(engine, request, options, n=10_000, concurrency=4)
    summary.p50_ms, summary.p99_ms, summary.requests_per_s, summary.error_groups

What is kept per request is one float (its latency, 8 bytes in an ``array('d')``) and a
few counters; the exchange itself is dropped as soon as it is counted. Bodies are not
kept: a worker's first response body goes to ``os.devnull`` (as ``curl -o /dev/null``);
while bodies stay small (at most SMALL_BODY bytes) the next ones are read into memory and
freed with their exchange (opening /dev/null costs about 10 us, a tenth of a keep-alive
exchange), and after a larger one they go to /dev/null again. So a 1 GiB body costs
neither memory nor disk (for a chunked body the reader still keeps the wire bytes of that
one exchange while it lasts, in memory up to ``Options.spill_bytes``).

Concurrency: C threads, each sending one request at a time. With ``engine`` given, all
workers share it (as the TUI and the CLI share one engine): each takes an idle
connection from its keep-alive pool or opens one, so at most C connections are open.
With ``engine=None`` each worker gets its own Engine, closed when it ends. Either way a
request that says ``Connection: close`` (or a server that closes) costs a new connection
every time; ``LoadSummary.connections_opened`` shows it.

Latency is the engine's own ``timings.total`` for the exchange (resolve or pool checkout,
connect, TLS, send, until the last body byte), for the requests that received a whole
response (``ok``, any status). Percentiles are nearest-rank: the p-th percentile of n
sorted samples is the sample at rank ceil(p/100 * n), so every figure is a latency that
was measured. Failed requests are counted by the phase that failed, with the first
message of each phase.

Cancelling ``cancel`` (another thread, or a KeyboardInterrupt in the thread that called
``run_load``) stops the workers, aborts the requests in flight and returns the summary of
what had finished (``cancelled=True``; the requests cut short are in ``interrupted``, not
in ``count``). No UI imports here.
"""

from __future__ import annotations

import math
import os
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Callable

from netlab.engine.request import Request
from netlab.engine.session import CancelToken, Engine, Exchange, Options

__all__ = ["ErrorGroup", "LoadProgress", "LoadSummary", "percentile", "run_load"]

PROGRESS_INTERVAL = 0.2  # seconds between progress callbacks (and cancel checks)
SMALL_BODY = 64 * 1024  # bodies up to this size are read into memory (then freed)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorGroup:
    """The failed requests of one phase: how many, and the first one's message."""

    phase: str
    count: int
    first_message: str

    def to_dict(self) -> dict:
        return {"phase": self.phase, "count": self.count, "first_message": self.first_message}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadProgress:
    """Where a run is: given to the progress callback in the thread that called run_load."""

    requested: int
    done: int
    ok: int
    errors: int
    elapsed_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSummary:
    requested: int  # n
    concurrency: int  # worker threads actually started
    shared_engine: bool  # True: one Engine for every worker; False: one per worker
    count: int  # requests that finished: ok + errors
    ok: int  # a whole HTTP response arrived (any status)
    errors: int
    error_groups: tuple[ErrorGroup, ...]  # by phase, most frequent first
    statuses: tuple[tuple[int, int], ...]  # (status code, count), by code
    min_ms: float | None  # latency of the ok requests; None when there were none
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    elapsed_s: float  # wall clock from starting the workers until the last one ended
    requests_per_s: float  # count / elapsed_s (failed requests included, as ab counts them)
    connections_opened: int  # new connections (not reused from the pool)
    connections_reused: int  # requests sent on a connection taken from the keep-alive pool
    bytes_received: int  # head and body bytes, all requests
    cancelled: bool
    interrupted: int  # requests in flight when the run was cancelled (not in count)
    latencies_ms: array = field(repr=False, compare=False)  # the ok samples, sorted

    def to_dict(self) -> dict:
        """JSON-ready; latencies are rounded to the microsecond."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "requested": self.requested,
            "concurrency": self.concurrency,
            "shared_engine": self.shared_engine,
            "count": self.count,
            "ok": self.ok,
            "errors": self.errors,
            "errors_by_phase": [g.to_dict() for g in self.error_groups],
            "latency_ms": {"min": ms(self.min_ms), "p50": ms(self.p50_ms), "p90": ms(self.p90_ms),
                           "p99": ms(self.p99_ms), "max": ms(self.max_ms), "mean": ms(self.mean_ms)},
            "elapsed_s": round(self.elapsed_s, 6),
            "requests_per_s": round(self.requests_per_s, 1),
            "statuses": {str(code): count for code, count in self.statuses},
            "connections_opened": self.connections_opened,
            "connections_reused": self.connections_reused,
            "bytes_received": self.bytes_received,
            "cancelled": self.cancelled,
            "interrupted": self.interrupted,
        }


def percentile(sorted_samples, p: float) -> float | None:
    """Nearest-rank percentile of already sorted samples (None when there are none)."""
    n = len(sorted_samples)
    if not n:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    return sorted_samples[min(rank, n) - 1]


class _Tally:
    """One worker's counts; only that worker writes them (the monitor only reads)."""

    __slots__ = ("samples", "ok", "errors", "groups", "statuses", "opened", "reused", "received", "interrupted")

    def __init__(self) -> None:
        self.samples = array("d")
        self.ok = 0
        self.errors = 0
        self.groups: dict[str, list] = {}  # phase -> [count, first message, when]
        self.statuses: dict[int, int] = {}
        self.opened = 0
        self.reused = 0
        self.received = 0
        self.interrupted = 0

    def add(self, ex: Exchange, stopping: bool) -> None:
        if ex.connection is not None:
            if ex.connection.reused:
                self.reused += 1
            else:
                self.opened += 1
        self.received += ex.bytes_received
        r = ex.response
        err = ex.error
        if err is None and r is not None and r.complete:
            self.ok += 1
            self.samples.append(ex.timings.total)
            self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
            return
        if err is not None and err.phase == "cancelled" and stopping:
            self.interrupted += 1  # cut short by the stop: not a result
            return
        phase, message = (err.phase, err.message) if err is not None else ("receive", "incomplete response")
        self.add_failure(phase, message)

    def add_failure(self, phase: str, message: str) -> None:
        self.errors += 1
        group = self.groups.get(phase)
        if group is None:
            self.groups[phase] = [1, message, time.monotonic()]
        else:
            group[0] += 1


def _drop(ex: Exchange) -> None:
    """Let go of the /dev/null file of an exchange's body now, not when the exchange is
    collected.  (Engine.send already drops its error's traceback, the frames that would
    refer back to the exchange.)"""
    r = ex.response
    if r is not None:
        r.body_store.close()
        if r.raw_body_store is not None:
            r.raw_body_store.close()


class _LoadRun:
    """The state the workers of one ``run_load`` share: the tickets (one per request), each
    worker's tally and cancel token, and the events that end the run."""

    def __init__(self, engine: Engine | None, request: Request, options: Options, n: int, workers: int,
                 cancel: CancelToken | None, on_exchange: Callable[[Exchange], None] | None) -> None:
        self.engine = engine
        self.request = request
        self.options = options
        self.n = n
        self.cancel = cancel
        self.on_exchange = on_exchange
        self.tallies = [_Tally() for _ in range(workers)]
        self.tokens = [CancelToken() for _ in range(workers)]
        self.lock = threading.Lock()
        self.issued = 0
        self.running = workers
        self.finished = threading.Event()
        self.stopping = threading.Event()  # set before the worker tokens are cancelled
        self.failures: list[BaseException] = []
        self.t0 = time.monotonic()

    def next_ticket(self) -> bool:
        """Take the right to send one more request; False once all ``n`` are taken."""
        with self.lock:
            if self.issued >= self.n:
                return False
            self.issued += 1
            return True

    def work(self, index: int) -> None:
        """One worker thread: send while tickets last and nobody cancelled; count each result
        in its own tally. A failure that is not the exchange's (a bug, on_exchange raising)
        stops everyone and is kept for run_load to re-raise."""
        tally, token = self.tallies[index], self.tokens[index]
        # locals for the per-request loop
        request, options, cancel, on_exchange = self.request, self.options, self.cancel, self.on_exchange
        stopping, next_ticket = self.stopping, self.next_ticket
        own = self.engine is None
        eng = Engine(options) if self.engine is None else self.engine
        sink: str | None = os.devnull  # where the next body goes (None: memory)
        try:
            while not token.cancelled and not (cancel is not None and cancel.cancelled) and next_ticket():
                try:
                    ex = eng.send(request, options=options, cancel=token, body_path=sink)
                except OSError as exc:  # /dev/null cannot be opened: out of file descriptors
                    tally.add_failure("limit", f"cannot open {os.devnull} for the body: {exc.strerror or exc}")
                    continue
                try:
                    tally.add(ex, stopping.is_set())
                    if on_exchange is not None:
                        on_exchange(ex)
                    if ex.response is not None:
                        sink = None if ex.response.body_bytes <= SMALL_BODY else os.devnull
                finally:
                    _drop(ex)
                del ex
        except BaseException as exc:  # a bug, or on_exchange failed: stop everyone, re-raise
            self.failures.append(exc)
            self.stop_all()
        finally:
            if own:
                eng.close()
            self.worker_done()

    def worker_done(self) -> None:
        """A worker has ended; the last one sets ``finished``."""
        with self.lock:
            self.running -= 1
            if self.running == 0:
                self.finished.set()

    def snapshot(self) -> LoadProgress:
        """The counts so far, for ``progress``."""
        ok = sum(t.ok for t in self.tallies)
        errors = sum(t.errors for t in self.tallies)
        return LoadProgress(requested=self.n, done=ok + errors, ok=ok, errors=errors,
                            elapsed_s=time.monotonic() - self.t0)

    def stop_all(self) -> None:
        """Stop every worker: results cut short from now on are not counted as failures."""
        self.stopping.set()
        for t in self.tokens:
            t.cancel()

    def supervise(self, threads: list[threading.Thread],
                  progress: Callable[[LoadProgress], None] | None) -> bool:
        """Start the workers and wait for them, reporting progress about every
        PROGRESS_INTERVAL seconds; True if the run was cancelled (``cancel`` or ctrl+c)."""
        cancel = self.cancel
        cancelled = False
        self.t0 = time.monotonic()
        try:
            for thread in threads:
                thread.start()
            while not self.finished.wait(PROGRESS_INTERVAL):
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    self.stop_all()
                    break
                if progress is not None:
                    progress(self.snapshot())
        except KeyboardInterrupt:  # ctrl+c: stop, and still say what was measured
            cancelled = True
            self.stop_all()
        except BaseException:
            self.stop_all()
            for thread in threads:
                thread.join()
            raise
        finally:
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
        return cancelled


def run_load(
    engine: Engine | None,
    request: Request,
    options: Options,
    n: int,
    concurrency: int = 1,
    *,
    cancel: CancelToken | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
) -> LoadSummary:
    """Send ``request`` ``n`` times from ``concurrency`` threads; block until done.

    ``engine``: shared by every worker, or None for one Engine per worker. ``progress``
    is called in this thread about every PROGRESS_INTERVAL seconds. ``on_exchange`` is
    called in the worker thread with each exchange before it is dropped (it must not
    keep it if memory is to stay bounded). The body of every response goes to
    os.devnull. Never raises NetlabError: failures are counted by phase."""
    if n < 0:
        raise ValueError(f"n must be at least 0, not {n}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    workers = max(1, min(concurrency, n))
    run = _LoadRun(engine, request, options, n, workers, cancel, on_exchange)
    threads = [threading.Thread(target=run.work, args=(i,), name=f"netlab-load-{i}", daemon=True)
               for i in range(workers)]
    cancelled = run.supervise(threads, progress)
    elapsed = time.monotonic() - run.t0
    if run.failures:
        raise run.failures[0]
    if cancel is not None and cancel.cancelled:
        cancelled = True
    return _summarize(run.tallies, n, workers, engine is not None, elapsed, cancelled)


def _summarize(tallies: list[_Tally], n: int, workers: int, shared: bool, elapsed: float,
               cancelled: bool) -> LoadSummary:
    samples = array("d")
    groups: dict[str, list] = {}
    statuses: dict[int, int] = {}
    for t in tallies:
        samples.extend(t.samples)
        for phase, (count, message, when) in t.groups.items():
            group = groups.get(phase)
            if group is None:
                groups[phase] = [count, message, when]
            else:
                group[0] += count
                if when < group[2]:  # the first message in time, across workers
                    group[1], group[2] = message, when
        for code, count in t.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    samples = array("d", sorted(samples))
    ok = sum(t.ok for t in tallies)
    errors = sum(t.errors for t in tallies)
    count = ok + errors
    error_groups = tuple(
        ErrorGroup(phase=phase, count=c, first_message=message)
        for phase, (c, message, _) in sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    )
    return LoadSummary(
        requested=n, concurrency=workers, shared_engine=shared, count=count, ok=ok, errors=errors,
        error_groups=error_groups, statuses=tuple(sorted(statuses.items())),
        min_ms=samples[0] if samples else None,
        p50_ms=percentile(samples, 50), p90_ms=percentile(samples, 90), p99_ms=percentile(samples, 99),
        max_ms=samples[-1] if samples else None,
        mean_ms=math.fsum(samples) / len(samples) if samples else None,
        elapsed_s=elapsed, requests_per_s=count / elapsed if elapsed > 0 else 0.0,
        connections_opened=sum(t.opened for t in tallies),
        connections_reused=sum(t.reused for t in tallies),
        bytes_received=sum(t.received for t in tallies),
        cancelled=cancelled, interrupted=sum(t.interrupted for t in tallies),
        latencies_ms=samples,
    )
