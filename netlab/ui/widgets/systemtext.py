"""SystemText: the DNS pane's getaddrinfo tab, mounted after the first frame (LazyTabs)."""

from __future__ import annotations

from textual.widgets import Static


class SystemText(Static):
    """The getaddrinfo tab's text.  It takes the focus, as the tables do, so that the pane
    keeps the keys on this tab ([ ] go on, arrows scroll) instead of the focus falling out."""

    can_focus = True
