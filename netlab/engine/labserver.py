"""The lab server moved to ``netlab.lab`` (the other side of the wire, not the client
engine). This module re-exports its names for one release, for the importers not yet
switched; import from ``netlab.lab`` instead."""

from __future__ import annotations

from netlab.lab import (
    BLOCK_SIZE,
    MAX_BYTES,
    SERVER_SOFTWARE,
    BindRefused,
    LabRequest,
    LabServer,
    bind_address,
    is_loopback,
    iter_lab_bytes,
    lab_bytes,
    run,
)

__all__ = [
    "BLOCK_SIZE",
    "BindRefused",
    "LabRequest",
    "LabServer",
    "MAX_BYTES",
    "SERVER_SOFTWARE",
    "bind_address",
    "is_loopback",
    "iter_lab_bytes",
    "lab_bytes",
    "run",
]
