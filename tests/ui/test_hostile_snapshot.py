"""Pictures of a hostile response (pytest-textual-snapshot): terminal escapes, C1 and
bidi characters and Rich markup in the reason phrase, headers, body and trailer
(tests/ui/test_hostile_bytes.py's HOSTILE) show as visible escapes and literal text.

The exchange is fixed (tests/ui/fakes.py runs the bytes through the engine's framing
code with fixed timings), so the pictures are stable.  Regenerate after a deliberate
change with ``pytest tests/ui/test_hostile_snapshot.py --snapshot-update`` and look at
the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from tests.ui import fakes
from tests.ui.test_hostile_bytes import HOSTILE
from tests.ui.test_snapshots import app

pytestmark = pytest.mark.usefixtures("utc")

WIDE = (120, 40)


def hostile_response(tab: str):
    async def run(pilot) -> None:
        a = pilot.app
        for widget in a.query("Input, TextArea"):
            widget.cursor_blink = False
        await a.response.ensure_tabs()
        a.response.prepared = fakes.prepared(HOSTILE)
        await pilot.press("f3", "f11", tab)
        for _ in range(3):  # the headers table sizes its columns on the next refreshes
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()

    return run


@pytest.mark.parametrize("tab", ["1", "2", "3"], ids=["body", "headers", "raw"])
def test_hostile_response(snap_compare, tab):
    assert snap_compare(app(), terminal_size=WIDE, run_before=hostile_response(tab))
