"""`netlab dns NAME [TYPE...] [@SERVER] [--tcp|--tls|--https] [-x] [--trace] [--json]`.

dig for everyday questions, through netlab.engine.dns (the module the engine's own
resolution uses).  Terms may come in any order and mix with options, like dig's:

    netlab dns example.com                   A from the first resolv.conf nameserver
    netlab dns example.com MX TXT @1.1.1.1   two types, one query each
    netlab dns -x 127.0.0.1 @127.0.0.1:5353  reverse (PTR)
    netlab dns example.com @tls://1.1.1.1    DNS over TLS (or --tls); https:// for DoH
    netlab dns example.com +norec +dnssec    dig's +flags work too
    netlab dns example.com --trace           iterative, from the root hints (--hints FILE)
    netlab dns example.com --trace @ADDR     iterative, starting from that server

Exit status: 0 when a DNS response arrived (NXDOMAIN, SERVFAIL and NODATA included),
1 when none did (timeout, refused, unreachable, TLS failure), 2 on bad usage.
Every string that came from the network is shown through safe_text (escaped)."""

from __future__ import annotations

import argparse
import json
import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, SUMMARIES, current_settings
from netlab.engine.text import safe_text

_PLUS_FLAGS = {  # dig's +flags: (attribute, value)
    "tcp": ("transport", "tcp"), "vc": ("transport", "tcp"), "notcp": ("transport", None),
    "novc": ("transport", None), "tls": ("transport", "tls"), "notls": ("transport", None),
    "https": ("transport", "https"), "nohttps": ("transport", None),
    "rec": ("norec", False), "recurse": ("norec", False), "norec": ("norec", True), "norecurse": ("norec", True),
    "dnssec": ("dnssec", True), "nodnssec": ("dnssec", False),
    "cd": ("cd", True), "cdflag": ("cd", True), "nocd": ("cd", False), "nocdflag": ("cd", False),
    "edns": ("edns", True), "noedns": ("edns", False), "ignore": ("ignore_tc", True),
    "noignore": ("ignore_tc", False), "trace": ("trace", True), "notrace": ("trace", False),
    "short": ("short", True), "noshort": ("short", False), "json": ("json", True),
}
_PLUS_VALUES = {"bufsize": "bufsize", "time": "timeout", "timeout": "timeout", "port": "port"}


class _Usage(Exception):
    pass


def _intermixed(cls):
    """A parser class whose leftover positionals (after an option) join ``terms``:
    ``netlab dns example.com --json MX`` works like dig's free order."""

    class Intermixed(cls):
        def parse_known_args(self, args=None, namespace=None):
            ns, extras = super().parse_known_args(args, namespace)
            rest = []
            for a in extras:
                if a.startswith("-") and a != "-":
                    rest.append(a)
                else:
                    ns.terms = list(ns.terms or []) + [a]
            return ns, rest

    return Intermixed


