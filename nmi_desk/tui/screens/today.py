"""Today: the visits of today at this location, newest first, with the day's counts on top.

The rows are read through the standard library (nmi_desk.domain.stats.today), so this screen is
on screen with data before SQLAlchemy is even imported; the engine opens after that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from nmi_desk.tui.messages import (
    DatabaseFailed,
    DatabaseReady,
    TodayLoaded,
    TodayUnavailable,
    VisitDeleted,
)
from nmi_desk.tui.screens.base import NmiScreen, follow_up_summary, footer
from nmi_desk.tui.widgets.columns import add_fitted_columns, content_widths, fitted_row, set_columns

if TYPE_CHECKING:  # imported when the line is mounted, after the first paint
    from nmi_desk.tui.widgets.sync_status import SyncStatusLine

COLUMNS = ("col_time", "col_client", "col_topics", "col_referrals", "col_outcome")
# Widest a column may grow with its content; topics take what is left.
CAPS = {"col_time": 5, "col_client": 22, "col_referrals": 28, "col_outcome": 18}


class TodayScreen(NmiScreen[None]):
    BINDINGS = [
        Binding("n", "new_visit", "key.new_visit"),
        Binding("t", "count_only", "key.count_only"),
        # Enter on a row opens it too: "o" leaves the footer room for "c" (find a client).
        Binding("o", "open_visit", "key.open", show=False),
        Binding("c", "find_client", "clients.key_find"),
        Binding("x", "delete_visit", "key.delete", show=False),  # in help and palette
        Binding("f", "follow_ups", "key.follow_ups"),
        Binding("i", "info_session", "key.info_session"),
        Binding("d", "day_overview", "key.day_overview"),
        Binding("g", "app.guidance", "key.guidance"),
        Binding("h", "last_client", "key.last_client", show=False),  # named when saved
        Binding("f9", "settings", "key.settings", show=False),
        # Ctrl+Q quits here too (the app's key); left out of this footer so that it fits 80
        # columns with "i"; the help and the palette name it.
        Binding("ctrl+q", "app.quit", "key.quit", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        self._covered = False
        self._recomposing = False
        self._fill_generation = 0
        self._rest: list = []
        self._widths: dict[str, int] = {}
        self._reads = 0

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        with Horizontal(id="counts"):
            yield Static(tr("today.visits", n="…"), id="count-visits")
            yield Static(follow_up_summary(tr, "…"), id="count-due")
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
        yield footer()

    def on_mount(self) -> None:
        self._set_sub_title()

        prefetch = self.app.take_today_prefetch()
        if prefetch is not None and prefetch.done():
            view = prefetch.take()
            if view is not None:
                self._show(view)  # read while Textual imported: rows in the very first paint
                return
            prefetch = None
        self.refresh_today(prefetch)

    def _set_sub_title(self) -> None:
        desk = self.app.desk
        loc = self.app.desk.reference.by_code("locations").get(desk.settings.location)
        self.sub_title = self.app.tr(
            "today.header",
            location=loc.label(self.app.tr.lang) if loc else desk.settings.location,
            consultant=desk.settings.consultant,
        )

    def settings_changed(self) -> None:
        """Location or consultant saved elsewhere: this screen's header and list follow."""
        self._set_sub_title()
        self.refresh_today()

    @work(exclusive=True, group="relocalize")
    async def relocalize(self) -> None:
        """The language changed: the same screen, composed again with the new texts."""
        self._set_sub_title()
        self.loaded = False
        self._recomposing = True  # a read that lands meanwhile has no table to fill
        try:
            await self.recompose()
        finally:
            self._recomposing = False
        self.refresh_today()

    def on_screen_suspend(self) -> None:
        self._covered = True

    def on_screen_resume(self) -> None:
        # Back from a form or another screen: what was saved there shows. Not on the first
        # resume after mounting, which would read today a second time.
        if self._covered and self.loaded:
            self.refresh_today()
        self._covered = False
        self.app.offer_draft_on_today()  # an earlier run's unsaved form, held back meanwhile

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.refresh_today()

    def on_sync_status_line_finished(self, message: SyncStatusLine.Finished) -> None:
        # A sync marks records synced and may pull visits: the counts follow the sync line.
        if self.loaded:
            self.refresh_today()

    def refresh_today(self, prefetch=None) -> None:
        """Read today again (after a save, a delete, a restored draft, a language change).

        Reads are numbered: a read that started before a delete committed can finish after
        the read that followed it, and must not put the deleted visit back on screen."""
        self._reads += 1
        self._read_today(self._reads, prefetch)

    @work(thread=True, exclusive=True, group="today")
    def _read_today(self, read: int, prefetch=None) -> None:
        """Read through the standard library: the ORM may still be importing."""
        from nmi_desk.core.errors import UserError
        from nmi_desk.domain.stats.today import read_today

        try:
            view = prefetch.take() if prefetch is not None else None
            if view is None:
                view = read_today(self.app.desk)
        except UserError as exc:  # e.g. not a database: one line, and the app stays up
            self.post_message(DatabaseFailed(exc.text))
            return
        self.post_message(TodayLoaded(view, read) if view is not None else TodayUnavailable())

    def show_database_problem(self, reason: str) -> None:
        """The database cannot be read: say so where the rows would be, not 'Loading…'."""
        empty = self.query_one("#today-empty", Static)
        empty.update(self.app.tr("reliability.database_unavailable", reason=reason))
        empty.display = True

    def on_today_unavailable(self, message: TodayUnavailable) -> None:
        self.app.start_database()  # it creates and migrates; DatabaseReady reloads

    def on_today_loaded(self, message: TodayLoaded) -> None:
        if message.read != self._reads:
            return  # an older read, overtaken by a newer one
        if not self._recomposing:
            self._show(message.view)

    def _show(self, view) -> None:
        tr = self.app.tr
        lang = tr.lang
        topics = self.app.desk.reference.by_code("topics")
        orgs = self.app.desk.reference.by_code("organisations")
        outcomes = {e.code: e for e in self.app.desk.reference.lists["outcome"]}
        self.query_one("#count-visits", Static).update(tr("today.visits", n=view.counts.visits))
        self.query_one("#count-due", Static).update(
            follow_up_summary(tr, view.counts.follow_ups_due, view.counts.follow_ups_overdue)
        )
        self.query_one("#count-unsynced", Static).update(
            tr("today.unsynced", n=view.counts.unsynced)
        )
        table = self.query_one(DataTable)
        keep = table.cursor_row
        cells = [
            (
                (
                    row.time,
                    row.client_name
                    or (tr("app.count_only") if row.count_only else tr("app.anonymous")),
                    ", ".join(topics[c].label(lang) if c in topics else c for c in row.topics),
                    ", ".join(
                        orgs[c].short_label(lang) if c in orgs else c.upper() for c in row.referrals
                    ),
                    outcomes[row.outcome].label(lang) if row.outcome in outcomes else "",
                ),
                row.uuid,
            )
            for row in view.rows
        ]
        labels = {k: tr(f"today.{k}") for k in COLUMNS}
        self._widths = content_widths(
            labels,
            [values for values, _ in cells],
            CAPS,
            flexible="col_topics",
            minimum=16,
            screen_width=self.app.size.width,
            exact=("col_time",),
        )
        set_columns(table, labels, self._widths)
        # A screenful first, the rest after that paint: a busy day's hundreds of rows cost
        # the table a measuring pass that need not delay what the consultant sees.
        self._fill_generation += 1
        # at least what the table shows at once, and the row the cursor stays on
        first = max(self.app.size.height, 24, keep + 1)
        self._add_rows(cells[:first])
        self._rest = cells[first:]
        if self.loaded and view.rows:
            table.move_cursor(row=min(keep, len(view.rows) - 1))
        empty = self.query_one("#today-empty", Static)
        empty.update(tr("today.empty"))
        empty.display = not view.rows
        self.loaded = True
        self.refresh_bindings()
        self.call_after_refresh(self._after_paint, self._fill_generation)

    def _after_paint(self, generation: int) -> None:
        """Once the rows are on screen: the rest of the rows, then the database engine."""
        if generation != self._fill_generation:
            return  # a newer load replaced the table meanwhile
        rest, self._rest = self._rest, []
        self._add_rows(rest)
        if self.app.exit_when_ready:
            self.app.exit()  # benchmarks/startup.py and the start-up test: rows are painted
            return
        self._show_sync_line()
        self.app.start_database()

    def _add_rows(self, cells) -> None:
        table = self.query_one(DataTable)
        widths = [self._widths[k] for k in COLUMNS]
        for values, key in cells:
            table.add_row(*fitted_row(values, widths), key=key)

    def _show_sync_line(self) -> None:
        # Mounted after the rows are on screen: its status read opens the engine (SQLAlchemy),
        # which must not compete with the first paint (docs/performance.md, Start-up).
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

    def action_find_client(self) -> None:
        from nmi_desk.tui.screens.clients import ClientSearchScreen

        self.app.push_screen(ClientSearchScreen())

    def action_last_client(self) -> None:
        """h: the history of the client whose visit was saved last (one key back to it)."""
        uuid = self.app.last_client_uuid
        if uuid is None:
            self.app.bell()
            return
        from nmi_desk.tui.screens.clients import ClientHistoryScreen

        self.app.push_screen(ClientHistoryScreen(uuid))

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
        question = self.app.tr("today.delete_question", time=str(row[0]), client=str(row[1]))

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(uuid)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(thread=True, exclusive=True, group="delete")
    def _delete(self, uuid: str) -> None:
        from nmi_desk.domain.visits import delete_visit

        desk = self.app.desk
        delete_visit(desk.context(), uuid)
        self.post_message(VisitDeleted())

    def on_visit_deleted(self, message: VisitDeleted) -> None:
        self.app.notify(self.app.tr("today.deleted"))
        self.refresh_today()

    def action_follow_ups(self) -> None:
        from nmi_desk.tui.screens.follow_ups import FollowUpsScreen

        self.app.push_screen(FollowUpsScreen())

    def action_info_session(self) -> None:
        from nmi_desk.tui.screens.info_session import InfoSessionScreen

        self.app.push_screen(InfoSessionScreen())

    def action_day_overview(self) -> None:
        from nmi_desk.tui.screens.day_overview import DayOverviewScreen

        self.app.push_screen(DayOverviewScreen())

    def action_settings(self) -> None:
        from nmi_desk.tui.screens.setup import SetupScreen

        self.app.push_screen(SetupScreen(settings_mode=True))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_visit", "delete_visit"):
            return self.loaded and self.query_one(DataTable).row_count > 0 or None
        if action == "last_client":
            return self.app.last_client_uuid is not None or None
        return True
