"""A scripted loopback peer for redirects and cookies (issue 15): http.server on 127.0.0.1
and 127.0.0.2 (and a second port), HTTP/1.1 keep-alive, every request it reads recorded.

    /r/CODE?to=LOCATION        answer CODE with Location: LOCATION (no ``to``: no Location)
    /c?set=SETCOOKIE&...&to=L  answer 302 (or ?code=) with one Set-Cookie per ``set``, Location L;
                               without ``to``: 200 and the request as JSON
    /echo                      200: the request as JSON (method, path, headers, body)
    /loop/a, /loop/b           302 to each other
    /login                     no ``sid`` cookie: 302 to /login with Set-Cookie: sid=1; else 200

The lab server (netlab/lab/routes.py) has /redirect/N (302 only, relative Location) but no
other status, no Location of the caller's choice and no Set-Cookie: hence this peer.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    server: tuple[str, int]

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None


@dataclass
class RedirectPeer:
    servers: list = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return self.servers[0].server_address[1]

    @property
    def url(self) -> str:  # 127.0.0.1, first port
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_host(self) -> str:  # 127.0.0.2, same port: another origin by host
        return f"http://127.0.0.2:{self.servers[1].server_address[1]}"

    @property
    def other_port(self) -> str:  # 127.0.0.1, another port: another origin by port
        return f"http://127.0.0.1:{self.servers[2].server_address[1]}"

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()


def _handler(peer: RedirectPeer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _answer(self, code: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
            self.send_response(code)
            for n, v in headers:
                self.send_header(n, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _seen(self) -> Seen:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            s = Seen(self.command, self.path, list(self.headers.items()), body, self.server.server_address[:2])
            with peer.lock:
                peer.seen.append(s)
            return s

        def _echo(self, s: Seen) -> bytes:
            return json.dumps({"method": s.method, "path": s.path, "headers": s.headers,
                               "body": s.body.decode("latin-1")}).encode()

        def _route(self) -> None:
            s = self._seen()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            if parts.path.startswith("/r/") and parts.path[3:].isdigit():
                code = int(parts.path[3:])
                headers = [("Location", query["to"][0])] if "to" in query else []
                self._answer(code, headers, b"moved\n")
            elif parts.path == "/c":
                headers = [("Set-Cookie", v) for v in query.get("set", [])]
                if "to" in query:
                    headers.append(("Location", query["to"][0]))
                    self._answer(int(query.get("code", ["302"])[0]), headers, b"moved\n")
                else:
                    self._answer(200, headers, self._echo(s))
            elif parts.path == "/loop/a":
                self._answer(302, [("Location", "/loop/b")])
            elif parts.path == "/loop/b":
                self._answer(302, [("Location", "/loop/a")])
            elif parts.path == "/login":
                if "sid=1" in (s.header("Cookie") or ""):
                    self._answer(200, [], b"welcome\n")
                else:
                    self._answer(302, [("Location", "/login"), ("Set-Cookie", "sid=1; Path=/")])
            else:
                self._answer(200, [("Content-Type", "application/json")], self._echo(s))

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _route

    return Handler


def start_peer() -> RedirectPeer:
    peer = RedirectPeer()
    handler = _handler(peer)
    first = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = first.server_address[1]
    for server in (first, ThreadingHTTPServer(("127.0.0.2", port), handler),
                   ThreadingHTTPServer(("127.0.0.1", 0), handler)):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        peer.servers.append(server)
    return peer


def stop_peer(peer: RedirectPeer) -> None:
    for server in peer.servers:
        server.shutdown()
        server.server_close()