def add_parsers(sub) -> None:
    """Add ``dns`` to an argparse subparsers object."""
    from netlab.cli.args import option_value

    p = sub.add_parser(
        "dns", help=SUMMARIES["dns"],
        description="Ask a DNS server about a name and show the whole answer: status, flags, EDNS, "
                    "every section with TTLs, the server, the transport, the time and the size.",
        epilog="terms: NAME, record TYPEs (A MX TXT TYPE65 ...; a number after the name), @SERVER "
               "([udp|tcp|tls|https://]ADDR[:PORT], [v6]:PORT, or an https:// DoH URL), and dig's "
               "+flags (+tcp +tls +https +norec +dnssec +cd +bufsize=N +noedns +ignore +trace +short). "
               "Exit status: 0 a DNS response arrived (NXDOMAIN included), 1 none did, 2 bad usage.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.__class__ = _intermixed(p.__class__)
    p.add_argument("terms", nargs="*", metavar="NAME|TYPE|@SERVER|+FLAG", help="what to ask, of whom")
    p.add_argument("-t", "--type", dest="types", action="append", default=[], metavar="TYPE",
                   help="a record type (repeatable; same as a TYPE term)")
    p.add_argument("-x", "--reverse", action="store_true", help="NAME is an IP address: ask its PTR record")
    p.add_argument("-p", "--port", type=int, metavar="PORT", help="server port (default 53, 853 --tls, 443 --https)")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--udp", dest="transport", action="store_const", const="udp",
                   help="UDP, asked again over TCP when the reply is truncated (the default)")
    t.add_argument("--tcp", dest="transport", action="store_const", const="tcp", help="DNS over TCP")
    t.add_argument("--tls", dest="transport", action="store_const", const="tls", help="DNS over TLS (port 853)")
    t.add_argument("--https", dest="transport", action="store_const", const="https",
                   help="DNS over HTTPS (needs dnspython's DoH extra)")
    p.add_argument("--timeout", type=option_value("timeout", "--timeout"), default=5.0, metavar="S",
                   help="seconds to wait for a reply, above 0 and at most 86400 (default 5)")
    p.add_argument("--norec", action="store_true", default=None, help="recursion desired off (RD=0)")
    p.add_argument("--dnssec", "--do", dest="dnssec", action="store_true", default=None,
                   help="set DNSSEC OK (DO) in EDNS")
    p.add_argument("--cd", action="store_true", default=None, help="checking disabled (CD=1)")
    p.add_argument("--bufsize", type=int, metavar="BYTES", help="EDNS UDP payload size (adds EDNS; 512-65535)")
    p.add_argument("--edns", action="store_true", default=None,
                   help="add EDNS (payload 1232) to the query; by default there is none, as in getaddrinfo")
    p.add_argument("--ignore-tc", dest="ignore_tc", action="store_true", default=None,
                   help="show a truncated UDP reply instead of asking again over TCP")
    p.add_argument("--tls-name", metavar="NAME", help="the name the server's TLS certificate must have")
    p.add_argument("--cacert", metavar="FILE", help="trust this CA for --tls / --https")
    p.add_argument("-k", "--insecure", action="store_true", help="do not verify the TLS certificate")
    p.add_argument("--trace", action="store_true", default=None,
                   help="resolve iteratively from the root hints, showing every referral")
    p.add_argument("--hints", metavar="FILE", help="root hints for --trace (named.root format, or one address "
                                                   "a line; default: the system's root.hints)")
    p.add_argument("--compare", "--getaddrinfo", dest="compare", action="store_true",
                   help="also show what getaddrinfo (the system resolver, /etc/hosts first) returns")
    p.add_argument("--short", action="store_true", default=None, help="print only the answer data, like dig +short")
    p.add_argument("--json", action="store_true", default=None, help="print the result(s) as JSON")


# -------------------------------------------------------------------------------- parsing


def _apply_plus(args, term: str) -> None:
    body = term[1:].lower()
    key, eq, value = body.partition("=")
    if eq and key in _PLUS_VALUES:
        attr = _PLUS_VALUES[key]
        if attr == "timeout":  # by the same rule as --timeout (netlab/limits.py)
            from netlab import limits

            try:
                args.timeout = limits.parse("timeout", value, f"+{key}")
            except limits.OptionValueError as exc:
                raise _Usage(str(exc)) from None
            return
        try:
            setattr(args, attr, int(value))
        except ValueError:
            raise _Usage(f"{term}: expected a number") from None
        return
    if key in _PLUS_FLAGS and not eq:
        attr, val = _PLUS_FLAGS[key]
        if attr == "transport":
            if val is None:
                if args.transport in ("tcp", "tls", "https") and key[2:] == args.transport:
                    args.transport = None
                return
            if args.transport not in (None, val):
                raise _Usage(f"{term} conflicts with --{args.transport}")
        setattr(args, attr, val)
        return
    raise _Usage(f"unknown flag {term!r} (known: " + " ".join("+" + k for k in sorted(_PLUS_FLAGS)) +
                 ", +bufsize=N, +time=S, +port=N)")


def _plan(args) -> dict:
    """Sort the terms into name, types, server and flags; raise _Usage on a bad mix."""
    name, types, server = _terms(args)
    transport = args.transport
    if server is not None and server.transport:
        if transport not in (None, server.transport):
            raise _Usage(f"@{server.text()} is {server.transport}, but --{transport} was given")
        transport = server.transport
    transport = transport or "udp"
    port = args.port if args.port is not None else (server.port if server else None)
    if port is not None and not 0 < port < 65536:
        raise _Usage(f"bad port {port} (1-65535)")
    payload = _payload(args)
    _check_mix(args, name, server, transport)
    return {
        "name": name,
        "types": types or (["PTR"] if args.reverse else ["A"]),
        "server": server,
        "transport": transport,
        "port": port,
        "payload": payload,
    }


