"""UI test helpers: an app factory whose history lives in a temp dir, and a waiter.

The real peers (lab_server, dnsmasq, tcp_peer) come from tests/conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

HANG_GUARD = 30.0  # seconds: only keeps a broken test from hanging; nothing is timed


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _private_history(tmp_path, monkeypatch):
    """Never touch the user's real history."""
    path = tmp_path / "history.sqlite3"
    monkeypatch.setenv("NETLAB_HISTORY", str(path))
    return path


@pytest.fixture
def make_app(tmp_path):
    from netlab.ui.app import NetlabApp

    def make(url: str | None = None, **kw) -> NetlabApp:
        kw.setdefault("lab", False)
        kw.setdefault("live_connections", False)
        kw.setdefault("history_path", str(tmp_path / "history.sqlite3"))
        app = NetlabApp(url, **kw)
        app.animation_level = "none"  # fewer frames to wait for; nothing here is timed
        app.run_test = started_first(app, app.run_test)  # type: ignore[method-assign]
        return app

    return make


def started_first(app, run_test):
    """``run_test`` that hands over the pilot once the app is through its start (the first
    frame, then the composer's text areas and the focus): what a person sees before typing.
    ``NetlabApp.run_test(app)`` is the unwrapped one, for the keys typed before that."""

    @contextlib.asynccontextmanager
    async def run(*args, **kwargs):
        async with run_test(*args, **kwargs) as pilot:
            await wait_for(pilot, lambda: app.started, "the app's start")
            yield pilot

    return run


async def wait_for(pilot, condition, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds (fails after HANG_GUARD seconds)."""
    end = time.monotonic() + HANG_GUARD
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)
    await asyncio.sleep(0)


async def send_and_wait(pilot, app) -> object:
    """Press ctrl+j and wait until the viewer shows the finished exchange."""
    before = app.response.prepared
    await pilot.press("ctrl+j")
    await wait_for(pilot, lambda: app.response.prepared is not before and app._cancel is None, "the exchange")
    await pilot.pause()
    return app.response.prepared


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (snapshot pictures show clock times)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
