"""SQLite store of exchanges: every request sent, what came back, and how to send it again.

One row per exchange holds the request exactly as sent (its bytes and its parsed
fields), the options that decide where and how it goes (timeout, deadline, TLS,
``--resolve`` pins, Unix socket, DNS server), the DNS resolution, the connection and
TLS details, the response (head, trailers, framing, body up to ``body_cap`` bytes),
the timings and the error.  ``History.get`` rebuilds a ``netlab.engine.session.Exchange``
from it, so ``get(id).to_dict()`` has the shape of ``netlab send --json`` and

    ex = history.get(id)
    Engine().send(ex.request, options=ex.options)

sends the same bytes to the same target again.  A chain sent with -L is its last exchange's row
and, in the hop table (schema 2), a row per hop before it; ``get`` gives the last exchange with
``redirects`` holding the hops in order.

The file holds secrets (cookies, tokens): it is created 0600 in a 0700 directory.  It is
used only when nobody else could have written it or could swap it (``check_private``, the
rule ssh applies to keys): the file and its -wal/-shm/-journal companions belong to this
user; its directory belongs to this user (or root) and no other user can write to it --
sticky bit or not, as SQLite creates the companions there and a sticky directory lets
anyone create a name first; every directory above belongs to this user or root and is
not writable by others unless it is sticky (then only its owner can move what is in it).
Otherwise history is not written (``notice`` says why; the exchange still runs).  A
directory netlab creates for it is 0700.
``store_bodies=False`` -- or NETLAB_HISTORY_BODIES=0 in the environment, which wins --
keeps response bodies out of the file (their sizes stay; the request bytes stay too, as
replay sends them).  It is opened in WAL mode with a busy timeout, so several netlab
processes can write at once; each ``add`` is one transaction, committed when it returns
(a process killed after that loses nothing: the next open recovers the write-ahead log).
One connection is shared by all threads behind a lock.  A file that is not a netlab
history (corrupt, cut short, or another program's database) is moved aside, with its
-wal and -shm, to ``<path>.corrupt-<timestamp>`` and a new history is started; the
reason is in ``History.notice``.  When the file cannot be used at all (unwritable
directory, a directory at the path, a newer netlab's schema), history is kept in memory
for this process only, again with a ``notice``.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import threading
import time
from dataclasses import dataclass

from netlab.engine.session import Exchange
from netlab.engine.store.private import check_private, make_private_dirs
from netlab.engine.store.rows import COLUMNS, HOP_COLUMNS, StoredBody, decode, encode

__all__ = ["History", "HistoryEntry", "HistoryError", "StoredBody", "default_path", "bodies_from_env",
           "check_private", "SCHEMA_VERSION", "APPLICATION_ID"]

SCHEMA_VERSION = 2  # 2: the hop table (redirects followed with -L)
APPLICATION_ID = 0x6E6C6162  # "nlab" in the SQLite header: marks the file as ours
BUSY_TIMEOUT_S = 10.0
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

_SCHEMA = """
CREATE TABLE exchange (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started         REAL    NOT NULL,            -- epoch seconds
    method          TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    status          INTEGER,                     -- NULL: no response head
    duration_ms     REAL    NOT NULL,
    error_phase     TEXT,
    error_message   TEXT,
    error_hint      TEXT,
    reused          INTEGER NOT NULL,
    request         TEXT    NOT NULL,            -- JSON: scheme, host, port, target, headers, is_raw
    request_body    BLOB    NOT NULL,
    request_data    BLOB    NOT NULL,            -- the exact bytes sent
    options         TEXT    NOT NULL,            -- JSON: Options, pins as "host:port:addr,addr"
    dns             TEXT,                        -- JSON: Resolution
    connection      TEXT,                        -- JSON: ConnectionInfo
    tls             TEXT,                        -- JSON: TLSInfo (peer_cert included)
    response        TEXT,                        -- JSON: head fields, trailers, 1xx heads
    raw_head        BLOB,
    body            BLOB,                        -- at most body_cap bytes
    body_bytes      INTEGER,                     -- the full body size as received
    body_truncated  INTEGER NOT NULL DEFAULT 0,
    raw_body        BLOB,                        -- chunked framing only: wire body, capped
    raw_body_bytes  INTEGER,
    raw_body_truncated INTEGER NOT NULL DEFAULT 0,
    timings         TEXT    NOT NULL,            -- JSON: Timings in ms
    extra           TEXT    NOT NULL             -- JSON: attempts, bytes_received, keep_alive
);
CREATE INDEX exchange_started ON exchange (started);
"""
# Each hop of a chain sent with -L, before its last exchange (that one is the exchange row):
# the same columns as an exchange, keyed by the last exchange's id and the hop's place (1, 2, ...).
_HOP_TABLE = (f"CREATE TABLE hop (exchange_id INTEGER NOT NULL, position INTEGER NOT NULL, {', '.join(COLUMNS)}, "
              "PRIMARY KEY (exchange_id, position))")
_SCHEMA += _HOP_TABLE + ";\n"

_INSERT = f"INSERT INTO exchange ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_INSERT_HOP = f"INSERT INTO hop ({', '.join(HOP_COLUMNS)}) VALUES ({', '.join('?' * len(HOP_COLUMNS))})"


def default_path() -> str:
    """``$NETLAB_HISTORY``, else ``<user data dir>/netlab/history.sqlite3``."""
    env = os.environ.get("NETLAB_HISTORY")
    if env:
        return os.path.expanduser(env)
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("netlab"), "history.sqlite3")


def bodies_from_env() -> bool | None:
    """``$NETLAB_HISTORY_BODIES``: False for 0 / false / no / off (keep no response bodies),
    True for 1 / true / yes / on, None when unset or empty (anything else counts as
    False: when in doubt, store less)."""
    value = os.environ.get("NETLAB_HISTORY_BODIES", "").strip().lower()
    if not value:
        return None
    return value in ("1", "true", "yes", "on")


class HistoryError(Exception):
    """The history store could not be read or written (disk full, locked too long, closed)."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    started: float  # epoch seconds
    method: str
    url: str
    status: int | None
    duration_ms: float
    error_phase: str | None
    reused: bool