def _terms(args) -> tuple:
    """(name, [types], @server or None) from the terms and -t; +flags go onto ``args``."""
    from netlab.engine.dns import is_rdtype, parse_rdtype, parse_server

    name = None
    types: list[str] = []
    server = None
    for term in args.terms:
        if term.startswith("@"):
            if server is not None:
                raise _Usage(f"more than one server: {server.text()} and {term}")
            try:
                server = parse_server(term)
            except ValueError as exc:
                raise _Usage(str(exc)) from None
        elif term.startswith("+"):
            _apply_plus(args, term)
        elif is_rdtype(term):
            types.append(term.upper())
        elif name is not None and term.isdigit():
            types.append(term)  # a type by number, after the name
        elif name is None:
            name = term
        else:
            raise _Usage(f"more than one name: {name!r} and {term!r} (ask one name at a time)")
    types += args.types
    for t in types:
        try:
            parse_rdtype(t)
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    if name is None:
        raise _Usage("no name to look up (netlab dns NAME [TYPE...] [@SERVER])")
    return name, types, server


def _payload(args) -> int | None:
    """The EDNS payload size to advertise: --bufsize, 1232 with --edns, else none."""
    payload = args.bufsize
    if payload is None and args.edns:
        from netlab.engine.dns import DEFAULT_PAYLOAD

        payload = DEFAULT_PAYLOAD
    if args.edns is False and (payload is not None or args.dnssec):
        raise _Usage("+noedns conflicts with +dnssec / +bufsize (both need EDNS)")
    if payload is not None and not 512 <= payload <= 65535:
        raise _Usage(f"the EDNS buffer size must be 512-65535, not {payload}")
    return payload


def _check_mix(args, name: str, server, transport: str) -> None:
    """Options that go only with others: --trace, --hints, the TLS options, -x."""
    if args.trace:
        if server is not None and args.hints:
            raise _Usage("--trace starts from the root hints (--hints FILE) or from @SERVER, not both")
        if server is not None and server.transport not in (None, "udp", "tcp"):
            raise _Usage("--trace asks over UDP or TCP only")
        if transport not in ("udp", "tcp"):
            raise _Usage("--trace asks over UDP or TCP only")
    if args.hints and not args.trace:
        raise _Usage("--hints only makes sense with --trace")
    if (args.cacert or args.insecure or args.tls_name) and transport not in ("tls", "https"):
        raise _Usage("--cacert, --insecure and --tls-name are for --tls and --https")
    if args.reverse:
        from netlab.engine.dns import reverse_name

        try:
            reverse_name(name)
        except ValueError as exc:
            raise _Usage(str(exc)) from None


# -------------------------------------------------------------------------------- output


def _write(out, lines) -> None:
    """Each line escaped whole: the peer's strings in it are shown escaped, and the fixed
    text around them has nothing to escape (escaping works character by character)."""
    for line in lines:
        out.write(safe_text(line, keep_newlines=False) + "\n")


def _table(records) -> list[str]:
    """Records in dig's columns; each cell is escaped before the columns are measured."""
    rows = [[safe_text(v, keep_newlines=False) for v in (r.name, str(r.ttl), r.cls, r.type, r.data)]
            for r in records]
    if not rows:
        return []
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    return [f"{n.ljust(w[0])}  {ttl.rjust(w[1])}  {c.ljust(w[2])}  {t.ljust(w[3])}  {d}".rstrip()
            for n, ttl, c, t, d in rows]


def _where(res) -> str:
    at = res.url or res.at
    if res.server_name:
        at += f" ({res.server_name})"
    return at


def _status(res) -> str:
    if res.rcode == "NXDOMAIN":
        return f"{res.rcode} (the name does not exist)"
    if res.nodata:
        return f"{res.rcode}, NODATA (the name has no {res.rdtype} records)"
    return str(res.rcode)


