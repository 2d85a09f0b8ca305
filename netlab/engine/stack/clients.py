"""The five clients of the seed's stack, each sending one GET its own default way.

Each ``run_*`` takes the URL, its parsed target, the timeout and a Recorder, and returns
the body the library handed back (decompressed or not, as the library does by default).
The hook is the smallest one each library offers, after its own connect (and TLS
handshake): a subclass of its connection class whose ``connect`` calls the library's
own and hands the socket to the Recorder.  The bytes on the wire stay the library's:

- socket: ``create_connection``, ``sendall`` a minimal GET, ``recv(4096)`` until close;
- http.client: ``HTTPConnection`` / ``HTTPSConnection``, ``request("GET", path)``;
- urllib: ``build_opener()`` with its HTTP(S) handlers opening the connection subclasses
  (what ``urlopen`` builds, proxies from the environment included);
- urllib3: a ``PoolManager()`` whose pools use the connection subclasses;
- requests: a ``Session()`` (what ``requests.get`` opens) whose adapters' pool managers
  (and proxy managers) use them.
"""

from __future__ import annotations

import http.client
import platform
import socket
import ssl
from typing import Any, Callable

from netlab.engine.request import Target, format_host

from .record import Recorder

STDLIB_VERSION = platform.python_version()


def _http_client_classes(rec: Recorder) -> dict[type, type]:
    class RecordedHTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            rec.adopt(self.sock)

    class RecordedHTTPSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            rec.adopt(self.sock)

    return {http.client.HTTPConnection: RecordedHTTPConnection, http.client.HTTPSConnection: RecordedHTTPSConnection}


def seed_request(target: Target) -> bytes:
    """The seed's hand-written GET: the request line, Host and Connection: close."""
    return (f"GET {target.target} HTTP/1.1\r\nHost: {format_host(target.host, target.port, target.scheme)}\r\n"
            "Connection: close\r\n\r\n").encode("latin-1")


def run_socket(url: str, target: Target, timeout: float, rec: Recorder) -> bytes:
    request = seed_request(target)
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    if target.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
    rec.adopt(sock)
    chunks = []
    with sock:
        sock.sendall(request)
        while True:
            try:
                data = sock.recv(4096)
            except ssl.SSLEOFError:  # the server closed without a TLS close_notify: the end all the same
                break
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    return raw.partition(b"\r\n\r\n")[2]


def run_http_client(url: str, target: Target, timeout: float, rec: Recorder) -> bytes:
    classes = _http_client_classes(rec)
    cls = classes[http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection]
    conn = cls(target.host, target.port, timeout=timeout)
    try:
        conn.request("GET", target.target)
        return conn.getresponse().read()
    finally:
        conn.close()


def run_urllib(url: str, target: Target, timeout: float, rec: Recorder) -> bytes:
    import urllib.error
    import urllib.request

    classes = _http_client_classes(rec)

    class Handler(urllib.request.HTTPHandler):
        def do_open(self, http_class, req, **kw):
            return super().do_open(classes.get(http_class, http_class), req, **kw)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def do_open(self, http_class, req, **kw):
            return super().do_open(classes.get(http_class, http_class), req, **kw)

    opener = urllib.request.build_opener(Handler, HTTPSHandler)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:  # a 4xx/5xx answer: a response all the same
        with exc:
            return exc.read()


def _urllib3_pools(rec: Recorder) -> dict[str, type]:
    import urllib3
    import urllib3.connection

    class RecordedHTTPConnection(urllib3.connection.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            rec.adopt(self.sock)

    class RecordedHTTPSConnection(urllib3.connection.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            rec.adopt(self.sock)

    # Named as urllib3's own: the pool's class name is in urllib3's error messages.
    class HTTPConnectionPool(urllib3.HTTPConnectionPool):
        ConnectionCls = RecordedHTTPConnection

    class HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = RecordedHTTPSConnection

    return {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


def run_urllib3(url: str, target: Target, timeout: float, rec: Recorder) -> bytes:
    import urllib3

    manager = urllib3.PoolManager()
    manager.pool_classes_by_scheme = _urllib3_pools(rec)
    try:
        return manager.request("GET", url, timeout=timeout).data
    finally:
        manager.clear()


def run_requests(url: str, target: Target, timeout: float, rec: Recorder) -> bytes:
    import requests
    import requests.adapters

    pools = _urllib3_pools(rec)

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any):
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = pools
            return manager

    with requests.Session() as session:
        session.mount("http://", Adapter())
        session.mount("https://", Adapter())
        return session.get(url, timeout=timeout).content


def _urllib3_version() -> str:
    import urllib3

    return urllib3.__version__


def _requests_version() -> str:
    import requests

    return requests.__version__


# client name -> (its version, or ImportError when it is not installed; its runner)
CLIENTS: dict[str, tuple[Callable[[], str], Callable[[str, Target, float, Recorder], bytes]]] = {
    "socket": (lambda: STDLIB_VERSION, run_socket),
    "http.client": (lambda: STDLIB_VERSION, run_http_client),
    "urllib": (lambda: STDLIB_VERSION, run_urllib),
    "urllib3": (_urllib3_version, run_urllib3),
    "requests": (_requests_version, run_requests),
}
