"""Shared fixtures: REAL peers on loopback, never mocks, never a non-loopback address.

    lab_server        netlab's own lab server on 127.0.0.1 (session)
    lab_server_v6     the lab server on ::1 (session; skipped without IPv6 loopback)
    closing_lab       a lab server that closes keep-alive connections idle for 0.3 s (a closing peer)
    http_server       Python's http.server (HTTP/1.0) serving a temp dir (session)
    unix_http_server  http.server on an AF_UNIX socket (session)
    nginx             the real nginx binary: plain, TLS (trustme cert) and a Unix socket (session)
    dnsmasq           a real dnsmasq on 127.0.0.1 with known.test -> 127.0.0.1 (session)
    fx_dns            an authoritative dnspython server (tests/dnsfixtures.py) for fx.test: every
                      record type, SERVFAIL/REFUSED/silent names, UDP truncation, DoT, DoH (session)
    silent_dns        a DNS server that never answers, on UDP or TCP (session)
    trace_dns         root → test. → trace.test. servers on 127.0.0.2-6, one port, a hints file (session)
    tcp_peer          factory: a raw TCP server whose per-connection behaviour a test writes
    curl, curl_fetch  /usr/bin/curl as the cross-check client
    run_cli           `netlab ...` in-process; run_cli_subprocess: `python -m netlab ...`

Long timeouts below only guard against hangs; no test asserts on elapsed time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import os
import random
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

# The suite is deterministic: hypothesis runs derandomized with no example database (the
# README's test command selects this profile; random exploration lives in scripts/fuzz.py).
_hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
_hypothesis_settings.load_profile(os.environ.get("NETLAB_HYPOTHESIS_PROFILE", "ci"))

CURL = "/usr/bin/curl"
NGINX = "/usr/sbin/nginx"
HANG_GUARD = 30  # seconds: only to keep a broken peer from hanging the suite

# The files every static peer serves (http.server, nginx).
HELLO = b"".join(b"hello %d from a static file\n" % i for i in range(40))
BINARY = bytes(range(256)) * 64 + b"\x00\xff\r\n\r\n tail"
BIG = random.Random(1234).randbytes(1 << 20)  # 1 MiB, deterministic
JSON = b'{"kind": "json", "items": [1, 2, 3], "text": "' + b"x" * 300 + b'"}\n'
CLOSE_DELIMITED = b"this body ends when the server closes the connection\n" * 20


def _static_tree(root: Path) -> dict[str, bytes]:
    files = {"hello.txt": HELLO, "binary.bin": BINARY, "big.bin": BIG, "empty.txt": b"",
             "data.json": JSON, "close.txt": HELLO}
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def _wait_tcp(host: str, port: int, proc: subprocess.Popen | None = None, timeout: float = HANG_GUARD) -> None:
    end = time.monotonic() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect((host, port))
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port the kernel just gave out and took back (bind to 0, close)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def short_tmpdir(prefix: str) -> str:
    """A short path under /tmp (AF_UNIX paths are limited to 108 bytes)."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


# ------------------------------------------------------------------------ lab server


@pytest.fixture(scope="session")
def lab_server():
    from netlab.lab import LabServer

    server = LabServer(host="127.0.0.1", port=0).start()
    _wait_tcp("127.0.0.1", server.port)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab_server_v6():
    if not socket.has_ipv6:
        pytest.skip("IPv6 is not available in this Python build")
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"::1 (IPv6 loopback) is not available here: {exc}")
    from netlab.lab import LabServer

    server = LabServer(host="::1", port=0).start()
    _wait_tcp("::1", server.port)
    yield server
    server.stop()


@pytest.fixture
def closing_lab():
    """A lab server that closes a keep-alive connection idle for 0.3 s: a peer that closes
    its end, so the kernel leaves ours in CLOSE_WAIT until we close it (what the keep-alive
    pool's sweep is for). Its own, per test: tests wait for its connection count to drop."""
    from netlab.lab import LabServer

    server = LabServer("127.0.0.1", 0, idle_timeout=0.3).start()
    yield server
    server.stop()


