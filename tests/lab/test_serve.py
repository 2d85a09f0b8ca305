"""`netlab serve` (netlab/lab/serve.py): run() prints where it listens and its limits,
refuses a non-loopback host without --public, and serves until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from netlab.lab import LabServer
from tests.lab.client import TIMEOUT, RawClient, exchange, get, split_response

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- run()


def test_run_prints_the_listening_line_and_serves():
    code = "import sys; from netlab.lab import run; sys.exit(run())"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=REPO, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        address = SimpleNamespace(host="127.0.0.1", port=port)
        data = exchange(address, get("/ip", "Connection: close\r\n"))
        assert split_response(data)[2] == b"127.0.0.1\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "netlab", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO, text=True)


def _stop(process: subprocess.Popen) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err


def test_serve_non_loopback_without_public_is_refused(run_cli, monkeypatch):
    started = []
    monkeypatch.setattr(LabServer, "start", lambda self: started.append(self) or self)
    code, out, err = run_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2
    assert started == [] and out == ""  # nothing was bound, nothing announced
    assert "0.0.0.0" in err and "not a loopback address" in err
    assert "--public" in err and "netlab serve --host 0.0.0.0 --public" in err
    code, out, err = run_cli("serve", "--host", "example.com", "--public")
    assert code == 2 and started == []
    assert "not an IP address" in err


def test_serve_non_loopback_refused_in_a_real_process():
    process = _serve("--host", "0.0.0.0")
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 2
    assert "listening" not in out
    assert "not a loopback address" in err and "--public" in err and "Traceback" not in err


def test_serve_public_starts_and_is_reached_over_loopback():
    process = _serve("--host", "0.0.0.0", "--public")
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://0.0.0.0:")
        port = int(line.rsplit(":", 1)[1])
        assert process.stdout.readline().startswith("limits: ")
        here = SimpleNamespace(host="127.0.0.1", port=port)  # only ever connect over loopback
        assert split_response(exchange(here, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"
    finally:
        code, err = _stop(process)
    assert code == 0
    assert "not loopback (--public)" in err and f"http://127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_serve_localhost_needs_no_public():
    process = _serve("--host", "localhost")
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        here = SimpleNamespace(host="127.0.0.1", port=int(line.rsplit(":", 1)[1]))
        assert split_response(exchange(here, get("/ip", "Connection: close\r\n")))[2] == b"127.0.0.1\n"
    finally:
        code, err = _stop(process)
    assert code == 0 and "warning" not in err


def test_serve_limit_options_are_printed_and_applied():
    process = _serve("--max-connections", "1", "--max-request-bytes", "1000", "--idle-timeout", "0.5",
                     "--request-timeout", "7", "--header-timeout", "3")
    try:
        port = int(process.stdout.readline().rsplit(":", 1)[1])
        limits = process.stdout.readline()
        for text in ("--max-connections 1 ", "--max-request-bytes 1000 ", "--idle-timeout 0.5 s",
                     "--header-timeout 3 s", "--request-timeout 7 s"):
            assert text in limits
        here = SimpleNamespace(host="127.0.0.1", port=port)
        big_head = get("/ip", f"X-Big: {'a' * 2000}\r\n")
        assert split_response(exchange(here, big_head))[0].startswith("HTTP/1.1 431 ")
        first = RawClient(here)  # takes the slot the 431'd connection lingers in, if it still does
        try:
            first.send(get("/ip"))
            assert first.read_response()[0] == 200
            assert first.read_until_close() == b""  # idle for 0.5 s: the server closed it
        finally:
            first.close()
        busy = RawClient(here)
        try:
            busy.send(get("/stream/2?delay_ms=60000"))
            assert busy.read_head()[0] == 200  # answering it until the server stops
            assert split_response(exchange(here, get("/ip")))[0] == "HTTP/1.1 503 Service Unavailable"
        finally:
            busy.close()
    finally:
        code, err = _stop(process)
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    "args", [["--port", "70000"], ["--max-connections", "0"], ["--idle-timeout", "-1"],
             ["--max-request-bytes", "x"], ["--request-timeout", "nan"], ["--header-timeout", "inf"],
             ["--header-timeout", "0"]],
)
def test_serve_bad_option_values_are_usage_errors(run_cli, args):
    code, out, err = run_cli("serve", *args)
    assert code == 2
    assert args[0] in err and "Traceback" not in err


def test_serve_port_in_use_fails_with_a_message(run_cli):
    with LabServer() as lab:
        code, out, err = run_cli("serve", "--port", str(lab.port))
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{lab.port}" in err and out == ""
