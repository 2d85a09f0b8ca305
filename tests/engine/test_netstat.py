"""The connection table against real loopback sockets of this very process."""

from __future__ import annotations

import contextlib
import http.server
import os
import random
import socket
import tempfile
import threading

import psutil
import pytest

from netlab.engine import Engine, Request, netstat
from netlab.engine.netstat import ConnRow, Snapshot, diff, format_addr, is_own, snapshot, sockdiag

HANG_GUARD = 30.0
ME = os.getpid()
MY_NAME = psutil.Process().name()
CLOSING = {"FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSING"}  # active closer's side after close()


def _find(snap: Snapshot, proto: str, local, remote=None, pid=...) -> list[ConnRow]:
    return [r for r in snap.rows if r.proto == proto and r.local == tuple(local)
            and (r.remote == (tuple(remote) if remote is not None else None))
            and (pid is ... or r.pid == pid)]


@pytest.fixture
def pair():
    """A listening socket, a client connected to it and the accepted server side."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    client = socket.create_connection(listener.getsockname(), timeout=HANG_GUARD)
    accepted, _ = listener.accept()
    accepted.settimeout(HANG_GUARD)
    socks = [listener, client, accepted]
    yield listener, client, accepted
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def test_snapshot_finds_listener_and_connected_pair(pair):
    listener, client, accepted = pair
    snap = snapshot()
    assert snap.notice is None
    assert snap.elapsed_ms >= 0 and snap.taken > 0
    lport = listener.getsockname()
    [listen_row] = _find(snap, "tcp", lport, None)
    assert listen_row.state == "LISTEN" and listen_row.pid == ME and listen_row.process == MY_NAME
    [client_row] = _find(snap, "tcp", client.getsockname(), client.getpeername())
    assert client_row.state == "ESTABLISHED" and client_row.pid == ME and client_row.process == MY_NAME
    [server_row] = _find(snap, "tcp", accepted.getsockname(), accepted.getpeername())
    assert server_row.state == "ESTABLISHED" and server_row.pid == ME
    assert client_row.key == ("tcp", client.getsockname(), client.getpeername(), ME)
    assert len({r.key for r in snap.rows}) == len(snap.rows)  # keys are unique: usable as table row keys


def test_diff_after_closing_one_side(pair):
    listener, client, accepted = pair
    before = snapshot().by_key()
    client_key = ("tcp", client.getsockname(), client.getpeername(), ME)
    server_key = ("tcp", accepted.getsockname(), accepted.getpeername(), ME)
    assert before[client_key].state == before[server_key].state == "ESTABLISHED"
    client.close()
    assert accepted.recv(10) == b""  # the FIN has arrived: the server side is in CLOSE_WAIT now
    after = snapshot().by_key()
    added, removed, changed = diff(before, after)
    # The closed client socket has no process any more: its keyed row is gone ...
    assert client_key in removed
    # ... and (while it lingers in FIN_WAIT2/TIME_WAIT) it is back without a pid.
    lingering = [r for r in added if r.local == client_key[1] and r.remote == client_key[2]]
    assert all(r.pid is None and r.state in CLOSING for r in lingering)
    # The server side kept its key and changed state.
    [server_now] = [r for r in changed if r.key == server_key]
    assert server_now.state == "CLOSE_WAIT"
    assert ("tcp", listener.getsockname(), None, ME) not in removed
    assert all(r.key not in before for r in added)


def test_diff_is_by_key():
    a = ConnRow("tcp", ("127.0.0.1", 1), ("127.0.0.1", 2), "ESTABLISHED", 5, "x")
    b = ConnRow("udp", ("127.0.0.1", 53), None, "NONE", 6, "dns")
    a2 = ConnRow("tcp", ("127.0.0.1", 1), ("127.0.0.1", 2), "CLOSE_WAIT", 5, "x")
    c = ConnRow("tcp6", ("::1", 80), None, "LISTEN", None, None)
    old = netstat.by_key([a, b])
    new = netstat.by_key([a2, c])
    assert diff(old, new) == ([c], [b.key], [a2])
    assert diff(old, old) == ([], [], [])


def test_udp_and_unix_rows(tmp_path):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    sockdir = tempfile.mkdtemp(prefix="nl-ns-", dir="/tmp")  # AF_UNIX paths are short
    path = os.path.join(sockdir, "lab.sock")
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        unix.bind(path)
        unix.listen(1)
        [urow] = _find(snapshot("udp"), "udp", udp.getsockname(), None)
        assert urow.state == "NONE" and urow.pid == ME
        all_rows = snapshot("all")
        assert _find(all_rows, "udp", udp.getsockname(), None)
        [xrow] = _find(snapshot("unix"), "unix", (path, 0), None)
        # psutil reports no state for Unix sockets on Linux (/proc/net/unix has none it maps)
        assert xrow.state == ("NONE" if psutil.LINUX else xrow.state) and xrow.pid == ME
        assert xrow.process == MY_NAME
        assert format_addr(xrow.local) == path and format_addr(xrow.remote) == "*"
    finally:
        udp.close()
        unix.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.rmdir(sockdir)


class _KeepAlive(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"own socket\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_engine_sockets_are_tagged_as_own():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        engine = Engine()
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{port}/"))
        assert ex.ok and ex.keep_alive, ex.error
        local, remote = ex.connection.local, ex.connection.remote
        own = engine.own_sockets()
        assert own == {(local, remote)}

        snap = snapshot()
        [row] = _find(snap, "tcp", local, remote)
        assert row.state == "ESTABLISHED" and row.pid == ME
        assert is_own(row, own)
        [peer_side] = _find(snap, "tcp", remote, local)  # the server's end of the same connection
        assert not is_own(peer_side, own)
        [listen_row] = _find(snap, "tcp", ("127.0.0.1", port), None)
        assert not is_own(listen_row, own)
        tagged = [r for r in snap.rows if is_own(r, own)]
        assert tagged == [row]

        engine.close()  # we close first: our side lingers in FIN_WAIT2 / TIME_WAIT without a pid
        assert engine.own_sockets() == set()
        after = snapshot()
        [closed] = _find(after, "tcp", local, remote)
        assert closed.state in CLOSING | {"ESTABLISHED"} and closed.pid in (None, ME)
        assert not is_own(closed, engine.own_sockets())
        assert is_own(closed, {(ex.connection.local, ex.connection.remote)})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_is_own_normalises_addresses():
    row = ConnRow("tcp6", ("::ffff:127.0.0.1", 40000), ("::ffff:127.0.0.1", 80), "ESTABLISHED", ME, "py")
    assert is_own(row, {(("127.0.0.1", 40000), ("127.0.0.1", 80))})
    assert not is_own(row, {(("127.0.0.1", 40001), ("127.0.0.1", 80))})
    v6 = ConnRow("tcp6", ("::1", 5), ("0:0::1", 6), "ESTABLISHED", ME, "py")
    assert is_own(v6, {(("0::1", 5), ("::1", 6))})
    assert not is_own(ConnRow("tcp", ("127.0.0.1", 80), None, "LISTEN", ME, "py"), {(("127.0.0.1", 80), ("", 0))})
    assert not is_own(row, set())


def test_access_denied_falls_back_to_own_sockets(pair, monkeypatch):
    listener, client, _ = pair

    def denied(kind="inet"):
        raise psutil.AccessDenied(pid=None, msg="not allowed (test)")

    monkeypatch.setattr(psutil, "net_connections", denied)
    snap = snapshot()
    assert snap.notice and "AccessDenied" in snap.notice
    assert {r.pid for r in snap.rows} == {ME}
    assert _find(snap, "tcp", listener.getsockname(), None)[0].process == MY_NAME
    assert _find(snap, "tcp", client.getsockname(), client.getpeername())[0].state == "ESTABLISHED"


def test_one_process_scan_per_snapshot(pair, monkeypatch):
    calls = []
    real = psutil.process_iter

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(psutil, "process_iter", counting)
    snap = snapshot()
    assert len(snap.rows) >= 3
    assert len(calls) == 1


def test_format_addr():
    assert format_addr(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert format_addr(("::1", 80)) == "[::1]:80"
    assert format_addr(None) == "*"
    assert format_addr(("/run/x.sock", 0)) == "/run/x.sock"
    assert format_addr(("", 0)) == "(unnamed)"
    assert format_addr(("0.0.0.0", 0)) == "0.0.0.0:*"


# ------------------------------------------------------------------- states and filters

def _row(proto="tcp", local=("127.0.0.1", 1000), remote=("127.0.0.1", 80), state="ESTABLISHED", pid=10,
         process="p") -> ConnRow:
    return ConnRow(proto, local, remote, state, pid, process)


def test_normalize_state_accepts_psutil_ss_and_netstat_spellings():
    n = netstat.normalize_state
    assert n("established") == n("ESTAB") == n(" Established ") == "ESTABLISHED"
    assert n("time-wait") == n("TIME_WAIT") == "TIME_WAIT"
    assert n("FIN-WAIT-2") == n("fin_wait2") == "FIN_WAIT2"
    assert n("syn-recv") == n("SYN_RECEIVED") == "SYN_RECV"
    assert n("closed") == "CLOSE" and n("LISTENING") == "LISTEN" and n("unconn") == "NONE"
    for bad in ("", "establish", "wait"):
        with pytest.raises(ValueError, match="unknown TCP state"):
            n(bad)


def test_state_counts_in_lifecycle_order():
    rows = [_row(state=s) for s in ("TIME_WAIT", "ESTABLISHED", "LISTEN", "ESTABLISHED", "NONE")]
    counts = netstat.state_counts(rows)
    assert counts == {"LISTEN": 1, "ESTABLISHED": 2, "TIME_WAIT": 1, "NONE": 1}
    assert list(counts) == ["LISTEN", "ESTABLISHED", "TIME_WAIT", "NONE"]


def test_row_family_and_type():
    assert _row().family == "AF_INET" and _row().type == "SOCK_STREAM"
    assert _row(proto="udp6").family == "AF_INET6" and _row(proto="udp6").type == "SOCK_DGRAM"
    unix = ConnRow("unix", ("/x", 0), None, "NONE", 1, "p", "SOCK_DGRAM")
    assert unix.family == "AF_UNIX" and unix.type == "SOCK_DGRAM"


def test_own_keys_agrees_with_is_own():
    rows = [_row(local=("127.0.0.1", p), remote=("127.0.0.1", 80)) for p in range(1000, 1100)]
    rows += [_row(proto="tcp6", local=("::ffff:127.0.0.1", 1005), remote=("::ffff:127.0.0.1", 80)),
             _row(local=("127.0.0.1", 80), remote=None, state="LISTEN"),
             _row(local=("127.0.0.1", 80), remote=("127.0.0.1", 1005), pid=11)]  # the server's side
    own = {(("127.0.0.1", 1005), ("127.0.0.1", 80)), (("::1", 9), ("::1", 10))}
    keys = netstat.own_keys(rows, own)
    assert keys == {r.key for r in rows if is_own(r, own)}
    assert keys == {rows[5].key, rows[100].key}
    assert netstat.own_keys(rows, set()) == frozenset()


def test_viewspec_filters():
    V = netstat.ViewSpec
    est = _row(local=("127.0.0.1", 5000), remote=("127.0.0.1", 8080), process="curl", pid=42)
    lst = _row(local=("0.0.0.0", 8080), remote=None, state="LISTEN", process="nginx", pid=7)
    udp = _row(proto="udp", local=("127.0.0.1", 53), remote=None, state="NONE", process="dnsmasq", pid=9)
    udp_conn = _row(proto="udp", local=("127.0.0.1", 4000), remote=("127.0.0.1", 53), state="NONE")
    tw = _row(proto="tcp6", local=("::1", 6000), remote=("::1", 8080), state="TIME_WAIT", pid=None, process=None)
    rows = [est, lst, udp, udp_conn, tw]

    def shown(spec, own=frozenset()):
        return [r for r in rows if spec.matches(r, own)]

    assert shown(V()) == rows and not V().filtering
    assert shown(V(text="CURL")) == [est]  # case-insensitive, the process name
    assert shown(V(text=":8080")) == [est, lst, tw]  # the address as shown
    assert shown(V(text="[::1]:6000 time_wait")) == [tw]  # every word must match
    assert shown(V(text="curl nginx")) == []
    assert shown(V(text="- time")) == [tw]  # no pid shows as "-"
    assert shown(V(states=frozenset({"LISTEN", "TIME_WAIT"}))) == [lst, tw]
    assert shown(V(protos=netstat.KINDS["tcp"])) == [est, lst, tw]
    assert shown(V(protos=netstat.KINDS["tcp4"])) == [est, lst]
    assert shown(V(protos=netstat.KINDS["udp"])) == [udp, udp_conn]
    assert shown(V(listening=True)) == [lst, udp]  # as ss -l: TCP LISTEN and unconnected UDP
    assert shown(V(port=53)) == [udp, udp_conn]  # local or remote port
    assert shown(V(pid=42)) == [est]
    assert shown(V(own=True), frozenset({tw.key})) == [tw]
    assert shown(V(own=True)) == []
    with pytest.raises(ValueError, match="cannot sort by"):
        V(sort="color")


def test_filter_sort_by_every_column():
    V = netstat.ViewSpec
    a = _row(local=("127.0.0.10", 80), remote=("127.0.0.1", 9), state="TIME_WAIT", pid=None, process=None)
    b = _row(local=("127.0.0.2", 443), remote=None, state="LISTEN", pid=300, process="zeta")
    c = _row(proto="tcp6", local=("::1", 22), remote=("::1", 5000), state="ESTABLISHED", pid=20, process="Alpha")
    d = _row(proto="udp", local=("127.0.0.2", 53), remote=None, state="NONE", pid=20, process="alpha")
    rows = [a, b, c, d]
    first_seen = {a.key: 3.0, b.key: 1.0, c.key: 4.0, d.key: 2.0}

    def order(column, reverse=False):
        return [r for r in netstat.filter_sort(rows, V(sort=column, reverse=reverse), first_seen=first_seen)]

    assert order("proto") == [b, a, c, d]  # tcp: 127.0.0.2 before 127.0.0.10 (numeric), then tcp6, udp
    assert order("local") == [d, b, a, c]  # IPv4 numerically (port as a number), then IPv6
    assert order("remote") == [b, d, a, c]  # no remote first
    assert order("state") == [b, c, a, d]  # LISTEN, ESTABLISHED, TIME_WAIT, NONE: a connection's life order
    assert order("pid") == [c, d, b, a]  # 20, 20, 300, then no pid
    assert order("process") == [c, d, b, a]  # case-insensitive, no process last
    assert order("age") == [c, a, d, b]  # youngest (seen last) first
    assert order("age", reverse=True) == [b, d, a, c]
    assert [r for r in netstat.filter_sort(rows, V(text="alpha", sort="pid", reverse=True))] == [d, c]


def test_conn_table_keyed_updates_keep_a_sorted_filtered_view():
    V = netstat.ViewSpec
    t = netstat.ConnTable(V(sort="state"))
    a = _row(local=("127.0.0.1", 1), state="ESTABLISHED")
    b = _row(local=("127.0.0.1", 2), state="LISTEN", remote=None)
    c = _row(local=("127.0.0.1", 3), state="TIME_WAIT", pid=None, process=None)
    assert t.apply([a, b, c], now=100.0)
    assert t.keys() == [b.key, a.key, c.key] and len(t) == 3 and len(t.view) == 3
    assert t.index(c.key) == 2 and t.key_at(0) == b.key
    # a changed cell moves the row to its new place; nothing else is touched
    a2 = ConnRow(*_fields(a, state="CLOSE_WAIT"))
    assert t.apply(changed=[a2], now=101.0)
    assert t.keys() == [b.key, a2.key, c.key] and t.get(a.key).state == "CLOSE_WAIT"
    assert t.get(b.key) is b  # unchanged rows are the very same objects
    assert not t.apply()  # an empty diff changes nothing
    t.apply(removed=[b.key, ("tcp", ("9.9.9.9", 9), None, 1)], now=102.0)  # an unknown key is ignored
    assert t.keys() == [a2.key, c.key] and b.key not in t
    # a filter narrows in place; the text search sees what the table shows
    t.set_view(V(sort="state", text="time"))
    assert t.keys() == [c.key]
    t.set_view(V(sort="state", text="time_wait"))
    assert t.keys() == [c.key]
    t.set_view(V(sort="state", reverse=True))
    assert t.keys() == [c.key, a2.key] and t.index(c.key) == 0 and t.key_at(1) == a2.key
    assert t.keys(1, 5) == [a2.key] and t.keys(5, 9) == []
    assert t.index(b.key) is None
    assert t.counts() == {"CLOSE_WAIT": 1, "TIME_WAIT": 1}


def _fields(row, **change):
    values = {"proto": row.proto, "local": row.local, "remote": row.remote, "state": row.state, "pid": row.pid,
              "process": row.process}
    values.update(change)
    return tuple(values.values())


def test_conn_table_small_diffs_never_rebuild(monkeypatch):
    t = netstat.ConnTable(netstat.ViewSpec(sort="process"))
    rows = [_row(local=("127.0.0.1", 10000 + i), process=f"p{i % 7}", pid=i % 13) for i in range(2000)]
    t.apply(rows, now=1.0)
    rebuilds = []
    real = netstat.ConnTable._rebuild
    monkeypatch.setattr(netstat.ConnTable, "_rebuild", lambda self: (rebuilds.append(1), real(self)))
    before = list(t.view)
    t.apply([_row(local=("127.0.0.1", 9000), process="p3")], [rows[5].key],
            [ConnRow(*_fields(rows[6], state="FIN_WAIT2"))], now=2.0)
    assert rebuilds == []  # a keyed update, not a clear-and-refill
    same = set(map(id, t.view)) & set(map(id, before))
    assert len(same) == len(before) - 2  # every untouched entry is the same object, in place
    assert t.keys() == [r.key for r in netstat.filter_sort(t.rows.values(), t.spec)]
    t.set_view(netstat.ViewSpec(sort="pid"))
    assert rebuilds == [1]  # another sort column does re-sort


def test_conn_table_matches_filter_sort_under_random_churn():
    """The incrementally kept view always equals filtering and sorting from scratch."""
    rng = random.Random(4)
    V = netstat.ViewSpec
    specs = [V(), V(sort="state"), V(text="p1", sort="pid", reverse=True), V(text="p1 est"), V(text="p1 esta"),
             V(states=frozenset({"LISTEN"})), V(listening=True, sort="age"), V(own=True), V(own=True, sort="local"),
             V(port=81, sort="remote"), V(sort="process", reverse=True), V(sort="local"), V(text="::1")]

    def make(i, state=None):
        return ConnRow(rng.choice(["tcp", "tcp6", "udp"]), ("127.0.0.1" if i % 3 else "::1", 1000 + i),
                       None if i % 5 == 0 else (f"127.0.0.{1 + i % 7}", 80 + i % 3),
                       state or rng.choice(netstat.STATES), 100 + i % 9 if i % 11 else None, f"p{i % 4}")

    t = netstat.ConnTable()
    rows: dict = {}
    for step in range(150):
        new = dict(rows)
        for _ in range(rng.randrange(0, 400 if step % 10 == 0 else 30)):
            r = make(rng.randrange(3000))
            new[r.key] = r
        for k in rng.sample(list(new), min(len(new), rng.randrange(0, 20))):
            del new[k]
        for k in rng.sample(list(new), min(len(new), rng.randrange(0, 20))):
            new[k] = ConnRow(*_fields(new[k], state=rng.choice(netstat.STATES)))
        t.apply(*diff(rows, new), now=float(step))
        rows = new
        if rng.random() < 0.3:
            t.set_view(rng.choice(specs), frozenset(rng.sample(list(rows), min(5, len(rows)))))
        first_seen = {k: t.first_seen[k[:3]] for k in rows}
        assert t.keys() == [r.key for r in netstat.filter_sort(rows.values(), t.spec, t.own, first_seen)], step
        assert t.rows == rows
        for i, k in enumerate(t.keys(0, 10)):
            assert t.index(k) == i and t.key_at(i) == k


def test_a_worker_mirror_hands_over_a_sorted_copy():
    """A view=False mirror tracks rows and ages only; its copy() is a whole table, sorted
    for a spec, that takes further diffs by key like any other."""
    rows = [_row(local=("127.0.0.1", 1000 + i), process=f"p{i % 5}", state=netstat.STATES[i % 5])
            for i in range(3000)]
    mirror = netstat.ConnTable(view=False)
    mirror.apply(rows, now=5.0)
    assert len(mirror) == 3000 and mirror.view == [] and mirror.first_seen[rows[0].key[:3]] == 5.0
    assert mirror.big(3000) and mirror.big(301) and not mirror.big(300)
    spec = netstat.ViewSpec(sort="process", text="p3")
    own = frozenset({rows[3].key})
    copy = mirror.copy(spec, own)
    assert copy.keys() == [r.key for r in netstat.filter_sort(rows, spec, own)] and copy.own == own
    assert copy.age(rows[8].key, now=7.0) == 2.0
    mirror.apply(removed=[rows[3].key], now=6.0)  # the mirror goes on; the copy is the UI's now
    assert rows[3].key in copy and rows[3].key not in mirror
    late = _row(local=("127.0.0.1", 999), process="p3")
    assert copy.apply([late], [rows[8].key], now=8.0)
    assert copy.keys() == [r.key for r in netstat.filter_sort(copy.rows.values(), spec, own)]
    assert copy.index(late.key) is not None and copy.age(late.key, now=9.0) == 1.0


def test_conn_table_age_survives_the_pid_going_away():
    t = netstat.ConnTable(netstat.ViewSpec(sort="age"))
    mine = _row(pid=ME)
    t.apply([mine], now=10.0)
    assert t.age(mine.key, now=12.5) == 2.5
    lingering = ConnRow(*_fields(mine, state="TIME_WAIT", pid=None, process=None))
    t.apply([lingering], [mine.key], now=20.0)  # the diff of a close: same socket, no pid now
    assert t.age(lingering.key, now=25.0) == 15.0
    t.apply(removed=[lingering.key], now=30.0)
    assert t.first_seen == {} and t.age(lingering.key, now=31.0) == 0.0
    t.apply([lingering], now=40.0)  # gone and back: a new socket, a new age
    assert t.age(lingering.key, now=41.0) == 1.0


def test_conn_table_from_real_snapshots(pair):
    listener, client, accepted = pair
    t = netstat.ConnTable(netstat.ViewSpec(port=listener.getsockname()[1], sort="state"))
    t.replace(snapshot().rows)
    keys = t.keys()
    assert [t.get(k).state for k in keys] == ["LISTEN", "ESTABLISHED", "ESTABLISHED"]
    client.close()
    assert accepted.recv(10) == b""
    added, removed, changed = t.replace(snapshot().rows)
    states = sorted(t.get(k).state for k in t.keys())
    assert "CLOSE_WAIT" in states and states.count("LISTEN") == 1
    assert any(r.state == "CLOSE_WAIT" for r in changed)
    assert t.keys() == [r.key for r in netstat.filter_sort(t.rows.values(), t.spec)]


# ------------------------------------------------------------------------ scan pacing

def test_scan_pacer_never_overlaps_and_backs_off():
    p = netstat.ScanPacer(1.0, duty=0.25, max_interval=10.0)
    assert p.describe() == "scan … · every 1.0 s"
    assert p.begin()
    assert not p.begin() and p.skipped == 1  # one scan at a time
    assert p.end(100.0) == 1.0 and not p.busy  # fast scans: the base interval
    assert p.describe() == "scan 100 ms · every 1.0 s"
    assert p.begin()
    assert p.end(600.0) == pytest.approx(1.8)  # 600 ms of scanning is at most 25 % of the time
    assert p.backed_off and "backed off" in p.describe() and "scan 600 ms" in p.describe()
    p.begin()
    assert p.end(5000.0) == 10.0  # capped
    waits = []
    for _ in range(12):  # fast again: back towards the base, gradually
        p.begin()
        waits.append(p.end(50.0))
    assert waits == sorted(waits, reverse=True) and waits[0] > 1.0 and waits[-1] == 1.0
    assert not p.backed_off and p.scans == 15
    p.begin()
    assert p.end(None) == 1.0 and p.scans == 15 and not p.busy  # a failed scan still frees the pacer
    with pytest.raises(ValueError):
        netstat.ScanPacer(1.0, duty=0)


# ------------------------------------------------------------ following a connection

def _wait_state(local, remote, wanted, timeout=HANG_GUARD):
    import time

    end = time.monotonic() + timeout
    state = netstat.tcp_state(local, remote)
    while state not in wanted and time.monotonic() < end:
        time.sleep(0.01)
        state = netstat.tcp_state(local, remote)
    return state


def test_tcp_state_probe_follows_a_real_close(pair):
    if not psutil.LINUX:
        pytest.skip("the direct probe is Linux sock_diag")
    listener, client, accepted = pair
    c_local, c_remote = client.getsockname(), client.getpeername()
    assert netstat.tcp_state(c_local, c_remote) == "ESTABLISHED"
    assert netstat.tcp_state(c_remote, c_local) == "ESTABLISHED"  # the accepted side
    assert netstat.tcp_state(listener.getsockname(), ("0.0.0.0", 0)) == "LISTEN"
    assert netstat.tcp_state(("127.0.0.1", 1), ("127.0.0.1", 2)) is None
    client.close()  # we close first ...
    assert accepted.recv(10) == b""
    assert _wait_state(c_local, c_remote, {"FIN_WAIT2"}) == "FIN_WAIT2"
    assert netstat.tcp_state(c_remote, c_local) == "CLOSE_WAIT"
    accepted.close()  # ... and the peer too: we hold TIME_WAIT, the peer's socket is gone
    assert _wait_state(c_local, c_remote, {"TIME_WAIT"}) == "TIME_WAIT"
    assert _wait_state(c_remote, c_local, {None}) is None
    # the same answer a snapshot gives (psutil reads /proc/net/tcp)
    [row] = _find(snapshot("tcp"), "tcp", c_local, c_remote)
    assert row.state == "TIME_WAIT" and row.pid is None


def test_tcp_state_probe_ipv6():
    if not psutil.LINUX:
        pytest.skip("the direct probe is Linux sock_diag")
    try:
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    with listener:
        listener.listen(1)
        with socket.create_connection(listener.getsockname()[:2], timeout=HANG_GUARD) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert netstat.tcp_state(client.getsockname()[:2], client.getpeername()[:2]) == "ESTABLISHED"
                assert netstat.tcp_state(("0:0::1", client.getsockname()[1]),
                                         ("::1", client.getpeername()[1])) == "ESTABLISHED"


class _Ex:
    """The parts of an Exchange a Follow reads (for tests of the bookkeeping alone)."""

    def __init__(self, local, remote, reused=False, family="AF_INET"):
        from netlab.engine import ConnectionInfo, Timings

        self.connection = ConnectionInfo(family, local, remote, reused, None)
        self.timings = Timings(dns=1.0, connect=2.0)
        import time

        self.started = time.time()


def test_follow_records_steps_in_order_and_ends_when_gone():
    f = netstat.Follow.from_exchange(_Ex(("127.0.0.1", 5000), ("127.0.0.1", 80)), connecting_t=10.0,
                                     connected_t=10.002)
    assert [(s.state, s.source) for s in f.steps] == [("SYN_SENT", "connect()"), ("ESTABLISHED", "connect()")]
    assert not f.reused and f.exchanges == 1 and f.state == "ESTABLISHED"
    assert not f.observe("ESTABLISHED", 11.0, "scan")  # no change, no step
    assert not f.observe("FIN_WAIT2", 9.0, "scan")  # older than what we know: ignored
    assert f.observe("FIN_WAIT2", 12.0, "probe")
    assert not f.observe("ESTABLISHED", 12.2, "scan")  # a stale reading: states only move forward
    assert f.observe("TIME_WAIT", 12.5, "scan")
    assert f.observe(None, 72.5, "probe") and f.done and f.state == netstat.GONE
    assert not f.observe("ESTABLISHED", 80.0, "scan")  # over
    lines = f.lines()
    assert lines[0].split() == ["+0.000", "ms", "SYN_SENT", "connect()", "connect()", "called:", "SYN", "sent"]
    assert lines[1].split()[:3] == ["+2.000", "ms", "ESTABLISHED"]
    assert "+62.5 s" in lines[-1] and "CLOSED" in lines[-1]
    # the other end of the same connection: never seen, so never "gone"
    assert f.peer.pair == (("127.0.0.1", 80), ("127.0.0.1", 5000)) and f.peer.steps == []
    assert not f.peer.observe(None, 13.0, "probe")
    assert netstat.Follow.from_exchange(_Ex(("/run/x.sock", 0), ("/run/x.sock", 0), family="AF_UNIX")) is None
    assert netstat.Follow(("::ffff:127.0.0.1", 1), ("127.0.0.1", 2)).pair == (("127.0.0.1", 1), ("127.0.0.1", 2))


def test_states_of_a_snapshot():
    a, b = ("127.0.0.1", 5000), ("127.0.0.1", 80)
    rows = [_row(local=a, remote=b, state="TIME_WAIT", pid=None), _row(local=b, remote=a, pid=3),
            _row(proto="udp", local=("127.0.0.1", 6000), remote=b, state="NONE")]
    assert netstat.states_of(rows, [(a, b), (b, a), (("127.0.0.1", 6000), b)]) == {
        (a, b): "TIME_WAIT", (b, a): "ESTABLISHED", (("127.0.0.1", 6000), b): None}  # UDP is not followed
    v6 = ConnRow("tcp6", ("::ffff:127.0.0.1", 5000), ("::ffff:127.0.0.1", 80), "ESTABLISHED", 1, "p")
    assert netstat.states_of([v6], [(a, b)]) == {(a, b): "ESTABLISHED"}
    assert netstat.states_of(rows, []) == {}


def test_state_tracker_tells_new_from_reused_and_backs_off(monkeypatch):
    tr = netstat.StateTracker(keep=3, probe_min=0.05, probe_max=0.4)
    assert tr.next_probe_in() is None and tr.current is None and tr.wanted() == ()
    a = tr.follow(_Ex(("127.0.0.1", 5000), ("127.0.0.1", 80)), connecting_t=1.0, connected_t=1.001)
    assert not a.reused and a is tr.current
    assert tr.wanted() == (a.pair, a.peer.pair)
    again = tr.start(("127.0.0.1", 5000), ("127.0.0.1", 80), reused=True, connected_t=2.0)
    assert again is a and a.exchanges == 2  # the same connection, from the keep-alive pool
    assert a.steps[-1].state == "ESTABLISHED" and "reused" in a.steps[-1].note and "request 2" in a.steps[-1].note
    first_reused = tr.follow(_Ex(("127.0.0.1", 5001), ("127.0.0.1", 80), reused=True), connected_t=3.0)
    assert first_reused.reused and [s.state for s in first_reused.steps] == ["ESTABLISHED"]  # no handshake seen
    assert "opened before it was followed" in first_reused.steps[0].note
    # snapshots feed it: matched by 4-tuple whatever the pid, both ends
    rows = [_row(local=("127.0.0.1", 5000), remote=("127.0.0.1", 80), state="TIME_WAIT", pid=None),
            _row(local=("127.0.0.1", 80), remote=("127.0.0.1", 5000), state="CLOSE_WAIT", pid=3),
            _row(local=("127.0.0.1", 5001), remote=("127.0.0.1", 80), state="ESTABLISHED")]
    assert tr.observe_rows(rows, 4.0) == [a] and a.state == "TIME_WAIT" and a.steps[-1].source == "scan"
    assert a.peer.state == "CLOSE_WAIT"
    assert tr.observe_rows(rows[2:], 5.0) == [a] and a.done and a.peer.done  # not in the table any more
    assert tr.live() == [first_reused]
    # probes back off while nothing changes, and come back quickly after a change
    answers = {first_reused.pair: "ESTABLISHED", first_reused.peer.pair: None}
    monkeypatch.setattr(sockdiag, "tcp_state", lambda local, remote: answers[(local, remote)])
    waits = []
    for _ in range(4):
        assert tr.probe(now=6.0) == []
        waits.append(tr.next_probe_in())
    assert waits == [0.1, 0.2, 0.4, 0.4]
    answers[first_reused.pair] = "CLOSE_WAIT"
    assert tr.probe(now=7.0) == [first_reused] and tr.next_probe_in() == 0.05
    assert tr.wanted() == (first_reused.pair, first_reused.peer.pair)

    def unavailable(local, remote):  # no way to probe: say so once, carry on with snapshots
        raise netstat.ProbeUnavailable("no sock_diag here")

    monkeypatch.setattr(sockdiag, "tcp_state", unavailable)
    assert tr.probe() == [] and not tr.can_probe and "no sock_diag here" in tr.probe_notice
    assert tr.next_probe_in() is None
    assert tr.observe_rows([], 8.0) == [first_reused] and first_reused.done
    assert tr.live() == [] and tr.wanted() == ()
    # only the latest `keep` follows are kept
    for port in range(6000, 6005):
        tr.follow(_Ex(("127.0.0.1", port), ("127.0.0.1", 80)), connecting_t=9.0, connected_t=9.0)
    assert [f.local[1] for f in tr.follows] == [6002, 6003, 6004]


def test_follow_a_real_exchange_through_its_states(lab_server):
    """A new connection, a reused one, then the close: SYN_SENT → ESTABLISHED → ... →
    TIME_WAIT at our end (we close first), the server's end closing behind it."""
    import time

    from netlab.engine import events as ev

    seen: list = []
    url = f"http://127.0.0.1:{lab_server.port}/ip"
    tracker = netstat.StateTracker()
    with Engine() as engine:
        ex1 = engine.send(Request.from_url(url), seen.append)
        assert ex1.ok and ex1.keep_alive, ex1.error
        connecting = next(e.t for e in seen if isinstance(e, ev.Connecting))
        connected = next(e.t for e in seen if isinstance(e, ev.Connected))
        f = tracker.follow(ex1, connecting_t=connecting, connected_t=connected)
        assert [s.state for s in f.steps] == ["SYN_SENT", "ESTABLISHED"] and not f.reused
        assert f.steps[0].t == connecting and f.steps[1].t == connected
        assert f.pair == (ex1.connection.local, ex1.connection.remote)
        assert tracker.probe() == [f] and f.state == "ESTABLISHED"  # the server's end showed up
        assert f.peer.state == "ESTABLISHED" and f.peer.steps[0].source == "probe"
        snap = snapshot("tcp")
        assert tracker.observe_rows(snap.rows, snap.taken) == []  # still in the keep-alive pool

        ex2 = engine.send(Request.from_url(url))
        assert ex2.connection.reused and ex2.connection.local == ex1.connection.local
        assert tracker.follow(ex2) is f and f.exchanges == 2 and "reused" in f.steps[-1].note
    # the engine closed it (we close first): FIN_WAIT1/2, then TIME_WAIT when the server closes too
    end = time.monotonic() + HANG_GUARD
    while (f.state != "TIME_WAIT" or not f.peer.done) and time.monotonic() < end:
        tracker.probe()
        time.sleep(0.01)
    states = [s.state for s in f.steps]
    assert states[-1] == "TIME_WAIT", f.lines()
    assert states[:3] == ["SYN_SENT", "ESTABLISHED", "ESTABLISHED"]
    assert set(states[3:-1]) <= {"FIN_WAIT1", "FIN_WAIT2"}
    assert [s.t for s in f.steps] == sorted(s.t for s in f.steps)
    peer_states = [s.state for s in f.peer.steps]
    assert peer_states[0] == "ESTABLISHED" and peer_states[-1] == netstat.GONE
    assert set(peer_states[1:-1]) <= {"CLOSE_WAIT", "LAST_ACK"}
    [row] = _find(snapshot("tcp"), "tcp", ex1.connection.local, ex1.connection.remote)
    assert row.state == "TIME_WAIT" and row.pid is None  # what the snapshot says too
    assert tracker.live() == [f] and tracker.wanted() == (f.pair,)  # TIME_WAIT lasts: still watched

    with Engine() as engine:  # a new connection: a new follow
        ex3 = engine.send(Request.from_url(url))
        f3 = tracker.follow(ex3)
        assert f3 is not f and not f3.reused and f3.exchanges == 1
        assert [s.state for s in f3.steps] == ["SYN_SENT", "ESTABLISHED"]
        assert f3.steps[0].t <= f3.steps[1].t
