"""What the connection table shows under its selected row: the owning process's
ancestry (htop's tree view: ``login → zsh → python``, from psutil's ``parents()``) and,
for a TCP connection, the kernel's ``tcp_info`` for it (sock_diag: ``ss -ti``, no
privileges needed).  Asked for one row at a time, in a worker: the table's refresh
cost stays flat however many sockets there are."""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from netlab.engine.netstat.sockdiag import ProbeUnavailable, tcp_details


@dataclass(frozen=True, slots=True)
class RowDetail:
    key: tuple  # the row's key (ConnRow.key)
    chain: tuple[tuple[int, str], ...]  # (pid, name) from the oldest ancestor to the owner
    chain_error: str | None  # why there is no chain (no pid, gone, access denied)
    state: str | None  # the kernel's state now (TCP)
    tcp_info: dict | None
    info_error: str | None  # why there is no tcp_info (not TCP, no such socket, no sock_diag)


def ancestry(pid: int) -> tuple[tuple[tuple[int, str], ...], str | None]:
    """(pid, name) of ``pid``'s ancestors, the oldest first, then ``pid`` itself; or why not."""
    try:
        proc = psutil.Process(pid)
        chain = [*reversed(proc.parents()), proc]
        out = []
        for p in chain:
            try:
                out.append((p.pid, p.name()))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                out.append((p.pid, "?"))
        return tuple(out), None
    except psutil.NoSuchProcess:
        return (), f"process {pid} has exited"
    except psutil.AccessDenied:
        return (), f"process {pid}: access denied"


def row_detail(row) -> RowDetail:
    """The detail of one ``ConnRow``."""
    if row.pid:
        chain, chain_error = ancestry(row.pid)
    else:
        chain, chain_error = (), ("no process: the kernel holds it until TIME_WAIT ends" if row.state == "TIME_WAIT"
                                  else "no pid: another user's socket (root sees it) or the kernel's")
    state = info = info_error = None
    if not row.proto.startswith("tcp"):
        info_error = "UDP: no tcp_info"
    elif row.remote is None or not row.remote[1]:
        info_error = "listening: no connection"
    else:
        try:
            found = tcp_details(tuple(row.local), tuple(row.remote))
        except ProbeUnavailable as exc:
            found, info_error = None, str(exc)
        if found is None:
            info_error = info_error or "the socket is gone"
        else:
            state, info = found["state"], found["tcp_info"]
    return RowDetail(row.key, chain, chain_error, state, info, info_error)
