"""Pictures of each pane at 120 x 40 and of the 80 x 24 layout (pytest-textual-snapshot).

Volatile things are fixed: the exchange, DNS answer, socket rows and history entries
come from tests/ui/fakes.py; the lab server, the live table and the history file are
off.  Regenerate after a deliberate change with ``pytest tests/ui --snapshot-update``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from tests.ui import fakes

pytestmark = pytest.mark.usefixtures("utc")

WIDE = (120, 40)
SMALL = (80, 24)


def app():
    from netlab.ui.app import NetlabApp

    a = NetlabApp("http://127.0.0.1:8080/json", lab=False, live_connections=False, history=False)
    a.animation_level = "none"
    return a


def steady(app) -> None:
    """No blinking cursors: a picture must not depend on when it is taken."""
    for widget in app.query("Input, TextArea"):
        widget.cursor_blink = False


async def filled(pilot, response: bytes = fakes.JSON_RESPONSE) -> None:
    """Every pane holds something: an exchange, a DNS answer, sockets."""
    a = pilot.app
    steady(a)
    await a.composer.ensure_tabs()
    await a.response.ensure_tabs()
    a.response.prepared = fakes.prepared(response)
    a.dns.set_query("web.lab.test", "A", "127.0.0.1:5353")
    a.dns.result = fakes.dns_result()
    a.connections.apply(fakes.connections_changed())
    a.connections.select_exchange(("127.0.0.1", 54321), ("127.0.0.1", 8080))
    for _ in range(3):  # tables size their columns on the next refreshes
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()


def maximised(pane: str, *keys: str, response: bytes = fakes.JSON_RESPONSE):
    async def run(pilot) -> None:
        await filled(pilot, response)
        await pilot.press({"composer": "f2", "response": "f3", "dns": "f4", "connections": "f5"}[pane], "f11", *keys)
        steady(pilot.app)
        await pilot.pause()

    return run


def test_layout_120x40(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=filled)


def test_layout_80x24(snap_compare):
    assert snap_compare(app(), terminal_size=SMALL, run_before=filled)


def test_layout_80x24_after_f3(snap_compare):
    async def run(pilot) -> None:
        await filled(pilot)
        await pilot.press("f3")
        steady(pilot.app)

    assert snap_compare(app(), terminal_size=SMALL, run_before=run)


def test_composer_fields(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("composer"))


def test_composer_raw(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("composer", "f7"))


def test_composer_options(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("composer", "f8"))


@pytest.mark.parametrize("tab", ["1", "2", "3", "4", "5", "6"])
def test_response_tabs(snap_compare, tab):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("response", tab))


def test_response_raw_chunked(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE,
                        run_before=maximised("response", "3", response=fakes.CHUNKED_RESPONSE))


def test_response_binary_body(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE,
                        run_before=maximised("response", "1", response=fakes.BINARY_RESPONSE))


def test_dns(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("dns"))


def test_connections(snap_compare):
    assert snap_compare(app(), terminal_size=WIDE, run_before=maximised("connections"))


def test_history(snap_compare):
    async def run(pilot) -> None:
        from netlab.ui.screens.history import HistoryScreen

        steady(pilot.app)
        await pilot.app.push_screen(HistoryScreen(fakes.history_entries()))
        await pilot.pause()

    assert snap_compare(app(), terminal_size=WIDE, run_before=run)


def test_help(snap_compare):
    async def run(pilot) -> None:
        steady(pilot.app)
        await pilot.press("f1")

    assert snap_compare(app(), terminal_size=WIDE, run_before=run)
