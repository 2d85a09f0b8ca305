"""Moved to netlab.engine.formats.httpfile (issue 13): this path re-exports its names for one release."""

from netlab.engine.formats.httpfile import (
    HTTP_SUFFIXES,
    EntryOptions,
    HttpEntry,
    HttpFile,
    HttpFileError,
    append_entry,
    assemble,
    decode_raw,
    encode_raw,
    is_http_path,
    parse_file,
    parse_text,
    write_entry,
)

__all__ = ["HttpFile", "HttpEntry", "EntryOptions", "HttpFileError", "parse_text", "parse_file", "write_entry",
           "append_entry", "assemble", "encode_raw", "decode_raw", "is_http_path", "HTTP_SUFFIXES"]
