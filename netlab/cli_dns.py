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

from netlab.cli import EXIT_FAIL, EXIT_OK, EXIT_USAGE  # one set of exit codes

__all__ = ["add_parsers", "run", "dns_server_option"]

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
    p = sub.add_parser(
        "dns", help="look a name up like dig: any type, any server, UDP/TCP/TLS/HTTPS, --trace",
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
    from netlab.cli import option_value

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


def dns_server_option(text: str) -> tuple[str, int]:
    """``--dns-server ADDR[:PORT]`` of `netlab send` → (address, port); a usage NetlabError if bad."""
    from netlab.engine import NetlabError
    from netlab.engine.dns import parse_dns_server

    try:
        return parse_dns_server(text)
    except ValueError as exc:
        raise NetlabError("usage", f"--dns-server {text!r}: {exc}") from None


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
    for t in args.types:
        types.append(t)
    for t in types:
        try:
            parse_rdtype(t)
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    if name is None:
        raise _Usage("no name to look up (netlab dns NAME [TYPE...] [@SERVER])")
    transport = args.transport
    if server is not None and server.transport:
        if transport not in (None, server.transport):
            raise _Usage(f"@{server.text()} is {server.transport}, but --{transport} was given")
        transport = server.transport
    transport = transport or "udp"
    port = args.port if args.port is not None else (server.port if server else None)
    if port is not None and not 0 < port < 65536:
        raise _Usage(f"bad port {port} (1-65535)")
    payload = args.bufsize
    if payload is None and args.edns:
        from netlab.engine.dns import DEFAULT_PAYLOAD

        payload = DEFAULT_PAYLOAD
    if args.edns is False and (payload is not None or args.dnssec):
        raise _Usage("+noedns conflicts with +dnssec / +bufsize (both need EDNS)")
    if payload is not None and not 512 <= payload <= 65535:
        raise _Usage(f"the EDNS buffer size must be 512-65535, not {payload}")
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
    return {
        "name": name,
        "types": types or (["PTR"] if args.reverse else ["A"]),
        "server": server,
        "transport": transport,
        "port": port,
        "payload": payload,
    }


# -------------------------------------------------------------------------------- output


def _s(value) -> str:
    from netlab.engine.text import safe_text

    return safe_text(str(value), keep_newlines=False)


def _table(records) -> list[str]:
    rows = [(_s(r.name), str(r.ttl), _s(r.cls), _s(r.type), _s(r.data)) for r in records]
    if not rows:
        return []
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    return [f"{n.ljust(w[0])}  {ttl.rjust(w[1])}  {c.ljust(w[2])}  {t.ljust(w[3])}  {d}".rstrip()
            for n, ttl, c, t, d in rows]


def _where(res) -> str:
    at = _s(res.at)
    if res.url:
        at = _s(res.url)
    if res.server_name:
        at += f" ({_s(res.server_name)})"
    return at


def _status(res) -> str:
    rcode = _s(res.rcode)
    if res.rcode == "NXDOMAIN":
        return f"{rcode} (the name does not exist)"
    if res.nodata:
        return f"{rcode}, NODATA (the name has no {_s(res.rdtype)} records)"
    return rcode


def _print_result(res, out) -> None:
    qflags = " ".join(res.query_flags) or "none"
    edns = f", EDNS udp {res.payload}" if res.payload is not None else ""
    out.write(f"; netlab dns {_s(res.name)} {_s(res.rdtype)} @{_where(res)} ({_s(res.transport)}; "
              f"asked: {qflags}{edns})\n")
    if res.error is not None:
        out.write(f";; no response: {_s(res.error[0])}: {_s(res.error[1])}\n")
        return
    flags = " ".join(_s(f) for f in res.flags) or "none"
    out.write(f";; status: {_status(res)}   flags: {flags}\n")
    size = f"{res.size} bytes" if res.size is not None else "? bytes"
    via = _s(res.transport) + (f" ({_s(res.tls)})" if res.tls else "")
    out.write(f";; server: {_where(res)} over {via}   time: {res.elapsed_ms:.2f} ms   size: {size}\n")
    if res.udp_truncated:
        out.write(";; the UDP reply was truncated (TC): asked again over TCP\n")
    elif "tc" in res.flags:
        out.write(";; the reply is truncated (TC) and was not asked again over TCP (--ignore-tc)\n")
    if res.edns is not None:
        e = res.edns
        out.write(f";; EDNS: version {e.version}, flags: {' '.join(_s(f) for f in e.flags) or 'none'}, "
                  f"udp: {e.payload}\n")
        for opt in e.options:
            out.write(f";;   option {_s(opt)}\n")
    # what was asked, as dig shows it: the absolute name, class, type, behind a ';'
    qname = res.name if res.name.endswith(".") else res.name + "."
    out.write(f"\n;; QUESTION SECTION:\n;{_s(qname)}  IN  {_s(res.rdtype)}\n")
    for title, records in (("ANSWER", res.answer), ("AUTHORITY", res.authority), ("ADDITIONAL", res.additional)):
        if records:
            out.write(f"\n;; {title} SECTION:\n")
            for line in _table(records):
                out.write(line + "\n")


def _print_short(res, out) -> None:
    for r in res.answer:
        out.write(_s(r.data) + "\n")


def _print_system(ans, out) -> None:
    out.write(f"\n;; getaddrinfo({_s(ans.name)!r}): what the system resolver (requests.get) returns, "
              f"in {ans.elapsed_ms:.2f} ms\n")
    if ans.error is not None:
        out.write(f";;   {_s(ans.error[0])}: {_s(ans.error[1])}\n")
    for a in ans.addresses:
        out.write(f";;   {_s(a)}\n")
    if ans.canonname and ans.canonname.rstrip(".").lower() != ans.name.rstrip(".").lower():
        out.write(f";;   canonical name: {_s(ans.canonname)}\n")
    if ans.hosts:
        out.write(f";;   {ans.hosts_path} has this name: {', '.join(_s(a) for a in ans.hosts)} "
                  "(files are consulted before DNS)\n")
    else:
        out.write(f";;   not in {ans.hosts_path}\n")
    out.write(f";;   nsswitch hosts: {_s(ans.nsswitch or '(unknown)')}; search: "
              f"{' '.join(_s(s) for s in ans.search) or '(none)'}; ndots: {ans.ndots}\n")


_STEP_SECTIONS = {
    "referral": ("authority", "additional"),
    "answer": ("answer",),
    "nxdomain": ("authority",),
    "nodata": ("authority",),
}


def _print_trace(tr, out) -> None:
    start = f"starting at {_s(tr.hints)}" if tr.hints.startswith("@") else f"root hints: {_s(tr.hints) or '-'}"
    out.write(f"; netlab dns --trace {_s(tr.name)} {_s(tr.rdtype)} ({start}, "
              f"port {tr.port}, {_s(tr.transport)})\n")
    for step in tr.steps:
        r = step.result
        out.write("\n")
        for who, why in step.failed:
            out.write(f";; {_s(who)}: {_s(why)} — trying the next server\n")
        purpose = f"[{_s(step.purpose)}] " if step.purpose else ""
        who = f"{_s(step.server_name)} ({_s(r.at)})" if step.server_name != r.server else _s(r.at)
        if step.kind == "referral":
            what = f"referral to {_s(step.next_zone)}"
        elif step.kind == "noreply":
            what = f"no reply: {_s(r.error[1]) if r.error else ''}"
        else:
            what = _status(r) if r.rcode else step.kind
        out.write(f";; {purpose}zone {_s(step.zone)}: asked {who} for {_s(r.name)} {_s(r.rdtype)} → {what}\n")
        sections = _STEP_SECTIONS.get(step.kind, ("answer", "authority", "additional"))
        for section in sections:
            for line in _table(getattr(r, section)):
                out.write(line + "\n")
        if r.error is None:
            out.write(f";; received {r.size} bytes from {_s(r.at)} in {r.elapsed_ms:.2f} ms "
                      f"(flags: {' '.join(_s(f) for f in r.flags) or 'none'})\n")
    out.write("\n")
    if tr.error is not None:
        out.write(f";; trace failed: {_s(tr.error[0])}: {_s(tr.error[1])}\n")
    elif tr.final is not None:
        out.write(f";; final: {_status(tr.final)} from {_s(tr.final.at)}, {len(tr.steps)} queries in "
                  f"{tr.elapsed_ms:.2f} ms\n")


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
        err.write(f"netlab: dns: {_s(exc)}\n")
        return EXIT_USAGE
    from netlab.engine import dns as ndns

    server = plan["server"]
    if server is None and not args.trace:  # the settings file's dns_server, as sends and the DNS pane use it
        from netlab.cli_settings import current

        configured = current(err).dns_address
        if configured is not None:
            server = ndns.parse_server(f"{configured[0]}" if ":" not in configured[0] else f"[{configured[0]}]")
            if plan["port"] is None and plan["transport"] in (None, "udp", "tcp"):
                plan["port"] = configured[1]
    system = ndns.system_lookup(plan["name"], args.timeout) if args.compare and not args.reverse else None
    if args.trace:
        tr = ndns.trace(plan["name"], plan["types"][0], hints=args.hints, root=server.host if server else None,
                        port=plan["port"] or 53,
                        timeout=args.timeout, transport=plan["transport"], reverse=args.reverse,
                        do=bool(args.dnssec), cd=bool(args.cd), payload=plan["payload"])
        if len(plan["types"]) > 1:
            err.write("netlab: dns: --trace follows one type; tracing the first, "
                      f"{_s(plan['types'][0])}\n")
        if tr.error is not None and tr.error[0] == "usage":
            err.write(f"netlab: dns: {_s(tr.error[1])}\n")
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
                err.write(f"netlab: dns: trace failed: {_s(tr.error[1])}\n")
            return EXIT_FAIL
        return EXIT_OK

    results = ndns.lookup_many(
        plan["name"], plan["types"], server=server.host if server else None, port=plan["port"],
        transport=plan["transport"], timeout=args.timeout, rd=not args.norec, cd=bool(args.cd),
        do=bool(args.dnssec), payload=plan["payload"], tc_retry=not args.ignore_tc, reverse=args.reverse,
        tls_hostname=args.tls_name, cafile=args.cacert, insecure=args.insecure,
        path=(server.path if server and server.path else ndns.DOH_PATH))
    usage = [r for r in results if r.error is not None and r.error[0] == "usage"]
    if usage:
        err.write(f"netlab: dns: {_s(usage[0].error[1])}\n")
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
    failed = [r for r in results if r.error is not None]
    for r in failed:
        err.write(f"netlab: dns: {_s(r.error[0])}: {_s(r.error[1])}\n")
    return EXIT_FAIL if failed else EXIT_OK
