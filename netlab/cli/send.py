"""`netlab send URL [-X] [-H]... [-d] [--raw FILE] ...`: one request through the engine
the TUI uses, the response shown as curl shows it (-v, -i, --json, -o), the exchange
recorded in the history.  A .http file or --curl 'curl ...' goes through
netlab/cli/interop.py."""

from __future__ import annotations

import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, SUMMARIES, exchange_options


def add_parsers(sub) -> None:
    """Add ``send`` to an argparse subparsers object."""
    from netlab.cli.args import add_exchange_limits
    from netlab.cli.interop import add_send_arguments

    p = sub.add_parser("send", help=SUMMARIES["send"],
                       description="Send one HTTP/1.1 request through the netlab engine.")
    p.add_argument("url", nargs="?", help="http:// or https:// URL (the target host/port for --raw too), "
                   "or a .http/.rest file (see --name, --all)")
    p.add_argument("-X", "--request", dest="method", metavar="METHOD",
                   help="request method (default GET, or POST with -d)")
    p.add_argument("-H", "--header", dest="headers", action="append", default=[], metavar="'Name: value'",
                   help="add a request header (repeatable)")
    p.add_argument("-d", "--data", metavar="DATA", help="request body; @FILE reads a file, @- standard input")
    p.add_argument("--raw", metavar="FILE|-", help="send the exact bytes of FILE (or standard input) as the request")
    p.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDR",
                   help="pin HOST:PORT to ADDR instead of resolving it (repeatable)")
    p.add_argument("--dns-server", metavar="ADDR[:PORT]",
                   help="resolve the host with this DNS server (skipping /etc/hosts), as `netlab dns` does "
                        "(default: the settings file's dns_server, else the system resolver)")
    p.add_argument("--unix-socket", metavar="PATH", help="connect to this Unix socket instead of TCP")
    p.add_argument("--cacert", metavar="FILE", help="verify the server against this CA bundle")
    p.add_argument("-k", "--insecure", action="store_true", help="do not verify the TLS certificate")
    add_exchange_limits(p)
    p.add_argument("--compressed", action="store_true", help="ask for gzip and show the decoded body")
    p.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE (exact bytes)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show each step and the raw bytes both ways on stderr; standard output then gets the "
                        "body only, as with curl -v")
    p.add_argument("-i", "--include", action="store_true",
                   help="put the response head on standard output before the body (the default without -v; "
                        "with -v as curl -v -i does)")
    p.add_argument("--json", action="store_true", help="print the whole exchange as one JSON object")
    add_follow_arguments(p)
    p.add_argument("--no-history", action="store_true", help="do not record this exchange in the history")
    p.add_argument("--no-history-bodies", action="store_true",
                   help="record the exchange without its response body (also: NETLAB_HISTORY_BODIES=0)")
    add_send_arguments(p)  # --curl, --name, --all (.http files)
    from netlab.cli.packets import add_arguments as add_packet_arguments

    add_packet_arguments(p)  # --packets, --pcap


def add_follow_arguments(p) -> None:
    """-L, --max-redirs, -b, -c and --dry-run (issue 15)."""
    from netlab.cli.args import number
    from netlab.engine.redirects import DEFAULT_MAX_REDIRECTS

    p.add_argument("-L", "--location", action="store_true",
                   help="follow redirects (301, 302, 303, 307, 308), each hop a whole exchange shown in order "
                        "(its status line and Location on stderr; --json: \"redirects\"). 303, and 302 after "
                        "any method but HEAD, and 301 after POST continue as GET without the body; 307 and 308 "
                        "repeat the method and the body. -X sets the FIRST request's method only: unlike curl -X "
                        "with -L, it is not forced on every hop. A new origin (scheme, host or port) drops "
                        "Authorization, Proxy-Authorization and your Cookie header; --max-time bounds the whole chain")
    p.add_argument("--max-redirs", type=number(int, "--max-redirs", 0, 10_000), default=DEFAULT_MAX_REDIRECTS,
                   metavar="N", help=f"with -L: follow at most N redirects, then fail (default "
                                     f"{DEFAULT_MAX_REDIRECTS}, as requests); a request that would repeat one "
                                     "already sent in the chain, byte for byte, fails as a loop at once")
    p.add_argument("-b", "--cookie", dest="cookies", action="append", default=[], metavar="'N=V; ...'|FILE",
                   help="send cookies: 'NAME=VALUE; ...' (for the URL's host, host-only, path /; curl sends them "
                        "to every host) or a Netscape-format FILE (curl -c's; a missing FILE is an empty jar). "
                        "Set-Cookie answers go into the jar and on to each later hop they match (repeatable)")
    p.add_argument("-c", "--cookie-jar", metavar="FILE",
                   help="after the exchange, write every cookie of the jar to FILE in the Netscape format curl "
                        "reads (mode 0600)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the exact request bytes (as -v shows them: \\r\\n written out) and exit "
                        "without connecting; with -L, no redirect is followed")


def _read_source(spec: str, what: str) -> bytes:
    from netlab.engine import NetlabError

    if spec == "-":
        return sys.stdin.buffer.read()
    try:
        with open(spec, "rb") as f:
            return f.read()
    except OSError as exc:
        raise NetlabError("usage", f"{what}: cannot read {spec!r}: {exc.strerror}") from None


