"""KeyBar: the footer line of keys for what has focus, drawn as one line of text.

Textual's Footer rebuilds a widget per key on every focus change, which costs more than
the rest of a focus change here; this bar re-renders one Text.  Clicking a key runs it.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

FIRST = ("send", "cancel", "replay_last")


class KeyBar(Widget):
    """Active key bindings: the app's main ones, then the focused pane's, then the rest."""

    DEFAULT_CSS = """
    KeyBar { height: 1; dock: bottom; background: $footer-background; color: $footer-foreground; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, str, object]] = []
        self.more = False  # keys left out for want of room (F1 lists them all)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def _items(self) -> list[tuple[str, str, str, object, bool]]:
        """(keys, description, action, namespace, enabled), groups merged."""
        app = self.app
        seen: dict[str, int] = {}
        items: list[list] = []
        for namespace, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            key = app.get_key_display(binding)
            group = binding.group
            if group is not None and group.description in seen:
                items[seen[group.description]][0] += f" {key}"
                continue
            seen[group.description if group is not None else binding.action] = len(items)
            items.append([key, group.description if group is not None else binding.description, binding.action,
                          namespace, enabled])
        rank = {a: i for i, a in enumerate(FIRST)}
        app_rank = {b.action: i for i, b in enumerate(getattr(type(app), "BINDINGS", ())) if hasattr(b, "action")}

        def order(item) -> tuple:
            if item[2] in rank:
                return (0, rank[item[2]])
            if item[3] is not app:
                return (1, 0)
            return (2, app_rank.get(item[2], len(app_rank)))

        for item in items:
            item[0] = _span(item[0])
        items = [tuple(i) for i in sorted(items, key=order)]
        # Too wide for the terminal: drop the app's less urgent keys (F1 Help lists them all).
        width = self.size.width - 12
        droppable = [i for i in reversed(items) if i[3] is app and i[2] not in rank and i[2] != "help"]
        while droppable and sum(len(i[0]) + len(i[1]) + 3 for i in items) > width:
            items.remove(droppable.pop(0))
        # Still too wide: the pane's last keys go, never cut mid-word; "…" says F1 has them.
        self.more = False
        while sum(len(i[0]) + len(i[1]) + 3 for i in items) > width - 2:
            rest = [i for i in items if i[2] not in rank and i[2] != "help"]
            if not rest:
                break
            items.remove(rest[-1])
            self.more = True
        return items

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="crop")
        self._spans = []
        key_style = f"bold {self.app.theme_variables.get('footer-key-foreground', 'yellow')}"
        for keys, description, action, namespace, enabled in self._items():
            start = len(t)
            t.append(f" {keys} ", key_style if enabled else "dim")
            t.append(f"{description} ", "" if enabled else "dim")
            self._spans.append((start, len(t), action, namespace))
        if self.more:
            t.append(" … ", "dim")
        palette = " ^p palette "
        if self.size.width > len(t) + len(palette):
            t.append(" " * (self.size.width - len(t) - len(palette)))
            start = len(t)
            t.append(" ^p ", key_style)
            t.append("palette ")
            self._spans.append((start, len(t), "command_palette", self.app))
        return t

    async def on_click(self, event: events.Click) -> None:
        for start, end, action, namespace in self._spans:
            if start <= event.x < end:
                await self.app.run_action(action, namespace)
                return


def _span(keys: str) -> str:
    """``f2 f3 f4 f5 f6`` → ``f2-f6``."""
    parts = keys.split()
    nums = sorted(int(p[1:]) for p in parts if p[:1] == "f" and p[1:].isdigit())
    if len(nums) == len(parts):
        parts = [f"f{n}" for n in nums]
    if len(parts) > 2 and len(nums) == len(parts) and nums == list(range(nums[0], nums[0] + len(nums))):
        return f"{parts[0]}-{parts[-1]}"
    return keys
