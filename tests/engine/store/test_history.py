"""History store and `netlab history` / `netlab replay` against real loopback peers."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from netlab.engine import Engine, Options, Request
from netlab.engine.formats.pin import pin_text
from netlab.engine.resolve import parse_pin
from netlab.engine.store.history import APPLICATION_ID, History, HistoryEntry, HistoryError, default_path

HANG_GUARD = 30.0  # socket timeouts only guard against hangs; nothing is timed
REPO = Path(__file__).resolve().parents[2]

HELLO = b"hello from http.server\n" * 20
CHUNKS = [b"first chunk\n", b"x" * 300, b"last\n"]


# --------------------------------------------------------------------------- peers


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            for c in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.write(b"0\r\nX-Checksum: abc123\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(HELLO)))
        self.send_header("X-Lab", "history")
        self.end_headers()
        self.wfile.write(HELLO)


@pytest.fixture
def web():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class Recorder:
    """A raw TCP server that keeps every request's exact bytes (head + Content-Length body)."""

    REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nrecorded\n"

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(HANG_GUARD)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                self.received.append(data[: len(head) + 4] + body if b"\r\n\r\n" in data else data)
                conn.sendall(self.REPLY)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


@pytest.fixture
def hpath(tmp_path, monkeypatch):
    path = tmp_path / "data" / "netlab" / "history.sqlite3"
    monkeypatch.setenv("NETLAB_HISTORY", str(path))
    return path


