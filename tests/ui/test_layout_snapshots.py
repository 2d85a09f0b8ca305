"""Layouts that keep the facts, at 80x24, 100x30, 120x40 and 160x50 (issue 11, part 4).

Pictures (pytest-textual-snapshot) of every pane at each size: the 2 x 2 grid at the three
larger sizes (with the response viewer on Hex, Timing and Connection, and the composer on
its options), and each pane in the 80x24 one-pane mode.  Then checks that can fail without
a picture, read from what the screen draws (the compositor's lines, not the widgets' text):
the status line's whole local ip:port; every hex row ending with its ASCII column's ``|``;
the Connection and Timing tabs wrapped, not cut; tab strips that say when tabs are hidden;
the connection table's state, pid and both addresses; option labels in whole words; and
checkboxes that read ``[x]`` / ``[ ]``.

The exchange, DNS answer and sockets are fixed (tests/ui/fakes.py): the pictures are
stable.  Regenerate after a deliberate change with
``pytest tests/ui/test_layout_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.ui import fakes

pytestmark = pytest.mark.usefixtures("utc")

SIZES = [(80, 24), (100, 30), (120, 40), (160, 50)]
GRID = SIZES[1:]
IDS = [f"{w}x{h}" for w, h in SIZES]
LOCAL = "127.0.0.1:54321"  # the fake exchange's local address (fakes.exchange)


def app():
    from netlab.ui.app import NetlabApp

    a = NetlabApp("http://127.0.0.1:8080/json", lab=False, live_connections=False, history=False)
    a.animation_level = "none"
    return a


def follow():
    """The fake exchange's connection followed through its TCP states (fixed times)."""
    from netlab.engine import netstat

    f = netstat.Follow(("127.0.0.1", 54321), ("127.0.0.1", 8080), started=100.0)
    f.add_use(False, 100.0, 100.00015)
    f.peer.observe("ESTABLISHED", 100.0004, "probe")
    f.observe("FIN_WAIT2", 100.5, "probe")
    f.peer.observe("CLOSE_WAIT", 100.5, "probe")
    f.observe("TIME_WAIT", 100.55, "scan")
    f.peer.observe(None, 100.55, "scan")
    return f


async def settle(pilot) -> None:
    for widget in pilot.app.query("Input, TextArea"):
        widget.cursor_blink = False  # no blinking cursors: a picture must not depend on when it is taken
    for _ in range(3):  # tables size their columns on the next refreshes
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()


async def filled(pilot, prepared=None) -> None:
    """Every pane holds something: an exchange (its connection followed), a DNS answer, sockets."""
    a = pilot.app
    await a.composer.ensure_tabs()
    await a.response.ensure_tabs()
    a.response.prepared = prepared or fakes.prepared()
    a.response.follow = follow()
    a.dns.set_query("web.lab.test", "A", "127.0.0.1:5353")
    a.dns.result = fakes.dns_result()
    a.connections.apply(fakes.connections_changed())
    a.connections.view.followed = frozenset({(("127.0.0.1", 54321), ("127.0.0.1", 8080)),
                                             (("127.0.0.1", 8080), ("127.0.0.1", 54321))})
    a.connections.select_exchange(("127.0.0.1", 54321), ("127.0.0.1", 8080))
    await settle(pilot)


def showing(*, tab: str | None = None, options: bool = False, pane: str | None = None, prepared=None):
    """A run_before: filled, then the composer on its options (F8), the response viewer on
    ``tab``, and (80x24) ``pane`` brought forward with its F key."""
    async def run(pilot) -> None:
        await filled(pilot, prepared)
        if options:
            await pilot.press("f8")
        if tab is not None:
            await pilot.app.response.action_tab(tab)
        if pane is not None:
            await pilot.press({"composer": "f2", "response": "f3", "dns": "f4", "connections": "f5"}[pane])
        await settle(pilot)

    return run


# -- pictures --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", GRID, ids=IDS[1:])
@pytest.mark.parametrize("tab, options", [("hex", True), ("timing", False), ("connection", False)],
                         ids=["options+hex", "timing", "connection"])
def test_grid(snap_compare, size, tab, options):
    assert snap_compare(app(), terminal_size=size, run_before=showing(tab=tab, options=options))


@pytest.mark.parametrize("pane, tab, options", [
    ("composer", None, True), ("response", "hex", False), ("response", "timing", False),
    ("response", "connection", False), ("dns", None, False), ("connections", None, False),
], ids=["composer-options", "response-hex", "response-timing", "response-connection", "dns", "connections"])
def test_one_pane_80x24(snap_compare, pane, tab, options):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=showing(pane=pane, tab=tab, options=options))


# -- what the screen draws --------------------------------------------------------------------------

def screen(a) -> list[str]:
    """The screen's lines as drawn (every widget composited, clipped as the terminal shows it)."""
    return ["".join(segment.text for segment in strip) for strip in a.screen._compositor.render_strips()]


def inside(a, widget) -> list[str]:
    """The lines drawn in ``widget``'s region (its border and padding included)."""
    r = widget.region
    return [line[r.x : r.right] for line in screen(a)[r.y : r.bottom]]


