"""``netlab serve``: run the lab server in the foreground until Ctrl-C, saying where it
listens and under which limits, and why it refuses a host it will not bind."""

from __future__ import annotations

import sys
from typing import TextIO

from .address import BindRefused, is_loopback
from .server import HEADER_TIMEOUT, LabServer


def run(
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    *,
    err: TextIO | None = None,
    public: bool = False,
    idle_timeout: float = 15.0,
    max_request_bytes: int = 1 << 20,
    max_connections: int = 256,
    request_timeout: float | None = 60.0,
    header_timeout: float | None = HEADER_TIMEOUT,
) -> int:
    """Serve until KeyboardInterrupt (for `netlab serve`); first prints
    ``listening on http://HOST:PORT``, then the limits in force. ``out`` and ``err``
    default to the current sys.stdout and sys.stderr.

    Returns 0 after KeyboardInterrupt, 2 when ``host`` is refused (BindRefused: nothing
    is bound), 1 when the address cannot be bound (in use, not on this machine)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        server = LabServer(
            host, port, public=public, idle_timeout=idle_timeout,
            max_request_bytes=max_request_bytes, max_connections=max_connections,
            request_timeout=request_timeout, header_timeout=header_timeout,
        )
    except BindRefused as refused:
        print(f"netlab: serve: {_refusal(refused, port)}", file=err, flush=True)
        return 2
    try:
        try:
            server.start()
        except OSError as error:
            where = f"[{server.host}]:{port}" if ":" in server.host else f"{server.host}:{port}"
            print(f"netlab: serve: cannot listen on {where}: {error.strerror or error}",
                  file=err, flush=True)
            return 1
        print(f"listening on {server.url}", file=out)
        print(_limits(server), file=out, flush=True)
        if not is_loopback(server.host):
            here = "[::1]" if ":" in server.host else "127.0.0.1"
            print(f"netlab: serve: warning: listening on {server.host}, not loopback (--public): "
                  "other machines that can reach this one can use the lab server; "
                  f"from this machine use http://{here}:{server.port}", file=err, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _limits(server: LabServer) -> str:
    """The limits line `netlab serve` prints, in the options' own words."""
    deadline = "none" if server.request_timeout is None else f"{server.request_timeout:g} s"
    head_deadline = "none" if server.header_timeout is None else f"{server.header_timeout:g} s"
    return (f"limits: --max-connections {server.max_connections} (when full, a new connection takes "
            f"the slot of an idle or slowest one; 503 if all are busy), "
            f"--max-request-bytes {server.max_request_bytes} (head or body; 431/413), "
            f"--idle-timeout {server.idle_timeout:g} s (idle keep-alive connections are closed), "
            f"--header-timeout {head_deadline} (a request head; 408), "
            f"--request-timeout {deadline} (one whole request; 408)")


def _refusal(refused: BindRefused, port: int) -> str:
    """Why `netlab serve` will not bind a host, and what to type instead."""
    if refused.reason == "not-an-address":
        return (f"--host {refused.host!r} is not an IP address; netlab does not resolve names to "
                "pick an address to listen on. Give the address itself (127.0.0.1, ::1, or "
                "0.0.0.0 with --public), or localhost.")
    ports = f" --port {port}" if port else ""
    return (f"refusing to listen on {refused.host}: it is not a loopback address, so other "
            "machines could reach the lab server (it echoes requests back and serves large "
            "bodies to anyone who asks). If you mean it, confirm with --public: "
            f"netlab serve --host {refused.host}{ports} --public")
