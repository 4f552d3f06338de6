"""The yardstick for start-up: a bare Textual app (Header, Static, Footer).

With NMI_DESK_EXIT_WHEN_READY=1 it exits right after its first screen is painted, the same
signal nmi-desk uses once Today shows its rows.
"""

from __future__ import annotations

import os

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class BareApp(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Hello")
        yield Footer()

    def on_mount(self) -> None:
        if os.environ.get("NMI_DESK_EXIT_WHEN_READY") == "1":
            self.call_after_refresh(self.exit)


if __name__ == "__main__":
    BareApp().run()
