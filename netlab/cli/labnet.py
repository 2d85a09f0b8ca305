"""`netlab labnet up [--hops N] | down | status`: the lab network with real hops (root):
this host, N routers and a namespace running the lab server, on 198.18.0.0/15
(netlab/lab/net.py).  `up` prints the URL to use; Ctrl-C during `up` removes what was
made; `down` removes every namespace, link and route."""

from __future__ import annotations

import sys

from netlab.cli.common import EXIT_FAIL, EXIT_OK, SUMMARIES


def add_parsers(sub) -> None:
    from netlab.cli.args import number

    p = sub.add_parser("labnet", help=SUMMARIES["labnet"],
                       description="Build or remove the lab network: network namespaces on 198.18.0.0/15 with N "
                                   "routers between this host and the lab server (root). Nothing is routed off "
                                   "the machine.")
    what = p.add_subparsers(dest="labnet", metavar="up|down|status", required=True)
    up = what.add_parser("up", help="build the chain and start the lab server in it (removes leftovers first)")
    up.add_argument("--hops", type=number(int, "--hops", 1, 8), default=1, metavar="N",
                    help="routers between this host and the server (1-8, default 1)")
    up.add_argument("--json", action="store_true", help="print what was built as JSON")
    what.add_parser("down", help="remove every namespace, link and route `up` made")
    st = what.add_parser("status", help="say whether the lab network is up, and its URL")
    st.add_argument("--json", action="store_true", help="as JSON")


def run(args, out=None, err=None) -> int:
    from netlab.lab import net

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.labnet == "up":
            return _up(net, args, out, err)
        if args.labnet == "down":
            removed = net.down()
            out.write(f"removed: {' '.join(removed)}\n" if removed else "nothing to remove\n")
            return EXIT_OK
    except net.LabnetError as exc:
        err.write(f"netlab labnet {args.labnet}: {exc}\n")
        return EXIT_FAIL
    return _status(net, args, out)


def _up(net, args, out, err) -> int:
    try:
        lab = net.up(args.hops)
    except KeyboardInterrupt:
        err.write("netlab labnet up: interrupted; what was built is removed\n")
        return 130
    if args.json:
        import json

        out.write(json.dumps(lab.to_json(), indent=2) + "\n")
        return EXIT_OK
    out.write(f"lab network up: this host -> {lab.hops} router{'s' if lab.hops > 1 else ''} -> lab server\n")
    for hop in lab.links:
        out.write(f"  link {hop.left} ({hop.namespace or 'host'} {hop.interface}) -> {hop.right}\n")
    out.write(f"lab server: {lab.url}\n")
    out.write(f"try: netlab send --packets {lab.url}ip   (as root: each hop's TTL and MACs)\n")
    out.write("remove it: netlab labnet down\n")
    return EXIT_OK


def _status(net, args, out) -> int:
    lab = net.status()
    if getattr(args, "json", False):
        import json

        out.write(json.dumps(lab.to_json() if lab else None, indent=2) + "\n")
    elif lab is None:
        out.write("the lab network is down (netlab labnet up [--hops N])\n")
    else:
        out.write(f"the lab network is up: {lab.hops} router(s), lab server {lab.url}\n")
    return EXIT_OK
