"""The built-in loopback lab server: the other side of the lab.

The rest of netlab shows what a client does under ``requests.get()``. This package is
the peer it talks to when there is no network, and what ``netlab serve`` runs. It is
written against the plain socket API so each server-side step shows in the code:

    socket() -> setsockopt(SO_REUSEADDR) -> bind() -> listen(128)
    accept() -> recv() until the blank line that ends the head -> recv() the body
    sendall() the response -> wait for the next request on the same connection, or close

It speaks HTTP/1.1 with keep-alive. It parses requests itself, strictly as RFC 9112
asks of a server, and keeps the exact bytes it received so that ``/echo`` can return
them. Its endpoints cover every way a response body can be framed: Content-Length,
chunked (with a trailer), and ended by closing the connection.

    /                 a plain-text hello listing the endpoints
    /ip               the client's IP address and "\\n" (like icanhazip.com)
    /echo             the request exactly as received (head and body), any method
    /headers          the request headers as JSON, in order, duplicates kept
    /status/CODE      that status (100-599); 3xx adds ``Location: /``
    /bytes/N          N deterministic bytes, streamed; ?chunked=1 or ?close=1
    /stream/N         N JSON lines, one chunk each, trailer X-Lines; ?delay_ms=M
    /slow/MS          waits MS milliseconds (at most 60000), then answers
    /redirect/N       302 to /redirect/N-1 ... /redirect/0 answers 200 "done"
    /gzip, /deflate   a JSON body compressed with gzip or zlib deflate

Where each part lives:

    address     which host it may bind: loopback unless ``public=True``
    server      LabServer: bind, listen, the accept loop, a thread per connection,
                eviction when full, stop
    reader      reading one connection's requests under the deadlines and limits
    request     LabRequest and the strict parsing of a request head
    routes      the endpoints above
    responses   a response's head and its framing; the bytes of /bytes/N
    serve       ``netlab serve``: run() in the foreground until Ctrl-C

It uses only the standard library and binds 127.0.0.1 by default. Usage::

    with LabServer() as server:
        urllib.request.urlopen(server.url + "/ip")
"""

from __future__ import annotations

from .address import BindRefused, bind_address, is_loopback
from .request import LabRequest
from .responses import BLOCK_SIZE, SERVER_SOFTWARE, iter_lab_bytes, lab_bytes
from .routes import MAX_BYTES
from .serve import run
from .server import LabServer

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