def _refused_port():
    """A port bound but not listening: connecting to it is refused, deterministically."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


def _synthetic(i: int) -> "Exchange":  # noqa: F821
    from netlab.engine.session import Exchange

    return Exchange(request=Request.from_url(f"http://127.0.0.1:9/item/{i}"), options=Options(), started=1000.0 + i)


# --------------------------------------------------------------------------- store


def test_default_path_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLAB_HISTORY", str(tmp_path / "h.db"))
    assert default_path() == str(tmp_path / "h.db")
    monkeypatch.delenv("NETLAB_HISTORY")
    import platformdirs

    assert default_path() == os.path.join(platformdirs.user_data_dir("netlab"), "history.sqlite3")


def test_round_trip_of_a_real_exchange(web, hpath):
    opts = Options(timeout=7.5, deadline=20.0, resolve=(parse_pin(f"lab.invalid:{web}:127.0.0.1"),),
                   max_body_bytes=10_000)
    req = Request.from_url(f"http://lab.invalid:{web}/hello?x=1", headers=["X-Token: s3cret"])
    with Engine() as engine:
        ex = engine.send(req, options=opts)
    assert ex.ok, ex.error
    h = History()
    assert h.notice is None
    ident = h.add(ex)
    got = h.get(ident)

    assert got.request == ex.request
    assert got.request.data == ex.request.data
    assert got.options == opts
    assert got.dns.source == "pin" and got.dns.used == "127.0.0.1"
    assert got.connection.local == ex.connection.local and got.connection.remote == ("127.0.0.1", web)
    r, g = ex.response, got.response
    assert (g.status, g.reason, g.http_version, g.framing) == (200, "OK", "HTTP/1.1", "content-length")
    assert g.headers == r.headers and ("X-Lab", "history") in g.headers
    assert g.body == HELLO and g.raw_head == r.raw_head and g.complete
    assert not g.body_store.truncated and g.body_store.full_size == len(HELLO)
    assert got.timings == ex.timings
    assert got.started == ex.started and got.error is None
    assert got.to_dict() == ex.to_dict()

    [entry] = h.list()
    assert entry == HistoryEntry(ident, ex.started, "GET", req.url, 200, ex.timings.total, None, False)
    assert h.last_id() == ident
    h.close()
    # and from a second, independent History on the same file
    with History() as again:
        assert again.get(ident).to_dict() == ex.to_dict()


def test_chunked_body_is_capped_with_flags(web, hpath):
    with Engine() as engine:
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{web}/chunked"))
    assert ex.ok, ex.error
    full = b"".join(CHUNKS)
    assert ex.response.body == full
    with History(body_cap=100) as h:
        got = h.get(h.add(ex))
    r = got.response
    assert r.framing == "chunked"
    assert r.trailers == [("X-Checksum", "abc123")]
    assert r.body == full[:100]
    assert r.body_store.truncated and r.body_store.full_size == len(full)
    assert r.raw_body == ex.response.raw_body[:100]
    assert r.raw_body_store.truncated and r.raw_body_store.full_size == len(ex.response.raw_body)

    with History(body_cap=1 << 20) as h:
        whole = h.get(h.add(ex)).response
    assert whole.body == full and not whole.body_store.truncated
    assert whole.raw_body == ex.response.raw_body and not whole.raw_body_store.truncated

    with History(store_bodies=False) as h:
        none = h.get(h.add(ex)).response
    assert none.body == b"" and none.body_store.truncated and none.body_store.full_size == len(full)
    assert none.headers == ex.response.headers


def test_bodies_in_files_are_stored(web, hpath, tmp_path):
    with Engine() as engine:
        spilled = engine.send(Request.from_url(f"http://127.0.0.1:{web}/hello"),
                              options=Options(spill_bytes=16))  # the body goes to a temporary file
        out = tmp_path / "out.bin"
        to_file = engine.send(Request.from_url(f"http://127.0.0.1:{web}/hello"), body_path=str(out))  # -o FILE
    assert spilled.response.body_store.spilled and to_file.ok
    with History() as h:
        a = h.get(h.add(spilled)).response
        b = h.get(h.add(to_file)).response
    assert a.body == HELLO and not a.body_store.truncated
    assert b.body == HELLO == out.read_bytes() and not b.body_store.truncated


def test_unusable_path_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"x")
    with History(str(blocker / "history.sqlite3")) as h:  # its "directory" is a file
        assert h.notice and "not saved" in h.notice and not h.persistent
        ident = h.add(_synthetic(1))
        assert h.get(ident).request.url == "http://127.0.0.1:9/item/1"
    assert blocker.read_bytes() == b"x"


def test_failed_exchange_round_trip(hpath):
    blocker = _refused_port()
    try:
        port = blocker.getsockname()[1]
        with Engine() as engine:
            ex = engine.send(Request.from_url(f"http://127.0.0.1:{port}/"))
    finally:
        blocker.close()
    assert ex.error is not None and ex.error.phase == "connect"
    with History() as h:
        ident = h.add(ex)
        got = h.get(ident)
        [entry] = h.list()
    assert got.response is None and got.connection is None
    assert (got.error.phase, got.error.message, got.error.hint) == (ex.error.phase, ex.error.message, ex.error.hint)
    assert got.attempts == ex.attempts
    assert got.to_dict() == ex.to_dict()
    assert entry.status is None and entry.error_phase == "connect"


def test_file_and_directory_modes(hpath):
    assert not hpath.parent.exists()
    with History() as h:
        h.add(_synthetic(1))
        assert stat.S_IMODE(os.stat(hpath).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(hpath.parent).st_mode) == 0o700
        for side in (Path(f"{hpath}-wal"), Path(f"{hpath}-shm")):
            if side.exists():
                assert stat.S_IMODE(os.stat(side).st_mode) == 0o600, side
        with sqlite3.connect(hpath) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_existing_loose_file_is_tightened(tmp_path):
    path = tmp_path / "loose.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    with History(str(path)) as h:
        h.add(_synthetic(1))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_list_newest_first_limit_and_unknown_id(hpath):
    with History() as h:
        assert h.list() == [] and h.last_id() is None
        ids = [h.add(_synthetic(i)) for i in range(5)]
        assert ids == sorted(ids) and len(set(ids)) == 5
        entries = h.list()
        assert [e.id for e in entries] == ids[::-1]
        assert [e.url for e in entries] == [f"http://127.0.0.1:9/item/{i}" for i in range(4, -1, -1)]
        assert [e.id for e in h.list(2)] == ids[:-3:-1]
        assert len(h.list(0)) == 5
        assert h.last_id() == ids[-1]
        with pytest.raises(KeyError):
            h.get(ids[-1] + 100)
    with pytest.raises(HistoryError):
        h.add(_synthetic(9))


@pytest.mark.parametrize("kind", ["garbage", "foreign-sqlite"])
def test_corrupt_or_foreign_file_is_moved_aside(tmp_path, kind):
    path = tmp_path / "history.sqlite3"
    if kind == "garbage":
        original = b"this is not an SQLite database\n" * 200
        path.write_bytes(original)
    else:
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE notes (text TEXT)")
            other.execute("INSERT INTO notes VALUES ('keep me')")
        other.close()
        original = path.read_bytes()
    with History(str(path)) as h:
        assert h.notice is not None and "moved to" in h.notice
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.sqlite3.corrupt-")
                 and not p.name.endswith(("-wal", "-shm"))]
        assert len(aside) == 1 and str(aside[0]) in h.notice
        assert aside[0].read_bytes() == original
        ident = h.add(_synthetic(1))
        assert h.get(ident).request.url == "http://127.0.0.1:9/item/1"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with History(str(path)) as h:  # the new file is a good history now: no notice
        assert h.notice is None and [e.id for e in h.list()] == [ident]


def test_newer_schema_is_left_alone(tmp_path):
    path = tmp_path / "history.sqlite3"
    with History(str(path)) as h:
        h.add(_synthetic(1))
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    raw.close()
    with History(str(path)) as h:
        assert h.notice and "newer" in h.notice and not h.persistent
        h.add(_synthetic(2))  # kept in memory
        assert len(h.list()) == 1
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 99
        assert raw.execute("SELECT COUNT(*) FROM exchange").fetchone()[0] == 1
    raw.close()


def test_threads_share_one_history(hpath):
    with History() as h:
        ids: list[int] = []
        errors: list[BaseException] = []

        def work(base: int) -> None:
            try:
                for i in range(10):
                    ids.append(h.add(_synthetic(base + i)))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n * 100,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG_GUARD)
        assert not errors
        assert len(set(ids)) == 40 and len(h.list(0)) == 40


_WRITER = textwrap.dedent("""
    import os, sys, time
    from netlab.engine import Options, Request
    from netlab.engine.store.history import History
    from netlab.engine.session import Exchange
    path, go, tag, others, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), int(sys.argv[5])
    end = time.monotonic() + 60

    def wait_for(marker):
        while not os.path.exists(marker):
            if time.monotonic() > end:
                sys.exit(f"no {marker}")
            time.sleep(0.005)

    wait_for(go)
    h = History(path)
    assert h.notice is None, h.notice
    open(go + "." + tag, "w").close()  # opened: wait until every writer has, then write at once
    for other in others:
        wait_for(go + "." + other)
    ids = []
    for i in range(count):
        ids.append(h.add(Exchange(request=Request.from_url(f"http://127.0.0.1:9/{tag}/{i}", method="POST",
                                                           body=b"x" * (i % 7) * 500),
                                  options=Options(), started=time.time())))
    h.close()
    print(" ".join(map(str, ids)))
