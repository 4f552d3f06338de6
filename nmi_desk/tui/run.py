"""Start the TUI. Kept tiny so `nmi-desk` imports Textual only when the TUI is wanted."""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()


def run_tui(data_dir=None, lang: str | None = None) -> None:
    from nmi_desk.desk import Desk
    from nmi_desk.tui.app import NmiDeskApp

    desk = Desk.open(data_dir)
    desk.require_encryption = True  # the real counter app encrypts; tests build plain desks
    if lang:
        desk.settings.lang = lang
    NmiDeskApp(desk).run()
