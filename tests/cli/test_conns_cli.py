"""`netlab conns`: the connection table headless, checked against this process's own
real loopback sockets and against `ss -tanp` taken around it."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import psutil
import pytest

from netlab.engine import netstat

HANG_GUARD = 30.0
ME = os.getpid()
MY_NAME = psutil.Process().name()
SS = shutil.which("ss")


@pytest.fixture
def sockets():
    """A listener with three connections (one closed by the client: FIN_WAIT2 /
    CLOSE_WAIT; one closed by both: the client's side in TIME_WAIT), an unconnected
    UDP socket and, where ::1 works, an IPv6 pair."""
    made: list[socket.socket] = []

    def keep(s):
        made.append(s)
        return s

    listener = keep(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    pairs = []
    for _ in range(3):
        c = keep(socket.create_connection(listener.getsockname(), timeout=HANG_GUARD))
        a, _ = listener.accept()
        pairs.append((c, keep(a)))
    (open_c, open_a), (half_c, half_a), (tw_c, tw_a) = pairs
    ends = {"open": (open_c.getsockname(), open_c.getpeername()),
            "half": (half_c.getsockname(), half_c.getpeername()),
            "tw": (tw_c.getsockname(), tw_c.getpeername())}
    half_c.close()
    assert half_a.recv(1) == b""  # the client's FIN has arrived: CLOSE_WAIT here, FIN_WAIT2 there
    tw_c.close()
    assert tw_a.recv(1) == b""
    tw_a.close()  # the client closed first: its side lingers in TIME_WAIT, without a pid
    udp = keep(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    udp.bind(("127.0.0.1", 0))
    v6 = None
    try:
        l6 = keep(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
        l6.bind(("::1", 0))
        l6.listen(1)
        c6 = keep(socket.create_connection(l6.getsockname()[:2], timeout=HANG_GUARD))
        keep(l6.accept()[0])
        v6 = (c6.getsockname()[:2], c6.getpeername()[:2])
    except OSError:
        pass
    yield {"listener": listener.getsockname(), "udp": udp.getsockname(), "v6": v6, **ends}
    for s in made:
        with contextlib.suppress(OSError):
            s.close()


def _rows(out: str) -> list[dict]:
    rows = json.loads(out)
    assert isinstance(rows, list)
    return rows


def _tuple(addr) -> tuple | None:
    return None if addr is None else (addr[0], addr[1])


def _pick(rows, local, remote=None) -> list[dict]:
    return [r for r in rows if _tuple(r["local"]) == tuple(local) and _tuple(r["remote"]) == (
        tuple(remote) if remote is not None else None)]


def test_json_rows_of_our_own_sockets(run_cli, sockets):
    code, out, err = run_cli("conns", "--json")
    assert code == 0, err
    rows = _rows(out)
    for r in rows:
        assert set(r) == {"family", "type", "local", "remote", "status", "pid", "process"}
        assert r["family"] in ("AF_INET", "AF_INET6") and r["type"] in ("SOCK_STREAM", "SOCK_DGRAM")
        assert isinstance(r["local"], list) and len(r["local"]) == 2 and isinstance(r["local"][1], int)
        assert r["remote"] is None or (isinstance(r["remote"], list) and len(r["remote"]) == 2)
        assert r["pid"] is None or isinstance(r["pid"], int)
        assert (r["pid"] is None) <= (r["process"] is None)  # no pid, no process name
    [listen] = _pick(rows, sockets["listener"])
    assert listen == {"family": "AF_INET", "type": "SOCK_STREAM", "local": list(sockets["listener"]),
                      "remote": None, "status": "LISTEN", "pid": ME, "process": MY_NAME}
    [open_c] = _pick(rows, *sockets["open"])
    [open_a] = _pick(rows, sockets["open"][1], sockets["open"][0])
    assert open_c["status"] == open_a["status"] == "ESTABLISHED" and open_c["pid"] == open_a["pid"] == ME
    [half_c] = _pick(rows, *sockets["half"])  # closed by us, the kernel holds it: no pid
    assert half_c["status"] in ("FIN_WAIT2", "FIN_WAIT1") and half_c["pid"] is None and half_c["process"] is None
    [half_a] = _pick(rows, sockets["half"][1], sockets["half"][0])
    assert half_a["status"] == "CLOSE_WAIT" and half_a["pid"] == ME
    [tw] = _pick(rows, *sockets["tw"])
    assert tw["status"] == "TIME_WAIT" and tw["pid"] is None
    assert not _pick(rows, sockets["tw"][1], sockets["tw"][0])  # the side that closed last is gone
    [udp] = _pick(rows, sockets["udp"])
    assert udp == {"family": "AF_INET", "type": "SOCK_DGRAM", "local": list(sockets["udp"]), "remote": None,
                   "status": "NONE", "pid": ME, "process": MY_NAME}
    if sockets["v6"]:
        [v6] = _pick(rows, *sockets["v6"])
        assert v6["family"] == "AF_INET6" and v6["status"] == "ESTABLISHED" and v6["pid"] == ME


def test_filters(run_cli, sockets):
    port = sockets["listener"][1]
    code, out, err = run_cli("conns", "--json", "--port", port)
    assert code == 0, err
    rows = _rows(out)
    assert rows and all(r["local"][1] == port or (r["remote"] and r["remote"][1] == port) for r in rows)
    assert len(rows) >= 6  # the listener, both ends of the open and half-closed pairs, the TIME_WAIT
    code, out, _ = run_cli("conns", "--json", "--port", port, "--state", "time-wait", "--state", "CLOSE_WAIT")
    got = {(tuple(r["local"]), r["status"]) for r in _rows(out)}
    assert got == {(tuple(sockets["tw"][0]), "TIME_WAIT"), (tuple(sockets["half"][1]), "CLOSE_WAIT")}
    code, out, _ = run_cli("conns", "--json", "--port", port, "--state", "estab,listen")
    assert {r["status"] for r in _rows(out)} == {"ESTABLISHED", "LISTEN"}
    code, out, _ = run_cli("conns", "--json", "--pid", ME, "--kind", "tcp4")
    rows = _rows(out)
    assert rows and {r["pid"] for r in rows} == {ME} and {r["family"] for r in rows} == {"AF_INET"}
    assert _pick(rows, *sockets["open"]) and not _pick(rows, *sockets["tw"])
    code, out, _ = run_cli("conns", "--json", "--kind", "udp", "--pid", ME)
    assert {r["type"] for r in _rows(out)} == {"SOCK_DGRAM"} and _pick(_rows(out), sockets["udp"])
    code, out, _ = run_cli("conns", "--json", "-l", "--pid", ME)
    rows = _rows(out)
    assert _pick(rows, sockets["listener"]) and _pick(rows, sockets["udp"])
    assert all(r["status"] == "LISTEN" or (r["type"] == "SOCK_DGRAM" and r["remote"] is None) for r in rows)
    code, out, _ = run_cli("conns", "--json", "--port", port, "--sort", "state")
    states = [r["status"] for r in _rows(out)]
    assert states == sorted(states, key=netstat.STATES.index) and states[0] == "LISTEN"


def test_unix_sockets(run_cli):
    sockdir = tempfile.mkdtemp(prefix="nl-cc-", dir="/tmp")
    path = os.path.join(sockdir, "lab.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind(path)
        code, out, err = run_cli("conns", "--kind", "unix", "--json", "--pid", ME)
        assert code == 0, err
        [row] = [r for r in _rows(out) if r["local"][0] == path]
        assert row == {"family": "AF_UNIX", "type": "SOCK_DGRAM", "local": [path, None], "remote": None,
                       "status": "NONE", "pid": ME, "process": MY_NAME}
        code, out, _ = run_cli("conns", "--kind", "all", "--pid", ME)
        assert re.search(rf"^unix/dgram\s+{re.escape(path)}\s+\*\s+{ME}/", out, re.M), out
    finally:
        s.close()
        shutil.rmtree(sockdir, ignore_errors=True)


def test_human_table(run_cli, sockets):
    code, out, err = run_cli("conns", "--port", sockets["listener"][1])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Proto", "Local", "Address", "Foreign", "Address", "State", "PID/Program", "name"]
    host, port = sockets["listener"]
    assert re.search(rf"^tcp\s+{re.escape(host)}:{port}\s+\*\s+LISTEN\s+{ME}/{re.escape(MY_NAME)}$", out, re.M)
    tw_local, tw_remote = sockets["tw"]
    assert re.search(rf"^tcp\s+127\.0\.0\.1:{tw_local[1]}\s+127\.0\.0\.1:{tw_remote[1]}\s+TIME_WAIT\s+-$", out, re.M)
    assert re.match(r"netlab: \d+ of \d+ sockets shown \(scan \d+ ms\); \d+ with no pid", err)


def test_usage_errors(run_cli):
    code, _, err = run_cli("conns", "--state", "sideways")
    assert code == 2 and "unknown TCP state 'sideways'" in err
    code, _, err = run_cli("conns", "--port", "70000")
    assert code == 2 and "--port must be 0..65535" in err
    code, _, err = run_cli("conns", "--kind", "bluetooth")
    assert code == 2 and "invalid choice" in err
    code, out, _ = run_cli("conns", "--help")
    assert code == 0 and "--kind" in out and "--state" in out and "--json" in out


def test_process_names_are_shown_escaped(run_cli, tmp_path):
    """A process can name itself anything, escape sequences included: printed as text."""
    evil = "\x1b]0;pwn\x07\x1b[31mx"
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import ctypes, socket, sys\n"
         f"ctypes.CDLL(None).prctl(15, {evil.encode()!r}, 0, 0, 0)\n"  # PR_SET_NAME
         "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
         "print(s.getsockname()[1], flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())
        code, out, err = run_cli("conns", "--port", port)
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out
        assert f"{child.pid}/\\x1b]0;pwn\\x07\\x1b[31mx" in out
        code, out, _ = run_cli("conns", "--port", port, "--json")
        [row] = _rows(out)
        assert row["process"] == evil and row["pid"] == child.pid  # JSON carries it exactly (escaped by JSON)
        assert "\x1b" not in out
    finally:
        child.stdin.close()
        child.wait(timeout=HANG_GUARD)


# -------------------------------------------------------------------------- against ss

_SS_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)')


def _ss_addr(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    host = host.strip("[]").split("%", 1)[0]
    if host == "*":
        host = "::"
    if port == "*":
        return None  # a listener's peer
    return (str(ipaddress.ip_address(host)), int(port))


def ss_tcp() -> dict[tuple, tuple[str, frozenset[int], frozenset[str]]]:
    """``ss -tanp``: {(local, remote): (state, pids, names)}."""
    out = subprocess.run([SS, "-tanpH"], capture_output=True, text=True, timeout=HANG_GUARD, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        state, local, peer = parts[0], parts[3], parts[4]
        users = _SS_USER.findall(parts[5]) if len(parts) > 5 else []
        key = (_ss_addr(local), _ss_addr(peer))
        table[key] = (netstat.normalize_state(state), frozenset(int(p) for _, p in users),
                      frozenset(n for n, _ in users))
    return table


def _netlab_tcp(rows: list[dict]) -> dict[tuple, tuple[str, frozenset, frozenset]]:
    table: dict[tuple, list] = {}
    for r in rows:
        local = (str(ipaddress.ip_address(r["local"][0])), r["local"][1])
        remote = None if r["remote"] is None else (str(ipaddress.ip_address(r["remote"][0])), r["remote"][1])
        entry = table.setdefault((local, remote), [r["status"], set(), set()])
        if r["pid"] is not None:
            entry[1].add(r["pid"])
            entry[2].add(r["process"])
    return {k: (s, frozenset(p), frozenset(n)) for k, (s, p, n) in table.items()}


def _compare(before, mine, after) -> list[str]:
    problems = []
    either = before.keys() | after.keys()
    both = before.keys() & after.keys()
    for key in sorted(mine.keys() - either, key=repr):
        problems.append(f"netlab shows {key} {mine[key][0]}, ss never did")
    for key in sorted(both - mine.keys(), key=repr):
        problems.append(f"ss showed {key} {before[key][0]} before and after, netlab did not")
    for key in sorted(both & mine.keys(), key=repr):
        if before[key] != after[key]:
            continue  # it changed between the two ss runs: any of them is fine
        state, pids, names = before[key]
        m_state, m_pids, m_names = mine[key]
        if m_state != state:
            problems.append(f"{key}: ss says {state}, netlab {m_state}")
        # psutil names one process per TCP socket (the first holder it finds), ss every one
        # (nginx's master and its workers share the listeners after fork)
        if not m_pids <= pids or bool(m_pids) != bool(pids):
            problems.append(f"{key}: ss says pids {sorted(pids)}, netlab {sorted(m_pids)}")
        # ss shows the kernel's 15-character comm; psutil may give the whole name
        elif not all(any(m.startswith(n) for n in names) for m in m_names):
            problems.append(f"{key}: ss says names {sorted(names)}, netlab {sorted(m_names)}")
    return problems


@pytest.mark.skipif(SS is None, reason="ss (iproute2) is not installed")
@pytest.mark.skipif(not psutil.LINUX, reason="ss is Linux")
def test_tcp_rows_match_ss(run_cli_subprocess, sockets):
    """Set equality of TCP 4-tuples (and state, pids, names) with `ss -tanp` taken just
    before and just after: a row netlab shows must be in one of them; a row in both must
    be in netlab's.  Where several processes share a socket psutil names one of them.  Other processes open and close sockets meanwhile, so a mismatch is
    retried a few times before it counts."""
    problems: list[str] = []
    for _attempt in range(4):
        before = ss_tcp()
        result = run_cli_subprocess("conns", "--kind", "tcp", "--json")
        after = ss_tcp()
        assert result.code == 0, result.err
        mine = _netlab_tcp(_rows(result.out))
        problems = _compare(before, mine, after)
        if not problems:
            break
        time.sleep(0.2)
    assert not problems, "\n".join(problems)
    # ... and the comparison saw this test's own sockets, so it was not vacuous
    for name in ("listener", "open", "half", "tw"):
        want = sockets[name] if name != "listener" else (sockets["listener"], None)
        local, remote = want
        key = ((local[0], local[1]), None if remote is None else (remote[0], remote[1]))
        assert key in mine, name
    assert mine[(tuple(sockets["tw"][0]), tuple(sockets["tw"][1]))][0] == "TIME_WAIT"
    if sockets["v6"]:
        assert (tuple(sockets["v6"][0]), tuple(sockets["v6"][1])) in mine


def test_compare_catches_differences():
    """The comparison itself can fail: a row only netlab has, one it lacks, a wrong state."""
    a = (("127.0.0.1", 1), ("127.0.0.1", 2))
    b = (("127.0.0.1", 3), None)
    c = (("127.0.0.1", 4), ("127.0.0.1", 5))
    est = ("ESTABLISHED", frozenset({1}), frozenset({"python3"}))
    assert _compare({a: est}, {a: est}, {a: est}) == []
    assert _compare({a: est}, {a: ("ESTABLISHED", frozenset({1}), frozenset({"python3.11"}))}, {a: est}) == []
    assert _compare({a: est, c: est}, {a: est}, {a: est}) == []  # c closed meanwhile
    assert _compare({a: est}, {a: est, c: est}, {a: est, c: est}) == []  # c opened meanwhile
    assert "ss never did" in _compare({a: est}, {a: est, b: est}, {a: est})[0]
    assert "netlab did not" in _compare({a: est, b: est}, {a: est}, {a: est, b: est})[0]
    assert "netlab CLOSE_WAIT" in _compare({a: est}, {a: ("CLOSE_WAIT",) + est[1:]}, {a: est})[0]
    assert "pids" in _compare({a: est}, {a: ("ESTABLISHED", frozenset(), frozenset())}, {a: est})[0]
    assert "pids" in _compare({a: est}, {a: ("ESTABLISHED", frozenset({2}), frozenset({"x"}))}, {a: est})[0]
    assert "names" in _compare({a: est}, {a: ("ESTABLISHED", frozenset({1}), frozenset({"bash"}))}, {a: est})[0]
    shared = ("LISTEN", frozenset({1, 2}), frozenset({"nginx"}))
    assert _compare({b: shared}, {b: ("LISTEN", frozenset({2}), frozenset({"nginx"}))}, {b: shared}) == []
    assert _ss_addr("[::ffff:127.0.0.1]:80") == ("::ffff:7f00:1", 80)
    assert _ss_addr("127.0.0.53%lo:53") == ("127.0.0.53", 53)
    assert _ss_addr("0.0.0.0:*") is None and _ss_addr("[::]:22") == ("::", 22)