def pane_of(a, name: str):
    return {"composer": a.composer, "response": a.response, "dns": a.dns, "connections": a.connections}[name]


async def shown(pilot, name: str) -> None:
    """At 80x24 bring pane ``name`` forward (the other sizes show all four)."""
    if pilot.app.size.width < 100:
        await pilot.press({"composer": "f2", "response": "f3", "dns": "f4", "connections": "f5"}[name])
        await settle(pilot)


def ipv6_prepared():
    """A long status (a long reason phrase) over IPv6 with a long link-local address."""
    from netlab.engine.session import ConnectionInfo
    from netlab.ui.views.exchange import prepare

    response = fakes.JSON_RESPONSE.replace(b"200 OK", b"503 Service Temporarily Unavailable", 1)
    ex = fakes.exchange(response)
    conn = ConnectionInfo("AF_INET6", ("fe80::1c2b:3cff:fe4d:5e6f", 54321), ("fe80::1", 8080), True, 0.05)
    return prepare(replace(ex, connection=conn))


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_status_line_keeps_status_size_time_and_the_whole_local_address(size):
    for prepared, facts in ((None, ["HTTP/1.1 200 OK", "77 B", "1.80 ms", f"new {LOCAL}", "127.0.0.1:8080"]),
                            (ipv6_prepared(), ["503 Service", "Temporarily Unavailable", "77 B", "1.80 ms",
                                               "reused [fe80::1c2b:3cff:fe4d:5e6f]:54321", "[fe80::1]:8080"])):
        a = app()
        async with a.run_test(size=size) as pilot:
            await filled(pilot, prepared)
            await shown(pilot, "response")
            status = a.response.query_one("#resp-status")
            drawn = " ".join(" ".join(inside(a, status)).split())  # a fact may wrap at a space, not inside a word
            for fact in facts:
                assert fact in drawn, (fact, drawn)
            assert status.region.right <= a.response.content_region.right  # drawn inside the pane


HEX_ROW = re.compile(r"^([0-9a-f]{4,8})  ((?:[0-9a-f]{2} {1,2})*[0-9a-f]{2}) +\|(.*)\|$")


@pytest.mark.anyio
@pytest.mark.parametrize("size, per_row", [((80, 24), 16), ((100, 30), 8), ((120, 40), 8), ((160, 50), 16)],
                         ids=IDS)
async def test_hex_rows_fit_the_width_with_the_ascii_column(size, per_row):
    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        await shown(pilot, "response")
        await a.response.action_tab("hex")
        await settle(pilot)
        view = a.response.query_one("#resp-hex")
        rows = [line.strip(" │▁▂▃▄▅▆▇█▔") for line in inside(a, view)]
        rows = [row for row in rows if row]
        assert len(rows) >= 5
        data = fakes.JSON_RESPONSE
        for row in rows:
            m = HEX_ROW.match(row)
            assert m, f"not a whole hex row: {row!r}"
            offset, hexes, ascii_ = int(m[1], 16), m[2].split(), m[3]
            chunk = data[offset : offset + per_row]
            assert bytes.fromhex("".join(hexes)) == chunk and len(ascii_) == len(chunk)
            assert ascii_ == "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        assert view.lines.row == per_row


async def _words_kept(pilot, view, given: str) -> None:
    """``view`` (a LineView) draws ``given`` wrapped: the same words in the same order, every
    drawn line inside the view (nothing past its right edge)."""
    a = pilot.app
    assert view.shown_plain().split() == given.split()
    width = view.scrollable_content_region.width
    assert all(len(view.shown_text(i)) < width for i in range(view.shown_count)), view.shown_plain()
    top = int(view.scroll_y)
    drawn = [line.strip(" │▁▂▃▄▅▆▇█▔") for line in inside(a, view)]
    for i, line in enumerate(drawn):
        if top + i < view.shown_count:
            assert line == view.shown_text(top + i).strip()


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_connection_tab_wraps_instead_of_cutting(size):
    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        await shown(pilot, "response")
        await a.response.action_tab("connection")
        await settle(pilot)
        view = a.response.query_one("#resp-connection")
        given = view.plain()
        assert "connect() called" in given and "TCP states" in given  # the long lines are there
        await _words_kept(pilot, view, given)
        assert view.shown_count > view.line_count  # the longest lines were wrapped ...
        if view.size.width < 60:  # ... and, in a grid pane, the values too: under the value column
            assert any(re.match(r"^ {16}\S", view.shown_text(i)) for i in range(view.shown_count))


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_timing_tab_fits_its_width(size):
    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        await shown(pilot, "response")
        await a.response.action_tab("timing")
        await settle(pilot)
        view = a.response.query_one("#resp-timing")
        text = str(view.render())
        assert all(len(line) <= view.size.width for line in text.splitlines()), text
        drawn = "\n".join(inside(a, view))
        for phase, ms in (("dns", "0.02 ms"), ("connect", "0.15 ms"), ("ttfb", "1.30 ms"), ("download", "0.25 ms"),
                          ("total", "1.80 ms")):
            assert re.search(rf"(?m)^\W*{phase}\b.* {re.escape(ms)}", drawn), (phase, drawn)


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_every_tab_label_is_shown_or_counted(size):
    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        for pane, strip_id, labels in (
            ("response", "#resp-tabs", ["Body", "Headers", "Raw", "Hex", "Timing", "Connection"]),
            ("dns", "#dns-tabs", ["Answer 2", "Auth", "Addl", "Trace", "getaddrinfo", "History"]),
        ):
            await shown(pilot, pane)
            strip = pane_of(a, pane).query_one(strip_id)
            (drawn,) = inside(a, strip)
            missing = [label for label in labels if label not in drawn]
            hidden = sum(int(x) for pair in re.findall(r"‹(\d+)|(\d+)›", drawn) for x in pair if x)
            assert len(missing) == hidden, (drawn, missing)


