"""Start the TUI. Kept tiny so `nmi-desk` imports Textual only when the TUI is wanted."""

from __future__ import annotations


def run_tui(data_dir=None, lang: str | None = None, *, require_encryption: bool = True) -> int:
    """Run the counter app; returns its exit code (1 after a crash, see NmiDeskApp).

    `require_encryption`: the real counter app encrypts its database; benchmarks/startup.py
    also measures this path on a plain one."""
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.stats.today import TodayPrefetch, can_prefetch

    desk = Desk.open(data_dir)
    desk.check_database()  # empty, damaged, unreadable: one line before any screen, no write
    desk.require_encryption = require_encryption
    if lang:
        desk.settings.lang = lang
    # Today's rows are read in a thread while Textual imports (most of the start-up time).
    prefetch = TodayPrefetch(desk) if can_prefetch(desk) else None

    from nmi_desk.tui.app import NmiDeskApp

    app = NmiDeskApp(desk, today=prefetch)
    try:
        app.run()
    finally:
        app.cleanup_letters()  # also when the app ends by an error: no letter stays behind
    return app.return_code or 0
