"""Moving between the panes: bring one forward (F2-F5, closing any screen over the panes),
the composer's raw view and options from anywhere (F7, F8), maximize and restore (F11),
and the screens of issue 15 (redirect hops ctrl+f, cookies F12, the stack from the palette).
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


def _close_own(app, cls) -> bool:
    """The key of a screen that is open already: close it (True)."""
    if isinstance(app.screen, cls):
        app.pop_screen()
        return True
    return False


def open_hops(app) -> None:
    """ctrl+f: the redirect hops of the exchange shown in the response viewer (again: close)."""
    from netlab.ui.screens.hops import HopsScreen, chain_of

    if _close_own(app, HopsScreen):
        return
    chain = chain_of(app.response.prepared)
    if chain is None:
        app.notify("no redirect hops: the exchange shown followed none (tick Follow redirects in the "
                   "composer's Options tab, F8, and send)", markup=False)
        return
    app.push_screen(HopsScreen(*chain))


def open_cookies(app) -> None:
    """F12: the session's cookie jar (again: close)."""
    from netlab.ui.screens.cookies import CookiesScreen

    if _close_own(app, CookiesScreen):
        return
    jar = app.services.jar_if_made()  # None until a send used the jar: no need to make one to list nothing
    app.push_screen(CookiesScreen(jar, bool(app.composer.opt.get("cookies"))))


def open_stack(app) -> None:
    """The command palette's "Stack": the composer's URL through each layer of the stack."""
    from netlab.ui.screens.stack import StackScreen

    if _close_own(app, StackScreen):
        return
    try:
        timeout = float(app.composer.opt.get("timeout") or 10)
    except ValueError:
        timeout = 10.0
    app.push_screen(StackScreen(app.composer.url, timeout if timeout > 0 else 10.0))
