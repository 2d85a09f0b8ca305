"""The session's cookie jar (issue 15.2): every cookie the jar holds — name, value
(masked until ``v``), domain, path, expiry, secure / HttpOnly, and the exchange whose
Set-Cookie made it (its URL).  The jar is the composer's "Cookie jar" box (Options tab,
F8); with it off this screen says how to turn it on.  ``r`` reads the jar again, ``x``
empties it.  Opened with F12 from anywhere; escape closes it."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

MASK = "••••"
OFF = ("the cookie jar is off: tick \"Cookie jar\" in the composer's Options tab (F8) and send; "
       "each Set-Cookie is kept for the session and sent back as Cookie where it matches")


def _safe(value, limit: int | None = None) -> str:
    from netlab.ui.views.text import safe

    return safe(value, limit)


def masked(value: str) -> str:
    """A cookie's value hidden but for its length (a session id is a credential)."""
    return f"{MASK} ({len(value)} chars)" if value else "(empty)"


def expiry_text(expires: int | None, now: float | None = None) -> str:
    if expires is None:
        return "session"
    now = time.time() if now is None else now
    left = expires - now
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires))
    if left < 3600:
        return f"{when} (in {max(0, int(left // 60))} min)"
    if left < 86400 * 2:
        return f"{when} (in {int(left // 3600)} h)"
    return f"{when} (in {int(left // 86400)} d)"


def cookie_cells(c, show: bool) -> list[Text]:
    """One row: every value came from a server, so each is escaped."""
    from netlab.engine.secrets import mask_url

    flags = " ".join(f for f, on in (("secure", c.secure), ("HttpOnly", c.http_only), ("host-only", c.host_only))
                     if on)
    setter = Text(_safe(mask_url(c.set_by_url)) if c.set_by_url else "-b / loaded", "" if c.set_by_url else "dim")
    return [Text(_safe(c.name, 60), "bold"), Text(_safe(c.value, 200) if show else masked(c.value),
                                                  "" if show else "dim"),
            Text(_safe(c.domain, 80)), Text(_safe(c.path, 80)), Text(expiry_text(c.expires)), Text(flags, "dim"),
            setter]


class CookieTable(DataTable):
    """The jar's cookies, one row each."""

    BINDINGS = [
        Binding("v", "toggle_values", "Show values", tooltip="Show the cookies' values, or mask them again"),
        Binding("r", "reload", "Reload", tooltip="Read the jar again (sends since it opened)"),
        Binding("x", "clear", "Empty jar", tooltip="Throw every cookie of the session's jar away"),
    ]

    def action_toggle_values(self) -> None:
        screen = self.screen
        screen.show_values = not screen.show_values  # type: ignore[attr-defined]
        screen.fill()  # type: ignore[attr-defined]

    def action_reload(self) -> None:
        self.screen.fill()  # type: ignore[attr-defined]

    def action_clear(self) -> None:
        screen = self.screen
        if screen.jar is not None:  # type: ignore[attr-defined]
            screen.jar.clear()  # type: ignore[attr-defined]
        screen.fill()  # type: ignore[attr-defined]
        self.app.notify("the cookie jar is empty", markup=False)


class CookiesScreen(ModalScreen):
    """The jar's cookies over the panes; escape (or F12 again) closes it."""

    BINDINGS = [Binding("escape,f12", "dismiss", "Close", tooltip="Back to the panes")]
    DEFAULT_CSS = """
    CookiesScreen { align: center middle; }
    CookiesScreen > Vertical { width: 95%; height: 80%; border: round $accent; background: $surface; }
    CookiesScreen CookieTable { height: 1fr; }
    CookiesScreen #cookies-note { height: auto; padding: 0 1; }
    """

    def __init__(self, jar, on: bool) -> None:
        super().__init__()
        self.jar = jar  # engine.cookies.Jar, or None when no send has used one yet
        self.on = on  # the composer's Cookie jar box
        self.show_values = False

    def compose(self) -> ComposeResult:
        with Vertical(id="cookies-box") as box:
            box.border_title = "Cookie jar"
            box.border_subtitle = "v values · r reload · x empty · esc closes"
            yield Static(id="cookies-note")
            yield CookieTable(id="cookies-table", cursor_type="row", zebra_stripes=True)
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(CookieTable)
        for name in ("name", "value", "domain", "path", "expires", "flags", "set by"):
            table.add_column(name, key=name)
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(CookieTable)
        cookies = self.jar.cookies() if self.jar is not None else []
        with self.app.batch_update():
            table.clear()
            for i, c in enumerate(sorted(cookies, key=lambda c: (c.domain, c.path, c.name))):
                table.add_row(*cookie_cells(c, self.show_values), key=str(i))
        note = Text()
        if not self.on:
            note.append(OFF, "yellow")
        n = len(cookies)
        if n or self.on:
            if note.plain:
                note.append("\n")
            note.append(f"{n} cookie{'' if n == 1 else 's'} in the session's jar", "bold")
            note.append(" · values " + ("shown (v masks them)" if self.show_values else "masked (v shows them)"),
                        "dim")
            if not n:
                note.append(" · none yet: a response's Set-Cookie puts one here", "dim")
        self.query_one("#cookies-note", Static).update(note)
