#!/usr/bin/env python3
"""A longer fuzz run: the properties of tests/engine/test_fuzz.py and tests/engine/formats/test_curl.py
(the curl round trip) with many more examples.

    python scripts/fuzz.py                      # 2,000 examples per property
    python scripts/fuzz.py --examples 50000
    python scripts/fuzz.py --minutes 30         # share 30 minutes between the properties
    python scripts/fuzz.py --only reader-split --only from-url --seed 7

Each property runs with Hypothesis's settings raised (no deadline, no example database,
so every run explores afresh unless --seed fixes it).  With --minutes the time is split
evenly; each property runs in rounds of 200 examples until its share is used.  The DNS
properties talk to a small DNS server on 127.0.0.1 (tests/dnsfixtures.py), never to
another host.  Prints one line per property and a summary; exits 1 when any
property failed (the failing example is printed, as Hypothesis reports it), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fuzz.py", description="Run netlab's fuzz properties with many examples.")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, metavar="N", help="total time to spend, split between properties")
    budget.add_argument("--examples", type=int, metavar="N", help="examples per property (default 2000)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this property (repeatable); see --list")
    p.add_argument("--list", action="store_true", help="list the properties and exit")
    p.add_argument("--seed", type=int, help="a fixed seed, to repeat a run")
    args = p.parse_args(argv)
    if args.minutes is not None and args.minutes <= 0 or args.examples is not None and args.examples < 1:
        p.error("--minutes and --examples must be positive")

    from hypothesis import HealthCheck, Phase, given, seed, settings

    from tests.engine import test_fuzz
    from tests.engine.formats import test_curl

    props = {**test_fuzz.PROPERTIES, **test_curl.PROPERTIES}
    if args.list:
        for name, prop in props.items():
            print(f"{name:22} {(prop.check.__doc__ or '').strip().splitlines()[0] if prop.check.__doc__ else ''}")
        return 0
    unknown = [n for n in args.only if n not in props]
    if unknown:
        p.error(f"unknown property {', '.join(unknown)} (known: {', '.join(props)})")
    names = args.only or list(props)
    per_round = args.examples or (200 if args.minutes else 2000)  # with --minutes: short rounds, to keep time
    share = args.minutes * 60 / len(names) if args.minutes else None

    dns_server = None
    failures: list[str] = []
    counts: dict[str, int] = {}
    t_all = time.monotonic()
    try:
        for name in names:
            prop = props[name]
            check = prop.check
            if prop.needs == "dns" and dns_server is None:
                dns_server = test_fuzz.CraftedDns()  # on 127.0.0.1; CraftedDns.current from now on
            t0 = time.monotonic()
            rounds = 0
            ok = True
            while True:
                # a fresh settings object each round: every round draws new examples
                # (Hypothesis's phases: generate and shrink; no replay of a database)
                test = settings(max_examples=per_round, deadline=None, database=None, derandomize=False,
                                suppress_health_check=list(HealthCheck),
                                phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink])(
                    given(*prop.strategies)(check))
                if args.seed is not None:
                    test = seed(args.seed + rounds)(test)
                try:
                    test()
                except Exception:  # noqa: BLE001 - a failing property: report, go on with the next
                    ok = False
                    failures.append(name)
                    print(f"FAIL {name}:", file=sys.stderr)
                    traceback.print_exc()
                    break
                rounds += 1
                if share is None or time.monotonic() - t0 >= share:
                    break
            counts[name] = rounds * per_round
            took = time.monotonic() - t0
            note = "" if ok else " before the failure"
            print(f"{'ok  ' if ok else 'FAIL'} {name:22} {rounds * per_round:>8} examples{note}  {took:8.1f} s",
                  flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        failures.append("(interrupted)")
    finally:
        if dns_server is not None:
            dns_server.stop()
    total = time.monotonic() - t_all
    print(f"\n{len(names) - len([f for f in failures if f in names])}/{len(names)} properties held; "
          f"{sum(counts.values())} examples in {total:.1f} s"
          + (f"; FAILED: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
