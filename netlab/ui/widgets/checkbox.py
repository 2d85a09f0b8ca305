"""TickBox: a Checkbox whose state reads without colour — ``[x]`` on, ``[ ]`` off — and
whose label wraps under itself when the box is narrower than it (never cut mid-word).

It is a Checkbox (same ``value``, ``Changed`` message, keys and queries), drawn
differently; Textual's own shows ``▐X▌`` in both states, the state told by colour only.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

ON, OFF = "[x]", "[ ]"


class TickBox(Checkbox):
    DEFAULT_CSS = """
    TickBox {
        height: auto;
        max-width: 100%;
        & > .toggle--button { background: transparent; color: $text-muted; text-style: bold; }
        &.-on > .toggle--button { background: transparent; color: $text-success; text-style: bold; }
    }
    """

    @property
    def _button(self) -> Content:
        return Content.styled(ON if self.value else OFF, self.get_visual_style("toggle--button"))

    def _label_lines(self, width: int) -> list[Content]:
        """The label as lines fitting beside the button (one line when it fits, or when the
        width is not known yet)."""
        room = width - len(ON) - 2  # the label is drawn with a space either side
        label = self._label
        if width <= 0 or room < 8 or label.cell_length <= room:
            return [label]
        return [line.rstrip() for line in label.wrap(room)]

    def render(self) -> Content:
        label_style = self.get_visual_style("toggle--label")
        parts: list = []
        for i, line in enumerate(self._label_lines(self.size.width)):
            parts += ["\n" + " " * len(ON)] if i else [self._button]
            parts.append(line.pad(1, 1).stylize_before(label_style))
        return Content.assemble(*parts)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._label_lines(width))
