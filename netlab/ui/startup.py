"""What the app starts right after its first frame, not before it: the first frame is kept
cheap (bench/startup.py measures it) and everything it does not need waits until it is
drawn -- the composer's text areas, the lab server, the live connection table, the history."""

from __future__ import annotations


async def after_first_frame(app) -> None:
    """Mount the composer's text areas, place the focus and let the held keys go, then
    start the lab server, the connection table and the history."""
    from netlab.ui import workers

    await app.composer.mount_lazy()  # the held keys may be meant for them
    if app.screen.focused is None and app.screen is app.screen_stack[0]:  # not clicked elsewhere yet
        app.composer.focus_start()
    app.AUTO_FOCUS = "#url"  # as the class's would be: the main screen's fallback
    app.key_hold.release()  # the keys typed so far, in order, after the focus is placed
    app.composer.schedule_tabs()
    app.response.schedule_tabs()
    if app.use_lab:
        app._thread(workers.start_lab, app.services)
    if app.live_connections:
        app.connections.start_live()
    if app.services.store is not None:
        app._thread(workers.refresh_history, app.services)
    app.set_interval(workers.SWEEP_INTERVAL, app.services.sweep)  # no CLOSE_WAIT left in the pool
    app.started = True
