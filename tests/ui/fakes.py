"""Fixed exchanges, DNS answers, socket rows and history entries for the snapshot tests:
the real engine types, filled with fixed values (ports, times), so pictures are stable.

The response bytes go through the engine's real framing code (ResponseReader)."""

from __future__ import annotations

from types import SimpleNamespace

URL = "http://127.0.0.1:8080/json"
REQUEST = b"GET /json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"

JSON_BODY = b'{"kind": "json", "items": [1, 2, 3], "nested": {"ok": true, "text": "hello"}}'
JSON_RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: netlab-lab/0.1\r\nDate: Sat, 01 Jan 2000 00:00:00 GMT\r\n"
                 b"Content-Type: application/json\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                 b"Content-Length: " + str(len(JSON_BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + JSON_BODY)
CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                    b"Trailer: X-Lines\r\n\r\n"
                    b"6\r\nline 1\r\n7\r\n\nline 2\r\n7\r\n\nline 3\r\n0\r\nX-Lines: 3\r\n\r\n")
BINARY_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 64\r\n\r\n"
                   + bytes(range(64)))


def exchange(response: bytes = JSON_RESPONSE, request: bytes = REQUEST, url: str = URL):
    from netlab.engine import Options, Request
    from netlab.engine.http1 import ResponseReader
    from netlab.engine.resolve import Resolution
    from netlab.engine.session import ConnectionInfo, Exchange, Timings

    req = Request.raw(request, url)
    reader = ResponseReader(req.method, request_close=req.wants_close)
    reader.feed(response)
    if not reader.done:
        reader.feed_eof()
    return Exchange(
        request=req,
        options=Options(),
        dns=Resolution("127.0.0.1", ["127.0.0.1"], "literal", None, 0.01, "127.0.0.1"),
        connection=ConnectionInfo("AF_INET", ("127.0.0.1", 54321), ("127.0.0.1", 8080), False, 0.05),
        response=reader.response,
        timings=Timings(dns=0.02, connect=0.15, tls=0.0, send=0.04, ttfb=1.30, download=0.25, total=1.80),
        started=946684800.0,
        bytes_received=len(response),
    )


def prepared(response: bytes = JSON_RESPONSE, **kw):
    from netlab.ui.views.exchange import prepare

    return prepare(exchange(response, **kw))


def dns_result():
    from netlab.engine.dns import DnsResult, Record

    return DnsResult(
        name="web.lab.test", rdtype="A", server="127.0.0.1", port=5353, transport="udp", rcode="NOERROR",
        flags=("qr", "aa", "rd", "ra"),
        answer=(Record("web.lab.test.", 0, "IN", "A", "127.0.0.1"), Record("web.lab.test.", 0, "IN", "A", "127.0.0.2")),
        authority=(), additional=(), elapsed_ms=0.42, size=62, error=None)


def conn_rows():
    from netlab.engine.netstat import ConnRow

    return (
        ConnRow("tcp", ("127.0.0.1", 8080), None, "LISTEN", 4242, "netlab"),
        ConnRow("tcp", ("127.0.0.1", 54321), ("127.0.0.1", 8080), "ESTABLISHED", 4242, "netlab"),
        ConnRow("tcp", ("127.0.0.1", 8080), ("127.0.0.1", 54321), "ESTABLISHED", 4242, "netlab"),
        ConnRow("tcp", ("0.0.0.0", 22), None, "LISTEN", 1, "sshd"),
        ConnRow("tcp6", ("::1", 5432), None, "LISTEN", 77, "postgres"),
        ConnRow("udp", ("127.0.0.53", 53), None, "NONE", 99, "systemd-resolve"),
    )


def connections_changed():
    from netlab.ui.messages import ConnectionsChanged

    rows = conn_rows()
    own = frozenset(r.key for r in rows[1:3])
    return ConnectionsChanged(rows, (), (), own, len(rows), 12.0, None)


def history_entries():
    from netlab.engine.history import HistoryEntry

    return [
        HistoryEntry(3, 946684860.0, "GET", "http://127.0.0.1:8080/json", 200, 1.8, None, False),
        HistoryEntry(2, 946684830.0, "POST", "http://127.0.0.1:8080/echo", 200, 2.4, None, True),
        HistoryEntry(1, 946684800.0, "GET", "http://127.0.0.1:9/", None, 0.3, "connect", False),
    ]


def namespace(**kw):
    return SimpleNamespace(**kw)
