"""What the first frame leaves for after it (bench/startup.py measures the time): the
composer's Headers and Body text areas are two empty boxes on the first frame and are
mounted right after it, holding the request as it is by then; keys typed meanwhile wait."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.widgets import Input, TextArea

from tests.ui.conftest import wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


def test_the_tui_does_not_import_textarea_before_its_first_frame():
    code = ("import sys; import netlab.ui.app; "
            "print(sorted(m for m in sys.modules if m.startswith('textual.widgets._text_area')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_the_first_frame_has_boxes_and_the_areas_follow_with_the_request(make_app):
    from netlab.ui.panes.composer import Composer

    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        # A second composer, as the app's is at its first frame: the fields are two titled boxes.
        pane = Composer(id="composer-second")
        await app.screen.mount(pane)
        assert not pane.query(TextArea)
        boxes = list(pane.query("#fields > .field"))
        assert [b.border_title for b in boxes] == ["Headers — one 'Name: value' a line", "Body"]
        # A request loaded before the areas are there is what they show once mounted ...
        pane.load(b"POST /p HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi",
                  "http://127.0.0.1:9/p")
        assert pane._fields().headers == "Host: 127.0.0.1:9\nX-A: 1\nContent-Length: 2"
        await pane.mount_lazy()
        await pilot.pause()
        assert pane.query_one("#headers", TextArea).text == "Host: 127.0.0.1:9\nX-A: 1\nContent-Length: 2"
        assert pane.query_one("#body", TextArea).text == "hi"
        assert not pane.query("#fields > Static")  # the boxes are gone, the areas in their place
        assert [w.id for w in pane.query_one("#fields").children] == ["headers", "body"]
        await pane.mount_lazy()  # twice is once
        assert len(pane.query(TextArea)) == 2


async def test_the_app_fills_its_areas_from_the_command_line_url(make_app):
    app = make_app("http://127.0.0.1:9/x")
    async with app.run_test(size=SIZE) as pilot:
        assert app.started
        assert "Host: 127.0.0.1:9" in app.composer.query_one("#headers", TextArea).text
        assert app.focused is app.composer.query_one("#url", Input)
        await pilot.press("tab")
        assert app.focused is app.composer.query_one("#headers", TextArea)


async def test_keys_typed_at_start_wait_for_the_url_bar(make_app):
    from netlab.ui.app import NetlabApp

    app = make_app("http://127.0.0.1:9/x")
    async with NetlabApp.run_test(app, size=SIZE) as pilot:  # not waiting for the start
        await pilot.press("y", "z")
        await wait_for(pilot, lambda: app.started, "the app's start")
        await wait_for(pilot, lambda: app.composer.url.endswith("yz"), "the keys in the URL bar")
        assert app.composer.url == "http://127.0.0.1:9/xyz"
        assert "yz" not in app.composer.query_one("#headers", TextArea).text
