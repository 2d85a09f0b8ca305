"""PacketsView: the response viewer's Packets tab.

Over the ladder, what was captured (interface, count, RTT, sampled) or why nothing was
(how to turn capture on, or the capture's error and its hint); the ladder of packets
(``PacketLadder``: a cursor on one packet); below it the selected packet's layers as
nested boxes (a LineView: the payload's hex rows scroll).  Enter moves into the layers
and back; escape in the layers goes back to the ladder.

``source()`` gives the exchange shown (a views.exchange.Prepared, its
``extra["below"]`` from the send worker) or None.  Drawn by views/packets.py."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from netlab.ui.views import packets as pv
from netlab.ui.widgets.lineview import LineView
from netlab.ui.widgets.packetladder import PacketLadder


class PacketsView(Vertical):
    """The Packets tab: summary, ladder, the selected packet's layers."""

    DEFAULT_CSS = """
    PacketsView { height: 1fr; }
    PacketsView > #pkt-summary { height: auto; padding: 0 1; }
    PacketsView > #pkt-head { height: 1; padding: 0 0 0 1; }
    PacketsView > #pkt-ladder { height: auto; max-height: 45%; min-height: 2; }
    PacketsView > #pkt-layers { height: 1fr; min-height: 3; border-top: solid $panel-lighten-2; }
    """
    BINDINGS = [
        Binding("enter", "toggle_layers", "Layers", show=False),
        Binding("escape", "back", "Back to the ladder", show=False),
    ]

    def __init__(self, *, id: str | None = None, source: Callable[[], object] | None = None) -> None:
        super().__init__(id=id)
        self._source = source
        self.ladder: pv.Ladder | None = None
        self.selected = 0

    def compose(self) -> ComposeResult:
        yield Static(id="pkt-summary")
        yield Static(id="pkt-head")
        yield PacketLadder(id="pkt-ladder")
        yield LineView(id="pkt-layers")

    def on_mount(self) -> None:
        self.query_one(PacketLadder).on_cursor = self._select
        self.pull()

    def focus_target(self):
        """What the tab focuses: the ladder when it shows packets, else the layers view."""
        ladder = self.query_one(PacketLadder)
        return ladder if ladder.display else self.query_one("#pkt-layers", LineView)

    # -- what the pane calls ----------------------------------------------------------------------
    def pull(self) -> None:
        """Show what ``source`` gives now."""
        if not self.is_mounted:
            return
        prepared = self._source() if self._source is not None else None
        summary = self.query_one("#pkt-summary", Static)
        ladder_view = self.query_one(PacketLadder)
        layers = self.query_one("#pkt-layers", LineView)
        if prepared is None:
            self.ladder = None
            summary.update(Text("No finished exchange: its packets show here when it is done (ctrl+j sends the "
                                "composer's request; tick Capture packets in its Options tab to capture them).",
                                "dim italic"))
            self._show_ladder(False)
            return
        extra = getattr(prepared, "extra", None) or {}
        below = extra.get("below")
        packets = (below or {}).get("packets") or []
        self.ladder = pv.read_ladder(packets, prepared.exchange, (below or {}).get("hops")) if packets else None
        summary.update(Text("\n").join(pv.summary(below, self.ladder)))
        if self.ladder is None:
            self._show_ladder(False)
            return
        self._show_ladder(True)
        ladder_view.cursor = 0
        self.selected = 0
        ladder_view.styles.height = self.ladder.count
        ladder_view.show(pv.ladder_lines(self.ladder, self._width()))
        self.call_after_refresh(self._head)
        layers.show(pv.layers_lines(self.ladder, 0, self._width()))

    def _show_ladder(self, shown: bool) -> None:
        for selector in ("#pkt-head", "#pkt-ladder", "#pkt-layers"):
            self.query_one(selector).display = shown

    def _width(self) -> int:
        return max(30, (self.size.width or 80) - 2)

    def _head(self) -> None:
        """The ladder's column heads, laid out as the ladder's lines are (their width)."""
        if self.ladder is not None:
            lines = self.query_one(PacketLadder).lines
            width = lines.width if lines is not None and lines.count else self._width()
            self.query_one("#pkt-head", Static).update(pv.ladder_header(self.ladder, width))

    def on_resize(self, event) -> None:
        self.call_after_refresh(self._head)  # (once the ladder has laid its lines out again)

    def _select(self, index: int) -> None:
        """The ladder's cursor moved: open that packet's layers."""
        if self.ladder is None:
            return
        self.selected = index
        self.query_one("#pkt-layers", LineView).show(pv.layers_lines(self.ladder, index, self._width()))

    # -- keys ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "back":  # else escape is the app's (cancel, restore)
            return self.ladder is not None and self.query_one("#pkt-layers").has_focus
        if action == "toggle_layers":
            return self.ladder is not None
        return True

    def action_toggle_layers(self) -> None:
        ladder = self.query_one(PacketLadder)
        if ladder.has_focus:
            self.query_one("#pkt-layers", LineView).focus()
        else:
            ladder.focus()

    def action_back(self) -> None:
        self.query_one(PacketLadder).focus()
