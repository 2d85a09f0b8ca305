"""The redirect hops of one send (issue 15.1): the chain as a list — number, method, URL,
status, local port, new or reused connection, time, and what changed on the way (a
method turned into GET, credentials dropped for a new origin, cookies from the jar).

``enter`` shows the highlighted hop in the response viewer with all its tabs (its
status line says "hop 2 of 3"); ``b`` goes back to the final exchange; the hop's
connection is selected in the connection table, where the send worker put it.  Opened
with ctrl+f (``keys.HOPS_KEY``) from anywhere; escape closes it."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from netlab.ui.messages import HopPrepared
from netlab.ui.views.status import HOPS_KEY

COLUMNS = ("#", "method", "status", "port", "conn", "time", "url", "notes")  # the narrow ones first: 80 columns
HINT = "enter shows the hop in the response viewer (all its tabs) · b back to the final · esc closes"


def chain_of(prepared):
    """(the chain's exchanges, final first-to-last, the index shown, the final's render) for
    the exchange the viewer shows, or None when it followed no redirect."""
    if prepared is None:
        return None
    final = prepared.extra.get("final", prepared)
    ex = final.exchange
    if not getattr(ex, "redirects", None):
        return None
    chain = [*ex.redirects, ex]
    shown = next((i for i, hop in enumerate(chain) if hop is prepared.exchange), len(chain) - 1)
    return chain, shown, final


def _safe(value, limit: int | None = None) -> str:
    from netlab.ui.views.text import safe

    return safe(value, limit)


def hop_cells(hop, number: int, last: bool, shown: bool) -> list[Text]:
    """One row of the list: every value from the wire escaped."""
    from netlab.engine.secrets import mask_url
    from netlab.ui.views.status import status_style
    from netlab.ui.views.text import fmt_ms

    r = hop.response
    if hop.error is not None and (r is None or not r.status):
        status = Text(f"✗ {_safe(hop.error.phase)}", "red")
    elif r is not None and r.status:
        status = Text(f" {r.status} ", status_style(r.status))
        if hop.error is not None:
            status.append(f" ✗ {_safe(hop.error.phase)}", "red")
    else:
        status = Text("-", "dim")
    c = hop.connection
    port = Text(str(c.local[1]) if c is not None and c.family != "AF_UNIX" else "-", "bold")
    conn = Text("-" if c is None else "reused" if c.reused else "new", "dim" if c is None or c.reused else "green")
    notes = "; ".join(_safe(n) for n in hop.notes or ()) or ""
    mark = Text(("● " if shown else "  ") + str(number), "bold magenta" if shown else "")
    if last:
        mark.append(" final", "dim")
    return [mark, Text(_safe(hop.request.method, 20), "bold"), status, port, conn,
            Text(fmt_ms(hop.timings.total), "dim"), Text(_safe(mask_url(hop.request.url))),
            Text(notes, "yellow" if notes else "dim")]


def show_prepared(app, prepared) -> None:
    """The response viewer shows ``prepared``; the connection table selects its connection."""
    app.response.prepared = prepared
    c = prepared.exchange.connection
    if c is not None and c.family != "AF_UNIX":
        app.connections.select_exchange(c.local, c.remote)
        app.response.follow = app.connections.follow_for(c.local, c.remote)


class HopTable(DataTable):
    """The hops, one row each (keyed by index)."""

    BINDINGS = [
        Binding("enter", "show", "Show hop", tooltip="Show this hop in the response viewer, with all its tabs"),
        Binding("b", "final", "Final", tooltip="Back to the final exchange of the chain"),
    ]

    def action_show(self) -> None:
        self.screen.show_hop(self.cursor_row)  # type: ignore[attr-defined]

    def action_final(self) -> None:
        self.screen.show_hop(self.row_count - 1)  # type: ignore[attr-defined]


class HopsScreen(ModalScreen):
    """The chain of a send that followed redirects; escape (or ctrl+f again) closes it."""

    BINDINGS = [Binding(f"escape,{HOPS_KEY}", "dismiss", "Close", tooltip="Back to the panes")]
    DEFAULT_CSS = """
    HopsScreen { align: center middle; }
    HopsScreen > Vertical { width: 95%; height: 80%; border: round $accent; background: $surface; }
    HopsScreen HopTable { height: 1fr; }
    HopsScreen #hops-detail { height: auto; max-height: 8; padding: 0 1; }
    HopsScreen #hops-hint { height: auto; padding: 0 1; }
    """

    def __init__(self, chain: list, shown: int, final) -> None:
        super().__init__()
        self.chain = chain
        self.shown = shown
        self.final = final

    def compose(self) -> ComposeResult:
        with Vertical(id="hops-box") as box:
            n = len(self.chain) - 1
            box.border_title = f"Redirect hops · {n} redirect{'' if n == 1 else 's'}"
            box.border_subtitle = "esc closes"
            yield Static(Text(HINT, "dim italic"), id="hops-hint")
            yield HopTable(id="hops-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="hops-detail")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(HopTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        last = len(self.chain) - 1
        for i, hop in enumerate(self.chain):
            table.add_row(*hop_cells(hop, i + 1, i == last, i == self.shown), key=str(i))
        table.move_cursor(row=self.shown, animate=False)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted hop's URL, Location and notes in full (wrapped) under the list."""
        i = event.cursor_row
        if not 0 <= i < len(self.chain):
            return
        from netlab.engine.secrets import mask_url

        hop = self.chain[i]
        t = Text()
        t.append(f"{i + 1}. {_safe(hop.request.method, 20)} ", "bold")
        t.append(_safe(mask_url(hop.request.url)))
        location = hop.response.header("location") if hop.response is not None else None
        if location is not None and i < len(self.chain) - 1:
            t.append("\n   Location: ", "dim")
            t.append(_safe(location))
        for note in hop.notes or ():
            t.append("\n   · ", "dim")
            t.append(_safe(note), "yellow")
        if hop.error is not None:
            t.append(f"\n   ✗ {_safe(hop.error.phase)} ", "bold red")
            t.append(_safe(hop.error.message))
        self.query_one("#hops-detail", Static).update(t)

    def show_hop(self, i: int) -> None:
        """Hop ``i`` into the response viewer (its render made in a worker), and close."""
        if not 0 <= i < len(self.chain):
            return
        if i == len(self.chain) - 1:
            show_prepared(self.app, self.final)
            self.dismiss()
            return
        from netlab.ui.stackwork import prepare_hop

        self.run_worker(partial(prepare_hop, self.chain[i], i + 1, len(self.chain), self.final,
                                post=self.post_message), thread=True, group="hop", exclusive=True,
                        exit_on_error=False)

    def on_hop_prepared(self, msg: HopPrepared) -> None:
        show_prepared(self.app, msg.prepared)
        self.dismiss()
