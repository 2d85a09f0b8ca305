"""The DNS lab's tests, one file per module of netlab/engine/dns, against real servers on
loopback: the shared dnsmasq (lab.test) and the dnspython servers of tests/dnsfixtures.py
(fx.test, the trace chain), cross-checked with dig.  The helpers below are shared."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from netlab.engine.dns import DnsResult, lookup

HANG_GUARD = 30.0
DIG = shutil.which("dig")

needs_dig = pytest.mark.skipif(DIG is None, reason="dig (bind9-dnsutils) is not installed")


def dig(port: int, *args: str) -> list[str]:
    p = subprocess.run([DIG, "@127.0.0.1", "-p", str(port), "+short", "+time=5", "+tries=1", *args],
                       capture_output=True, text=True, timeout=HANG_GUARD)
    assert p.returncode == 0, p.stderr
    return [line for line in p.stdout.splitlines() if line.strip()]


def fx(fx_dns, name: str, rdtype: str = "A", **kw) -> DnsResult:
    kw.setdefault("timeout", 5.0)
    return lookup(name, rdtype, server=fx_dns.host, port=kw.pop("port", fx_dns.port), **kw)
