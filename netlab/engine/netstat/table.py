"""The rows of a live connection table, kept by key between snapshots, with a filtered,
sorted view of them kept up to date as diffs arrive: fast at 20,000 sockets.  All pure,
no threads, no UI."""

from __future__ import annotations

import bisect
import time

from netlab.engine.netstat.snapshot import ConnRow, by_key, diff, state_counts
from netlab.engine.netstat.view import ViewSpec, natural_key, primary_key, search_text


class ConnTable:
    """The rows a live table shows, kept by key between snapshots, and the filtered,
    sorted view of them kept up to date as diffs arrive.

    Every row has an entry ``(sort key, seq, row key, search text)`` in one sorted list, the
    *base*; the *view* is the base itself, or — while a filter is on — the entries of
    the base that the filter keeps, in the same order.  ``apply(added, removed,
    changed)`` updates the rows in place (a diff, never a refill) and moves only the
    entries it names — a few by bisection, many by one filtering pass and one merge —
    so a refresh costs in proportion to what changed, not to the 20,000 rows.
    ``set_view(spec, own)``: another sort column re-sorts the base; another filter only
    filters it again (no sort), and typing more of a text filter filters the view.
    ``first_seen`` remembers when each socket (protocol, local, remote) was first seen,
    so a connection keeps its age when its pid goes away at close.  Read the view with
    ``len(table.view)``, ``key_at(i)``, ``keys(start, stop)`` and ``index(key)``.
    ``ConnTable(view=False)`` keeps rows and ages only, and ``copy(spec, own)`` makes a
    full table from it: a worker thread's mirror, for changes too big for the UI
    thread.  Not thread-safe: one owner at a time."""

    BIG_CHANGES = 300  # a diff of more rows than this is "big": see big()
    # Up to this many entries leave / enter a list one bisection each (a memmove of the
    # list each); more, and one filtering pass / one merge of sorted runs is cheaper.
    BISECT_DROPS = 200
    BISECT_INSERTS = 400

    def __init__(self, spec: ViewSpec | None = None, *, view: bool = True) -> None:
        self.rows: dict[tuple, ConnRow] = {}
        self.keeps_view = view  # False: rows and ages only (a mirror in a worker thread, see copy())
        self.first_seen: dict[tuple, float] = {}  # (proto, local, remote) -> time.monotonic()
        self.spec = spec or ViewSpec()
        self.own: frozenset = frozenset()
        self.view: list[tuple] = []  # ascending entries of the rows the spec keeps (the base when no filter)
        self.version = 0  # bumped by every apply()/set_view() that changed something
        self._base: list[tuple] = []  # ascending entries of every row
        self._entry: dict[tuple, tuple] = {}  # row key -> its entry
        self._sockets: dict[tuple, int] = {}  # (proto, local, remote) -> rows with it
        self._hay: dict[tuple, str] = {}  # row key -> search_text (filled as needed, or by the worker)
        self._nat: dict[tuple, tuple] = {}  # row key -> natural_key (fixed: it is made of the key)
        self._keys: dict[str, dict[tuple, tuple]] = {}  # column -> row key -> sort key
        self._seq = 0

    # -- rows ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key) -> bool:
        return key in self.rows

    def get(self, key) -> ConnRow | None:
        return self.rows.get(key)

    def age(self, key: tuple, now: float | None = None) -> float:
        """Seconds since the row's socket was first seen (0 when unknown)."""
        t = self.first_seen.get(key[:3])
        return 0.0 if t is None else max(0.0, (time.monotonic() if now is None else now) - t)

    def counts(self) -> dict[str, int]:
        return state_counts(self.rows.values())

    def search_text(self, key: tuple) -> str:
        hay = self._hay.get(key)
        if hay is None:
            hay = self._hay[key] = search_text(self.rows[key])
        return hay

    def apply(self, added=(), removed=(), changed=(), now: float | None = None,
              natural: dict[tuple, tuple] | None = None, search: dict[tuple, str] | None = None) -> bool:
        """Apply one ``diff`` (added rows, removed keys, changed rows); added and changed
        are both upserts, unknown removed keys are ignored.  ``natural`` and ``search``:
        the rows' ``natural_key``s and ``search_text``s when the caller worked them out
        already (in a worker thread).  True when anything changed."""
        now = time.monotonic() if now is None else now
        added, removed, changed = list(added), list(removed), list(changed)
        if not (added or removed or changed):
            return False
        if natural:
            self._nat.update(natural)
        dropped: list[tuple] = []  # entries to take out
        upserts = added + changed
        ukeys = [row.key for row in upserts]
        # rows first, so that a socket whose pid went away keeps its age
        self._upsert_rows(ukeys, upserts, now, dropped)
        self._remove_rows(removed, dropped)
        if search:
            self._hay.update(search)
        if self.keeps_view:
            self._update_view(ukeys, upserts, dropped)
        self.version += 1
        return True

    def _upsert_rows(self, ukeys: list[tuple], upserts: list[ConnRow], now: float, dropped: list[tuple]) -> None:
        """Store ``upserts`` (keyed ``ukeys``): a new socket is counted and aged from ``now``;
        a replaced row's view entry goes to ``dropped`` and its cached sort/search keys go."""
        rows, seen, sockets = self.rows, self.first_seen, self._sockets
        keep_view = self.keeps_view
        entry = self._entry
        forget = self._forget
        hay = self._hay
        for key, row in zip(ukeys, upserts):
            if key not in rows:
                sock = key[:3]
                sockets[sock] = sockets.get(sock, 0) + 1
                seen.setdefault(sock, now)
            else:
                if keep_view:
                    e = entry.pop(key, None)
                    if e is not None:
                        dropped.append(e)
                    forget(key)
                elif hay:
                    hay.pop(key, None)
            rows[key] = row

    def _remove_rows(self, removed: list[tuple], dropped: list[tuple]) -> None:
        """Take out the rows keyed ``removed`` (unknown keys ignored): their view entries go to
        ``dropped``, their cached keys go, and a socket with no row left loses its age."""
        rows, seen, sockets = self.rows, self.first_seen, self._sockets
        keep_view = self.keeps_view
        entry = self._entry
        forget = self._forget
        hay = self._hay
        nat = self._nat
        for key in removed:
            if rows.pop(key, None) is None:
                continue
            if keep_view:
                e = entry.pop(key, None)
                if e is not None:
                    dropped.append(e)
                forget(key)
            elif hay:
                hay.pop(key, None)
            nat.pop(key, None)
            sock = key[:3]
            left = sockets.get(sock, 1) - 1
            if left <= 0:
                sockets.pop(sock, None)
                seen.pop(sock, None)
            else:
                sockets[sock] = left

    def _update_view(self, ukeys: list[tuple], upserts: list[ConnRow], dropped: list[tuple]) -> None:
        """Merge the upserted rows that are still there into the sorted base (and the filtered
        view, if any) and take the ``dropped`` entries out."""
        rows, entry = self.rows, self._entry
        fresh = [k for k, row in zip(ukeys, upserts) if rows.get(k) is row and k not in entry]
        if len(fresh) != len(set(fresh)):
            fresh = list(dict.fromkeys(fresh))  # a key both added and changed: once
        new = self._entries(fresh)
        for e in new:
            entry[e[2]] = e
        filtered = self.view is not self._base
        self._base = _merge(self._base, dropped, new, self.BISECT_DROPS, self.BISECT_INSERTS)
        if filtered:
            kept = self._filter(new)
            self.view = _merge(self.view, dropped, kept, self.BISECT_DROPS, self.BISECT_INSERTS, strict=False)
        else:
            self.view = self._base

    def copy(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> "ConnTable":
        """A new table with the same rows and ages and its own view of them (``spec``,
        ``own``), sorted from scratch.  A worker thread keeps a ``view=False`` mirror of
        what the UI's table holds and, when a diff is too big to apply by key without
        re-sorting everything on the UI thread (the first snapshot, thousands of new
        sockets), hands the UI a copy to adopt instead."""
        t = ConnTable(spec or self.spec)
        t.rows = dict(self.rows)
        t.first_seen = dict(self.first_seen)
        t._sockets = dict(self._sockets)
        t._nat = dict(self._nat)
        t._hay = dict(self._hay)
        t.own = frozenset(self.own if own is None else own)
        t._rebuild()
        return t

    def big(self, changes: int) -> bool:
        """True when a diff of ``changes`` rows is better sorted into a ``copy`` off the UI
        thread than applied by key on it (each changed row costs the UI thread tens of
        microseconds on a slow machine; BIG_CHANGES of them stay within a few ms)."""
        return changes > self.BIG_CHANGES

    def replace(self, rows, now: float | None = None) -> tuple[list[ConnRow], list[tuple], list[ConnRow]]:
        """Make the table hold exactly ``rows`` (by key); returns the diff applied."""
        added, removed, changed = diff(self.rows, by_key(rows))
        self.apply(added, removed, changed, now)
        return added, removed, changed

    # -- the view --------------------------------------------------------------------------
    def set_view(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> bool:
        """Show what ``spec`` keeps, with ``own`` as netlab's own row keys.  True when the
        view may have changed."""
        spec = self.spec if spec is None else spec
        own = self.own if own is None else frozenset(own)
        if spec == self.spec and own == self.own:
            return False
        old_spec, old_own = self.spec, self.own
        self.spec, self.own = spec, own
        if spec.sort != old_spec.sort:
            self._rebuild()  # other sort keys (reverse alone needs nothing: the view is read backwards)
        elif _same_filter(spec, old_spec):
            if spec.own and own != old_own:  # only the set of our own sockets changed
                view, entry = self.view, self._entry
                gone = [entry[k] for k in old_own - own if k in entry]
                come = [entry[k] for k in own - old_own if k in entry]
                self.view = _merge(view, gone, sorted(self._filter(come)), self.BISECT_DROPS,
                                   self.BISECT_INSERTS, strict=False)
        elif not spec.filtering:
            self.view = self._base
        elif old_spec.filtering and _narrows(old_spec, spec) and (own == old_own or not spec.own):
            self.view = self._filter(self.view)  # e.g. one more letter typed: filter what shows
        else:
            self.view = self._filter(self._base)  # filter again: the base is sorted already
        self.version += 1
        return True

    def key_at(self, i: int) -> tuple:
        """The row key shown at position ``i`` of the view (0 is the top)."""
        view = self.view
        return view[len(view) - 1 - i][2] if self.spec.reverse else view[i][2]

    def keys(self, start: int = 0, stop: int | None = None) -> list[tuple]:
        """Row keys of view positions ``start``..``stop``: what a screenful shows."""
        view = self.view
        n = len(view)
        stop = n if stop is None else max(0, min(stop, n))
        start = max(0, min(start, stop))
        if self.spec.reverse:
            return [view[n - 1 - i][2] for i in range(start, stop)]
        return [e[2] for e in view[start:stop]]

    def index(self, key: tuple) -> int | None:
        """The view position of row ``key`` (None when the view does not show it)."""
        entry = self._entry.get(key)
        if entry is None:
            return None
        view = self.view
        i = bisect.bisect_left(view, entry)
        if i >= len(view) or view[i] is not entry:
            return None
        return len(view) - 1 - i if self.spec.reverse else i

    def order(self, spec: ViewSpec | None = None, own: frozenset | set | None = None) -> list[tuple]:
        """Every row key the view shows, top to bottom (after ``set_view(spec, own)``)."""
        if spec is not None or own is not None:
            self.set_view(spec, own)
        return self.keys()

    # -- internals -------------------------------------------------------------------------
    def _keeps(self, key, row, spec: ViewSpec, own, words: tuple[str, ...] | None = None) -> bool:
        if words is None:
            words = spec.words
        if not spec.matches_fields(row, own):
            return False
        if words:
            hay = self._hay.get(key)
            if hay is None:
                hay = self._hay[key] = search_text(row)
            for w in words:
                if w not in hay:
                    return False
        return True

    def _filter(self, entries: list[tuple]) -> list[tuple]:
        """The entries the spec keeps, in their order."""
        spec, own = self.spec, self.own
        if not spec.filtering:
            return list(entries)
        words = spec.words
        only_words = words and not (spec.states or spec.protos or spec.listening or spec.own
                                    or spec.port is not None or spec.pid is not None)
        if only_words:  # typing into the filter: one substring test per row, on the entry itself
            if len(words) == 1:
                w = words[0]
                return [e for e in entries if w in e[3]]
            return [e for e in entries if all(w in e[3] for w in words)]
        rows, keeps = self.rows, self._keeps
        return [e for e in entries if keeps(e[2], rows[e[2]], spec, own, words)]

    def _sort_keys(self, keys) -> dict[tuple, tuple]:
        """The current column's sort-key cache, filled for ``keys``."""
        column = self.spec.sort
        cache = self._keys.get(column)
        if cache is None:
            cache = self._keys[column] = {}
        missing = [k for k in keys if k not in cache]
        if missing:
            nat, rows = self._nat, self.rows
            for key in missing:
                n = nat.get(key)
                if n is None:
                    n = nat[key] = natural_key(rows[key])
                if column == "proto":
                    cache[key] = n
                elif column == "age":
                    cache[key] = (-self.first_seen.get(key[:3], 0.0),) + n
                else:
                    cache[key] = primary_key(column, rows[key]) + n
        return cache

    def _forget(self, key) -> None:
        """Drop the cached sort keys and search text of a row that changed or went."""
        if self._hay:
            self._hay.pop(key, None)
        for cache in self._keys.values():
            cache.pop(key, None)

    def _entries(self, keys: list) -> list[tuple]:
        """New entries ``(sort key, seq, row key, search text)`` for these rows: ordered by
        the sort key, ties by seq (unique), so the key and text are never compared."""
        cache = self._sort_keys(keys)
        hay, rows = self._hay, self.rows
        missing = [k for k in keys if k not in hay]
        for k in missing:
            hay[k] = search_text(rows[k])
        seq = self._seq
        self._seq += len(keys)
        return [(cache[k], seq + i, k, hay[k]) for i, k in enumerate(keys)]

    def _rebuild(self) -> None:
        """Sort every row again (another sort column, or a copy), then filter."""
        base = self._entries(list(self.rows))
        base.sort()
        self._base = base
        self._entry = {e[2]: e for e in base}
        self.view = self._filter(base) if self.spec.filtering else base


def _merge(entries: list, drop: list, add: list, bisect_drops: int, bisect_inserts: int,
           strict: bool = True) -> list:
    """``entries`` (sorted) without the ``drop`` entries (by identity) and with the ``add``
    ones, still sorted: few by bisection in place, many by one pass and one merge.
    ``strict``: every dropped entry is there (else, one that is not is skipped)."""
    if drop:
        if len(drop) <= bisect_drops:
            for e in drop:
                i = bisect.bisect_left(entries, e)
                if i < len(entries) and entries[i] is e:
                    del entries[i]
                elif strict:  # cannot happen while entries are unique; stay correct anyway
                    entries.remove(e)
        else:
            gone = set(map(id, drop))
            entries = [e for e in entries if id(e) not in gone]
    if add:
        if len(add) <= bisect_inserts:
            for e in add:
                bisect.insort(entries, e)
        else:
            entries.extend(add)
            entries.sort()  # two sorted runs (the new ones after sorting themselves): a merge
    return entries


def _same_filter(a: ViewSpec, b: ViewSpec) -> bool:
    return (a.text.lower().split(), a.states, a.protos, a.listening, a.own, a.port, a.pid) == \
        (b.text.lower().split(), b.states, b.protos, b.listening, b.own, b.port, b.pid)


def _narrows(old: ViewSpec, new: ViewSpec) -> bool:
    """True when every row ``new`` keeps, ``old`` kept too (so the view can be filtered
    in place): the same settings, and a text filter that only grew words or letters."""
    if (old.states, old.protos, old.listening, old.own, old.port, old.pid) != \
            (new.states, new.protos, new.listening, new.own, new.port, new.pid):
        return False
    ow, nw = old.words, new.words
    if not ow:
        return True
    # every old word must be contained in some new word (then the new words demand more)
    return all(any(o in n for n in nw) for o in ow)
