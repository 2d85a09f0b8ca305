"""The history store trusts only its owner (issue 12, point 11), as ssh trusts only keys
nobody else could have written: a history file (or a -wal/-shm companion) that another
user owns, a directory others can write (sticky or not), a writable non-sticky directory
above it, or a directory of another user is refused with a message that says why and
what to do; the exchange still runs and says history was not written (CLI: a warning
line on stderr; TUI: the warning the history-off path shows).  A data directory netlab
creates is 0700, its missing parents too.

The tests with a second Unix user need root (useradd); they make one user, run commands
as it with setpriv, and remove it again, also when the test fails."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from netlab.engine import Options, Request
from netlab.engine.session import Exchange
from netlab.engine.store.history import History, check_private

HANG_GUARD = 60.0  # seconds: only keeps a broken test from hanging; nothing is timed


def _exchange(i: int = 1) -> Exchange:
    return Exchange(request=Request.from_url(f"http://127.0.0.1:9/owner/{i}"), options=Options(), started=1000.0 + i)


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file in ``directory``: bytes, owner and mode (to prove nothing was touched)."""
    out = {}
    for p in sorted(directory.iterdir()):
        st = p.lstat()
        out[p.name] = (p.read_bytes() if p.is_file() else b"", st.st_uid, stat.S_IMODE(st.st_mode))
    return out


