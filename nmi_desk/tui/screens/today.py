"""Today: the visits of today at this location, newest first, with the day's counts on top.

The rows are read through the standard library (visits.day_rows/day_counts), so this screen is
on screen with data before SQLAlchemy is even imported; the engine opens after that.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from nmi_desk.tui.keys import has_screen, localize_bindings
from nmi_desk.tui.messages import DatabaseReady, WorkDone
from nmi_desk.tui.widgets.columns import add_fitted_columns

FIRST_PAINT_ROWS = 60  # more than any terminal shows at once


class TodayLoaded(Message):
    def __init__(self, rows, counts) -> None:
        super().__init__()
        self.rows = rows
        self.counts = counts


class TodayUnavailable(Message):
    """No database (yet) to read: first run, or a schema the fast path cannot read."""


class TodayScreen(Screen[None]):
    CSS_PATH = "today.tcss"
    NMI_COMMANDS = True
    BINDINGS = [
        Binding("n", "new_visit", "key.new_visit"),
        Binding("t", "count_only", "key.count_only"),
        Binding("o", "open_visit", "key.open"),
        Binding("x", "delete_visit", "key.delete", show=False),  # in help and palette
        Binding("f", "follow_ups", "key.follow_ups"),
        Binding("i", "info_session", "key.info_session"),
        Binding("d", "day_overview", "key.day_overview"),
        Binding("g", "app.guidance", "key.guidance", show=False),
        Binding("f9", "settings", "key.settings", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self, self.app.tr)
        self.loaded = False
        self._fill_generation = 0

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        with Horizontal(id="counts"):
            yield Static(tr("today.visits", n="…"), id="count-visits")
            yield Static(tr("today.due", n="…"), id="count-due")
            yield Static(tr("today.unsynced", n="…"), id="count-unsynced")
        table = DataTable(id="today-table", cursor_type="row", zebra_stripes=True)
        # Fixed widths so the outcome is never pushed off a small screen; topics take the rest.
        add_fitted_columns(
            table,
            {
                k: tr(f"today.{k}")
                for k in ("col_time", "col_client", "col_topics", "col_referrals", "col_outcome")
            },
            fixed={"col_time": 5, "col_client": 18, "col_referrals": 10, "col_outcome": 16},
            flexible="col_topics",
            minimum=16,
            screen_width=self.app.size.width,
        )
        yield table
        yield Static(tr("today.loading"), id="today-empty")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        desk = self.app.desk
        from nmi_desk.refdata import reference

        loc = reference().by_code("locations").get(desk.settings.location)
        self.sub_title = self.app.tr(
            "today.header",
            location=loc.label(self.app.tr.lang) if loc else desk.settings.location,
            consultant=desk.settings.consultant,
        )
        self.refresh_today()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.refresh_today()

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.refresh_today()

    @work(thread=True, exclusive=True, group="today")
    def refresh_today(self) -> None:
        """Read through the standard library: the ORM may still be importing."""
        from nmi_desk.store.connect import connect_sqlite, database_errors, sqlite_path_from_url
        from nmi_desk.visits import day_counts, day_rows

        desk = self.app.desk
        path = sqlite_path_from_url(desk.url)
        if path is None or not path.exists():
            self.post_message(TodayUnavailable())
            return
        conn = connect_sqlite(path)
        try:
            day = desk.today()
            rows = day_rows(conn, desk.settings.location, day)
            counts = day_counts(conn, desk.settings.location, day)
        except database_errors():  # no schema yet: the engine worker migrates, then reloads
            self.post_message(TodayUnavailable())
            return
        finally:
            conn.close()
        self.post_message(TodayLoaded(rows, counts))

    def on_today_unavailable(self, message: TodayUnavailable) -> None:
        self.app.start_database()  # it creates and migrates; DatabaseReady reloads

    def on_today_loaded(self, message: TodayLoaded) -> None:
        from nmi_desk.refdata import reference

        tr = self.app.tr
        lang = tr.lang
        topics = reference().by_code("topics")
        outcomes = {e.code: e for e in reference().lists["outcome"]}
        self.query_one("#count-visits", Static).update(tr("today.visits", n=message.counts.visits))
        self.query_one("#count-due", Static).update(
            tr("today.due", n=message.counts.follow_ups_due)
        )
        self.query_one("#count-unsynced", Static).update(
            tr("today.unsynced", n=message.counts.unsynced)
        )
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        cells = [
            (
                (
                    row.time,
                    row.client_name
                    or (tr("app.count_only") if row.count_only else tr("app.anonymous")),
                    ", ".join(topics[c].label(lang) if c in topics else c for c in row.topics),
                    ", ".join(c.upper() for c in row.referrals),
                    outcomes[row.outcome].label(lang) if row.outcome in outcomes else "",
                ),
                row.uuid,
            )
            for row in message.rows
        ]
        # A screenful first, the rest after that paint: a busy day's hundreds of rows cost
        # the table a measuring pass that need not delay what the consultant sees.
        self._fill_generation += 1
        self._add_rows(cells[:FIRST_PAINT_ROWS])
        if len(cells) > FIRST_PAINT_ROWS:
            self.call_after_refresh(self._add_rows, cells[FIRST_PAINT_ROWS:], self._fill_generation)
        if self.loaded and message.rows:
            table.move_cursor(row=min(keep, len(message.rows) - 1))
        empty = self.query_one("#today-empty", Static)
        empty.update(tr("today.empty"))
        empty.display = not message.rows
        self._show_sync_line()
        self.loaded = True
        self.refresh_bindings()
        if self.app.exit_when_ready:
            self.call_after_refresh(self.app.exit)  # benchmarks/startup.py: rows are painted
        else:
            self.app.start_database()

    def _add_rows(self, cells, generation: int | None = None) -> None:
        if generation is not None and generation != self._fill_generation:
            return  # a newer load replaced the table meanwhile
        table = self.query_one(DataTable)
        for values, key in cells:
            table.add_row(*values, key=key)

    def _show_sync_line(self) -> None:
        # Mounted after the rows are on screen: its status read opens the engine (SQLAlchemy),
        # which must not compete with the first paint (docs/performance.md, Start-up).
        if self.app.exit_when_ready:
            return
        existing = self.query("#sync-status")
        if existing:
            existing.first().read_status()  # a save changed what is pending: say so there too
            return
        from nmi_desk.tui.widgets.sync_status import SyncStatusLine

        self.mount(SyncStatusLine(id="sync-status"), before=self.query_one(Footer))

    # ---- actions ----

    def _current_uuid(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def action_new_visit(self) -> None:
        from nmi_desk.tui.screens.visit_form import VisitFormScreen

        self.app.push_screen(VisitFormScreen())

    def action_count_only(self) -> None:
        from nmi_desk.tui.screens.count_only import CountOnlyScreen

        self.app.push_screen(CountOnlyScreen(), lambda _: self.refresh_today())

    def action_open_visit(self) -> None:
        from nmi_desk.tui.screens.visit_form import VisitFormScreen

        uuid = self._current_uuid()
        if uuid:
            self.app.push_screen(VisitFormScreen(uuid=uuid))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_visit()

    def action_delete_visit(self) -> None:
        from nmi_desk.tui.screens.confirm import ConfirmScreen

        uuid = self._current_uuid()
        if not uuid:
            return
        table = self.query_one(DataTable)
        row = table.get_row(uuid)
        question = self.app.tr("today.delete_question", time=row[0], client=row[1])

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(uuid)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, group="delete")
    def _delete(self, uuid: str) -> None:
        from nmi_desk.visits import delete_visit

        desk = self.app.desk
        delete_visit(desk.engine(), uuid, desk.actor, desk.now())
        self.post_message(WorkDone("deleted"))

    def on_work_done(self, message: WorkDone) -> None:
        if message.kind == "deleted":
            self.app.notify(self.app.tr("today.deleted"))
            self.refresh_today()

    def action_follow_ups(self) -> None:
        from nmi_desk.tui.screens.follow_ups import FollowUpsScreen

        self.app.push_screen(FollowUpsScreen())

    def action_info_session(self) -> None:
        from nmi_desk.tui.screens.info_session import InfoSessionScreen

        self.app.push_screen(InfoSessionScreen())

    def action_day_overview(self) -> None:
        from nmi_desk.tui.screens.day_overview import DayOverviewScreen  # issue 5

        self.app.push_screen(DayOverviewScreen())

    def action_settings(self) -> None:
        from nmi_desk.tui.screens.setup import SetupScreen

        self.app.push_screen(SetupScreen(settings_mode=True))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "day_overview":
            return has_screen("day_overview") or False
        if action in ("open_visit", "delete_visit"):
            return self.loaded and self.query_one(DataTable).row_count > 0 or None
        return True
