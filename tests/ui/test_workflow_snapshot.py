"""A picture of the DiffScreen (two fixed exchanges compared) at 120 x 40.

Regenerate after a deliberate change with ``pytest tests/ui/test_workflow_snapshot.py
--snapshot-update`` and look at the SVG before committing it."""

from __future__ import annotations

import pytest

from tests.ui import fakes

pytestmark = pytest.mark.usefixtures("utc")

WIDE = (120, 40)


def _response(status: str, headers: list[str], body: bytes) -> bytes:
    head = "\r\n".join([f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]) + "\r\n\r\n"
    return head.encode() + body


BEFORE = _response("200 OK", ["Server: netlab-lab/0.1", "Date: Sat, 01 Jan 2000 00:00:00 GMT",
                              "Content-Type: text/plain", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-Old: gone"],
                   b"line 1\nline 2\nline 3\nline 4\nline 5\n")
AFTER = _response("503 Service Unavailable",
                  ["Server: netlab-lab/0.1", "Date: Sat, 01 Jan 2000 00:00:30 GMT", "Content-Type: text/plain",
                   "Set-Cookie: a=1", "Retry-After: 5"],
                  b"line 1\nline 2\nline three\nline 4\nline 5\nline 6\n")


def test_diff_screen(snap_compare):
    from netlab.ui.app import NetlabApp
    from netlab.ui.screens.diff import DiffScreen, diff_texts

    a = fakes.exchange(BEFORE)
    b = fakes.exchange(AFTER)
    b.started = a.started + 30.25
    b.connection.reused = True
    b.timings.connect, b.timings.ttfb, b.timings.total = 0.0, 2.55, 2.90

    app = NetlabApp(fakes.URL, lab=False, live_connections=False, history=False)
    app.animation_level = "none"

    async def run(pilot) -> None:
        for widget in pilot.app.query("Input, TextArea"):
            widget.cursor_blink = False
        await pilot.app.push_screen(DiffScreen(7, 9, diff_texts(a, b, 7, 9)))
        await pilot.pause()

    assert snap_compare(app, terminal_size=WIDE, run_before=run)