def _print_result(res, out) -> None:
    qflags = " ".join(res.query_flags) or "none"
    edns = f", EDNS udp {res.payload}" if res.payload is not None else ""
    lines = [f"; netlab dns {res.name} {res.rdtype} @{_where(res)} ({res.transport}; asked: {qflags}{edns})"]
    if res.error is not None:
        _write(out, lines + [f";; no response: {res.error[0]}: {res.error[1]}"])
        return
    lines.append(f";; status: {_status(res)}   flags: {' '.join(res.flags) or 'none'}")
    size = f"{res.size} bytes" if res.size is not None else "? bytes"
    via = res.transport + (f" ({res.tls})" if res.tls else "")
    lines.append(f";; server: {_where(res)} over {via}   time: {res.elapsed_ms:.2f} ms   size: {size}")
    if res.udp_truncated:
        lines.append(";; the UDP reply was truncated (TC): asked again over TCP")
    elif "tc" in res.flags:
        lines.append(";; the reply is truncated (TC) and was not asked again over TCP (--ignore-tc)")
    if res.edns is not None:
        e = res.edns
        lines.append(f";; EDNS: version {e.version}, flags: {' '.join(e.flags) or 'none'}, udp: {e.payload}")
        lines += [f";;   option {opt}" for opt in e.options]
    # what was asked, as dig shows it: the absolute name, class, type, behind a ';'
    qname = res.name if res.name.endswith(".") else res.name + "."
    lines += ["", ";; QUESTION SECTION:", f";{qname}  IN  {res.rdtype}"]
    for title, records in (("ANSWER", res.answer), ("AUTHORITY", res.authority), ("ADDITIONAL", res.additional)):
        if records:
            lines += ["", f";; {title} SECTION:", *_table(records)]
    _write(out, lines)


def _print_short(res, out) -> None:
    _write(out, [r.data for r in res.answer])


def _print_system(ans, out) -> None:
    # the name's repr of its escaped form, as before: repr would show control characters its own way
    lines = ["", f";; getaddrinfo({safe_text(ans.name, keep_newlines=False)!r}): what the system resolver "
                 f"(requests.get) returns, in {ans.elapsed_ms:.2f} ms"]
    if ans.error is not None:
        lines.append(f";;   {ans.error[0]}: {ans.error[1]}")
    lines += [f";;   {a}" for a in ans.addresses]
    if ans.canonname and ans.canonname.rstrip(".").lower() != ans.name.rstrip(".").lower():
        lines.append(f";;   canonical name: {ans.canonname}")
    if ans.hosts:
        lines.append(f";;   {ans.hosts_path} has this name: {', '.join(ans.hosts)} (files are consulted before DNS)")
    else:
        lines.append(f";;   not in {ans.hosts_path}")
    lines.append(f";;   nsswitch hosts: {ans.nsswitch or '(unknown)'}; search: {' '.join(ans.search) or '(none)'}; "
                 f"ndots: {ans.ndots}")
    _write(out, lines)


_STEP_SECTIONS = {
    "referral": ("authority", "additional"),
    "answer": ("answer",),
    "nxdomain": ("authority",),
    "nodata": ("authority",),
}


def _print_trace(tr, out) -> None:
    start = f"starting at {tr.hints}" if tr.hints.startswith("@") else f"root hints: {tr.hints or '-'}"
    lines = [f"; netlab dns --trace {tr.name} {tr.rdtype} ({start}, port {tr.port}, {tr.transport})"]
    for step in tr.steps:
        lines += ["", *_step_lines(step)]
    lines.append("")
    if tr.error is not None:
        lines.append(f";; trace failed: {tr.error[0]}: {tr.error[1]}")
    elif tr.final is not None:
        lines.append(f";; final: {_status(tr.final)} from {tr.final.at}, {len(tr.steps)} queries in "
                     f"{tr.elapsed_ms:.2f} ms")
    _write(out, lines)


def _step_lines(step) -> list[str]:
    """One server asked during --trace: who, for what, what came back, the records."""
    r = step.result
    lines = [f";; {who}: {why} — trying the next server" for who, why in step.failed]
    purpose = f"[{step.purpose}] " if step.purpose else ""
    who = f"{step.server_name} ({r.at})" if step.server_name != r.server else r.at
    if step.kind == "referral":
        what = f"referral to {step.next_zone}"
    elif step.kind == "noreply":
        what = f"no reply: {r.error[1] if r.error else ''}"
    else:
        what = _status(r) if r.rcode else step.kind
    lines.append(f";; {purpose}zone {step.zone}: asked {who} for {r.name} {r.rdtype} → {what}")
    for section in _STEP_SECTIONS.get(step.kind, ("answer", "authority", "additional")):
        lines += _table(getattr(r, section))
    if r.error is None:
        lines.append(f";; received {r.size} bytes from {r.at} in {r.elapsed_ms:.2f} ms "
                     f"(flags: {' '.join(r.flags) or 'none'})")
    return lines


