"""Moved to netlab.engine.formats.curl (issue 13): this path re-exports its names for one release."""

from netlab.engine.formats.curl import (
    COMPRESSED_ENCODINGS,
    CurlCommand,
    CurlError,
    Word,
    looks_like_curl,
    parse_curl,
    quote,
    split_words,
    to_curl,
)

__all__ = ["CurlCommand", "CurlError", "parse_curl", "to_curl", "looks_like_curl", "split_words", "Word",
           "COMPRESSED_ENCODINGS", "quote"]