def build_request(args):
    """The request of `netlab send URL [-X] [-H]... [-d] [--compressed]`, its head in curl's
    order: Host, User-Agent, Accept (netlab's, unless -H gives them), Accept-Encoding
    (--compressed), the -H headers as given, then for -d Content-Length and, last,
    curl's default Content-Type when -H gave none."""
    from netlab.engine import Request

    if args.raw is not None:
        return Request.raw(_read_source(args.raw, "--raw"), args.url)
    body = b""
    given = list(args.headers)

    def has(name: str) -> bool:
        return any(h.split(":", 1)[0].strip().lower() == name for h in given)

    headers = []
    if args.compressed and not has("accept-encoding"):
        headers.append("Accept-Encoding: gzip, deflate")
    headers += given
    if args.data is not None:
        body = _read_source(args.data[1:], "-d") if args.data.startswith("@") else args.data.encode()
        if not has("content-length") and not has("transfer-encoding"):
            headers.append(f"Content-Length: {len(body)}")
        if not has("content-type"):
            headers.append("Content-Type: application/x-www-form-urlencoded")
    method = args.method or ("POST" if args.data is not None else "GET")
    return Request.from_url(args.url, method, headers, body)


def _jar(args, request, err):
    """The cookie jar -b and -c ask for (None without them); NetlabError("usage") if -b is bad."""
    if not args.cookies and not args.cookie_jar:
        return None
    from netlab.engine.cookies import Jar

    jar = Jar()
    for spec in args.cookies:
        if "=" in spec:  # curl's rule: with '=' the cookies themselves, else a file
            jar.add_string(spec, request.url)
        elif not jar.add_file(spec) and args.verbose:
            from netlab.engine.text import safe_text

            err.write(f"* -b {safe_text(spec, keep_newlines=False)}: no such file, no cookies read from it\n")
    return jar


def _dry_run(args, request, jar, out, err) -> int:
    """--dry-run: the request's exact bytes (the jar's Cookie in them), nothing sent."""
    from netlab.cli.output import print_request_bytes

    if jar is not None:
        request = jar.apply(request)
    if args.json:
        import json

        doc = {"request": {"method": request.method, "url": request.url, "host": request.host,
                           "port": request.port, "scheme": request.scheme, "bytes": len(request.data),
                           "raw": request.data.decode("latin-1")}, "sent": False}
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        print_request_bytes(request, out)
    if args.location:
        err.write("* --dry-run: nothing was sent, so no redirect was followed (-L)\n")
    out.flush()
    return EXIT_OK


_NOT_WITH_INTEROP = (("location", "-L"), ("cookies", "-b"), ("cookie_jar", "-c"), ("dry_run", "--dry-run"))


def run(args, out=None, err=None) -> int:
    from netlab.cli.interop import send_interop, wants_interop
    from netlab.cli.output import hop_printer, report, verbose_printer
    from netlab.cli.packets import Capture
    from netlab.cli.store import record
    from netlab.engine import Engine, NetlabError
    from netlab.engine.text import safe_text

    out = out or sys.stdout
    err = err or sys.stderr
    if wants_interop(args):  # a .http file, or --curl 'curl ...'
        given = [flag for dest, flag in _NOT_WITH_INTEROP if getattr(args, dest, None)]
        if given:
            err.write(f"netlab: {', '.join(given)} work with a URL, not yet with a .http file or --curl\n")
            return EXIT_USAGE
        return send_interop(args, out, err)
    try:
        opts = exchange_options(args)
        request = build_request(args)
        jar = _jar(args, request, err)
    except NetlabError as exc:
        err.write(f"netlab: {safe_text(exc.message, keep_newlines=False)}\n")
        return EXIT_USAGE
    if args.dry_run:
        return _dry_run(args, request, jar, out, err)
    on_event = verbose_printer(err) if args.verbose and not args.json else None
    capture = Capture(args, request, opts)
    capture.start()  # before the SYN (and the DNS query) leaves
    try:
        with Engine(opts) as engine:
            if args.location or jar is not None:
                from netlab.engine.redirects import follow

                ex = follow(engine, request, on_event, max_redirects=args.max_redirs, jar=jar,
                            redirects=args.location, body_path=args.output,
                            on_hop=None if args.json else hop_printer(args, err))
            else:
                ex = engine.send(request, on_event, body_path=args.output)
    except OSError as exc:  # -o FILE cannot be opened
        err.write(f"netlab: cannot write {args.output!r}: {exc.strerror}\n")
        return EXIT_USAGE
    extras = capture.finish(ex)  # the engine closed its connections: the FINs are on the wire
    if not args.no_history:
        record(ex, err, store_bodies=False if getattr(args, "no_history_bodies", False) else None)
    status = report(ex, args, out, err, extras)
    if args.cookie_jar and jar is not None:
        try:
            jar.save(args.cookie_jar)
        except OSError as exc:
            err.write(f"netlab: cannot write the cookie jar {safe_text(args.cookie_jar, keep_newlines=False)}: "
                      f"{safe_text(exc.strerror or str(exc), keep_newlines=False)}\n")
            status = status or EXIT_FAIL
    if args.pcap and extras["capture"]["error"] is not None:
        err.write(f"netlab: no pcap written to {safe_text(args.pcap, keep_newlines=False)}: the capture failed\n")
        return EXIT_FAIL
    return status