""")


def test_two_processes_write_at_once(tmp_path):
    """Two processes create the same new file at the same moment, then each writes 200
    exchanges while the other does: every write succeeds (WAL mode, busy timeouts), no id
    is given twice, and every exchange is in the file afterwards."""
    path = tmp_path / "shared" / "history.sqlite3"  # neither process finds it: both create it
    go = tmp_path / "go"
    count = 200
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(go), tag, other, str(count)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for tag, other in (("a", "b"), ("b", "a"))]
    go.touch()
    results = [p.communicate(timeout=240) for p in procs]
    for p, (_out, _err) in zip(procs, results):
        assert p.returncode == 0, [e.decode(errors="replace") for _, e in results]
    ids = {tag: [int(x) for x in out.split()] for tag, (out, _) in zip("ab", results)}
    assert len(ids["a"]) == len(ids["b"]) == count
    assert not set(ids["a"]) & set(ids["b"])  # no id handed to both
    with History(str(path)) as h:
        entries = h.list(0)
        urls = {e.url for e in entries}
        for tag in "ab":  # each id holds what that process wrote
            for i in (0, count // 2, count - 1):
                assert h.get(ids[tag][i]).request.url == f"http://127.0.0.1:9/{tag}/{i}"
    assert len(entries) == 2 * count
    assert urls == {f"http://127.0.0.1:9/{t}/{i}" for t in "ab" for i in range(count)}


def test_replay_sends_identical_bytes_to_the_same_target(recorder, hpath):
    # Odd on purpose: header spacing and case, a body; the host name only resolves via the pin.
    raw = (b"POST /submit?q=1 HTTP/1.1\r\nHost: replay.invalid\r\nx-ODD-case:   spaced  \r\n"
           b"Content-Length: 11\r\nConnection: close\r\n\r\nhello\x00world")
    opts = Options(resolve=(parse_pin(f"replay.invalid:{recorder.port}:127.0.0.1"),))
    with Engine() as engine:
        first = engine.send(Request.raw(raw, f"http://replay.invalid:{recorder.port}/"), options=opts)
    assert first.ok, first.error
    with History() as h:
        stored = h.get(h.add(first))
    assert stored.request.data == raw and stored.request.is_raw
    assert [pin_text(p) for p in stored.options.resolve] == [f"replay.invalid:{recorder.port}:127.0.0.1"]
    again = Engine().send(stored.request, options=stored.options)
    assert again.ok, again.error
    assert recorder.received == [raw, raw]
    assert again.connection.remote == ("127.0.0.1", recorder.port)
    assert again.response.body == b"recorded\n"


def test_pin_text_round_trips():
    for text in ("a.test:80:127.0.0.1", "b.test:*:127.0.0.1,127.0.0.2", "c.test:443:[::1],127.0.0.1"):
        assert parse_pin(pin_text(parse_pin(text))) == parse_pin(text)


# ----------------------------------------------------------------------------- CLI


def _cli(*argv):
    from netlab.cli.history import add_parsers

    parser = argparse.ArgumentParser(prog="netlab")
    sub = parser.add_subparsers(dest="command")
    add_parsers(sub)
    return parser.parse_args(list(argv))


def test_cli_history_table_and_json(web, hpath, capsys):
    from netlab.cli.history import run

    assert run(_cli("history")) == 0
    assert "no exchanges" in capsys.readouterr().err
    with Engine() as engine, History() as h:
        ok = h.add(engine.send(Request.from_url(f"http://127.0.0.1:{web}/hello")))
        blocker = _refused_port()
        try:
            bad = h.add(engine.send(Request.from_url(f"http://127.0.0.1:{blocker.getsockname()[1]}/down")))
        finally:
            blocker.close()
    assert run(_cli("history")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "METHOD", "URL", "STATUS", "MS", "CONN"]
    assert lines[1].split()[0] == str(bad) and "connect" in lines[1].split() and "/down" in lines[1]
    assert lines[2].split()[0] == str(ok) and "200" in lines[2].split() and lines[2].split()[-1] == "new"

    assert run(_cli("history", "--json", "--limit", "1")) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [bad]
    assert data[0]["status"] is None and data[0]["error_phase"] == "connect" and data[0]["reused"] is False
    assert set(data[0]) == {"id", "started", "method", "url", "status", "duration_ms", "error_phase", "reused"}


def test_cli_replay(recorder, hpath, capsys):
    from netlab.cli.history import run

    raw = b"GET /again HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Lab:  1\r\nConnection: close\r\n\r\n"
    with Engine() as engine, History() as h:
        ident = h.add(engine.send(Request.raw(raw, f"http://127.0.0.1:{recorder.port}/")))

    assert run(_cli("replay", str(ident))) == 0
    out = capsys.readouterr().out
    assert out.startswith("HTTP/1.1 200 OK\n") and out.endswith("recorded\n")
    assert recorder.received == [raw, raw]

    assert run(_cli("replay", "last", "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["request"]["raw"] == raw.decode("latin-1")
    assert data["response"]["status"] == 200 and data["error"] is None
    assert recorder.received == [raw, raw, raw]

    assert run(_cli("replay", str(ident), "-v")) == 0
    err = capsys.readouterr().err
    assert f"replaying #{ident}" in err and "> GET /again HTTP/1.1\\r\\n" in err and "stored as #" in err

    with History() as h:
        entries = h.list(0)
    assert len(entries) == 4 and all(e.status == 200 for e in entries)


def test_cli_replay_unknown_id_and_failure(recorder, hpath, capsys):
    from netlab.cli.history import run

    assert run(_cli("replay", "41")) == 2
    assert "no exchange with id 41" in capsys.readouterr().err
    assert run(_cli("replay", "nope")) == 2
    assert "not an exchange id" in capsys.readouterr().err
    assert run(_cli("replay", "last")) == 2
    assert "empty" in capsys.readouterr().err

    with Engine() as engine, History() as h:
        ident = h.add(engine.send(Request.from_url(f"http://127.0.0.1:{recorder.port}/")))
    recorder.close()  # the target is gone: the replay fails to connect
    assert run(_cli("replay", str(ident))) == 1
    err = capsys.readouterr().err
    assert "connect failed" in err and "next:" in err
    with History() as h:
        latest = h.list(1)[0]
    assert latest.id != ident and latest.error_phase == "connect"


def test_record_for_netlab_send(recorder, hpath, tmp_path, monkeypatch):
    import io

    from netlab.cli.store import record

    with Engine() as engine:
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{recorder.port}/sent"))
    err = io.StringIO()
    ident = record(ex, err)
    assert err.getvalue() == ""
    with History() as h:
        assert h.get(ident).request.data == ex.request.data
    # a history that cannot be opened is reported, and the exchange still goes somewhere harmless
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    monkeypatch.setenv("NETLAB_HISTORY", str(blocker / "h.sqlite3"))
    err = io.StringIO()
    assert record(ex, err) is not None
    assert "history is not saved" in err.getvalue()


# ------------------------------------------------------------- crashes and damaged files

_KILLED_WRITER = textwrap.dedent("""
    import sys
    from netlab.engine import Options, Request
    from netlab.engine.store.history import History
    from netlab.engine.session import Exchange
    path, start = sys.argv[1], int(sys.argv[2])
    h = History(path)
    if h.notice is not None:
        sys.exit(h.notice)
    body = bytes(range(256)) * 80  # 20 KiB: several pages per write, so a kill can land mid-write
    i = start
    while True:
        ident = h.add(Exchange(request=Request.from_url(f"http://127.0.0.1:9/kill/{i}", method="POST", body=body),
                               options=Options(), started=1000.0 + i))
        print(ident, i, flush=True)  # only after add() has returned: this write is complete
        i += 1