def tcp_state(local, remote) -> str | None:
    """The kernel's state of this process's TCP socket ``local`` → ``remote`` (None: no such socket)."""
    import psutil

    for c in psutil.Process(os.getpid()).net_connections(kind="tcp"):
        if c.laddr and c.raddr and (c.laddr.ip, c.laddr.port) == tuple(local) \
                and (c.raddr.ip, c.raddr.port) == tuple(remote):
            return c.status
    return None


# ----------------------------------------------------------------------- http.server


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler (HTTP/1.0), quiet, plus one close-delimited path."""

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def address_string(self) -> str:  # AF_UNIX peers have no (host, port)
        return str(self.client_address[0]) if self.client_address else "unix"

    def do_GET(self):
        if self.path == "/close-delimited":
            # No Content-Length: an HTTP/1.0 body that ends when the server closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(CLOSE_DELIMITED)
            return
        super().do_GET()


@dataclass
class StaticServer:
    url: str
    port: int
    root: Path
    files: dict[str, bytes]
    path: str = ""  # for a Unix socket server


@pytest.fixture(scope="session")
def http_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("http_server_root")
    files = _static_tree(root)
    handler = functools.partial(_StaticHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http.server", daemon=True)
    thread.start()
    port = server.server_address[1]
    _wait_tcp("127.0.0.1", port)
    yield StaticServer(f"http://127.0.0.1:{port}", port, root, files)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def unix_http_server(tmp_path_factory):
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("AF_UNIX sockets are not available on this system")
    root = tmp_path_factory.mktemp("unix_server_root")
    files = _static_tree(root)
    sockdir = short_tmpdir("netlab-unix-")
    path = os.path.join(sockdir, "http.sock")
    handler = functools.partial(_StaticHandler, directory=str(root))
    server = socketserver.ThreadingUnixStreamServer(path, handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="unix http.server", daemon=True)
    thread.start()
    yield StaticServer("http://localhost", 0, root, files, path)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    shutil.rmtree(sockdir, ignore_errors=True)


# ----------------------------------------------------------------------------- nginx


@dataclass
class Nginx:
    port: int
    tls_port: int
    root: Path
    files: dict[str, bytes]
    unix_path: str
    ca_path: str  # the trustme CA that signed the TLS certificate (PEM)
    cert_path: str  # the leaf certificate nginx serves (PEM, first in the file)
    leaf_pem: bytes
    prefix: Path
    proc: subprocess.Popen = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://localhost:{self.tls_port}"

    def error_log(self) -> str:
        try:
            return (self.prefix / "error.log").read_text(errors="replace")
        except OSError:
            return ""


_NGINX_CONF = """\
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp_body;
    proxy_temp_path {prefix}/tmp_proxy;
    fastcgi_temp_path {prefix}/tmp_fastcgi;
    uwsgi_temp_path {prefix}/tmp_uwsgi;
    scgi_temp_path {prefix}/tmp_scgi;
    types {{ text/plain txt; application/json json; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_timeout 60;
    keepalive_requests 1000;
    gzip on;
    gzip_types text/plain application/json;
    gzip_min_length 1;
    server {{
        listen 127.0.0.1:{port};
        listen unix:{unix_path};
        server_name localhost;
        root {root};
        location = /nocontent {{ return 204; }}
        location = /close.txt {{ keepalive_timeout 0; }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        location = /nocontent {{ return 204; }}
    }}
}}
"""


@pytest.fixture(scope="session")
def nginx(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.skip("nginx not installed: run the README test command as root to apt-get it")
    trustme = pytest.importorskip("trustme", reason="trustme is needed for the nginx TLS block")
    prefix = Path(short_tmpdir("netlab-nginx-"))
    root = prefix / "root"
    files = _static_tree(root)
    ca = trustme.CA(organization_name="netlab test CA")
    leaf = ca.issue_cert("localhost", "127.0.0.1", common_name="localhost")
    ca_path, cert_path, key_path = prefix / "ca.pem", prefix / "cert.pem", prefix / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key_path))
    unix_path = str(prefix / "nginx.sock")
    proc = None
    last_err = ""
    for _attempt in range(5):  # a port picked by free_port() can be taken meanwhile: retry
        port, tls_port = free_port(), free_port()
        if port == tls_port:
            continue
        conf = prefix / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "", prefix=prefix, port=port, tls_port=tls_port,
            unix_path=unix_path, root=root, cert=cert_path, key=key_path))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(unix_path)
        proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_tcp("127.0.0.1", port, proc, timeout=10)
            _wait_tcp("127.0.0.1", tls_port, proc, timeout=10)
            break
        except (OSError, RuntimeError):
            if proc.poll() is None:
                proc.terminate()
            _, err = proc.communicate(timeout=10)
            log = prefix / "error.log"
            last_err = err.decode(errors="replace") + (log.read_text(errors="replace") if log.exists() else "")
            proc = None
    if proc is None:
        pytest.fail(f"nginx did not start: {last_err}")
    server = Nginx(port, tls_port, root, files, unix_path, str(ca_path), str(cert_path),
                   leaf.cert_chain_pems[0].bytes(), prefix, proc)
    yield server
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()
    shutil.rmtree(prefix, ignore_errors=True)


# --------------------------------------------------------------------------- dnsmasq


# what the shared dnsmasq knows (tests/engine/dns/test_query.py checks these against dig)
DNS_BIG_TXT = ("a" * 250, "b" * 250, "c" * 250)  # > 512 bytes in all: forces EDNS or TCP
DNS_RECORDS = (
    "--host-record=known.test,127.0.0.1",
    "--host-record=web.lab.test,127.0.0.1",
    "--cname=www.lab.test,web.lab.test",
    "--mx-host=lab.test,mail.lab.test,10",
    "--txt-record=lab.test,hello world",
    *[f"--txt-record=big.lab.test,{t}" for t in DNS_BIG_TXT],
    "--host-record=v6.lab.test,::1",
    "--ptr-record=9.0.0.127.in-addr.arpa,ptr.lab.test",
    "--srv-host=_http._tcp.lab.test,web.lab.test,8080,1,5",
    # CAA 0 issue "letsencrypt.org" as raw RDATA (dnsmasq has no CAA option)
    "--dns-rr=lab.test,257," + (b"\x00\x05issue" + b"letsencrypt.org").hex(),
)


@dataclass
class Dnsmasq:
    port: int
    server: tuple[str, int]
    proc: subprocess.Popen = field(repr=False)
    big_txt: tuple[str, ...] = DNS_BIG_TXT


@pytest.fixture(scope="session")
def dnsmasq():
    exe = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else None)
    if exe is None:
        pytest.skip("dnsmasq not installed: run the README test command as root to apt-get it")
    import dns.message
    import dns.query
    import dns.rcode

    workdir = short_tmpdir("netlab-dnsmasq-")
    for _attempt in range(5):
        port = free_port(socket.SOCK_DGRAM)
        # --local=/test/ and /invalid/: names there that dnsmasq does not know get NXDOMAIN
        # (without it, and with --no-resolv, dnsmasq answers REFUSED).
        proc = subprocess.Popen(
            [exe, "--conf-file=/dev/null", f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
             "--no-resolv", "--no-hosts", "--keep-in-foreground", f"--pid-file={workdir}/dnsmasq.pid",
             *DNS_RECORDS, "--local=/test/", "--local=/invalid/",
             *(["--user=root"] if os.geteuid() == 0 else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        ready = False
        while time.monotonic() < end and proc.poll() is None:
            try:
                reply = dns.query.udp(dns.message.make_query("known.test", "A"), "127.0.0.1", port=port, timeout=0.5)
                ready = reply.rcode() == dns.rcode.NOERROR
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        if ready:
            break
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=10)
    else:
        pytest.fail("dnsmasq did not start on a loopback port")
    yield Dnsmasq(port, ("127.0.0.1", port), proc)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()
    shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------- dnspython test servers

FX_ZONE = r"""
$TTL 300
@          IN SOA    ns.fx.test. hostmaster.fx.test. 2024010101 3600 600 86400 60
@          IN NS     ns.fx.test.
ns         IN A      127.0.0.1
secret     IN A      127.0.0.1
v6         IN AAAA   ::1
dual       IN A      127.0.0.1
dual       IN AAAA   ::1
alias      IN CNAME  secret
chain      IN CNAME  alias
@          IN MX     10 mail.fx.test.
mail       IN A      127.0.0.1
@          IN TXT    "v=spf1 -all"
_sip._udp  IN SRV    10 60 5060 sip.fx.test.
@          IN CAA    0 issue "letsencrypt.org"
@          IN HTTPS  1 . alpn="h2,h3"
svc        IN SVCB   1 secret.fx.test. port=8443
@          IN DNSKEY 257 3 13 {dnskey}
child      IN DS     12345 13 2 {ds}
@          IN TYPE65280 \# 4 0a000001
hostile    IN TXT    "\027[2J\027]0;pwned\007 [bold red]markup[/bold red]"
evil       IN CNAME  x\027[31my.fx.test.
{big}
"""
FX_BIG_TXT = tuple(c * 250 for c in "uvwxyz")  # ~1.5 kB: over 512 bytes and over an EDNS 1232 buffer
FX_REVERSE_ZONE = """\
$TTL 300
@          IN SOA    ns.fx.test. hostmaster.fx.test. 1 3600 600 86400 60
@          IN NS     ns.fx.test.
10.0.0     IN PTR    secret.fx.test.
"""

FX_LOCALHOST_ZONE = """\
$TTL 300
@          IN SOA    ns.fx.test. hostmaster.fx.test. 1 3600 600 86400 60
@          IN A      127.0.0.1
"""


@dataclass
class FxDns:
    """The fx.test authoritative server: ``server`` keeps every query it received."""

    host: str
    port: int
    tls_port: int
    https_port: int
    ca_path: str
    server: object = field(repr=False)
    big_txt: tuple[str, ...] = FX_BIG_TXT

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


@pytest.fixture(scope="session")
def fx_dns(tmp_path_factory):
    import base64 as b64
    import ssl

    import trustme

    from tests.dnsfixtures import Authority, DnsServer, special

    zone = FX_ZONE.format(dnskey=b64.b64encode(bytes(range(64))).decode(), ds="ab" * 32,
                          big="\n".join(f'big        IN TXT    "{t}"' for t in FX_BIG_TXT))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "dns.fx.test")
    workdir = tmp_path_factory.mktemp("fx_dns")
    ca_path = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    contexts = []
    for _ in range(2):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(ctx)
        contexts.append(ctx)
    contexts[1].set_alpn_protocols(["http/1.1"])
    handler = special(Authority(("fx.test.", zone), ("127.in-addr.arpa.", FX_REVERSE_ZONE),
                                ("localhost.", FX_LOCALHOST_ZONE)))
    server = DnsServer(handler, "127.0.0.1", tls_context=contexts[0], https_context=contexts[1]).start()
    yield FxDns("127.0.0.1", server.port, server.tls_port, server.https_port, str(ca_path), server)
    server.stop()


@pytest.fixture(scope="session")
def silent_dns():
    """A DNS server that receives queries (UDP and TCP) and never answers."""
    from tests.dnsfixtures import DnsServer, silent

    server = DnsServer(silent, "127.0.0.1").start()
    yield server
    server.stop()


TRACE_ROOT = """\
$TTL 86400
.               IN SOA  a.root.lab. nstld.root.lab. 1 1800 900 604800 86400
.               IN NS   a.root.lab.
a.root.lab.     IN A    127.0.0.2
test.           IN NS   ns.nic.test.
ns.nic.test.    IN A    127.0.0.3
"""
TRACE_TLD = """\
$TTL 3600
test.           IN SOA  ns.nic.test. hostmaster.nic.test. 1 1800 900 604800 300
test.           IN NS   ns.nic.test.
ns.nic.test.    IN A    127.0.0.3
trace.test.     IN NS   ns0.trace.test.
trace.test.     IN NS   ns1.trace.test.
ns0.trace.test. IN A    127.0.0.6
ns1.trace.test. IN A    127.0.0.4
helper.test.    IN NS   ns.helper.test.
ns.helper.test. IN A    127.0.0.5
"""
TRACE_AUTH = """\
$TTL 300
@               IN SOA  ns1.trace.test. hostmaster.trace.test. 1 1800 900 604800 300
@               IN NS   ns0.trace.test.
@               IN NS   ns1.trace.test.
ns0             IN A    127.0.0.6
ns1             IN A    127.0.0.4
www             IN A    127.0.0.1
alias           IN CNAME www
sub             IN NS   ns.helper.test.
"""
TRACE_HELPER = """\
$TTL 300
@               IN SOA  ns.helper.test. hostmaster.helper.test. 1 1800 900 604800 300
@               IN NS   ns.helper.test.
ns              IN A    127.0.0.5
"""
TRACE_SUB = """\
$TTL 300
@               IN SOA  ns.helper.test. hostmaster.helper.test. 1 1800 900 604800 300
@               IN NS   ns.helper.test.
host            IN A    127.0.0.9
"""


@dataclass
class TraceLab:
    """A delegation chain on loopback, every server on ``port``:
    127.0.0.2 root (.) → 127.0.0.3 test. → 127.0.0.4 trace.test. (its first NS, 127.0.0.6,
    is lame: REFUSED) → sub.trace.test. on 127.0.0.5 via a glueless NS (ns.helper.test.)."""

    port: int
    hints: str
    servers: dict = field(repr=False)


@pytest.fixture(scope="session")
def trace_dns(tmp_path_factory):
    from tests.dnsfixtures import Authority, start_on_same_port

    specs = [
        ("127.0.0.2", Authority((".", TRACE_ROOT))),
        ("127.0.0.3", Authority(("test.", TRACE_TLD))),
        ("127.0.0.4", Authority(("trace.test.", TRACE_AUTH))),
        ("127.0.0.5", Authority(("helper.test.", TRACE_HELPER), ("sub.trace.test.", TRACE_SUB))),
        ("127.0.0.6", Authority()),  # lame: REFUSED for everything
    ]
    servers = start_on_same_port(specs)
    hints = tmp_path_factory.mktemp("trace") / "root.hints"
    hints.write_text("; root hints for the loopback delegation chain\n"
                     ".            3600000  NS  a.root.lab.\n"
                     "a.root.lab.  3600000  A   127.0.0.2\n")
    yield TraceLab(servers[0].port, str(hints), {s.host: s for s in servers})
    for s in servers:
        s.stop()


# -------------------------------------------------------------------------- tcp_peer


def read_request_head(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    """Read from ``conn`` until the blank line that ends a request head (or EOF)."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < limit:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@dataclass
class TcpPeer:
    port: int
    host: str = "127.0.0.1"
    received: list = field(default_factory=list)  # request heads, per connection
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
def tcp_peer():
    """Factory: ``tcp_peer(handler, read_request=True)`` starts a raw TCP server on
    127.0.0.1; for each connection it reads the request head (kept in ``.received``),
    then calls ``handler(conn, peer)``, then closes.  ``peer.stop`` is set at teardown
    (a handler that waits should wait on it)."""
    started: list[tuple[socket.socket, TcpPeer, threading.Thread]] = []
    conns: list[socket.socket] = []

    def start(handler, read_request: bool = True) -> TcpPeer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        peer = TcpPeer(listener.getsockname()[1])

        def serve_one(conn):
            try:
                conn.settimeout(HANG_GUARD)
                if read_request:
                    peer.received.append(read_request_head(conn))
                handler(conn, peer)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    conn.close()

        def accept_loop():
            while not peer.stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                conns.append(conn)
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

        thread = threading.Thread(target=accept_loop, daemon=True)
        thread.start()
        started.append((listener, peer, thread))
        return peer

    yield start
    for listener, peer, thread in started:
        peer.stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.close()


# ------------------------------------------------------------------------------ curl


@pytest.fixture(scope="session")
def curl():
    """``curl(*args) -> (returncode, stdout_bytes, stderr_bytes)`` running /usr/bin/curl -s."""
    if not os.path.exists(CURL):
        pytest.skip("curl not installed: run the README test command as root to apt-get it")

    def run(*args: str) -> tuple[int, bytes, bytes]:
        p = subprocess.run([CURL, "-s", *args], capture_output=True, timeout=HANG_GUARD)
        return p.returncode, p.stdout, p.stderr

    return run


@dataclass
class CurlResult:
    status_line: str
    status: int
    headers: list[tuple[str, str]]
    trailers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes


@pytest.fixture(scope="session")
def curl_fetch(curl, tmp_path_factory):
    """``curl_fetch(url, *args) -> CurlResult``: what curl receives for ``url``, sending
    the same User-Agent as netlab so that the two requests are byte-identical."""
    from netlab.engine.request import USER_AGENT

    workdir = tmp_path_factory.mktemp("curl")
    counter = iter(range(1_000_000))

    def fetch(url: str, *args: str) -> CurlResult:
        n = next(counter)
        head_file, body_file = workdir / f"head{n}", workdir / f"body{n}"
        rc, _out, err = curl("-A", USER_AGENT, "-D", str(head_file), "-o", str(body_file), *args, url)
        assert rc == 0, f"curl {url} failed (rc={rc}): {err.decode(errors='replace')}"
        raw = head_file.read_bytes()
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0]
        headers = [tuple(s.strip() for s in line.split(":", 1)) for line in lines[1:] if line]
        trailers = [tuple(s.strip() for s in line.split(":", 1))
                    for line in rest.decode("latin-1").split("\r\n") if line.strip()]
        body = body_file.read_bytes() if body_file.exists() else b""
        return CurlResult(status_line, int(status_line.split()[1]), headers, trailers, body, head + b"\r\n\r\n")

    return fetch


# ------------------------------------------------------------------------------- CLI


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def __iter__(self):  # (exit_code, stdout, stderr)
        return iter((self.code, self.out, self.err))


@pytest.fixture
def run_cli():
    """``run_cli(*argv) -> (exit_code, stdout, stderr)``: netlab.cli.main in-process."""
    from netlab import cli

    def run(*argv: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main([str(a) for a in argv])
            except SystemExit as exc:  # argparse usage errors, --help
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def run_cli_subprocess():
    """``run_cli_subprocess(*argv) -> (exit_code, stdout, stderr)``: `python -m netlab` for real."""

    def run(*argv: str) -> CliResult:
        p = subprocess.run([sys.executable, "-m", "netlab", *map(str, argv)], capture_output=True,
                           timeout=HANG_GUARD, stdin=subprocess.DEVNULL)
        return CliResult(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))

    return run


@pytest.fixture
def engine():
    """A fresh Engine, closed after the test."""
    from netlab.engine import Engine

    with Engine() as e:
        yield e


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def _private_history(tmp_path_factory, monkeypatch):
    """Every test gets its own history file: the user's real history is never touched."""
    monkeypatch.setenv("NETLAB_HISTORY", str(tmp_path_factory.mktemp("history") / "history.sqlite3"))


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory, monkeypatch):
    """Every test gets its own settings path (no file there unless the test writes one):
    the user's real settings are never read."""
    path = tmp_path_factory.mktemp("settings") / "settings.toml"
    monkeypatch.setenv("NETLAB_SETTINGS", str(path))
    return path


# ------------------------------------------------------------- hostile TLS and connect


@dataclass
class TlsLab:
    """TLS servers on 127.0.0.1 with bad certificates (trustme), each answering a request
    that gets through with ``HTTP/1.1 200 OK`` and body ``ok``:
    ``self_signed_port`` (its certificate is its own issuer: the trustme CA's own cert),
    ``expired_port`` (issued by ``ca_path`` for localhost/127.0.0.1, expired yesterday),
    ``good_port`` (issued by ``ca_path`` for localhost and 127.0.0.1 only)."""

    ca_path: str
    self_signed_path: str
    self_signed_port: int
    expired_port: int
    good_port: int
    handshake_errors: list = field(default_factory=list)  # what the servers saw fail


@pytest.fixture(scope="session")
def tls_lab(tmp_path_factory):
    import datetime
    import ssl

    trustme = pytest.importorskip("trustme", reason="trustme makes the test certificates")
    workdir = tmp_path_factory.mktemp("tls_lab")
    ca = trustme.CA(organization_name="netlab hostile CA")
    ca_path = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = ca.issue_cert("localhost", "127.0.0.1", not_before=now - datetime.timedelta(days=30),
                            not_after=now - datetime.timedelta(days=1))
    good = ca.issue_cert("localhost", "127.0.0.1")
    self_cert, self_key = workdir / "self-signed.pem", workdir / "self-signed.key"
    ca.cert_pem.write_to_path(str(self_cert))  # a root certificate signs itself
    ca.private_key_pem.write_to_path(str(self_key))
    errors: list = []
    stop = threading.Event()
    listeners: list[socket.socket] = []

    def start(configure) -> int:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        configure(ctx)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listeners.append(listener)

        def one(conn):
            try:
                conn.settimeout(HANG_GUARD)
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    read_request_head(tls)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            except (OSError, ssl.SSLError) as exc:  # the client refused the certificate: expected
                errors.append(exc)
            finally:
                conn.close()

        def loop():
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=one, args=(conn,), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return listener.getsockname()[1]

    lab = TlsLab(str(ca_path), str(self_cert),
                 start(lambda ctx: ctx.load_cert_chain(str(self_cert), str(self_key))),
                 start(expired.configure_cert), start(good.configure_cert), errors)
    yield lab
    stop.set()
    for listener in listeners:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


