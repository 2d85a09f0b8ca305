"""The composer's Raw tab: the request bytes as text, line endings visible.  Imported with
the tab, after the first frame (TextArea is not needed before it)."""

from __future__ import annotations

from textual.widgets import TextArea

from netlab.ui import requesttext as rt


class RawArea(TextArea):
    """The raw view; mounted after the first frame, it starts from the composer's bytes."""

    def on_mount(self) -> None:
        composer = self.query_ancestor("Composer")  # by name: the composer imports this module
        self.load_text(rt.to_raw_text(composer.data))  # type: ignore[attr-defined]