""")
_KILLED_BODY = bytes(range(256)) * 80


def _read_line(proc: subprocess.Popen, buf: bytearray) -> bytes:
    """The next complete line of ``proc``'s stdout (HANG_GUARD only guards against a hang)."""
    import select

    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        ready, _, _ = select.select([fd], [], [], HANG_GUARD)
        assert ready, "the writer printed nothing"
        chunk = os.read(fd, 65536)
        assert chunk, f"the writer ended: {proc.stderr.read().decode(errors='replace')}"
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line


def _kill_writer(path: Path, start: int, delay: float) -> list[tuple[int, int]]:
    """Run the writer on ``path``, SIGKILL it ``delay`` s after its first write completed;
    return every (id, i) it printed, i.e. every write that had completed."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), str(start)],
                            env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        buf = bytearray()
        first = _read_line(proc, buf)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    text = first + b"\n" + bytes(buf) + rest
    lines = text.split(b"\n")[:-1]  # a line cut off by the kill has no newline: not a completed write
    return [(int(a), int(b)) for a, b in (line.split() for line in lines)]


def test_sigkill_while_writing_loses_no_completed_exchange(tmp_path, monkeypatch):
    """A writer is killed with SIGKILL in the middle of a stream of writes, four times over
    on the same file with different delays: every exchange whose add() had returned is
    there and readable afterwards, the file (with the killed process's -wal and -shm
    sidecars) opens without a notice, and the next writer and this process write on."""
    path = tmp_path / "history.sqlite3"
    written: list[tuple[int, int]] = []
    for delay in (0.0, 0.05, 0.25, 0.6):
        done = _kill_writer(path, len(written) and written[-1][1] + 1, delay)
        assert done, "the writer completed no write before the kill"
        written += done
        assert Path(f"{path}-wal").exists()  # left behind by the killed process
        with History(str(path)) as h:
            assert h.notice is None, h.notice
            for ident, i in written:
                got = h.get(ident)
                assert got.request.url == f"http://127.0.0.1:9/kill/{i}" and got.request.body == _KILLED_BODY
    ids = [ident for ident, _ in written]
    assert len(set(ids)) == len(ids)
    with History(str(path)) as h:
        new = h.add(_synthetic(1))
        assert new > max(ids) and h.get(new).request.url == "http://127.0.0.1:9/item/1"
        assert {e.id for e in h.list(0)} >= set(ids) | {new}
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        raw.close()


def _good_history(path: Path, n: int = 30) -> list[int]:
    with History(str(path)) as h:
        return [h.add(_synthetic(i)) for i in range(n)]


def _aside(tmp_path: Path, name: str = "history.sqlite3") -> list[Path]:
    return [p for p in tmp_path.iterdir() if p.name.startswith(f"{name}.corrupt-")
            and not p.name.endswith(("-wal", "-shm"))]


@pytest.mark.parametrize("cut", ["mid-page", "last-page", "pages-lost", "header-only"])
def test_truncated_file_is_moved_aside(tmp_path, cut):
    path = tmp_path / "history.sqlite3"
    from netlab.engine.session import Exchange

    with History(str(path)) as h:  # bodies make overflow pages: a cut lands inside a record
        for i in range(20):
            h.add(Exchange(request=Request.from_url(f"http://127.0.0.1:9/t/{i}", method="POST", body=b"z" * 5000),
                           options=Options(), started=1.0 + i))
    assert not Path(f"{path}-wal").exists()  # closed cleanly: everything is in the main file
    size = path.stat().st_size
    keep = {"mid-page": size - 100, "last-page": size - 4096 + 1, "pages-lost": size - 3 * 4096,
            "header-only": 100}[cut]
    os.truncate(path, keep)
    original = path.read_bytes()
    with History(str(path)) as h:
        assert h.persistent and h.notice is not None
        [aside] = _aside(tmp_path)
        assert str(path) in h.notice and f"moved to {aside}" in h.notice and "new history" in h.notice
        assert aside.read_bytes() == original  # kept as it was, for whoever wants to look
        assert h.list(0) == []
        ident = h.add(_synthetic(1))
        assert h.get(ident).request.url == "http://127.0.0.1:9/item/1"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with History(str(path)) as again:
        assert again.notice is None and [e.id for e in again.list(0)] == [ident]


def test_intact_file_is_not_moved(tmp_path):
    """The damage check must not fire on a good file: closed cleanly, or with a WAL."""
    path = tmp_path / "history.sqlite3"
    ids = _good_history(path)
    with History(str(path)) as h:
        assert h.notice is None and [e.id for e in h.list(0)] == ids[::-1]
        with History(str(path)) as second:  # opened while the first holds the WAL open
            assert second.notice is None and len(second.list(0)) == len(ids)
    assert _aside(tmp_path) == []


def test_zero_length_file_becomes_a_new_history(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    with History(str(path)) as h:
        assert h.notice is None and h.persistent  # an empty file is an empty database: nothing to move
        ident = h.add(_synthetic(1))
    with History(str(path)) as h:
        assert h.get(ident).request.url == "http://127.0.0.1:9/item/1"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _aside(tmp_path) == []


def test_directory_at_the_path_is_left_alone(tmp_path):
    """A directory is never moved (NETLAB_HISTORY=~/somewhere by mistake must not move a
    user's directory): the history lives in memory, and the notice names the path."""
    path = tmp_path / "history.sqlite3"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    with History(str(path)) as h:
        assert not h.persistent
        assert h.notice and str(path) in h.notice and "directory" in h.notice.lower() and "memory" in h.notice
        ident = h.add(_synthetic(1))
        assert h.get(ident).request.url == "http://127.0.0.1:9/item/1"
    assert path.is_dir() and (path / "keep.txt").read_text() == "mine" and _aside(tmp_path) == []


def test_torn_wal_from_a_killed_process(tmp_path):
    """A killed writer's -wal ending in a half-written frame: the frames that were committed
    are recovered, the torn tail is ignored, nothing is moved aside."""
    path = tmp_path / "history.sqlite3"
    written = _kill_writer(path, 0, 0.1)
    wal = Path(f"{path}-wal")
    assert wal.exists() and wal.stat().st_size > 32
    with open(wal, "ab") as f:
        f.write(b"\x37\x7f\x06\x82" + os.urandom(3000))  # garbage where the next frame would be
    with History(str(path)) as h:
        assert h.notice is None, h.notice
        for ident, i in written:
            assert h.get(ident).request.url == f"http://127.0.0.1:9/kill/{i}"
        new = h.add(_synthetic(1))
        assert h.get(new).request.url == "http://127.0.0.1:9/item/1"
    assert _aside(tmp_path) == []


def test_corrupt_file_with_sidecars_moves_them_too(tmp_path):
    """Garbage in the file with a -wal and -shm beside it (from the process that died): all
    three move aside together, the -wal unchanged; the new history starts clean."""
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"not a database at all\n" * 300)
    Path(f"{path}-wal").write_bytes(b"stale wal")
    Path(f"{path}-shm").write_bytes(b"stale shm")
    with History(str(path)) as h:
        [aside] = _aside(tmp_path)
        assert str(aside) in h.notice
        assert Path(f"{aside}-wal").read_bytes() == b"stale wal"  # kept as it was (SQLite would delete it)
        assert Path(f"{aside}-shm").exists()  # (an index SQLite rebuilds; it holds no data)
        assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").read_bytes() != b"stale wal"
        ident = h.add(_synthetic(1))
    with History(str(path)) as h:
        assert h.notice is None and [e.id for e in h.list(0)] == [ident]


