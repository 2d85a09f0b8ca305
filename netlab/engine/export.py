"""Moved to netlab.engine.formats.export (issue 13): this path re-exports its names for one release."""

from netlab.engine.formats.export import (
    FORMATS,
    REQUESTS_DEFAULT_HEADERS,
    Export,
    bytes_literal,
    export_exchange,
    export_request,
    masked_request,
)

__all__ = ["FORMATS", "Export", "export_exchange", "export_request", "masked_request", "bytes_literal",
           "REQUESTS_DEFAULT_HEADERS"]
