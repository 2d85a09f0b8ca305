"""PaneGrid: the four panes in a 2 x 2 grid, or one at a time on a small terminal.

Layout changes are inline styles set on resize (not CSS classes, which would restyle
every widget), and the pane holding the focus gets an accent border the same way.
"""

from __future__ import annotations

from textual.containers import Container
from textual.geometry import Size
from textual.widget import Widget


class PaneGrid(Container):
    """Children are the panes (class ``pane``); one of them is ``current``."""

    COMPACT_BELOW = (100, 30)  # narrower or shorter than this: one pane at a time

    def __init__(self, *children: Widget, id: str | None = None) -> None:
        super().__init__(*children, id=id)
        self.compact = False
        self.current: Widget | None = None
        self._lit: Widget | None = None
        self._focus_wanted: Widget | None = None  # the pane focus_into was last asked for

    def on_mount(self) -> None:
        self.current = self.children[0]

    def arrange_for(self, size: Size) -> None:
        compact = size.width < self.COMPACT_BELOW[0] or size.height < self.COMPACT_BELOW[1]
        if compact != self.compact:  # the stylesheet lays out the grid; change it only when needed
            self.styles.layout = "vertical" if compact else "grid"
            self.compact = compact
        self._show_only()

    def show(self, pane: Widget) -> None:
        """Make ``pane`` the current one (the only one shown when compact)."""
        self.current = pane
        self._show_only()

    def _show_only(self) -> None:
        for pane in self.children:
            want = not self.compact or pane is self.current
            if pane.display != want:
                pane.display = want

    def focus_into(self, pane: Widget) -> None:
        """Give ``pane`` the focus: where the pane says (``focus_pane``), else its first
        focusable widget, so the keys always land in the pane whose border is lit."""
        pane.focus_pane()
        self._focus_wanted = pane
        self.call_after_refresh(self._ensure_focus, pane)

    def forget_focus(self) -> None:
        self._focus_wanted = None

    def _ensure_focus(self, pane: Widget) -> None:
        if self._focus_wanted is not pane:  # another pane was asked for since (F7 after F4, say)
            return
        self._focus_wanted = None
        if self.pane_of(self.app.focused) is pane or not pane.display or len(self.app.screen_stack) > 1:
            return
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def pane_of(self, widget: Widget | None) -> Widget | None:
        for node in (widget.ancestors_with_self if widget is not None else ()):
            if node.parent is self:
                return node
        return None

    def on_descendant_focus(self, event) -> None:
        """Light up the border of the pane that holds the focus."""
        pane = self.pane_of(event.widget)
        if pane is None or pane is self._lit:
            return
        if self._lit is not None:
            self._lit.styles.border = None
            self._lit.styles.border_title_color = None
        accent = self.app.theme_variables["accent"]
        pane.styles.border = ("round", accent)
        pane.styles.border_title_color = accent
        self._lit = pane
        self.current = pane