# ------------------------------------------------------------------ keeping no bodies


def _file_bytes(path: Path) -> bytes:
    """The database file and its sidecars, as they are on disk."""
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_send_no_history_bodies_keeps_bodies_out_of_the_file(web, tmp_path, monkeypatch, run_cli):
    monkeypatch.delenv("NETLAB_HISTORY_BODIES", raising=False)
    marker, chunk_marker = b"hello from http.server", b"first chunk"

    def send(name: str, *args: str) -> Path:
        path = tmp_path / name / "history.sqlite3"
        monkeypatch.setenv("NETLAB_HISTORY", str(path))
        for target in ("hello", "chunked"):
            code, out, err = run_cli("send", *args, f"http://127.0.0.1:{web}/{target}")
            assert code == 0, err
        assert marker.decode() in run_cli("send", "--no-history", *args, f"http://127.0.0.1:{web}/hello").out
        return path

    kept = send("kept")  # the control: without the option the bodies are in the file
    assert marker in _file_bytes(kept) and chunk_marker in _file_bytes(kept)

    for path in (send("flag", "--no-history-bodies"), ):
        data = _file_bytes(path)
        assert marker not in data and chunk_marker not in data
        with History(str(path)) as h:
            chunked, hello = (h.get(e.id) for e in h.list(0))
        assert hello.response.status == 200 and hello.response.body == b""
        assert hello.response.body_store.full_size == len(HELLO) and hello.response.body_store.truncated
        assert ("X-Lab", "history") in hello.response.headers  # the head is kept
        assert chunked.response.trailers == [("X-Checksum", "abc123")] and chunked.response.raw_body == b""

    monkeypatch.setenv("NETLAB_HISTORY_BODIES", "0")
    env_path = send("env")
    assert marker not in _file_bytes(env_path) and chunk_marker not in _file_bytes(env_path)


