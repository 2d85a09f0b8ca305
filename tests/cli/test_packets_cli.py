"""`netlab send --packets / --pcap` and the route in every --json (issue 14.2): against the
lab server on loopback, as root; and as an unprivileged user, where the exchange still runs
and the capture says why not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="packet capture needs root (AF_PACKET); run as root")


def test_every_json_has_the_route_and_no_packets_unasked(run_cli, lab_server):
    r = run_cli("send", "--json", "--no-history", f"http://127.0.0.1:{lab_server.port}/ip")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["route"] == {"interface": "lo", "source": "127.0.0.1", "gateway": None, "next_hop_mac": None,
                            "neighbour_state": None, "mtu": 65536}
    assert "packets" not in doc and "capture" not in doc


@root_only
def test_json_packets_carry_the_exchange(run_cli, lab_server):
    r = run_cli("send", "--json", "--packets", "--no-history", f"http://127.0.0.1:{lab_server.port}/bytes/2000")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["capture"]["error"] is None and doc["capture"]["interface"] == "lo"
    packets = doc["packets"]
    assert doc["capture"]["packets"] == len(packets)
    assert [p["tcp"]["flags"] for p in packets[:3]] == ["S", "SA", "A"]
    out = "".join(p["payload"] for p in packets if p["dir"] == "out").encode("latin-1")
    assert out.decode("latin-1") == doc["request"]["raw"]
    inn = "".join(p["payload"] for p in packets if p["dir"] == "in").encode("latin-1")
    assert inn.startswith(doc["response"]["raw_head"].encode("latin-1"))
    assert len(inn) == len(doc["response"]["raw_head"].encode("latin-1")) + 2000
    for key in ("t_ms", "dir", "eth", "ip", "payload_bytes", "payload"):
        assert key in packets[0]
    assert set(packets[0]["tcp"]) == {"sport", "dport", "seq", "ack", "flags", "window", "options"}


@root_only
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed (the test command apt-gets it)")
def test_pcap_and_the_human_packet_list(run_cli, lab_server, tmp_path):
    path = tmp_path / "one.pcap"
    r = run_cli("send", "--pcap", str(path), "--no-history", f"http://127.0.0.1:{lab_server.port}/ip")
    assert r.code == 0, r.err
    assert "127.0.0.1" in r.out  # the body still on standard output
    lines = [line for line in r.err.splitlines() if " ms " in line]
    assert "* packets on lo:" in r.err and "TCP [S]" in lines[0] and "TCP [SA]" in lines[1]
    read = subprocess.run(["tcpdump", "-nn", "-r", str(path)], capture_output=True, text=True, check=True)
    assert len(read.stdout.splitlines()) == len(lines)


@root_only
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_unprivileged_sends_and_says_why_not(lab_server, tmp_path):
    url = f"http://127.0.0.1:{lab_server.port}/ip"
    env = dict(os.environ, PYTHONPATH=os.getcwd(), HOME="/tmp", NETLAB_HISTORY="/tmp/netlab-nobody-history")
    base = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
            sys.executable, "-m", "netlab", "send", "--no-history"]
    run = subprocess.run(base + ["--json", "--packets", url], capture_output=True, text=True, env=env, cwd="/")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["response"]["status"] == 200
    assert "CAP_NET_RAW" in doc["capture"]["error"]["message"] and "setcap" in doc["capture"]["error"]["hint"]
    assert doc["packets"] == []
    run = subprocess.run(base + ["--pcap", "/tmp/netlab-nobody.pcap", url], capture_output=True, text=True, env=env,
                         cwd="/")
    assert run.returncode == 1
    assert "not captured" in run.stderr and "no pcap written" in run.stderr
    assert not os.path.exists("/tmp/netlab-nobody.pcap")


@root_only
def test_labnet_up_send_every_hop_down(run_cli):
    r = run_cli("labnet", "up", "--hops", "2", "--json")
    try:
        assert r.code == 0, r.err
        lab = json.loads(r.out)
        assert lab["url"] == "http://198.18.2.2:8080/" and len(lab["links"]) == 3
        r = run_cli("send", "--json", "--packets", "--no-history", lab["url"] + "ip")
        assert r.code == 0, r.err
        doc = json.loads(r.out)
        assert doc["route"]["gateway"] == "198.18.0.2" and doc["route"]["interface"] == "nl-h0"
        assert doc["route"]["next_hop_mac"] == doc["packets"][0]["eth"]["dst"]
        ttls = [next(p["ip"]["ttl"] for p in hop["packets"] if p["tcp"]["flags"] == "S") for hop in doc["hops"]]
        assert ttls == [64, 63, 62]
        assert "up: 2 router(s)" in run_cli("labnet", "status").out
    finally:
        down = run_cli("labnet", "down")
    assert down.code == 0 and "netlab-srv" in down.out
    assert "down" in run_cli("labnet", "status").out


def test_labnet_refuses_bad_hops_and_says_root(run_cli, monkeypatch):
    r = run_cli("labnet", "up", "--hops", "9")
    assert r.code == 2 and "--hops" in r.err
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    r = run_cli("labnet", "up")
    assert r.code == 1 and "needs root" in r.err


@root_only
def test_keylog_names_the_client_random_of_the_captured_hello(run_cli, nginx, tmp_path):
    keylog = tmp_path / "keys.log"
    r = run_cli("send", "--json", "--packets", "--keylog", str(keylog), "--cacert", nginx.ca_path, "--no-history",
                nginx.tls_url + "/")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    hello = next(p for p in doc["packets"] if p["dir"] == "out" and p["payload_bytes"]).get("payload").encode("latin-1")
    assert hello[0] == 0x16 and hello[5] == 0x01  # a TLS handshake record holding a ClientHello
    client_random = hello[11:43].hex()
    lines = keylog.read_text().splitlines()
    assert lines and all(line.split()[1] == client_random for line in lines if not line.startswith("#"))
    assert any(line.startswith(("CLIENT_TRAFFIC_SECRET_0", "CLIENT_RANDOM")) for line in lines)
