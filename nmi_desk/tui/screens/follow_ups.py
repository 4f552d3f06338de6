"""Follow-ups: open referrals across all days, overdue first; mark done or cancelled."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from nmi_desk.core.dates import format_date, parse_date
from nmi_desk.tui.messages import FollowUpClosed, FollowUpsLoaded
from nmi_desk.tui.screens.base import NmiScreen, follow_up_summary, footer
from nmi_desk.tui.widgets.columns import add_fitted_columns, cell, content_widths, set_columns

COLUMNS = ("col_due", "col_organisation", "col_reason", "col_client", "col_visit")
CAPS = {"col_organisation": 26, "col_client": 22}


class FollowUpsScreen(NmiScreen[None]):
    CSS_PATH = "follow_ups.tcss"
    BINDINGS = [
        Binding("d", "close('done')", "key.mark_done"),
        Binding("c", "close('cancelled')", "key.mark_cancelled"),
        Binding("o", "open_visit", "key.open"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, object] = {}
        self._reads = 0

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        yield Static(tr("follow_ups.title"), id="follow-title")
        table = DataTable(id="follow-table", cursor_type="row", zebra_stripes=True)
        add_fitted_columns(
            table,
            {
                k: tr(f"follow_ups.{k}")
                for k in ("col_due", "col_organisation", "col_reason", "col_client", "col_visit")
            },
            fixed={"col_due": 18, "col_organisation": 16, "col_client": 16, "col_visit": 10},
            flexible="col_reason",
            minimum=12,
            screen_width=self.app.size.width,
        )
        yield table
        yield Static(tr("today.loading"), id="follow-empty")
        yield footer()

    def on_mount(self) -> None:
        self.sub_title = self.app.tr("follow_ups.title")
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        # Numbered like Today's reads: an older read never overwrites a newer one.
        self._reads += 1
        self._read(self._reads)

    @work(thread=True, exclusive=True, group="follow-ups")
    def _read(self, read: int) -> None:
        from nmi_desk.domain.referrals import open_follow_ups

        desk = self.app.desk
        self.post_message(FollowUpsLoaded(open_follow_ups(desk.context()), read))

    def on_follow_up_closed(self, message: FollowUpClosed) -> None:
        self.app.notify(self.app.tr("follow_ups.closed"))
        self.reload()

    def on_follow_ups_loaded(self, message: FollowUpsLoaded) -> None:
        if message.read != self._reads:
            return
        tr = self.app.tr
        lang = tr.lang
        orgs = self.app.desk.reference.by_code("organisations")
        table = self.query_one(DataTable)
        keep = table.cursor_row
        self.items = {}
        rows = []
        for f in message.items:
            self.items[f.uuid] = f
            org = orgs.get(f.organisation_code)
            values = (
                format_date(f.follow_up_on) or "—",
                org.short_label(lang) if org else f.organisation_code,
                f.reason or "",
                f.client_name or tr("app.anonymous"),
                format_date(parse_date(f.visit_date)) or f.visit_date,
            )
            rows.append((values, f))
        labels = {k: tr(f"follow_ups.{k}") for k in COLUMNS}
        widths = content_widths(
            labels,
            [v for v, _ in rows],
            CAPS,
            flexible="col_reason",
            minimum=12,
            screen_width=self.app.size.width,
            exact=("col_due", "col_visit"),
        )
        set_columns(table, labels, widths)
        order = [widths[k] for k in COLUMNS]
        late = f"bold {self.app.current_theme.error or 'red'}"
        for values, f in rows:
            # overdue: the date in the error colour; the title says how many
            styles = [late if f.overdue else ""] + [""] * 4
            table.add_row(
                *(cell(v, w, st) for v, w, st in zip(values, order, styles, strict=True)),
                key=f.uuid,
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        due = sum(1 for _, f in rows if f.due)
        overdue = sum(1 for _, f in rows if f.overdue)
        title = tr("follow_ups.open", n=len(rows)) + " · " + follow_up_summary(tr, due, overdue)
        self.query_one("#follow-title", Static).update(title)
        empty = self.query_one("#follow-empty", Static)
        empty.update(tr("follow_ups.empty"))
        empty.display = not message.items

    def _current(self):
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row is None:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.items.get(key)

    def action_close(self, status: str) -> None:
        from nmi_desk.tui.screens.confirm import OutcomeNoteScreen

        item = self._current()
        if item is None:
            return
        tr = self.app.tr
        question = tr(f"follow_ups.ask_{status}", organisation=item.organisation_code.upper())

        def answered(note: str | None) -> None:
            if note is not None:
                self._close(item.uuid, status, note)

        self.app.push_screen(OutcomeNoteScreen(question), answered)

    @work(thread=True, exclusive=True, group="follow-close")
    def _close(self, uuid: str, status: str, note: str) -> None:
        from nmi_desk.domain.referrals import close_referral

        desk = self.app.desk
        close_referral(desk.engine(), uuid, status, note, desk.actor, desk.now())
        self.post_message(FollowUpClosed())

    def action_open_visit(self) -> None:
        from nmi_desk.tui.screens.visit_form import VisitFormScreen

        item = self._current()
        if item is not None:
            self.app.push_screen(VisitFormScreen(uuid=item.visit_uuid))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_visit()

    def action_back(self) -> None:
        self.dismiss(None)
