"""Moved to netlab.engine.store.diff (issue 13): this path re-exports its names for one release."""

from netlab.engine.store.diff import ExchangeDiff, HeaderChange, body_lines, compare, diff_lines

__all__ = ["ExchangeDiff", "HeaderChange", "compare", "diff_lines", "body_lines"]
