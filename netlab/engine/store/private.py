"""Whether a history file may be trusted: ssh's rule for private keys, applied to the file,
its SQLite companions and the directories above them (``check_private``), and creating the
directories for a new one, 0700 (``make_private_dirs``)."""

from __future__ import annotations

import os
import stat

__all__ = ["check_private", "make_private_dirs"]

def _user(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def make_private_dirs(directory: str) -> None:
    """Create ``directory`` and any missing parent, each 0700 (whatever the umask)."""
    missing = []
    d = os.path.abspath(directory)
    while d and not os.path.isdir(d):
        missing.append(d)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            continue  # another process made it at the same moment: check_private looks at it
        os.chmod(d, 0o700)


def check_private(path: str) -> str | None:
    """Why the history at ``path`` may not be trusted, or None when it may.

    As ssh with a private key: the file (when it exists) and its SQLite companions
    (-wal, -shm, -journal) must belong to this user; the directory holding them must
    belong to this user or root and be writable by nobody else, with no sticky-bit
    exception (SQLite creates the companions there: in a sticky directory another user
    can create one first, a file we would then read); every directory above must belong
    to this user or root and be writable by others only when sticky (then nobody else
    can rename what this user or root owns in it).  Symbolic links are followed first
    (``realpath``), so the checks are on the directories that really hold the file."""
    uid = os.geteuid()
    real = os.path.realpath(path)
    given = os.path.abspath(path)
    own = "set NETLAB_HISTORY to a file in a directory of your own"
    companions = tuple(f + suffix for f in (real, given) for suffix in ("-wal", "-shm", "-journal"))
    for name in dict.fromkeys((real, given) + companions):
        try:
            st = os.lstat(name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            return f"cannot check {name}: {exc.strerror or exc}"
        if stat.S_ISLNK(st.st_mode) and name in (real, given):
            continue  # the link to the file: its directory is checked below, the file itself above
        if st.st_uid != uid:
            what = "the file" if name in (real, given) else "the history's companion file"
            return (f"refused {name}: {what} belongs to {_user(st.st_uid)}, not to you, {_user(uid)}; netlab "
                    f"trusts only a history of its own user, as ssh trusts only your own keys. Remove it, or {own}")
    # the directory that holds the file, and the one that holds the link to it when ``path`` is a link
    for directory in dict.fromkeys((os.path.dirname(real), os.path.realpath(os.path.dirname(given)))):
        problem = _check_directories(real, directory, uid, own)
        if problem:
            return problem
    return None


def _check_directories(real: str, directory: str, uid: int, own: str) -> str | None:
    """``check_private``'s rule for ``directory`` and every directory above it."""
    d = directory
    while True:
        try:
            st = os.stat(d)
        except OSError as exc:
            return f"cannot check the directory {d}: {exc.strerror or exc}"
        mode = stat.S_IMODE(st.st_mode)
        if st.st_uid not in (uid, 0):
            return (f"refused {real}: the directory {d} belongs to {_user(st.st_uid)}, who could replace the "
                    f"history (it must belong to you or root). {own[0].upper()}{own[1:]}")
        if mode & 0o022:
            who = " and ".join(w for w, bit in (("its group", 0o020), ("every user", 0o002)) if mode & bit)
            if d == directory:
                sticky = ", sticky bit or not: anyone can create the history's -wal file there first" \
                    if mode & stat.S_ISVTX else ""
                return (f"refused {real}: its directory {d} is writable by {who} (mode {mode:04o}{sticky}), so "
                        f"others could plant or replace the history. chmod go-w {d}, or {own}")
            if not mode & stat.S_ISVTX:
                return (f"refused {real}: the directory {d} above it is writable by {who} (mode {mode:04o}, no "
                        f"sticky bit), so others could put a directory of their own in place of the history's. "
                        f"chmod go-w {d}, or {own}")
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent
