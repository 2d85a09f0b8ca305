"""Loopback peers for the benchmarks: a throwaway nginx (when installed) serving files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class Nginx:
    """nginx on 127.0.0.1 with keep-alive, serving ``files`` {name: size} (sparse zero files)."""

    def __init__(self, files: dict[str, int]) -> None:
        self.dir = tempfile.mkdtemp(prefix="netlab-nginx-")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        for name, size in files.items():
            with open(os.path.join(self.root, name), "wb") as f:
                if size <= 1 << 20:
                    f.write(b"x" * size)
                else:
                    f.truncate(size)
        self.port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = f"""
{user}
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/tmp;
  proxy_temp_path {self.dir}/tmp; fastcgi_temp_path {self.dir}/tmp;
  uwsgi_temp_path {self.dir}/tmp; scgi_temp_path {self.dir}/tmp;
  keepalive_requests 1000000;
  sendfile on;
  server {{
    listen 127.0.0.1:{self.port} backlog=4096;
    root {self.root};
  }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf, "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
