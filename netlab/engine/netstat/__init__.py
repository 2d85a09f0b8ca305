"""The connection table, like ``netstat``/``ss``, in four parts:

- ``snapshot``: a psutil snapshot as rows, the difference between two snapshots, which
  rows are netlab's own sockets, the TCP state names, and when to scan next;
- ``view``: what a table shows and in which order (``ViewSpec``, ``filter_sort``), for
  ``netlab conns`` and the TUI alike; ``table``: the live form of it (``ConnTable``);
- ``sockdiag``: one socket's state straight from the kernel (Linux netlink);
- ``follow``: one connection's TCP state history (``Follow``, ``StateTracker``).

Every name is importable from ``netlab.engine.netstat`` itself.
"""

from netlab.engine.netstat.follow import STATE_NOTES, Follow, StateStep, StateTracker, states_of
from netlab.engine.netstat.snapshot import (
    CLOSING_STATES,
    GONE,
    STATES,
    ConnRow,
    ScanPacer,
    Snapshot,
    by_key,
    diff,
    format_addr,
    is_own,
    normalize_state,
    own_keys,
    snapshot,
    state_counts,
)
from netlab.engine.netstat.sockdiag import ProbeUnavailable, probe_states, tcp_state
from netlab.engine.netstat.table import ConnTable
from netlab.engine.netstat.view import (
    COLUMNS,
    KINDS,
    ViewSpec,
    addr_sort_key,
    filter_sort,
    is_listening,
    natural_key,
    search_text,
    sort_key,
)

__all__ = [
    "ConnRow", "Snapshot", "snapshot", "diff", "is_own", "format_addr", "by_key",
    # states
    "STATES", "CLOSING_STATES", "GONE", "STATE_NOTES", "normalize_state", "state_counts",
    # the live table: own sockets, filter, sort, keyed updates
    "own_keys", "COLUMNS", "KINDS", "ViewSpec", "is_listening", "search_text", "addr_sort_key",
    "natural_key", "sort_key", "filter_sort", "ConnTable",
    # scanning and following
    "ScanPacer", "tcp_state", "probe_states", "states_of", "ProbeUnavailable", "StateStep", "Follow",
    "StateTracker",
]
