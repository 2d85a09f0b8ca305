"""PromptScreen: one line of input over the panes (a file path, a name, a search).

``app.push_screen(PromptScreen("Save the body to", value="body.bin"), callback)`` —
the callback gets the text on enter, or None on escape.  ``check`` may return an
error message for a value; the screen then stays open and shows it (nothing typed is
lost)."""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line; enter answers, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close without answering")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 80; max-width: 95%; height: auto; border: round $accent;
                              background: $surface; padding: 0 1; }
    PromptScreen #prompt-error { color: $error; height: auto; }
    PromptScreen #prompt-help { color: $text-muted; height: auto; }
    """

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", help: str = "",
                 check: Callable[[str], str | None] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.help_text = help
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter · esc cancels"
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(Text(self.help_text), id="prompt-help")
            yield Static(id="prompt-error")

    def on_mount(self) -> None:
        self.query_one("#prompt-help").display = bool(self.help_text)
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value
        problem = self.check(value) if self.check is not None else None
        if problem:
            self.query_one("#prompt-error", Static).update(Text(problem))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
