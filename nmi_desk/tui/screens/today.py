"""Today: the visits of today at this location, newest first, with the day's counts on top."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from nmi_desk.tui.messages import DatabaseReady


class TodayLoaded(Message):
    def __init__(self, rows, counts) -> None:
        super().__init__()
        self.rows = rows
        self.counts = counts


class TodayScreen(Screen[None]):
    CSS_PATH = "today.tcss"

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        with Horizontal(id="counts"):
            yield Static(tr("today.visits", n="…"), id="count-visits")
            yield Static(tr("today.due", n="…"), id="count-due")
            yield Static(tr("today.unsynced", n="…"), id="count-unsynced")
        table = DataTable(id="today-table", cursor_type="row", zebra_stripes=True)
        for key in ("col_time", "col_client", "col_topics", "col_referrals", "col_outcome"):
            table.add_column(tr(f"today.{key}"), key=key)
        yield table
        yield Static(tr("today.loading"), id="today-empty")
        yield Footer()

    def on_mount(self) -> None:
        desk = self.app.desk
        from nmi_desk.refdata import reference

        loc = reference().by_code("locations").get(desk.settings.location)
        self.sub_title = self.app.tr(
            "today.header",
            location=loc.label(desk.settings.lang) if loc else desk.settings.location,
            consultant=desk.settings.consultant,
        )
        self.refresh_today()

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.refresh_today()

    @work(thread=True, exclusive=True, group="today")
    def refresh_today(self) -> None:
        """Read through the standard library: the ORM may still be importing."""
        import sqlite3

        from nmi_desk.store.connect import connect_sqlite, sqlite_path_from_url
        from nmi_desk.visits import day_counts, day_rows

        desk = self.app.desk
        path = sqlite_path_from_url(desk.url)
        if path is None or not path.exists():
            return  # the engine worker creates it; DatabaseReady triggers a reload
        conn = connect_sqlite(path)
        try:
            day = desk.today()
            rows = day_rows(conn, desk.settings.location, day)
            counts = day_counts(conn, desk.settings.location, day)
        except sqlite3.OperationalError:
            return  # schema not there yet: the engine worker migrates, then reloads
        finally:
            conn.close()
        self.post_message(TodayLoaded(rows, counts))

    def on_today_loaded(self, message: TodayLoaded) -> None:
        from nmi_desk.refdata import reference

        tr = self.app.tr
        lang = self.app.desk.settings.lang
        topics = reference().by_code("topics")
        orgs = reference().by_code("organisations")
        outcomes = {e.code: e for e in reference().lists["outcome"]}
        self.query_one("#count-visits", Static).update(tr("today.visits", n=message.counts.visits))
        self.query_one("#count-due", Static).update(
            tr("today.due", n=message.counts.follow_ups_due)
        )
        self.query_one("#count-unsynced", Static).update(
            tr("today.unsynced", n=message.counts.unsynced)
        )
        table = self.query_one(DataTable)
        table.clear()
        for row in message.rows:
            name = row.client_name or (
                tr("app.count_only") if row.count_only else tr("app.anonymous")
            )
            table.add_row(
                row.time,
                name,
                ", ".join(topics[c].label(lang) if c in topics else c for c in row.topics),
                ", ".join(orgs[c].code.upper() if c in orgs else c for c in row.referrals),
                outcomes[row.outcome].label(lang) if row.outcome in outcomes else "",
                key=row.uuid,
            )
        empty = self.query_one("#today-empty", Static)
        empty.update(tr("today.empty"))
        empty.display = not message.rows
