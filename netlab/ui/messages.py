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


class ComposeFailed(Message):
    """The composer could not build a request (bad URL, bad option): nothing was sent."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ExchangeEvent(Message):
    """One engine event of send number ``send_id`` (posted from the send worker)."""

    def __init__(self, send_id: int, event: Any) -> None:
        super().__init__()
        self.send_id = send_id
        self.event = event

    def can_replace(self, message: Message) -> bool:
        # Progress is noisy: a body chunk may be superseded by the next one of the same send.
        from netlab.engine.events import BodyChunk

        return (isinstance(message, ExchangeEvent) and message.send_id == self.send_id
                and isinstance(message.event, BodyChunk) and isinstance(self.event, BodyChunk))


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
    """Pin ``name`` (None: the composer's host) to ``address`` for the composer's sends
    (--resolve NAME:PORT:ADDR); ``use``: also put ``name`` in the composer's URL."""

    def __init__(self, address: str, name: str | None = None, *, use: bool = False) -> None:
        super().__init__()
        self.address = address
        self.name = name
        self.use = use


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


class CompareRequested(Message):
    """Compare two stored exchanges: ``a_id`` → ``b_id``.  ``b_id`` None: the newest two;
    ``a_id`` None: ``b_id`` with the one stored just before it."""

    def __init__(self, a_id: int | None, b_id: int | None) -> None:
        super().__init__()
        self.a_id = a_id
        self.b_id = b_id


class CompareReady(Message):
    """Two stored exchanges compared (in a worker): ``lines`` are the DiffScreen's
    ``rich.text.Text`` lines, every peer byte escaped."""

    def __init__(self, a_id: int, b_id: int, lines: list) -> None:
        super().__init__()
        self.a_id = a_id
        self.b_id = b_id
        self.lines = lines


class ExportRequested(Message):
    """Export history entry ``entry_id`` (the chooser opens once it is read)."""

    def __init__(self, entry_id: int) -> None:
        super().__init__()
        self.entry_id = entry_id


class ExportReady(Message):
    """A request to export, read back from the history: open the chooser for it."""

    def __init__(self, request: Any, options: Any, source: str) -> None:
        super().__init__()
        self.request = request
        self.options = options
        self.source = source


class ExportsComputed(Message):
    """Every export format of one request, computed in a worker: ``results`` maps
    (format, show_secrets) to an engine ``Export`` or an error message (str)."""

    def __init__(self, results: dict) -> None:
        super().__init__()
        self.results = results


class HttpEntriesChosen(Message):
    """Entries of a .http file, as (request, options, label) tuples: load the first into
    the composer (``send`` False) or send them all in order (``send`` True)."""

    def __init__(self, items: tuple, send: bool) -> None:
        super().__init__()
        self.items = items
        self.send = send


class SearchChanged(Message):
    """The response viewer's search line: the query as typed (``final``: enter was pressed)."""

    def __init__(self, query: str, match_case: bool, final: bool = False) -> None:
        super().__init__()
        self.query = query
        self.match_case = match_case
        self.final = final


class SearchClosed(Message):
    """The search line was closed with escape: clear the search and its highlights."""


class SearchFound(Message):
    """The matches of search number ``search_id`` of a LineView (posted from its worker;
    ``capped``: there are more than the ones listed)."""

    def __init__(self, search_id: int, matches: list, capped: bool) -> None:
        super().__init__()
        self.search_id = search_id
        self.matches = matches
        self.capped = capped


class SearchReport(Message):
    """A LineView says where its search stands ("match 3 of 17"): for the search line."""

    def __init__(self, view: Any, text: Any) -> None:
        super().__init__()
        self.view = view
        self.text = text


class FileSaved(Message):
    """A body (or the raw response) was written to ``path``: ``written`` bytes; ``error``
    when writing failed part way; ``note`` something to add (a truncated history body)."""

    def __init__(self, path: str, written: int, error: str | None = None, note: str = "") -> None:
        super().__init__()
        self.path = path
        self.written = written
        self.error = error
        self.note = note


class ExternalFileReady(Message):
    """The body is in the temporary file ``path`` for ``argv`` (a pager or an editor) to
    open; or ``error`` says why not."""

    def __init__(self, kind: str, argv: list, path: str | None, error: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.argv = argv
        self.path = path
        self.error = error


class HopPrepared(Message):
    """A redirect hop rendered for the response viewer (posted to the hops screen by its worker)."""

    def __init__(self, prepared: Any) -> None:
        super().__init__()
        self.prepared = prepared


class StackDone(Message):
    """The stack screen's run: one ``engine.stack.StackResult`` per client (``error``: why none)."""

    def __init__(self, run_id: int, results: Any, error: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.results = results
        self.error = error
