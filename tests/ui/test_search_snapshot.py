"""Pictures of the response viewer's search: the matches highlighted as the lines are
drawn (the current one in another colour), the search line with "match i of N", in the
Body tab and in the Hex tab (a hex query marks the hex digits and the characters).
The exchange is the fixed one of tests/ui/fakes.py; regenerate with --snapshot-update."""

from __future__ import annotations

import time

import pytest

from tests.ui import fakes
from tests.ui.test_snapshots import WIDE, app, filled, steady

pytestmark = pytest.mark.usefixtures("utc")

HOSTILE_BODY = b"find \x1b[31mme\x1b[0m here\n[bold]find[/bold] \xe2\x80\xae find again\n"
HOSTILE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + str(len(HOSTILE_BODY)).encode()
           + b"\r\n\r\n" + HOSTILE_BODY)


def searched(tab: str, query: str, *then: str, response: bytes = fakes.JSON_RESPONSE):
    async def run(pilot) -> None:
        await filled(pilot, response)
        await pilot.press("f3", "f11", tab, "slash", *query)
        bar = pilot.app.response.search_bar
        end = time.monotonic() + 30
        while not bar.status.startswith(("match", "no match")) or pilot.app.response.search_view().query != query:
            assert time.monotonic() < end, "the search did not finish"
            await pilot.pause(0.02)
        if then:
            await pilot.press(*then)
        steady(pilot.app)
        await pilot.pause()

    return run


def test_search_body(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=searched("1", "o", "enter", "n"))


def test_search_hex_bytes(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=searched("4", "0d 0a"))


def test_search_hostile_body(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=searched("1", "find", response=HOSTILE))