def _netlab(*argv: str, history: Path, timeout: float = HANG_GUARD) -> subprocess.CompletedProcess:
    env = dict(os.environ, NETLAB_HISTORY=str(history))
    return subprocess.run([sys.executable, "-m", "netlab", *argv], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _seed_history(path: Path, marker: str) -> None:
    """A genuine netlab history holding one exchange whose URL carries ``marker``."""
    with History(str(path)) as h:
        assert h.notice is None, h.notice
        h.add(Exchange(request=Request.from_url(f"http://127.0.0.1:9/{marker}"), options=Options(), started=1.0))


# ------------------------------------------------------------------ this user alone


@pytest.fixture
def private(tmp_path) -> Path:
    """A directory of ours (0700) whose ancestors are as pytest made them (root's or ours,
    /tmp sticky): a history here is trusted."""
    d = tmp_path / "private"
    d.mkdir(mode=0o700)
    assert check_private(str(d / "history.sqlite3")) is None
    return d


@pytest.mark.parametrize("mode,why", [
    (0o777, "writable by its group and every user (mode 0777)"),
    (0o1777, "writable by its group and every user (mode 1777, sticky bit or not"),
    (0o775, "writable by its group (mode 0775)"),
    (0o757, "writable by every user (mode 0757)"),
], ids=["0777", "1777", "0775", "0757"])
def test_a_directory_others_can_write_is_refused(private, mode, why):
    path = private / "history.sqlite3"
    _seed_history(path, "before")
    before = _snapshot(private)
    os.chmod(private, mode)
    try:
        with History(str(path)) as h:
            assert not h.persistent
            assert h.notice.startswith(f"history is not saved: refused {path}: its directory {private} is ")
            assert why in h.notice and f"chmod go-w {private}" in h.notice and "NETLAB_HISTORY" in h.notice
            assert "in memory only" in h.notice
            h.add(_exchange())  # the session goes on, in memory
            assert [e.url for e in h.list()] == ["http://127.0.0.1:9/owner/1"]
    finally:
        os.chmod(private, 0o700)
    assert _snapshot(private) == before  # not opened: no write, no -wal, no chmod


def test_an_existing_group_writable_data_directory_is_reported_and_a_new_one_is_0700(tmp_path, monkeypatch):
    data = tmp_path / "share" / "netlab"
    data.mkdir(parents=True)
    os.chmod(data, 0o770)
    with History(str(data / "history.sqlite3")) as h:
        assert not h.persistent and f"its directory {data} is writable by its group (mode 0770)" in h.notice
    assert list(data.iterdir()) == []
    # a data directory netlab makes is 0700, and so is every missing parent, whatever the umask
    fresh = tmp_path / "home" / ".local" / "share" / "netlab"
    old = os.umask(0)
    try:
        with History(str(fresh / "history.sqlite3")) as h:
            assert h.persistent and h.notice is None
            h.add(_exchange())
    finally:
        os.umask(old)
    for d in (fresh, fresh.parent, fresh.parent.parent, fresh.parent.parent.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert stat.S_IMODE((fresh / "history.sqlite3").stat().st_mode) == 0o600


def test_directories_above(tmp_path):
    """Above the history's directory, a writable directory is fine only when sticky (as
    /tmp): then nobody else can move our directory out of it."""
    sticky = tmp_path / "sticky"
    (sticky / "mine").mkdir(parents=True, mode=0o700)
    os.chmod(sticky, 0o1777)
    open_ = tmp_path / "open"
    (open_ / "mine").mkdir(parents=True, mode=0o700)
    os.chmod(open_, 0o777)
    try:
        with History(str(sticky / "mine" / "h.sqlite3")) as h:
            assert h.persistent and h.notice is None
            h.add(_exchange())
        with History(str(open_ / "mine" / "h.sqlite3")) as h:
            assert not h.persistent
            assert f"the directory {open_} above it is writable by its group and every user (mode 0777, no sticky " \
                   "bit)" in h.notice
        assert list((open_ / "mine").iterdir()) == []
    finally:
        os.chmod(sticky, 0o700)
        os.chmod(open_, 0o700)


def test_symbolic_links_are_followed_and_both_places_checked(tmp_path, private):
    """A link in a private directory to a file in an open one is refused (the file's real
    directory), and so is a link in an open directory to a private file (the link could
    be swapped)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    try:
        (private / "to-shared.sqlite3").symlink_to(shared / "h.sqlite3")
        with History(str(private / "to-shared.sqlite3")) as h:
            assert not h.persistent and f"its directory {shared} is writable" in h.notice
        _seed_history(private / "real.sqlite3", "real")
        (shared / "to-private.sqlite3").symlink_to(private / "real.sqlite3")
        with History(str(shared / "to-private.sqlite3")) as h:
            assert not h.persistent and f"its directory {shared} is writable" in h.notice
        with History(str(private / "real.sqlite3")) as h:  # the file itself, by its own path: fine
            assert h.persistent and [e.url for e in h.list()] == ["http://127.0.0.1:9/real"]
    finally:
        os.chmod(shared, 0o700)


def test_cli_send_still_runs_and_warns_once(lab_server, private, run_cli, monkeypatch):
    """`netlab send` with a refused history: the response as usual (exit 0), one warning
    line on stderr saying history was not saved and why, nothing written."""
    path = private / "history.sqlite3"
    monkeypatch.setenv("NETLAB_HISTORY", str(path))
    os.chmod(private, 0o777)
    try:
        code, out, err = run_cli("send", f"http://127.0.0.1:{lab_server.port}/ip")
    finally:
        os.chmod(private, 0o700)
    assert code == 0 and out.startswith("HTTP/1.1 200 OK"), err
    [line] = err.splitlines()
    assert line.startswith(f"netlab: history is not saved: refused {path}: its directory {private} is writable")
    assert list(private.iterdir()) == []


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_tui_sends_and_warns_that_history_is_not_saved(lab_server, private):
    """The TUI with a refused history: the exchange is shown, a warning says why history is
    not saved (the app's Problem path), and nothing is written."""
    from netlab.ui.app import NetlabApp

    path = private / "history.sqlite3"
    os.chmod(private, 0o777)
    try:
        app = NetlabApp(f"http://127.0.0.1:{lab_server.port}/ip", lab=False, live_connections=False,
                        history_path=str(path))
        app.animation_level = "none"
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+j")
            end = time.monotonic() + HANG_GUARD
            while not any("history is not saved" in str(n.message) for n in app._notifications):
                assert time.monotonic() < end, "no warning about the history"
                await pilot.pause(0.02)
            [warning] = [str(n.message) for n in app._notifications if "history is not saved" in str(n.message)]
            assert f"refused {path}: its directory {private} is writable" in warning
            end = time.monotonic() + HANG_GUARD
            while app.response.prepared is None or app.response.prepared.exchange.response is None:
                assert time.monotonic() < end, "the exchange was not shown"
                await pilot.pause(0.02)
            assert app.response.prepared.exchange.response.status == 200
    finally:
        os.chmod(private, 0o700)
    assert list(private.iterdir()) == []


# ---------------------------------------------------------------- a second Unix user


@dataclass
class User:
    name: str
    uid: int
    gid: int

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        """``argv`` run as this user (setpriv: real and effective ids, its groups)."""
        return subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--",
                               *argv], capture_output=True, text=True, timeout=HANG_GUARD, stdin=subprocess.DEVNULL)


@pytest.fixture
def other_user():
    """A second Unix user, removed afterwards (also when the test fails)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: makes a second Unix user with useradd (run the test command as root)")
    for tool in ("useradd", "userdel", "setpriv"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    name = f"nlt{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name],
                          capture_output=True, text=True, timeout=HANG_GUARD)
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    try:
        pw = pwd.getpwnam(name)
        yield User(name, pw.pw_uid, pw.pw_gid)
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=HANG_GUARD)
        try:
            grp.getgrnam(name)
        except KeyError:
            pass
        else:
            subprocess.run(["groupdel", name], capture_output=True, timeout=HANG_GUARD)
        with pytest.raises(KeyError):
            pwd.getpwnam(name)


@pytest.fixture
def shared_base():
    """A root-owned directory (0711) outside pytest's private tmp, so the second user can
    reach what it is given inside; removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="netlab-owner-", dir="/tmp"))
    os.chmod(base, 0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _plant(user: User, base: Path, into: Path, marker: str) -> Path:
    """A genuine netlab history with one exchange (its URL holds ``marker``), copied into
    ``into`` by ``user``: the copy is the user's file."""
    seed = base / f"seed-{marker}.sqlite3"
    _seed_history(seed, marker)
    os.chmod(seed, 0o644)
    planted = into / "history.sqlite3"
    done = user.run("cp", str(seed), str(planted))
    assert done.returncode == 0, done.stderr
    assert planted.stat().st_uid == user.uid
    return planted


def test_a_history_another_user_planted_in_a_sticky_directory_is_refused(other_user, shared_base, lab_server):
    """/tmp-like: a 1777 directory where another user put a history first.  `netlab send`
    still answers, says why history was not saved (naming the user), and neither reads nor
    writes the planted file; `netlab history` does not list its entries."""
    shared = shared_base / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    planted = _plant(other_user, shared_base, shared, "planted-by-other")
    before = _snapshot(shared)
    p = _netlab("send", f"http://127.0.0.1:{lab_server.port}/ip", history=planted)
    assert p.returncode == 0 and p.stdout.startswith("HTTP/1.1 200 OK"), p.stderr
    [line] = p.stderr.splitlines()
    assert line.startswith(f"netlab: history is not saved: refused {planted}: the file belongs to "
                           f"{other_user.name} (uid {other_user.uid}), not to you, root (uid 0)"), line
    p = _netlab("history", "--json", history=planted)
    assert p.returncode == 0 and "planted-by-other" not in p.stdout and p.stdout.strip() == "[]", p.stdout
    assert "history is not saved: refused" in p.stderr
    assert _snapshot(shared) == before  # no -wal/-shm of ours next to it, the file as it was


def test_a_companion_file_another_user_planted_is_refused(other_user, shared_base):
    """Our own history, in a directory where another user could write (and did): a -wal
    file of theirs next to it is refused by name, before SQLite would replay it."""
    d = shared_base / "d"
    d.mkdir(mode=0o700)
    path = d / "history.sqlite3"
    _seed_history(path, "ours")
    os.chmod(d, 0o1777)
    try:
        made = other_user.run("sh", "-c", f"printf 'not a wal' > {path}-wal")
        assert made.returncode == 0, made.stderr
        with History(str(path)) as h:
            assert not h.persistent
            assert h.notice.startswith(f"history is not saved: refused {path}-wal: the history's companion file "
                                       f"belongs to {other_user.name}")
    finally:
        os.chmod(d, 0o700)
    assert Path(f"{path}-wal").read_bytes() == b"not a wal"


def test_root_leaves_another_users_history_alone(other_user, shared_base, lab_server):
    """`sudo netlab` with the user's HOME: the user's own 0700 data directory and history.
    Root could open them; it refuses, so it neither reads them nor leaves root-owned
    -wal/-shm files or a 0600 chmod behind that would lock the user out of their history."""
    homes = shared_base / "homes"
    homes.mkdir()
    os.chmod(homes, 0o1777)
    data = homes / other_user.name
    made = other_user.run("mkdir", "-m", "700", str(data))
    assert made.returncode == 0, made.stderr
    planted = _plant(other_user, shared_base, data, "the-users-own")
    made = other_user.run("chmod", "644", str(planted))
    assert made.returncode == 0, made.stderr
    before = _snapshot(data)
    p = _netlab("send", f"http://127.0.0.1:{lab_server.port}/ip", history=planted)
    assert p.returncode == 0 and p.stdout.startswith("HTTP/1.1 200 OK"), p.stderr
    assert f"refused {planted}: the file belongs to {other_user.name}" in p.stderr
    # a history that does not exist yet, in the user's directory: not created there by root
    fresh = data / "new.sqlite3"
    p = _netlab("send", f"http://127.0.0.1:{lab_server.port}/ip", history=fresh)
    assert p.returncode == 0, p.stderr
    assert f"refused {fresh}: the directory {data} belongs to {other_user.name} (uid {other_user.uid})" in p.stderr
    assert _snapshot(data) == before
    # the user still opens their history with SQLite (a root-owned -shm would stop that)
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        return
    seen = other_user.run(python, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                          "'SELECT url FROM exchange').fetchall())", str(planted))
    assert seen.returncode == 0 and "the-users-own" in seen.stdout, seen.stderr
