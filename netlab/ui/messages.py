"""Every message of the netlab UI, in one small module.

Panes post intents (``...Requested``) up to the app; workers post results (``...Done``,
``...Changed``) to the app from their threads with ``post_message``; the app sets the
results on the panes' attributes.  Noisy messages say so with ``can_replace``.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class SendRequested(Message):
    """The composer wants this request sent with these options."""

    def __init__(self, request: Any, options: Any) -> None:
        super().__init__()
        self.request = request
        self.options = options


class ExchangeEvent(Message):
    """One engine event of send number ``send_id`` (posted from the send worker)."""

    def __init__(self, send_id: int, event: Any) -> None:
        super().__init__()
        self.send_id = send_id
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Progress is noisy: a body chunk may be superseded by the next one of the same send.
        return (isinstance(message, ExchangeEvent) and message.send_id == self.send_id
                and type(message.event).__name__ == type(self.event).__name__ == "BodyChunk")


class ExchangeDone(Message):
    """Send number ``send_id`` finished; ``prepared`` is the render of its exchange."""

    def __init__(self, send_id: int, prepared: Any) -> None:
        super().__init__()
        self.send_id = send_id
        self.prepared = prepared


class LookupRequested(Message):
    """The DNS pane wants ``name`` looked up (``options``: the whole form; ``lookup_id``: its number)."""

    def __init__(self, name: str, rdtype: str, server: str | None, port: int | None,
                 options: dict | None = None, lookup_id: int = 0) -> None:
        super().__init__()
        self.name = name
        self.rdtype = rdtype
        self.server = server
        self.port = port
        self.options = options
        self.lookup_id = lookup_id


class LookupDone(Message):
    """A DNS lookup finished (``result``: the first DnsResult; ``outcome``: workers.DnsOutcome)."""

    def __init__(self, result: Any, outcome: Any = None) -> None:
        super().__init__()
        self.result = result
        self.outcome = outcome


class PinRequested(Message):
    """Pin ``address`` for the composer's host (the next send's --resolve)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address


class ConnectionsScanRequested(Message):
    """The connection pane wants a snapshot now (the states of ``follow_pairs`` in it; a
    big change comes back as a whole table sorted for ``spec``)."""

    def __init__(self, follow_pairs: tuple = (), spec: Any = None, retired: list | None = None) -> None:
        super().__init__()
        self.follow_pairs = follow_pairs
        self.spec = spec
        self.retired = retired if retired is not None else []  # replaced tables, to be freed in the worker


class ConnectionsChanged(Message):
    """A connection-table snapshot, as a diff against the previous one.  Never replaced:
    each diff builds on the last (one scan runs at a time, so they do not pile up)."""

    def __init__(self, added: tuple, removed: tuple, changed: tuple, own: frozenset,
                 total: int, elapsed_ms: float, notice: str | None, *, taken: float = 0.0,
                 counts: dict | None = None, natural: dict | None = None, follow_states: dict | None = None,
                 no_pid: int = 0, error: str | None = None, table: Any = None, search: dict | None = None) -> None:
        super().__init__()
        self.added = added
        self.removed = removed
        self.changed = changed
        self.own = own
        self.total = total
        self.elapsed_ms = elapsed_ms
        self.notice = notice
        self.taken = taken  # time.monotonic() of the snapshot
        self.counts = counts  # {state: rows}, all rows
        self.natural = natural  # {key: netstat.natural_key} of the added rows, worked out in the worker
        self.search = search  # {key: netstat.search_text} of the added and changed rows, likewise
        self.follow_states = follow_states or {}  # {(local, remote): state or None} of the followed pairs
        self.no_pid = no_pid  # rows without a pid
        self.error = error  # the scan failed: nothing else is set
        self.table = table  # a big change: the whole netstat.ConnTable, sorted in the worker, to adopt


class FollowProbeRequested(Message):
    """The connection pane wants the kernel's state of these (local, remote) pairs."""

    def __init__(self, pairs: tuple) -> None:
        super().__init__()
        self.pairs = pairs


class FollowProbed(Message):
    """States of followed pairs at monotonic ``t`` (``error``: probing is not possible here)."""

    def __init__(self, states: dict, t: float, error: str | None = None) -> None:
        super().__init__()
        self.states = states
        self.t = t
        self.error = error


class FollowChanged(Message):
    """A followed connection has a new state (``follow``: a netstat.Follow, UI-thread owned)."""

    def __init__(self, follow: Any) -> None:
        super().__init__()
        self.follow = follow

    def can_replace(self, message: Message) -> bool:
        # Only the latest history of a connection is worth drawing.
        return isinstance(message, FollowChanged) and message.follow is self.follow


class ConnSortClicked(Message):
    """A column title of the connection table was clicked: sort by ``column``."""

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column


class HistoryChanged(Message):
    """The history list, newest first (a list of HistoryEntry)."""

    def __init__(self, entries: list) -> None:
        super().__init__()
        self.entries = entries


class HistoryLoadRequested(Message):
    """Load history entry ``entry_id`` into the composer and the viewer."""

    def __init__(self, entry_id: int) -> None:
        super().__init__()
        self.entry_id = entry_id


class HistoryReplayRequested(Message):
    """Replay history entry ``entry_id`` exactly: same bytes, same target."""

    def __init__(self, entry_id: int) -> None:
        super().__init__()
        self.entry_id = entry_id


class HistoryLoaded(Message):
    """A stored exchange was read back (``replay`` says whether to send it again)."""

    def __init__(self, prepared: Any, replay: bool) -> None:
        super().__init__()
        self.prepared = prepared
        self.replay = replay


class LabReady(Message):
    """The built-in lab server listens at ``url`` (or failed to start: ``error``)."""

    def __init__(self, url: str | None, error: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.error = error


class Problem(Message):
    """Something went wrong in a worker; tell the user (plain text, never markup)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class TabSelected(Message):
    """A tab name was clicked in ``strip`` (its pane shows that tab)."""

    def __init__(self, strip: Any, tab_id: str) -> None:
        super().__init__()
        self.strip = strip
        self.tab_id = tab_id