# rows as sqlite3 returns them; named here because History.list shadows the builtin in the class body
_Rows = list[tuple]


# ---------------------------------------------------------------------------- store


class History:
    """The history of exchanges in one SQLite file.  Safe to share between threads."""

    def __init__(self, path: str | None = None, *, body_cap: int = 1 << 20, store_bodies: bool = True,
                 max_entries: int = 0) -> None:
        self.path = os.path.abspath(path or default_path())
        self.body_cap = max(0, int(body_cap))
        # Keeping no bodies is a privacy switch: any one of the caller's False (netlab send
        # --no-history-bodies, the settings file's bodies = false) and NETLAB_HISTORY_BODIES=0
        # turns it on (NETLAB_HISTORY_BODIES=1 changes nothing: bodies are kept by default).
        self.store_bodies = bool(store_bodies) and bodies_from_env() is not False
        self.max_entries = max(0, int(max_entries))  # > 0: ``add`` drops the oldest beyond this many
        self.notice: str | None = None
        self.persistent = True  # False: the file could not be used; this history lives in memory
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open_file()
        except _Refused as exc:
            self.notice = f"history is not saved: {exc}. This session keeps history in memory only"
            self.persistent = False
            self._conn = self._connect(":memory:")
            self._init(self._conn)
        except (OSError, sqlite3.Error, _Unusable) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.notice = (f"history is not saved: cannot use {self.path}: {reason} "
                           "(this session keeps it in memory only)")
            self.persistent = False
            self._conn = self._connect(":memory:")
            self._init(self._conn)

    # -- opening -------------------------------------------------------------------------
    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def _create_file(self) -> None:
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            make_private_dirs(directory)
        problem = check_private(self.path)
        if problem:
            raise _Refused(problem)
        # Create it 0600 ourselves before SQLite does (SQLite would use 0644 & ~umask);
        # SQLite gives its -wal and -shm files the database file's mode.  An existing file
        # is never opened here: closing any descriptor of a database file drops every
        # POSIX lock this process holds on it, those of another History's connection too,
        # and two processes' writes could then collide (SQLite's "how to corrupt" 2.2).
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            st = os.stat(self.path)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file", self.path) from None
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "it is not a regular file", self.path) from None
            if st.st_mode & 0o077:  # ours (check_private): tightened, as the file holds secrets
                os.chmod(self.path, 0o600)
            return
        os.close(fd)

    def _open_file(self) -> sqlite3.Connection:
        self._create_file()
        conn = self._connect(self.path)
        try:
            state = _state(conn)
            _check_whole(self.path, conn)
        except _Foreign as exc:
            try:  # move first: closing would make SQLite delete a -wal it could not use
                aside = _move_aside(self.path)
            finally:
                conn.close()
            self.notice = (f"{self.path} could not be used as a netlab history ({exc}); it was moved to "
                           f"{aside} and a new history was started")
            self._create_file()
            conn = self._connect(self.path)
            state = _state(conn)
        except BaseException:
            conn.close()
            raise
        try:
            if state == "newer":
                raise _Unusable("it was written by a newer netlab (schema version "
                                f"{conn.execute('PRAGMA user_version').fetchone()[0]} > {SCHEMA_VERSION})")
            _wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            if state != "ours":
                self._init(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _init(conn: sqlite3.Connection) -> None:
        """Create the schema (or migrate an older one) in one write transaction; another
        process may be doing the same at the same moment, so look again under the lock."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            if app == APPLICATION_ID and version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            if version == 0:  # a new file: the current schema
                for stmt in _SCHEMA.split(";"):  # not executescript(): it would COMMIT
                    if stmt.strip():
                        conn.execute(stmt)
            else:  # an older netlab's file: migrate v -> v + 1 up to the current version
                for v in range(version, SCHEMA_VERSION):
                    for stmt in _MIGRATIONS[v]:
                        conn.execute(stmt)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- public --------------------------------------------------------------------------
    def add(self, exchange: Exchange) -> int:
        """Store ``exchange``; returns its id.  Raises HistoryError when the store fails."""
        row = encode(exchange, self.body_cap, self.store_bodies)
        hops = [encode(hop, self.body_cap, self.store_bodies) for hop in exchange.redirects or ()]
        with self._lock:
            conn = self._live()
            try:
                conn.execute("BEGIN IMMEDIATE")
                cur = conn.execute(_INSERT, row)
                for position, hop in enumerate(hops, 1):  # the chain's hops, under the last one's id
                    conn.execute(_INSERT_HOP, (cur.lastrowid, position, *hop))
                if self.max_entries:  # keep the newest max_entries, in the same transaction
                    conn.execute("DELETE FROM exchange WHERE id <= (SELECT id FROM exchange ORDER BY id DESC "
                                 "LIMIT 1 OFFSET ?)", (self.max_entries,))
                    conn.execute("DELETE FROM hop WHERE exchange_id NOT IN (SELECT id FROM exchange)")
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise HistoryError(f"cannot write to history {self.path}: {exc}") from None
            rowid = cur.lastrowid
            assert rowid is not None  # set by the INSERT that just succeeded
            return int(rowid)

    def list(self, limit: int = 50) -> list[HistoryEntry]:
        """The newest ``limit`` entries (all when ``limit`` < 1), newest first."""
        sql = ("SELECT id, started, method, url, status, duration_ms, error_phase, reused "
               "FROM exchange ORDER BY id DESC LIMIT ?")
        rows = self._query(sql, (limit if limit and limit > 0 else -1,))
        return [HistoryEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    def last_id(self) -> int | None:
        rows = self._query("SELECT MAX(id) FROM exchange", ())
        return rows[0][0] if rows else None

    def get(self, id: int) -> Exchange:  # noqa: A002 - the API's name
        """The stored exchange rebuilt; KeyError when there is no such id."""
        rows = self._query(f"SELECT {', '.join(COLUMNS)} FROM exchange WHERE id = ?", (int(id),))
        if not rows:
            raise KeyError(id)
        exchange = decode(dict(zip(COLUMNS, rows[0])))
        if exchange.redirects is not None:  # sent with -L: every hop before it, in order
            hops = self._query(f"SELECT {', '.join(COLUMNS)} FROM hop WHERE exchange_id = ? ORDER BY position",
                               (int(id),))
            exchange.redirects = [decode(dict(zip(COLUMNS, hop))) for hop in hops]
        return exchange

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError("the history is closed")
        return self._conn

    def _query(self, sql: str, params: tuple) -> _Rows:
        with self._lock:
            conn = self._live()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise HistoryError(f"cannot read history {self.path}: {exc}") from None


# Migrations from schema version v to v + 1, as lists of statements.
_MIGRATIONS: dict[int, list[str]] = {1: [_HOP_TABLE]}


class _Foreign(Exception):
    """The file is not a netlab history (its reason is the message)."""


class _Unusable(Exception):
    """The file is a netlab history this netlab must not touch."""


class _Refused(Exception):
    """The file or a directory above it is not private to this user (the message says how)."""


def _state(conn: sqlite3.Connection) -> str:
    """'new' (empty database), 'ours', 'older' (ours, to migrate), 'newer'; raises _Foreign."""
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) in (_SQLITE_NOTADB, _SQLITE_CORRUPT) or \
                "not a database" in str(exc) or "malformed" in str(exc):
            raise _Foreign(str(exc)) from None
        raise
    if app == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            return "newer"
        if version == SCHEMA_VERSION and "exchange" in tables:
            return "ours"
        return "older"
    if app == 0 and version == 0 and not tables:
        return "new"
    what = f"application id {app:#x}" if app else f"tables: {', '.join(sorted(tables)) or 'none'}"
    raise _Foreign(f"another program's SQLite database ({what})")


def _check_whole(path: str, conn: sqlite3.Connection) -> None:
    """Raise _Foreign when the file was cut short (a copy that stopped, a full disk).

    SQLite only notices a missing page when a query reaches it, so a file that lost its
    tail would open and then fail on some entries.  A size that is not a whole number of
    pages, or fewer pages than the database says it has (with no write-ahead log holding
    the newer pages), is suspicious.  Only then does ``PRAGMA quick_check`` decide, under
    SQLite's own locks (another process's write can make the file look short for a
    moment; the check reads a consistent snapshot).  The file is only stat()ed, never
    opened: see ``_create_file``."""
    try:
        size = os.path.getsize(path)
        wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    except (OSError, sqlite3.Error):
        return  # gone, or unreadable: the queries that follow report it
    if not size or not page or (size % page == 0 and not (pages * page > size and wal <= 32)):
        return
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:
        rows = [str(exc)]
    if rows != ["ok"]:
        problem = " ".join("; ".join(rows).replace("*** in database main ***", "").split())
        raise _Foreign(f"the file is damaged, cut short at {size} bytes: {problem}")


def _wal(conn: sqlite3.Connection) -> None:
    # Switching to WAL needs a moment of exclusive access; a second process opening the
    # same new file can make it report "locked" without waiting: retry briefly.
    for attempt in range(50):
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        time.sleep(0.01 * (attempt + 1))
    raise sqlite3.OperationalError("cannot switch the history database to WAL mode (locked)")


def _move_aside(path: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = f"{path}.corrupt-{stamp}"
    n = 1
    while os.path.exists(aside):
        aside = f"{path}.corrupt-{stamp}-{n}"
        n += 1
    os.replace(path, aside)
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            os.replace(path + suffix, aside + suffix)
        except FileNotFoundError:
            pass
    return aside