@pytest.mark.anyio
async def test_a_tab_strip_too_narrow_for_its_tabs_counts_the_hidden_ones():
    from textual.app import App

    from netlab.ui.widgets.tabstrip import TabStrip

    labels = ["Body", "Headers", "Raw", "Hex", "Timing", "Connection"]

    class One(App):
        CSS = "TabStrip { width: 28; }"

        def compose(self):
            yield TabStrip([(f"t-{x}", x) for x in labels], "t-Hex")

    a = One()
    async with a.run_test(size=(40, 3)) as pilot:
        strip = a.query_one(TabStrip)
        for active in ("t-Body", "t-Hex", "t-Connection"):
            strip.active = active
            await pilot.pause()
            (drawn,) = inside(a, strip)
            assert active[2:] in drawn  # the active tab is always shown
            shown_labels = [x for x in labels if re.search(rf"(?<![A-Za-z]){x}(?![A-Za-z])", drawn)]
            left = re.search(r"‹(\d+)", drawn)
            right = re.search(r"(\d+)›", drawn)
            counted = (int(left[1]) if left else 0) + (int(right[1]) if right else 0)
            assert counted and len(shown_labels) + counted == len(labels), drawn
            assert len(drawn.rstrip()) <= 28


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_the_connection_table_keeps_state_pid_and_both_addresses(size):
    from netlab.engine.netstat import format_addr

    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        await shown(pilot, "connections")
        view, table = a.connections.view, a.connections.table
        n = view.lines_per_row
        drawn = [line.strip(" │▁▂▃▄▅▆▇█▔") for line in inside(a, view)][1:]  # the header line first
        records = [" ".join(drawn[i : i + n]) for i in range(0, len(drawn) - n + 1, n)]  # whole rows on screen
        assert int(view.scroll_y) % n == 0 and len(records) >= 3
        for i, record in enumerate(records[: view.count - view.first_visible]):
            row = table.get(table.key_at(view.first_visible + i))
            words = record.split()
            assert format_addr(row.local) in words and format_addr(row.remote) in words, record
            if row.state != "NONE":
                assert row.state in words or (row.state == "ESTABLISHED" and "ESTAB" in words), record
            assert str(row.pid) in words, record
        assert view.stacked == (size == (100, 30))  # too narrow at 100x30 for one line a socket
        # the footer: the markers' legend and where the cursor is
        bottom = screen(a)[a.connections.region.bottom - 1]
        assert "●" in bottom and "◆" in bottom and "row 4 of 6" in bottom


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_option_labels_are_whole_words_and_checkboxes_read_without_colour(size):
    from netlab.ui.widgets.checkbox import TickBox

    a = app()
    async with a.run_test(size=size) as pilot:
        await filled(pilot)
        await pilot.press("f8")
        await settle(pilot)
        form = a.composer.query_one("#options")
        for widget in form.query("Label, TickBox"):
            if widget.region.bottom > form.content_region.bottom:
                continue  # scrolled out of sight
            label = widget.label if isinstance(widget, TickBox) else widget.render()
            drawn = " ".join(inside(a, widget)).replace("[ ]", "").replace("[x]", "").split()
            assert drawn == str(label).split(), (drawn, str(label))
            assert widget.region.right <= form.content_region.right
        await shown(pilot, "dns")
        opts = "\n".join(inside(a, a.dns.query_one("#dns-opts")))
        for fact in ("[x] RD", "[ ] DO", "[ ] CD", "[ ] trace", "[ ] getaddrinfo"):
            assert fact in opts, opts


@pytest.mark.anyio
async def test_a_tickbox_says_its_state_in_text():
    from textual.app import App

    from netlab.ui.widgets.checkbox import TickBox

    class One(App):
        def compose(self):
            yield TickBox("insecure TLS: do not verify the certificate", False, id="box", compact=True)

    a = One()
    async with a.run_test(size=(30, 5)) as pilot:
        box = a.query_one(TickBox)
        assert [line.rstrip() for line in inside(a, box)] == ["[ ] insecure TLS: do not", "    verify the certificate"]
        box.focus()
        await pilot.press("space")
        assert box.value and inside(a, box)[0].startswith("[x] insecure TLS")
