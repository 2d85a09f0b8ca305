"""Moved to netlab.engine.store.load (issue 13): this path re-exports its names for one release."""

from netlab.engine.store.load import ErrorGroup, LoadProgress, LoadSummary, percentile, run_load

__all__ = ["ErrorGroup", "LoadProgress", "LoadSummary", "percentile", "run_load"]
