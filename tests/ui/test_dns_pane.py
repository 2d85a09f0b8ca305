"""The DNS pane driven by keys (App.run_test) against real DNS servers on loopback:
the dnspython authoritative server (fx.test), the never-answering one, the delegation
chain for the trace, and the lab server for the composer's DNS-server setting."""

from __future__ import annotations

import dns.flags
import pytest
from textual.widgets import Checkbox, DataTable, Input, Select

from tests.ui.conftest import send_and_wait, wait_for

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


async def ask(pilot, app, name: str, types: str = "A", server: str = "") -> object:
    """Fill the form, press enter in it, wait for the lookup to be shown."""
    pane = app.dns
    before = len(pane.history)
    await pilot.press("f4")
    for wid, value in (("#dns-name", name), ("#dns-type", types), ("#dns-server", server)):
        pane.query_one(wid, Input).value = value
    pane.query_one("#dns-server", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(pane.history) > before and pane.pending is None, f"the lookup of {name}")
    await pilot.pause()
    return pane.history[-1]


def tab_label(app) -> str:
    return " ".join(label for _id, label in app.dns.query_one("#dns-tabs").tabs)


async def test_sections_status_and_tabs(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        await ask(pilot, app, "chain.fx.test", "A", f"127.0.0.1:{fx_dns.port}")
        assert pane.rows() == [("chain.fx.test.", "300", "CNAME", "alias.fx.test."),
                               ("alias.fx.test.", "300", "CNAME", "secret.fx.test."),
                               ("secret.fx.test.", "300", "A", "127.0.0.1")]
        status = pane.status_text()
        assert "NOERROR" in status and f"127.0.0.1:{fx_dns.port}" in status and "udp" in status
        assert "88 bytes" in status and "flags qr aa rd" in status
        await ask(pilot, app, "nothing.fx.test", "A", f"127.0.0.1:{fx_dns.port}")
        assert "NXDOMAIN" in pane.status_text() and pane.rows() == []
        assert "Auth 1" in tab_label(app)
        pane.query_one("#dns-table", DataTable).focus()
        await pilot.press("right_square_bracket")  # ] → Authority
        assert pane.active_tab == "authority" and pane.query_one("#dns-authority").has_focus
        assert [r[2] for r in pane.rows("authority")] == ["SOA"]
        await pilot.press("left_square_bracket", "left_square_bracket")  # back past Answer to History
        assert pane.active_tab == "history"
        await ask(pilot, app, "secret.fx.test", "MX", f"127.0.0.1:{fx_dns.port}")
        assert "NODATA" in pane.status_text()


async def test_several_types_transport_and_flags(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        await pane.ensure_tabs()  # the options line is mounted after the first frame
        pane.query_one("#dns-transport", Select).value = "tcp"
        for wid in ("#dns-rd", "#dns-do", "#dns-cd"):
            checkbox = pane.query_one(wid, Checkbox)
            checkbox.focus()
            await pilot.press("space")  # RD off, DO on, CD on
        before = len(fx_dns.server.received)
        outcome = await ask(pilot, app, "fx.test", "MX TXT", f"127.0.0.1:{fx_dns.port}")
        assert [r.rdtype for r in outcome.results] == ["MX", "TXT"]
        rows = pane.rows()
        assert rows[0][0] == ";; MX: NOERROR" and rows[1][2:] == ("MX", "10 mail.fx.test.")
        assert rows[2][0] == ";; TXT: NOERROR" and rows[3][2:] == ("TXT", '"v=spf1 -all"')
        status = pane.status_text()
        assert "MX NOERROR" in status and "TXT NOERROR" in status and "tcp" in status and "EDNS0" in status
        received = fx_dns.server.received[before:]
        assert [t for t, _q in received] == ["tcp", "tcp"]
        for _t, q in received:
            assert not q.flags & dns.flags.RD and q.flags & dns.flags.CD and q.ednsflags & dns.flags.DO
        # p on a label row pins nothing
        pane.query_one("#dns-table", DataTable).focus()
        await pilot.press("p")
        assert "only an A or AAAA record can be pinned" in pane.status_text()


async def test_truncation_and_the_edns_buffer(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        outcome = await ask(pilot, app, "big.fx.test", "TXT", f"127.0.0.1:{fx_dns.port}")
        assert outcome.results[0].udp_truncated and "TC: asked again over TCP" in pane.status_text()
        assert len(pane.rows()) == len(fx_dns.big_txt)
        pane.query_one("#dns-bufsize", Input).value = "4096"
        outcome = await ask(pilot, app, "big.fx.test", "TXT", f"127.0.0.1:{fx_dns.port}")
        assert outcome.results[0].transport == "udp" and "TC" not in pane.status_text()


async def test_a_silent_server_never_freezes_the_ui(make_app, silent_dns, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        await pane.ensure_tabs()  # the options line is mounted after the first frame
        pane.query_one("#dns-timeout", Input).value = "4"  # ends the test's wait; nothing is timed
        await pilot.press("f4")
        pane.query_one("#dns-name", Input).value = "slow.fx.test"
        pane.query_one("#dns-server", Input).value = f"127.0.0.1:{silent_dns.port}"
        pane.query_one("#dns-name", Input).focus()
        await pilot.press("enter")
        slow_id = pane.pending
        assert slow_id is not None and "looking up slow.fx.test" in pane.status_text()
        # While the lookup waits: another pane takes keys, and a second lookup comes back first.
        await pilot.press("f2")
        url = app.composer.query_one("#url", Input)
        await pilot.press("end", *"x")
        assert url.value.endswith("/x") and pane.pending == slow_id
        fast = await ask(pilot, app, "secret.fx.test", "A", f"127.0.0.1:{fx_dns.port}")
        assert fast.results[0].answer[0].data == "127.0.0.1" and pane.rows()[0][3] == "127.0.0.1"
        await wait_for(pilot, lambda: len(pane.history) == 2, "the slow lookup to time out")
        slow = next(o for o in pane.history if o.lookup_id == slow_id)
        assert slow.results[0].error[0] == "timeout"
        assert pane.rows()[0][3] == "127.0.0.1"  # the late result went to the history, not over the newer one
        assert pane.history[-1] is slow and "timeout" in pane.rows("history")[-1][5]


async def test_history_shows_a_lookup_again(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        server = f"127.0.0.1:{fx_dns.port}"
        await ask(pilot, app, "v6.fx.test", "AAAA", server)
        await ask(pilot, app, "fx.test", "CAA", server)
        history = pane.rows("history")
        assert [(r[1], r[2], r[5]) for r in history] == [("v6.fx.test", "AAAA", "NOERROR"),
                                                         ("fx.test", "CAA", "NOERROR")]
        pane.action_tab("history")
        await pilot.pause()
        table = pane.query_one("#dns-history", DataTable)
        assert table.has_focus and table.cursor_row == 1
        await pilot.press("up", "enter")
        assert pane.active_tab == "answer" and pane.rows() == [("v6.fx.test.", "300", "AAAA", "::1")]
        assert pane.query_one("#dns-name", Input).value == "v6.fx.test"
        assert pane.query_one("#dns-type", Input).value == "AAAA"
        assert pane.query_one("#dns-server", Input).value == server


async def test_reverse_and_dns_over_tls_failure(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        outcome = await ask(pilot, app, "127.0.0.10", "A", f"127.0.0.1:{fx_dns.port}")  # an IP: its PTR
        assert outcome.types == ("PTR",) and pane.rows() == [("10.0.0.127.in-addr.arpa.", "300", "PTR",
                                                             "secret.fx.test.")]
        await ask(pilot, app, "secret.fx.test", "A", f"tls://127.0.0.1:{fx_dns.tls_port}")
        status = pane.status_text()
        assert "tls" in status and "not trusted" in status and pane.rows() == []


async def test_trace_from_the_root(make_app, trace_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        await pane.ensure_tabs()  # the options line is mounted after the first frame
        checkbox = pane.query_one("#dns-trace-on", Checkbox)
        checkbox.focus()
        await pilot.press("space")
        outcome = await ask(pilot, app, "host.sub.trace.test", "A", f"127.0.0.2:{trace_dns.port}")
        assert outcome.trace is not None and outcome.trace.error is None
        assert pane.rows() == [("host.sub.trace.test.", "300", "A", "127.0.0.9")]
        steps = pane.rows("trace")
        assert len(steps) == 7 and "127.0.0.2" in steps[0][2] and "→ test." in steps[0][3]
        assert "answered REFUSED" in steps[2][3] and "no glue" in steps[3][1]
        pane.action_tab("trace")
        await pilot.pause()
        await pilot.press("home", "enter")  # step 1: show the root's referral in the section tables
        assert pane.rows() == [] and [r[3] for r in pane.rows("authority")] == ["ns.nic.test."]
        assert [r[3] for r in pane.rows("additional")] == ["127.0.0.3"]


async def test_getaddrinfo_beside_the_answer(make_app, fx_dns):
    # localhost is in /etc/hosts: getaddrinfo answers from the file, nothing leaves the machine.
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.dns
        await pane.ensure_tabs()  # the options line is mounted after the first frame
        checkbox = pane.query_one("#dns-compare", Checkbox)
        checkbox.focus()
        await pilot.press("space")
        outcome = await ask(pilot, app, "localhost", "A", f"127.0.0.1:{fx_dns.port}")
        assert outcome.system is not None and "127.0.0.1" in outcome.system.addresses
        text = str(pane.query_one("#dns-system").render())
        assert "getaddrinfo('localhost')" in text and "/etc/hosts has it" in text and "127.0.0.1" in text
        assert "same addresses as the DNS answer" in text or "only getaddrinfo: ::1" in text
        await pane.action_tab("system")  # a text, not a table: it holds the focus all the same
        await pilot.pause()
        assert pane.query_one("#dns-system").has_focus
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert pane.active_tab == "history" and pane.query_one("#dns-history").has_focus


async def test_hostile_strings_are_text_not_markup(make_app, fx_dns):
    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, app, "hostile.fx.test", "TXT", f"127.0.0.1:{fx_dns.port}")
        data = app.dns.rows()[0][3]
        assert data == '"\\027[2J\\027]0;pwned\\007 [bold red]markup[/bold red]"'
        await ask(pilot, app, "evil.fx.test", "CNAME", f"127.0.0.1:{fx_dns.port}")
        shot = app.export_screenshot().replace("&#160;", " ")
        assert "\x1b" not in shot and "\x07" not in shot and "x\\027[31my.fx.test." in shot


async def test_pin_and_the_composer_dns_server(make_app, fx_dns, lab_server):
    app = make_app(f"http://secret.fx.test:{lab_server.port}/ip")
    async with app.run_test(size=SIZE) as pilot:
        # The composer's DNS server option: the send resolves through the test server.
        await pilot.press("f2", "f8")
        await app.composer.ensure_tabs()
        box = app.composer.query_one("#opt-dns", Input)
        box.focus()
        await pilot.press(*f"127.0.0.1:{fx_dns.port}")
        assert app.composer.opt["dns"] == f"127.0.0.1:{fx_dns.port}"
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.error is None and ex.response.body == b"127.0.0.1\n"
        assert ex.dns.source == "dns" and ex.dns.server == f"127.0.0.1:{fx_dns.port}"
        assert ex.options.dns_server == ("127.0.0.1", fx_dns.port)
        # The pane shows the same answer the send used; p pins it for the composer.
        await ask(pilot, app, "secret.fx.test", "A", f"127.0.0.1:{fx_dns.port}")
        assert [r[3] for r in app.dns.rows()] == ex.dns.addresses
        app.dns.query_one("#dns-table", DataTable).focus()
        await pilot.press("p")
        assert app.composer.opt["resolve"] == f"secret.fx.test:{lab_server.port}:127.0.0.1"
        prepared = await send_and_wait(pilot, app)
        assert prepared.exchange.dns.source == "pin" and prepared.exchange.response.status == 200


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_p_pins_the_looked_up_name_and_u_puts_it_in_the_url(make_app, fx_dns, lab_server):
    # The composer asks 127.0.0.1; the pane looked up chain.fx.test (CNAME → CNAME → A).
    url = f"http://127.0.0.1:{lab_server.port}/ip"
    app = make_app(url)
    async with app.run_test(size=SIZE) as pilot:
        pane, composer = app.dns, app.composer
        await ask(pilot, app, "chain.fx.test", "A", f"127.0.0.1:{fx_dns.port}")
        assert "p pins" in pane._hint(120).plain or "p: pin" in pane._hint(56).plain  # the keys are said
        assert [r[2] for r in pane.rows()] == ["CNAME", "CNAME", "A"]
        pane.query_one("#dns-table", DataTable).focus()
        await pilot.press("p")  # a CNAME row
        assert "only an A or AAAA record can be pinned" in pane.status_text() and not composer.opt["resolve"]
        await pilot.press("down", "down", "p")
        await pilot.pause()
        # The name looked up: not the composer's host (127.0.0.1), not the A record's owner (secret.fx.test).
        pin = f"chain.fx.test:{lab_server.port}:127.0.0.1"
        assert composer.opt["resolve"] == pin and composer.url == url
        assert pane.status_text().startswith("u puts chain.fx.test in the composer's URL (it asks 127.0.0.1)")
        assert any(f"pinned {pin}" in t and "u puts chain.fx.test in it" in t for t in toasts(app))
        await pilot.press("u")  # the name into the URL: scheme, port and path kept; Host follows
        await pilot.pause()
        assert composer.url == f"http://chain.fx.test:{lab_server.port}/ip"
        assert f"\r\nHost: chain.fx.test:{lab_server.port}\r\n".encode() in composer.data
        assert composer.opt["resolve"] == pin  # the same pin, not a second one
        assert "sends to chain.fx.test connect there" in pane.status_text()
        prepared = await send_and_wait(pilot, app)
        ex = prepared.exchange
        assert ex.dns.source == "pin" and ex.dns.addresses == ["127.0.0.1"] and ex.response.status == 200
        assert ex.request.url == f"http://chain.fx.test:{lab_server.port}/ip"
        composer.action_undo()  # u was one step: the URL and the pins before it
        assert composer.url == url and composer.opt["resolve"] == pin


async def test_pin_an_aaaa_row_and_without_a_valid_url(make_app, fx_dns):
    app = make_app("https://v6.fx.test/")
    async with app.run_test(size=SIZE) as pilot:
        pane, composer = app.dns, app.composer
        await ask(pilot, app, "v6.fx.test", "AAAA", f"127.0.0.1:{fx_dns.port}")
        pane.query_one("#dns-table", DataTable).focus()
        await pilot.press("p")  # the composer's host is the name: the pin is for its port (443)
        await pilot.pause()
        assert composer.opt["resolve"] == "v6.fx.test:443:[::1]"
        assert "the composer's sends to v6.fx.test connect there" in pane.status_text()
        assert "u puts" not in pane.status_text()
        composer.query_one("#url", Input).value = ""
        await pilot.press("p")  # no URL to take a port from: nothing pinned, u offered
        await pilot.pause()
        assert composer.opt["resolve"] == "v6.fx.test:443:[::1]" and "no valid URL" in pane.status_text()
        await pilot.press("u")
        await pilot.pause()
        assert composer.url == "http://v6.fx.test/"
        assert composer.opt["resolve"].split() == ["v6.fx.test:443:[::1]", "v6.fx.test:80:[::1]"]


async def test_the_tables_are_mounted_after_the_first_frame(make_app, fx_dns):
    from netlab.ui.panes.dns import DnsPane
    from tests.ui import fakes

    app = make_app("http://127.0.0.1:9/")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        # A second pane, as the app's is at its first frame: a form, the tab strip, no tables.
        pane = DnsPane(id="dns-second")
        await app.screen.mount(pane)
        assert not pane.query(DataTable) and not pane.query("#dns-opts")
        # A result that comes before the tables still counts, says and lists its records ...
        pane.result = fakes.dns_result()
        assert pane.rows() == [("web.lab.test.", "0", "A", "127.0.0.1"), ("web.lab.test.", "0", "A", "127.0.0.2")]
        assert "Answer 2" in tab_label_of(pane) and "NOERROR" in pane.status_text()
        # ... and the tables show it once mounted; a tab asked for before then is the one shown.
        await pane.action_tab("history")
        await pilot.pause()
        assert pane._tables and pane.active_tab == "history" and pane.query_one("#dns-history").has_focus
        assert len(pane.query(DataTable)) == 5 and pane.query_one("#dns-transport")
        assert pane.rows() == [("web.lab.test.", "0", "A", "127.0.0.1"), ("web.lab.test.", "0", "A", "127.0.0.2")]


def tab_label_of(pane) -> str:
    return " ".join(label for _id, label in pane.query_one("#dns-tabs").tabs)
