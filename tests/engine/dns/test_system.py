"""The system resolver's side (netlab.engine.dns.system): resolv.conf and getaddrinfo."""

from __future__ import annotations

from netlab.engine.dns import system_config, system_lookup
from tests.engine.dns import HANG_GUARD


def test_system_config_parsing(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 127.0.0.1\nnameserver ::1\nnameserver not-an-ip\n"
                    "search lab.test example.test\noptions ndots:2 timeout:1\n")
    cfg = system_config(str(conf))
    assert cfg.servers == ("127.0.0.1", "::1") and cfg.search == ("lab.test", "example.test") and cfg.ndots == 2
    assert system_config(str(tmp_path / "missing")).servers == ()


def test_getaddrinfo_side_for_a_hosts_file_name():
    # "localhost" is answered from /etc/hosts (files come first): no DNS traffic leaves the machine.
    ans = system_lookup("localhost", timeout=HANG_GUARD)
    assert ans.error is None and ans.addresses and all(a in ("127.0.0.1", "::1") for a in ans.addresses)
    assert set(ans.hosts) <= {"127.0.0.1", "::1"} and ans.hosts
