"""The command line: `netlab [URL]` opens the TUI; `netlab send|serve ...` run headless.

Every subcommand goes through the same engine the TUI uses."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Sequence

from netlab import __version__

if TYPE_CHECKING:
    import argparse
# argparse and json are imported where a command line is parsed or JSON written: a bare
# `netlab` (the TUI) needs neither before its first frame (bench/startup.py).

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
SUBCOMMANDS = ("send", "serve", "history", "replay", "conns", "dns", "settings")


# The command line's name of each Options field, for messages about a value.
OPTION_FLAGS = {"timeout": "--timeout", "deadline": "--max-time", "head_timeout": "--head-timeout",
                "max_body_bytes": "--max-body"}


def given(args, dest: str) -> bool:
    """Was the option stored in ``args.<dest>`` given on the command line?"""
    return dest in getattr(args, "_given_options", ())


def option_value(rule: str, flag: str):
    """An argparse type for an option value, by the one rule every value follows
    (netlab/limits.py): the value to use, or a usage error naming the flag and the value."""
    import argparse

    from netlab import limits

    def parse(text: str):
        try:
            return limits.parse(rule, text, flag)
        except limits.OptionValueError as exc:
            raise argparse.ArgumentTypeError(f"must be {exc.why}, not {exc.shown}") from None

    parse.__name__ = flag  # argparse names the type in some messages
    return parse


def add_exchange_limits(p, *, head_timeout_only: bool = False) -> None:
    """--timeout, --max-time, --head-timeout and --max-body (``head_timeout_only``: the
    last alone, for replay, which keeps the stored exchange's other options)."""
    from netlab import limits
    from netlab.cli_args import Given as _Given

    day = f"at most {limits.MAX_SECONDS:g} s, a day"
    if not head_timeout_only:
        p.add_argument("--timeout", type=option_value("timeout", "--timeout"), action=_Given, metavar="S",
                       help=f"connect and per-read timeout, above 0 and {day} (default: the settings file's "
                            "timeout, else 10)")
        p.add_argument("--max-time", type=option_value("deadline", "--max-time"), action=_Given, metavar="S",
                       help=f"overall deadline for the whole exchange, {day}; 0: none (default: the settings "
                            "file's max_time, else none)")
    p.add_argument("--head-timeout", type=option_value("head_timeout", "--head-timeout"), action=_Given,
                   metavar="S",
                   help=f"deadline from the request sent to the whole response head received, so a server "
                        f"trickling its head byte by byte cannot hold netlab; {day}; 0: none (default: the "
                        f"settings file's head_timeout, else {limits.DEFAULT_HEAD_TIMEOUT:g})")
    if not head_timeout_only:
        p.add_argument("--max-body", type=option_value("max_body_bytes", "--max-body"), action=_Given,
                       metavar="BYTES",
                       help="stop when the body exceeds this many bytes, at most 1 TiB; 0: no limit "
                            "(default: the settings file's max_body, else 1 GiB)")


def _send_parser(sub) -> None:
    p = sub.add_parser("send", help="send one request and show the response (like curl -i)",
                       description="Send one HTTP/1.1 request through the netlab engine.")
    p.add_argument("url", nargs="?", help="http:// or https:// URL (the target host/port for --raw too), "
                   "or a .http/.rest file (see --name, --all)")
    p.add_argument("-X", "--request", dest="method", metavar="METHOD", help="request method (default GET, or POST with -d)")
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
    p.add_argument("--no-history", action="store_true", help="do not record this exchange in the history")
    p.add_argument("--no-history-bodies", action="store_true",
                   help="record the exchange without its response body (also: NETLAB_HISTORY_BODIES=0)")
    from netlab.cli_export import add_send_arguments  # --curl, --name, --all (.http files)

    add_send_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    from netlab.cli_args import Parser as _Parser

    p = _Parser(prog="netlab", description="A terminal network lab. `netlab [URL]` opens the TUI.")
    p.add_argument("--version", action="version", version=f"netlab {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _send_parser(sub)
    _serve_parser(sub)
    from netlab.cli_history import add_parsers as add_history_parsers

    add_history_parsers(sub)
    from netlab.cli_conns import add_parsers as add_conns_parsers

    add_conns_parsers(sub)
    from netlab.cli_dns import add_parsers as add_dns_parsers

    add_dns_parsers(sub)
    from netlab.cli_settings import add_parsers as add_settings_parsers

    add_settings_parsers(sub)
    return p


def _options(args):
    from netlab.cli_dns import dns_server_option
    from netlab.engine import Options, parse_pin
    from netlab.cli_settings import current

    settings = current()  # defaults for what the command line leaves out; problems on stderr, once

    def pick(dest: str, default):  # the command line's value (None for a 0 meaning none), else the file's
        return getattr(args, dest) if given(args, dest) else default

    return Options(
        timeout=pick("timeout", settings.timeout),
        deadline=pick("max_time", settings.max_time),
        head_timeout=pick("head_timeout", settings.head_timeout),
        insecure=args.insecure,
        cafile=args.cacert,
        resolve=tuple(parse_pin(t) for t in args.resolve),
        dns_server=dns_server_option(args.dns_server) if args.dns_server else settings.dns_address,
        unix_socket=args.unix_socket,
        max_body_bytes=pick("max_body", settings.max_body),
    ).checked(OPTION_FLAGS)


def _read_source(spec: str, what: str) -> bytes:
    from netlab.engine import NetlabError

    if spec == "-":
        return sys.stdin.buffer.read()
    try:
        with open(spec, "rb") as f:
            return f.read()
    except OSError as exc:
        raise NetlabError("usage", f"{what}: cannot read {spec!r}: {exc.strerror}") from None


def _build_request(args):
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


def _verbose_printer(err):
    from netlab.engine import events as ev

    def show(e) -> None:
        if isinstance(e, ev.Resolved):
            err.write(f"* resolved {_safe(e.name)} via {e.source}{f' ({_safe(e.server)})' if e.server else ''}: "
                      f"{_safe(', '.join(e.addresses))} in {e.elapsed_ms:.2f} ms\n")
        elif isinstance(e, ev.Connecting):
            err.write(f"* connecting to {_safe(e.address)}{f' port {e.port}' if e.port else ''} ({e.family})\n")
        elif isinstance(e, ev.ConnectFailed):
            err.write(f"* connect to {_safe(e.address)} failed: {_safe(e.message)}\n")
        elif isinstance(e, ev.Connected):
            rtt = f", rtt {e.rtt_ms:.3f} ms" if e.rtt_ms is not None else ""
            err.write(f"* {'reusing' if e.reused else 'connected'}: local {_hp(e.local)} -> remote {_hp(e.remote)}{rtt}\n")
        elif isinstance(e, ev.TLSDone):
            err.write(f"* TLS {_safe(e.version)} {_safe(e.cipher)} alpn={_safe(e.alpn) if e.alpn else None} verified={e.verified}\n")
        elif isinstance(e, ev.RequestSent):
            err.write(f"* sent {e.nbytes} bytes\n")
        elif isinstance(e, ev.InformationalHead):
            err.write(f"* informational {e.status} {_safe(e.reason)} (skipped)\n")
        err.flush()

    return show


def _hp(addr) -> str:
    host, port = addr
    host = _safe(host)
    if not port:
        return host or "(unnamed)"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _safe(s) -> str:
    """One line of untrusted text for the terminal: every control character (ESC, BEL,
    C1) and bidi/zero-width format character shown as a visible escape (``\\x1b``)."""
    from netlab.engine.text import safe_text

    if s is None:
        return ""
    return safe_text(s if isinstance(s, (str, bytes, bytearray)) else str(s), keep_newlines=False)


def _print_raw(err, prefix: str, data: bytes) -> None:
    from netlab.engine.rawtext import visible_line_endings

    for line in visible_line_endings(data):
        err.write(f"{prefix}{line}\n")


_FORBIDDEN_TRAILER = "  (a field not allowed in a trailer, RFC 9110 6.5.1: shown, ignored)"


def _print_human(ex, args, out, err) -> None:
    """The exchange as `netlab send` shows it.  Each head is shown once: on stdout (as
    curl -i), or with -v on stderr as its raw bytes (``< `` lines, as curl -v) and on
    stdout too only when -i asks for it (as curl -v -i)."""
    from netlab.engine.text import safe_text

    r = ex.response
    if args.verbose:
        _print_raw(err, "> ", ex.request.data)
        if r is not None:
            for info in r.informational:
                _print_raw(err, "< ", info.raw)
            _print_raw(err, "< ", r.raw_head)
            if r.framing == "chunked" and r.raw_body_store is not None:
                err.write(f"* chunked body: {r.raw_body_store.size} bytes on the wire, {r.body_bytes} after de-chunking\n")
            if not getattr(args, "include", False):
                for name, value in r.trailers:  # the head's tail, after the body: -i prints them on stdout
                    err.write(f"* trailer: {_safe(name)}: {_safe(value.encode('latin-1', 'backslashreplace'))}"
                              f"{_FORBIDDEN_TRAILER if (name, value) in r.trailers_forbidden else ''}\n")
        err.flush()
    if r is None or not r.status:
        return
    include = not args.verbose or getattr(args, "include", False)
    if include:
        out.write(f"{_safe(r.http_version)} {r.status} {_safe(r.reason)}\n")
        for name, value in r.headers:
            out.write(f"{_safe(name)}: {_safe(value.encode('latin-1', 'backslashreplace'))}\n")
        out.write("\n")
    if args.output:
        out.flush()
        return
    body = r.body
    if args.compressed:
        from netlab.engine import NetlabError

        try:
            body = r.decoded_body()
        except NetlabError as exc:
            err.write(f"netlab: {_safe(exc.message)}; showing the body as received\n")
    if not body:
        out.flush()
        return
    try:
        text = body.decode("utf-8")
        binary = "\x00" in text
    except UnicodeDecodeError:
        binary = True
    if binary:
        save = getattr(args, "save_hint", "use -o FILE to save them")
        out.write(f"[{len(body)} bytes of binary body not shown; {save}]\n")
    else:
        out.write(safe_text(text))
        if not text.endswith("\n"):
            out.write("\n")
    for name, value in r.trailers if include else ():  # after the last chunk, as curl -i shows them
        out.write(f"{_safe(name)}: {_safe(value.encode('latin-1', 'backslashreplace'))}\n")
        if (name, value) in r.trailers_forbidden:  # stdout stays as received; the mark goes to stderr
            err.write(f"* trailer {_safe(name)}:{_FORBIDDEN_TRAILER}\n")
    out.flush()


def cmd_send(args, out=None, err=None) -> int:
    from netlab.engine import Engine, NetlabError

    out = out or sys.stdout
    err = err or sys.stderr
    from netlab.cli_export import send_interop, wants_interop

    if wants_interop(args):  # a .http file, or --curl 'curl ...'
        return send_interop(args, out, err)
    try:
        opts = _options(args)
        request = _build_request(args)
    except NetlabError as exc:
        err.write(f"netlab: {_safe(exc.message)}\n")
        return EXIT_USAGE
    on_event = _verbose_printer(err) if args.verbose and not args.json else None
    try:
        with Engine(opts) as engine:
            ex = engine.send(request, on_event, body_path=args.output)
    except OSError as exc:  # -o FILE cannot be opened
        err.write(f"netlab: cannot write {args.output!r}: {exc.strerror}\n")
        return EXIT_USAGE
    if not args.no_history:
        from netlab.cli_history import record

        record(ex, err, store_bodies=False if getattr(args, "no_history_bodies", False) else None)
    return report(ex, args, out, err)


def exchange_json(ex) -> dict:
    """The JSON shape of ``netlab send --json`` (``Exchange.to_dict``), for send, replay
    and ``history show``.  ``dns.elapsed_ms`` is the step ``timings_ms.dns`` timed: one
    number for one step (the resolver's own clock reads a hair less)."""
    doc = ex.to_dict()
    if doc.get("dns") and doc.get("timings_ms") and "dns" in doc["timings_ms"]:
        doc["dns"]["elapsed_ms"] = doc["timings_ms"]["dns"]
    return doc


def report_error(error, err) -> None:
    """A failure as one sentence ("netlab: timed out: ...") and what to do next."""
    err.write(f"netlab: {_safe(error.sentence())}\n")
    if error.hint:
        err.write(f"  next: {_safe(error.hint)}\n")


def report(ex, args, out, err) -> int:
    """Print an exchange (human or --json) and give the exit status: send and replay."""
    if args.json:
        import json

        out.write(json.dumps(exchange_json(ex), indent=2) + "\n")
        out.flush()
    else:
        _print_human(ex, args, out, err)
    if ex.error is not None:
        if not args.json:
            report_error(ex.error, err)
        return EXIT_FAIL
    return EXIT_OK


def _number(kind, what: str, low, high=None):
    """An argparse type: a number of ``kind`` in [low, high], or a one-line usage error."""
    import argparse

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, not {text[:40]!r}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < low or \
                (high is not None and value > high):  # NaN and infinity too
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{what} must be {bound}, not {text}")
        return value

    return parse


def _serve_parser(sub) -> None:
    s = sub.add_parser(
        "serve", help="run the built-in lab server",
        description="Run the built-in lab server. It listens on loopback only, unless --host names "
                    "another IP address and --public confirms it.")
    s.add_argument("--host", default="127.0.0.1",
                   help="IP address to listen on (default 127.0.0.1; localhost is 127.0.0.1; an address "
                        "that is not loopback needs --public)")
    s.add_argument("--port", type=_number(int, "--port", 0, 65535), default=0,
                   help="port (default 0: the kernel picks one)")
    s.add_argument("--public", action="store_true",
                   help="confirm listening on a non-loopback --host (e.g. 0.0.0.0): other machines can connect")
    s.add_argument("--max-connections", type=_number(int, "--max-connections", 1), default=256, metavar="N",
                   help="connections served at once; when all are taken a new one takes the slot of an idle or "
                        "the slowest one, 503 only if all are busy (default 256)")
    s.add_argument("--max-request-bytes", type=_number(int, "--max-request-bytes", 1), default=1 << 20,
                   metavar="BYTES", help="largest request head, and largest body (431 / 413; default 1048576)")
    s.add_argument("--idle-timeout", type=_number(float, "--idle-timeout", 0.001, 86400), default=15.0, metavar="S",
                   help="close a keep-alive connection idle this long between requests; also each read and "
                        "write (default 15)")
    s.add_argument("--request-timeout", type=_number(float, "--request-timeout", 0.001, 86400), default=60.0,
                   metavar="S", help="one whole request must arrive within this, from its first byte (408; "
                                     "default 60)")
    s.add_argument("--header-timeout", type=_number(float, "--header-timeout", 0.001, 86400), default=10.0,
                   metavar="S", help="a request head must arrive within this, from its first byte (408; default "
                                     "10, as nginx's client_header_timeout)")


def cmd_serve(args) -> int:
    from netlab.engine.labserver import run

    return run(args.host, args.port, public=args.public, max_connections=args.max_connections,
               max_request_bytes=args.max_request_bytes, idle_timeout=args.idle_timeout,
               request_timeout=args.request_timeout, header_timeout=args.header_timeout)


def cmd_tui(argv: Sequence[str]) -> int:
    if not argv:  # a bare `netlab`: nothing to parse (argparse stays unimported before the first frame)
        from netlab.ui.app import run_app

        return run_app(None)
    from netlab.cli_args import Parser as _Parser

    p = _Parser(prog="netlab", description="Open the netlab TUI.")
    p.add_argument("url", nargs="?", help="URL to pre-fill (default: the built-in lab server's /ip)")
    p.add_argument("--version", action="version", version=f"netlab {__version__}")
    args = p.parse_args(argv)
    from netlab.ui.app import run_app

    return run_app(args.url)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `netlab send ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        return cmd_tui(argv)
    args = build_parser().parse_args(argv)
    if args.command == "send":
        return cmd_send(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command in ("history", "replay"):
        from netlab.cli_history import run as run_history

        return run_history(args)
    if args.command == "conns":
        from netlab.cli_conns import run as run_conns

        return run_conns(args)
    if args.command == "dns":
        from netlab.cli_dns import run as run_dns

        return run_dns(args)
    if args.command == "settings":
        from netlab.cli_settings import run as run_settings

        return run_settings(args)
    build_parser().print_help()
    return EXIT_USAGE
