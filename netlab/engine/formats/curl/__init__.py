"""curl commands in and out: ``parse_curl`` reads a pasted curl command into a Request and
Options; ``to_curl`` writes a command that makes the real curl send the same bytes.

    lexer     the shell's part: a command's text into words (quotes, escapes, $NAME, ...)
    options   curl's part: what each option does, recorded in a State
    parse     the words into the Request curl 7.88 would build, header for header
    write     a Request into a curl command that sends its exact bytes
"""

from __future__ import annotations

from netlab.engine.formats.curl.lexer import CurlError, Word, split_words
from netlab.engine.formats.curl.parse import COMPRESSED_ENCODINGS, CurlCommand, looks_like_curl, parse_curl
from netlab.engine.formats.curl.write import quote, to_curl

__all__ = ["CurlCommand", "CurlError", "parse_curl", "to_curl", "looks_like_curl", "split_words", "Word",
           "COMPRESSED_ENCODINGS", "quote"]
