"""Capture of one exchange (issue 14): AF_PACKET on loopback against the lab server and
dnsmasq, dissected with dpkt, written as pcap and read back by tcpdump; the route over
netlink checked against `ip route get`; tcp_info of a real socket; and an unprivileged run
that still exchanges and says why it could not capture."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from netlab.engine import Engine, Options, Request
from netlab.engine.capture import ExchangeCapture
from netlab.engine.capture.route import route_to
from netlab.engine.capture.sniffer import Sniffer, port_filter
from netlab.engine.capture.tcpinfo import read as read_tcp_info

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="packet capture needs root (AF_PACKET); run as root")


def _captured_send(url: str, *, options: Options | None = None, ports=None, dns=None):
    request = Request.from_url(url, headers={"Connection": "close"})
    cap = ExchangeCapture(ports or [request.port])
    cap.start()
    engine = Engine()
    try:
        ex = engine.send(request, options=options)
    finally:
        engine.close()
    summary = cap.finish(ex, dns_server=dns)
    return ex, cap, summary


@root_only
def test_one_exchange_as_packets(lab_server):
    ex, cap, summary = _captured_send(f"http://127.0.0.1:{lab_server.port}/bytes/3000")
    assert ex.ok and summary["error"] is None and summary["interface"] == "lo"
    tcp = [p for p in cap.packets if "tcp" in p]
    assert [(p["dir"], p["tcp"]["flags"]) for p in tcp[:3]] == [("out", "S"), ("in", "SA"), ("out", "A")]
    assert tcp[0]["tcp"]["options"].get("mss") and "wscale" in tcp[0]["tcp"]["options"]
    local, remote = ex.connection.local, ex.connection.remote
    assert tcp[0]["ip"]["src"] == local[0] and tcp[0]["tcp"]["sport"] == local[1]
    assert tcp[0]["tcp"]["dport"] == remote[1] and tcp[0]["ip"]["ttl"] == 64
    out = "".join(p["payload"] for p in tcp if p["dir"] == "out").encode("latin-1")
    inn = "".join(p["payload"] for p in tcp if p["dir"] == "in").encode("latin-1")
    assert out == ex.request.data
    assert inn == ex.response.raw_head + ex.response.raw_body
    assert any("F" in p["tcp"]["flags"] for p in tcp if p["dir"] == "out")
    assert any("F" in p["tcp"]["flags"] for p in tcp if p["dir"] == "in")
    assert summary["packets"] == len(cap.packets) == len(cap.frames)
    assert [p["t_ms"] for p in cap.packets] == sorted(p["t_ms"] for p in cap.packets)
    assert cap.packets[0]["eth"]["src"] == "00:00:00:00:00:00"  # loopback's frames carry no MACs
    json.dumps(cap.packets)  # plain values


@root_only
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed (the test command apt-gets it)")
def test_the_pcap_opens_in_tcpdump(lab_server, tmp_path):
    from netlab.engine.capture import pcap

    _ex, cap, _summary = _captured_send(f"http://127.0.0.1:{lab_server.port}/ip")
    path = str(tmp_path / "x.pcap")
    assert pcap.write(path, cap.frames) == len(cap.frames) > 5
    assert os.stat(path).st_mode & 0o777 == 0o600
    run = subprocess.run(["tcpdump", "-nn", "-r", path], capture_output=True, text=True, check=True)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == len(cap.frames)
    assert "Flags [S]" in lines[0] and "Flags [S.]" in lines[1]


@root_only
def test_the_dns_question_and_answer_are_captured(lab_server, dnsmasq):
    ex, cap, _summary = _captured_send(f"http://known.test:{lab_server.port}/ip",
                                       options=Options(dns_server=dnsmasq.server),
                                       ports=[lab_server.port, dnsmasq.port], dns=dnsmasq.server)
    assert ex.ok
    udp = [p for p in cap.packets if "udp" in p]
    assert [p["dir"] for p in udp[:2]] == ["out", "in"]
    assert udp[0]["udp"]["dport"] == dnsmasq.port and b"known" in udp[0]["payload"].encode("latin-1")
    first_tcp = next(i for i, p in enumerate(cap.packets) if "tcp" in p)
    assert first_tcp >= 2  # the name was looked up before the SYN


@root_only
def test_the_kernel_filter_keeps_only_the_asked_ports():
    servers = []
    for _ in range(2):
        srv = socket.create_server(("127.0.0.1", 0))
        servers.append(srv)
    ports = [s.getsockname()[1] for s in servers]

    def serve(srv):
        conn, _ = srv.accept()
        conn.recv(100)
        conn.close()

    threads = [threading.Thread(target=serve, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    sniffer = Sniffer("lo", [ports[0]])
    sniffer.start()
    for port in ports:
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"x")
    for t in threads:
        t.join()
    frames = sniffer.stop()
    for s in servers:
        s.close()
    import dpkt

    seen = {(dpkt.ethernet.Ethernet(f.data).data.data.sport, dpkt.ethernet.Ethernet(f.data).data.data.dport)
            for f in frames}
    assert seen and all(ports[0] in pair for pair in seen)


def test_the_filter_program_is_classic_bpf():
    program = port_filter([80, 443])
    assert len(program) % 8 == 0 and len(program) // 8 < 64
    with pytest.raises(ValueError):
        port_filter(list(range(1, 200)))  # jumps past 255 instructions


@pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2's ip not installed")
@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_the_route_matches_ip_route_get(address):
    ip = json.loads(subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True,
                                   check=True).stdout)[0]
    route = route_to(address)
    assert route.interface == ip["dev"]
    assert route.gateway == ip.get("gateway")
    link = json.loads(subprocess.run(["ip", "-j", "link", "show", ip["dev"]], capture_output=True, text=True,
                                     check=True).stdout)[0]
    assert route.mtu == link["mtu"]
    if "prefsrc" in ip:
        assert route.source == ip["prefsrc"]


def test_tcp_info_of_a_real_socket():
    srv = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    client.sendall(b"x" * 5000)
    got = b""
    while len(got) < 5000:
        got += conn.recv(65536)
    info = read_tcp_info(client)
    assert info is not None
    assert info["segs_out"] >= 2 and info["bytes_acked"] >= 5000 and info["snd_mss"] > 0
    assert info["rtt_ms"] >= 0 and info["total_retrans"] == 0
    for s in (client, conn, srv):
        s.close()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert read_tcp_info(udp) is None
    udp.close()


@root_only
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_without_privileges_the_exchange_runs_and_capture_says_why(lab_server):
    code = (
        "import json, sys\n"
        "from netlab.engine import Engine, Request\n"
        "from netlab.engine.capture import ExchangeCapture\n"
        f"request = Request.from_url('http://127.0.0.1:{lab_server.port}/ip')\n"
        "cap = ExchangeCapture([request.port]); cap.start()\n"
        "engine = Engine(); ex = engine.send(request); engine.close()\n"
        "print(json.dumps({'ok': ex.ok, 'capture': cap.finish(ex)}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd(), HOME="/tmp")
    run = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                          sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["ok"] is True
    assert "CAP_NET_RAW" in doc["capture"]["error"]["message"]
    assert "setcap cap_net_raw+ep" in doc["capture"]["error"]["hint"]
    assert doc["capture"]["packets"] == 0


def test_every_exchange_carries_its_tcp_info(lab_server):
    engine = Engine()
    try:
        ex = engine.send(Request.from_url(f"http://127.0.0.1:{lab_server.port}/bytes/3000"))
    finally:
        engine.close()
    info = ex.to_dict()["tcp_info"]
    assert info == ex.tcp_info and info["total_retrans"] == 0 and info["segs_in"] >= 2
    assert info["bytes_received"] >= len(ex.response.raw_head) + 3000
    assert info["bytes_acked"] >= len(ex.request.data)
    assert info["snd_mss"] > 0 and info["rtt_ms"] >= 0
