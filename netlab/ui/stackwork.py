"""Thread-side work of the screens of issue 15 (redirect hops, the stack): run in thread
workers, never on the UI thread; each reports through ``post`` (the screen's thread-safe
``post_message``) and touches no widget.  Imported when one of those screens opens."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from netlab.ui import messages as m

Post = Callable[[object], object]


def prepare_hop(hop, number: int, of: int, final, *, post: Post) -> None:
    """Render redirect hop ``number`` (from 1) of a chain of ``of`` exchanges for the
    response viewer; the render keeps the chain's ``final`` render (``extra["final"]``) so
    the hops screen can go back to it."""
    from netlab.ui.views.exchange import prepare
    from netlab.ui.views.status import status_text

    try:
        prepared = prepare(hop)
        prepared = replace(prepared, status=status_text(hop, (number, of)), extra={"final": final})
    except Exception as exc:  # noqa: BLE001 - shown, never a crash
        post(m.Problem(f"cannot show hop {number}: {type(exc).__name__}: {exc}"))
        return
    post(m.HopPrepared(prepared))


def run_stack(url: str, timeout: float, run_id: int, *, post: Post) -> None:
    """The GET of ``url`` through each layer of the stack (engine.stack.run_stack)."""
    from netlab.engine import NetlabError
    from netlab.engine.stack import run_stack as run

    try:
        results = run(url, timeout=timeout)
    except NetlabError as exc:
        post(m.StackDone(run_id, [], exc.message))
        return
    except Exception as exc:  # noqa: BLE001 - a bug is said on the screen, not a crash
        post(m.StackDone(run_id, [], f"{type(exc).__name__}: {exc}"))
        return
    post(m.StackDone(run_id, results))
