"""Moved to netlab.engine.store.history (issue 13): this path re-exports its names for one release."""

from netlab.engine.formats.pin import pin_text
from netlab.engine.store.history import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    History,
    HistoryEntry,
    HistoryError,
    StoredBody,
    bodies_from_env,
    check_private,
    default_path,
)

__all__ = ["History", "HistoryEntry", "HistoryError", "StoredBody", "default_path", "pin_text", "bodies_from_env",
           "check_private", "SCHEMA_VERSION", "APPLICATION_ID"]