def test_no_bodies_environment_wins_over_settings_and_reaches_the_tui(web, tmp_path, monkeypatch):
    """NETLAB_HISTORY_BODIES=0 turns bodies off even where the settings say bodies = true
    (the TUI passes the settings to History through its HistoryStore); =1 changes nothing."""
    from netlab.engine.store.history import bodies_from_env
    from netlab.ui.workers import HistoryStore

    with Engine() as engine:
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{web}/hello"))
    assert ex.ok and ex.response.body == HELLO
    for value, expected in (("0", False), ("off", False), ("no", False), ("1", True), ("", None)):
        monkeypatch.setenv("NETLAB_HISTORY_BODIES", value)
        assert bodies_from_env() is expected
    monkeypatch.setenv("NETLAB_HISTORY_BODIES", "0")
    path = tmp_path / "tui" / "history.sqlite3"
    store = HistoryStore(str(path), {"store_bodies": True, "body_cap": 1 << 20})
    try:
        assert store.call(lambda h: h.store_bodies) is False
        ident = store.call(lambda h: h.add(ex))
        assert store.call(lambda h: h.get(ident).response.body) == b""
    finally:
        store.close()
    assert b"hello from http.server" not in _file_bytes(path)

    monkeypatch.setenv("NETLAB_HISTORY_BODIES", "1")
    with History(str(tmp_path / "one.sqlite3"), store_bodies=False) as h:
        assert h.store_bodies is False  # the caller's False (the flag, the settings) stands
    with History(str(tmp_path / "two.sqlite3")) as h:
        assert h.store_bodies is True
        assert h.get(h.add(ex)).response.body == HELLO