# ----------------------------------------------------------------------------------- run


def run(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if args.command != "dns":
        err.write(f"netlab: unknown command {args.command!r}\n")
        return EXIT_USAGE
    try:
        plan = _plan(args)
    except _Usage as exc:
        err.write(f"netlab: dns: {safe_text(str(exc), keep_newlines=False)}\n")
        return EXIT_USAGE
    from netlab.engine import dns as ndns

    server = plan["server"]
    if server is None and not args.trace:  # the settings file's dns_server, as sends and the DNS pane use it
        configured = current_settings(err).dns_address
        if configured is not None:
            server = ndns.parse_server(f"{configured[0]}" if ":" not in configured[0] else f"[{configured[0]}]")
            if plan["port"] is None and plan["transport"] in (None, "udp", "tcp"):
                plan["port"] = configured[1]
    system = ndns.system_lookup(plan["name"], args.timeout) if args.compare and not args.reverse else None
    if args.trace:
        return _run_trace(args, plan, server, system, out, err)
    return _run_lookups(args, plan, server, system, out, err)


def _run_trace(args, plan: dict, server, system, out, err) -> int:
    """--trace: iterative resolution from the root hints (or @SERVER), every step shown."""
    from netlab.engine import dns as ndns

    tr = ndns.trace(plan["name"], plan["types"][0], hints=args.hints, root=server.host if server else None,
                    port=plan["port"] or 53,
                    timeout=args.timeout, transport=plan["transport"], reverse=args.reverse,
                    do=bool(args.dnssec), cd=bool(args.cd), payload=plan["payload"])
    if len(plan["types"]) > 1:
        err.write("netlab: dns: --trace follows one type; tracing the first, "
                  f"{safe_text(plan['types'][0], keep_newlines=False)}\n")
    if tr.error is not None and tr.error[0] == "usage":
        err.write(f"netlab: dns: {safe_text(tr.error[1], keep_newlines=False)}\n")
        return EXIT_USAGE
    if args.json:
        doc = tr.to_dict()
        if system is not None:
            doc["system"] = system.to_dict()
        out.write(json.dumps(doc, indent=2) + "\n")
    elif args.short:
        if tr.final is not None:
            _print_short(tr.final, out)
    else:
        _print_trace(tr, out)
        if system is not None:
            _print_system(system, out)
    out.flush()
    if tr.error is not None:
        if args.json or args.short:
            err.write(f"netlab: dns: trace failed: {safe_text(tr.error[1], keep_newlines=False)}\n")
        return EXIT_FAIL
    return EXIT_OK


def _run_lookups(args, plan: dict, server, system, out, err) -> int:
    """One query per type, each answer shown as dig shows it (or --short, --json)."""
    from netlab.engine import dns as ndns

    results = ndns.lookup_many(
        plan["name"], plan["types"], server=server.host if server else None, port=plan["port"],
        transport=plan["transport"], timeout=args.timeout, rd=not args.norec, cd=bool(args.cd),
        do=bool(args.dnssec), payload=plan["payload"], tc_retry=not args.ignore_tc, reverse=args.reverse,
        tls_hostname=args.tls_name, cafile=args.cacert, insecure=args.insecure,
        path=(server.path if server and server.path else ndns.DOH_PATH))
    errors = [r.error for r in results if r.error is not None]
    usage = [message for kind, message in errors if kind == "usage"]
    if usage:
        err.write(f"netlab: dns: {safe_text(usage[0], keep_newlines=False)}\n")
        return EXIT_USAGE
    if args.json:
        docs = []
        for r in results:
            d = r.to_dict()
            if system is not None:
                d["system"] = system.to_dict()
            docs.append(d)
        out.write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2) + "\n")
    elif args.short:
        for r in results:
            _print_short(r, out)
    else:
        for i, r in enumerate(results):
            if i:
                out.write("\n")
            _print_result(r, out)
        if system is not None:
            _print_system(system, out)
    out.flush()
    for kind, message in errors:
        err.write(f"netlab: dns: {safe_text(kind, keep_newlines=False)}: {safe_text(message, keep_newlines=False)}\n")
    return EXIT_FAIL if errors else EXIT_OK
