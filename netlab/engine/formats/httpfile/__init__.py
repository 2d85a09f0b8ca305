""".http files (the VS Code REST Client / JetBrains HTTP Client format): read and write.

A file holds requests separated by lines that start with ``###`` (the rest of that line
names the request, as JetBrains does; ``# @name NAME`` names it too, as REST Client does)::

    @host = 127.0.0.1:8080
    @token = abc

    ### get my address
    GET http://{{host}}/ip

    ### post-json
    # @name post-json
    POST http://{{host}}/echo HTTP/1.1
    Content-Type: application/json
    Authorization: Bearer {{token}}

    {"hello": "world"}

    ###
    PUT http://{{host}}/echo
    Content-Type: application/octet-stream

    < ./payload.bin

How netlab reads it (REST Client's rules, where it has them):

- The request line is ``[METHOD] URL [HTTP/1.x]``: the method defaults to GET, the version
  to HTTP/1.1.  Lines right after it that start with ``?`` or ``&`` continue the URL's query.
  A URL that starts with ``/`` takes its host from the Host header.  Characters a URL may not
  hold (spaces, non-ASCII) are percent-encoded, existing ``%XX`` escapes are kept.
- Header lines follow (``Name: value``, sent as written), then an empty line, then the body,
  which runs to the next ``###`` line; empty lines at its end are dropped.  Body lines join
  with LF (CR LF for ``multipart/form-data``; for ``application/x-www-form-urlencoded`` a line
  starting with ``&`` joins the previous one directly).  A body line ``< PATH`` is replaced by
  that file's bytes (``<@ PATH`` substitutes variables in it first); PATH is relative to the
  .http file.
- Lines starting with ``#`` or ``//`` (after optional blanks) are comments *everywhere*, body
  included, as in REST Client.  ``# @key value`` comments before a request are settings:
  ``@name``; netlab's ``@insecure``, ``@cacert PATH``, ``@resolve HOST:PORT:ADDR``,
  ``@unix-socket PATH``, ``@dns-server ADDR[:PORT]``, ``@timeout SECONDS``; others (REST
  Client's ``@note``, ``@no-redirect``...) are ignored.
- ``@name = value`` lines (outside bodies) define file variables, used as ``{{name}}`` in the
  request line, headers and body.  They are global to the file, as in REST Client; a value
  may use other variables and the escapes ``\\n \\r \\t``.  Defining a name twice, an undefined
  ``{{name}}`` and a cycle are errors naming the line.  System variables: ``{{$guid}}``,
  ``{{$randomInt MIN MAX}}``, ``{{$timestamp [OFFSET UNIT]}}``, ``{{$datetime rfc1123|iso8601
  [OFFSET UNIT]}}``, ``{{$localDatetime ...}}``, ``{{$processEnv [%]NAME}}``, ``{{$dotenv
  [%]NAME}}`` (a .env file beside the .http file).
- ``Authorization: Basic USER:PASSWORD`` (or ``USER PASSWORD``) is base64-encoded, as REST
  Client does.

What netlab sends: the head exactly as written.  netlab adds only what HTTP/1.1 needs and
the file left out: ``Host`` (first) and ``Content-Length`` (last) when there is a body or the
method is POST, PUT or PATCH.  No User-Agent, no Accept: write them if you want them.  The
head is encoded as UTF-8, as the composer does.

Writing: ``write_entry(request)`` gives the text of one entry, starting with ``###``, that
``parse_text`` reads back to the same request bytes, going to the same scheme, host and port.
A request the format cannot carry as written (bare LF line endings, a missing Host, bytes
that are not UTF-8, a body ending in a newline, a body line that looks like a comment, ``{{``...)
is written in netlab's raw form: a ``# @netlab-raw URL`` line followed by ``#|`` lines holding
the exact bytes in the composer's raw-view notation (``\\r\\n`` written out, a backslash
``\\\\``, ``\\xNN`` for other bytes: engine/rawtext.py, the one notation).  Being
comments, raw entries are skipped by other tools.
"""

from __future__ import annotations

from netlab.engine.formats.httpfile.model import (
    HTTP_SUFFIXES,
    EntryOptions,
    HttpEntry,
    HttpFile,
    HttpFileError,
    assemble,
    decode_raw,
    encode_raw,
    is_http_path,
)
from netlab.engine.formats.httpfile.parse import parse_file, parse_text
from netlab.engine.formats.httpfile.write import append_entry, write_entry

__all__ = [
    "HttpFile",
    "HttpEntry",
    "EntryOptions",
    "HttpFileError",
    "parse_text",
    "parse_file",
    "write_entry",
    "append_entry",
    "assemble",
    "encode_raw",
    "decode_raw",
    "is_http_path",
    "HTTP_SUFFIXES",
]
