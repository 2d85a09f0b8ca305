"""Through the stack (issue 15.4): the composer's URL fetched with one GET through each
layer of the seed's stack that is installed — a raw socket, http.client, urllib,
urllib3, requests — each one's bytes recorded at its own socket (netlab.engine.stack,
the engine of ``netlab stack``).  One block per client: the exact request lines, each
header marked against the raw socket's (``+`` added, ``~`` another value, ``-`` left
out), the status line of each response; then a table of status, connections, redirects
and time.  Everything from the wire is escaped.

The run happens in a thread worker (netlab/ui/stackwork.py); ``r`` runs it again.
Opened from the command palette (ctrl+p, "Stack"); escape closes it."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from netlab.ui.messages import StackDone
from netlab.ui.widgets.lineview import LineView

LEGEND = "+ a header the raw socket does not send · ~ another value · - a socket header this client left out"
MARK_STYLE = {"+": "bold green", "~": "bold yellow", "-": "bold red", " ": "dim"}


def _line(data: bytes | str) -> str:
    from netlab.engine.text import safe_text

    return safe_text(data, keep_newlines=False)


def _status(r) -> str:
    return " → ".join(str(s) for s in r.statuses) or "-"


def stack_texts(results, url: str) -> list[Text]:
    """The screen's lines for ``results`` (StackResult per client) of the GET of ``url``."""
    from netlab.engine.request import parse_target
    from netlab.engine.stack import header_marks, seed_request

    target = parse_target(url)
    baseline = seed_request(target)
    out = [Text(f"GET {_line(target.target)} through each layer of the stack, bottom first", "bold"),
           Text(LEGEND, "dim")]
    if target.scheme == "https":
        out.append(Text("https: the bytes are the plaintext each client wrote into and read out of its TLS socket",
                        "dim"))
    for r in results:
        out.append(Text(""))
        out.append(Text(f"── {r.client} {r.version or ''} ".ljust(60, "─"), "bold cyan"))
        if r.version is None:
            out.append(Text(f"  {_line(r.error or 'not installed')}", "yellow"))
            continue
        for version, cipher in dict.fromkeys(r.tls):
            out.append(Text(f"  TLS {_line(version)} {_line(cipher)}", "dim"))
        for i, request in enumerate(r.requests):
            if len(r.requests) > 1:
                out.append(Text(f"  request {i + 1} of {len(r.requests)}", "dim italic"))
            for mark, line in header_marks(request, baseline):
                t = Text("  ")
                t.append(mark, MARK_STYLE.get(mark, ""))
                t.append(" " + _line(line), "" if mark == " " else MARK_STYLE.get(mark, "").replace("bold ", ""))
                out.append(t)
            if i < len(r.responses):
                first = r.responses[i].split(b"\n", 1)[0].rstrip(b"\r")
                out.append(Text(f"  < {_line(first)}", "bold"))
        if r.unrecorded:
            out.append(Text(f"  ({r.unrecorded} connection(s) on a socket object netlab cannot record)", "dim"))
        if r.error:
            out.append(Text(f"  error: {_line(r.error)}", "red"))
    out.append(Text(""))
    out += summary_texts(results)
    return out


def summary_texts(results) -> list[Text]:
    head = ("client", "version", "requests", "connections", "redirects", "status", "decompressed", "ms")
    rows = [head]
    for r in results:
        if r.version is None:
            rows.append((r.client, "-", "-", "-", "-", "not installed", "-", "-"))
            continue
        rows.append((r.client, _line(r.version), str(len(r.requests)), str(r.connections), str(r.redirects),
                     "error" if r.error and not r.statuses else _status(r), "yes" if r.decompressed else "no",
                     f"{r.elapsed_ms:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return [Text("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), "bold" if n == 0 else "")
            for n, row in enumerate(rows)]


class StackScreen(ModalScreen):
    """The stack side by side over the panes; escape closes it, r runs it again."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="Back to the panes"),
        Binding("r", "rerun", "Run again", tooltip="Send the GET through every layer again"),
    ]
    DEFAULT_CSS = """
    StackScreen { align: center middle; }
    StackScreen > Vertical { width: 95%; height: 90%; border: round $accent; background: $surface; }
    StackScreen #stack-status { height: auto; padding: 0 1; }
    StackScreen LineView { height: 1fr; }
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url.strip()
        self.timeout = timeout
        self.run_id = 0
        self.results: list | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="stack-box") as box:
            box.border_title = "Through the stack: socket → http.client → urllib → urllib3 → requests"
            box.border_subtitle = "r runs again · esc closes"
            yield Static(id="stack-status")
            yield LineView(id="stack-view")
        from netlab.ui.widgets.keybar import KeyBar

        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(LineView).focus()
        self.action_rerun()

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#stack-status", Static).update(Text(text, style))

    def action_rerun(self) -> None:
        if not self.url:
            self._say("no URL in the composer: type one there (F2), then open the stack again", "yellow")
            return
        from netlab.ui.stackwork import run_stack

        self.run_id += 1
        self._say(f"sending GET {_line(self.url)} through each layer … (each client at most {self.timeout:g} s)",
                  "cyan")
        self.run_worker(partial(run_stack, self.url, self.timeout, self.run_id, post=self.post_message),
                        thread=True, group="stack", exclusive=True, exit_on_error=False)

    def on_stack_done(self, msg: StackDone) -> None:
        if msg.run_id != self.run_id:
            return
        if msg.error is not None:
            self._say(f"✗ {_line(msg.error)}", "red")
            self.query_one(LineView).show_texts([])
            return
        self.results = msg.results
        ran = [r for r in msg.results if r.version is not None]
        failed = [r.client for r in ran if r.error]
        text = f"GET {_line(self.url)}: {len(ran)} of {len(msg.results)} clients installed"
        text += f" · failed: {', '.join(failed)}" if failed else " · every one answered"
        self._say(text, "yellow" if failed else "green")
        self.query_one(LineView).show_texts(stack_texts(msg.results, self.url))