@dataclass
class FullBacklog:
    port: int
    held: list = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def full_backlog():
    """A listening socket that never accept()s, its accept queue filled (Linux: listen(0)
    queues one connection; the kernel then drops further SYNs, so a connect() hangs in
    SYN_SENT).  Filled until a probe connect times out twice in a row."""
    if sys.platform != "linux":
        pytest.skip("the full-backlog behaviour relied on here is Linux's")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    misses = 0
    for _ in range(16):
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:  # timed out: the queue is full
            probe.close()
            misses += 1
            if misses == 2:
                break
            continue
        held.append(probe)
        misses = 0
    if misses < 2:
        listener.close()
        for s in held:
            s.close()
        pytest.skip("could not fill the accept backlog of a listen(0) socket here")
    yield FullBacklog(port, held)
    for s in held:
        s.close()
    listener.close()


# ------------------------------------------------------------- the scripted redirect peer
@pytest.fixture(scope="session")
def redirect_peer():
    """tests/engine/redirect_peer.py's scripted peer (redirects of every kind, Set-Cookie,
    on 127.0.0.1, 127.0.0.2 and a second port), shared by the redirect and cookie tests."""
    from tests.engine.redirect_peer import start_peer, stop_peer

    peer = start_peer()
    yield peer
    stop_peer(peer)


@pytest.fixture
def fresh_peer(redirect_peer):
    """The redirect peer with its record of requests emptied."""
    redirect_peer.clear()
    return redirect_peer
