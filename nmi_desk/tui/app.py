"""The Textual app. Built from a Desk (paths, settings, clock, database) so tests run it on tmp_path.

Start-up: the first screen is composed at once; the database engine (SQLAlchemy, migrations,
reference data) opens in a worker thread after the first paint.
"""

from __future__ import annotations

from textual import work
from textual.app import App
from textual.binding import Binding

from nmi_desk.desk import Desk
from nmi_desk.i18n import Translator
from nmi_desk.tui.messages import DatabaseFailed, DatabaseReady


class NmiDeskApp(App):
    CSS_PATH = "app.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Afsluiten", priority=True)]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.tr = Translator(desk.settings.lang)
        self.db_ready = False
        self.title = self.tr("app.title")

    def on_mount(self) -> None:
        from nmi_desk.tui.screens.today import TodayScreen

        if self.desk.settings.is_set_up:
            self.push_screen(TodayScreen())
        else:
            from nmi_desk.tui.screens.setup import SetupScreen

            self.push_screen(SetupScreen(), callback=lambda _: self.push_screen(TodayScreen()))
        self.open_database()

    @work(thread=True, exclusive=True, group="open-database")
    def open_database(self) -> None:
        from nmi_desk.errors import UserError

        try:
            self.desk.engine()
        except UserError as exc:
            self.post_message(DatabaseFailed(str(exc)))
        else:
            self.post_message(DatabaseReady())

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.db_ready = True
        self.screen.post_message(DatabaseReady())

    def on_database_failed(self, message: DatabaseFailed) -> None:
        self.notify(self.tr("error.database", reason=message.reason), severity="error", timeout=30)

    def on_unmount(self) -> None:
        self.desk.close()
