"""Moving between the panes: bring one forward (F2-F5, closing any screen over the panes),
the composer's raw view and options from anywhere (F7, F8), maximize and restore (F11).
The grid (widgets/grid.py) lays the panes out; this decides which one the user sees."""

from __future__ import annotations


def show(app, name: str):
    """Bring pane ``name`` forward (closing any screen over the panes); returns it."""
    while len(app.screen_stack) > 1:
        app.pop_screen()
    pane = app.query_one(f"#{name}")
    app.grid.forget_focus()  # a focus still pending for another pane does not land
    if pane is app.dns:
        app.dns.suggest(app.composer.host)
    app.grid.show(pane)
    if app.screen.maximized is not None and app.screen.maximized is not pane:
        app.screen.maximize(pane, container=False)
    return pane


async def composer_tab(app, tab: str) -> None:
    """F7 / F8 from anywhere: the composer's raw view (in the composer: raw and fields in
    turn) / its options."""
    inside = app.grid.pane_of(app.focused) is app.composer and len(app.screen_stack) == 1
    show(app, "composer")
    if tab == "raw" and not inside:
        await app.composer.show_tab("raw")
        app.composer.query_one("#raw").focus()
    elif tab == "raw":
        await app.composer.action_toggle_raw()
    else:
        await app.composer.action_options()


def toggle_maximize(app) -> None:
    """Maximize the pane holding the focus (the current one), or restore the grid."""
    if app.screen.maximized is not None:
        app.screen.minimize()
        return
    app.screen.maximize(app.grid.pane_of(app.focused) or app.grid.current, container=False)
