"""`netlab serve`: the built-in lab server, the other side of the wire (loopback unless
--host names another address and --public confirms it)."""

from __future__ import annotations

from netlab.cli.common import SUMMARIES


def add_parsers(sub) -> None:
    """Add ``serve`` to an argparse subparsers object."""
    from netlab.cli.args import number

    s = sub.add_parser(
        "serve", help=SUMMARIES["serve"],
        description="Run the built-in lab server. It listens on loopback only, unless --host names "
                    "another IP address and --public confirms it.")
    s.add_argument("--host", default="127.0.0.1",
                   help="IP address to listen on (default 127.0.0.1; localhost is 127.0.0.1; an address "
                        "that is not loopback needs --public)")
    s.add_argument("--port", type=number(int, "--port", 0, 65535), default=0,
                   help="port (default 0: the kernel picks one)")
    s.add_argument("--public", action="store_true",
                   help="confirm listening on a non-loopback --host (e.g. 0.0.0.0): other machines can connect")
    s.add_argument("--max-connections", type=number(int, "--max-connections", 1), default=256, metavar="N",
                   help="connections served at once; when all are taken a new one takes the slot of an idle or "
                        "the slowest one, 503 only if all are busy (default 256)")
    s.add_argument("--max-request-bytes", type=number(int, "--max-request-bytes", 1), default=1 << 20,
                   metavar="BYTES", help="largest request head, and largest body (431 / 413; default 1048576)")
    s.add_argument("--idle-timeout", type=number(float, "--idle-timeout", 0.001, 86400), default=15.0, metavar="S",
                   help="close a keep-alive connection idle this long between requests; also each read and "
                        "write (default 15)")
    s.add_argument("--request-timeout", type=number(float, "--request-timeout", 0.001, 86400), default=60.0,
                   metavar="S", help="one whole request must arrive within this, from its first byte (408; "
                                     "default 60)")
    s.add_argument("--header-timeout", type=number(float, "--header-timeout", 0.001, 86400), default=10.0,
                   metavar="S", help="a request head must arrive within this, from its first byte (408; default "
                                     "10, as nginx's client_header_timeout)")


def run(args) -> int:
    from netlab.lab.serve import run

    return run(args.host, args.port, public=args.public, max_connections=args.max_connections,
               max_request_bytes=args.max_request_bytes, idle_timeout=args.idle_timeout,
               request_timeout=args.request_timeout, header_timeout=args.header_timeout)
