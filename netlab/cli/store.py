"""The history file as the commands use it: `netlab send` records each exchange, and
`replay` and `history show|export|diff` find stored ones by id — a number from `netlab
history` (``#12`` too), 'last' or 'prev' (the one before last) — writing why to stderr
when there is none.

The file is ``netlab.engine.store.history.default_path()`` ($NETLAB_HISTORY overrides)."""

from __future__ import annotations

import sys

from netlab.cli.common import EXIT_FAIL, EXIT_USAGE, current_settings


def record(exchange, err=None, *, store_bodies: bool | None = None) -> int | None:
    """Store ``exchange`` in the history (for `netlab send`); a history that cannot be
    written is reported on ``err`` and never fails the command.  Returns the new id.
    ``store_bodies=False`` (--no-history-bodies) keeps the response body out of the file,
    whatever the settings say (so does NETLAB_HISTORY_BODIES=0, see History)."""
    from netlab.engine.store.history import History, HistoryError

    err = err or sys.stderr
    options = current_settings(err).history_options()  # [history] size, body_cap, bodies
    if store_bodies is False:
        options["store_bodies"] = False
    try:
        with History(**options) as history:
            if history.notice:
                err.write(f"netlab: {history.notice}\n")
            return history.add(exchange)
    except HistoryError as exc:
        err.write(f"netlab: {exc}\n")
        return None


def open_history(err):
    """The history file, its notice (if any) written to ``err``; the caller closes it."""
    from netlab.engine.store.history import History

    history = History()
    if history.notice:
        err.write(f"netlab: {history.notice}\n")
    return history


class NotStored(Exception):
    """An id that names no stored exchange: the message is written, the exit code kept."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def stored_exchange(history, text, err, what: str):
    """(id, Exchange) for ``text`` — a number from `netlab history` (``#12`` too), 'last'
    or 'prev' — or NotStored after writing why to ``err``.  ``what`` names the command."""
    from netlab.engine.store.history import HistoryError
    from netlab.engine.text import safe_text

    t = str(text).strip().lower().lstrip("#")
    if t in ("last", "prev"):
        ids = [e.id for e in history.list(2)]
        want = 0 if t == "last" else 1
        if len(ids) <= want:
            why = "is empty" if not ids else "holds one exchange, so there is no 'prev'"
            err.write(f"netlab: {what}: the history {why} ({history.path}); see `netlab history`\n")
            raise NotStored(EXIT_USAGE)
        ident = ids[want]
    else:
        try:
            ident = int(t)
        except ValueError:
            err.write(f"netlab: {what}: {safe_text(str(text), keep_newlines=False)!r} is not an exchange id "
                      "(a number from `netlab history`, 'last' or 'prev')\n")
            raise NotStored(EXIT_USAGE) from None
    try:
        return ident, history.get(ident)
    except KeyError:
        err.write(f"netlab: no exchange with id {ident} in the history ({history.path}); see `netlab history`\n")
        raise NotStored(EXIT_USAGE) from None
    except HistoryError as exc:
        err.write(f"netlab: {exc}\n")
        raise NotStored(EXIT_FAIL) from None


def stored_exchanges(texts, err, what: str) -> list:
    """[(id, Exchange)] for each id in ``texts``, read from the history file, which is
    closed again: `history show`, `export` and `diff` only read.  NotStored as above."""
    history = open_history(err)
    try:
        return [stored_exchange(history, text, err, what) for text in texts]
    finally:
        history.close()