_OPEN_AND_CLOSE = ("import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n"
                   "c.execute('SELECT COUNT(*) FROM exchange').fetchone()\nc.close()")


def _other_process_opens_and_closes(path: Path) -> bool:
    """Another process opens the file and closes it: it deletes the -wal only when it
    believes it is the last connection, i.e. when no lock of ours is left.  True: the -wal
    survived (our locks are intact)."""
    subprocess.run([sys.executable, "-c", _OPEN_AND_CLOSE, str(path)], check=True, timeout=HANG_GUARD)
    return Path(f"{path}-wal").exists()


def test_a_second_history_in_the_same_process_keeps_the_first_ones_locks(tmp_path):
    """Closing any descriptor of a database file drops every POSIX lock the process holds on
    it (SQLite's "how to corrupt" 2.2); History must never open the file itself once it
    exists.  Without the locks another process takes itself for the last connection and
    deletes the write-ahead log under our feet: two processes then hand out the same ids."""
    control = tmp_path / "control.sqlite3"
    with History(str(control)) as a:
        a.add(_synthetic(1))
        os.close(os.open(control, os.O_RDWR))  # what History must not do: the check below sees it
        assert not _other_process_opens_and_closes(control)

    path = tmp_path / "history.sqlite3"
    with History(str(path)) as a:
        a.add(_synthetic(1))
        os.chmod(path, 0o644)  # (the second History tightens the mode again: without opening the file)
        with History(str(path)) as b:  # the TUI's store and a command in one process, say
            assert b.notice is None
            assert _other_process_opens_and_closes(path)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            b.add(_synthetic(2))
        assert _other_process_opens_and_closes(path)
        assert len(a.list(0)) == 2
