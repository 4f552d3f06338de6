"""Day overview: a period's visits by topic, referral, hour, countries, how the client came and
outcome, as bar charts; open follow-ups, unsynced and quarantined records; the end-of-day close.

Keys: d/w/m day, week, month; c a custom period; left/right the previous/next period; l the
next location (all locations first); e close the day; escape back. The figures are read in a
worker (nmi_desk.domain.stats.end_of_day.load_overview) and arrive as a message: the screen never freezes.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Header, Input, Static

from nmi_desk.core.dates import format_date, parse_date
from nmi_desk.domain.stats.compute import BY_CODE
from nmi_desk.domain.stats.compute import CHARTS as CHART_DIMENSIONS
from nmi_desk.domain.stats.period import Period
from nmi_desk.tui.screens.base import NmiModal, NmiScreen, follow_up_summary, footer
from nmi_desk.tui.widgets.bar_chart import BarChart
from nmi_desk.tui.widgets.check_box import CheckBox

# The charts, in the order shown: the registry's dimensions that have a chart position.
CHARTS = tuple((d.code, d.title_key) for d in CHART_DIMENSIONS)


class StatsLoaded(Message):
    """The period's figures, ahead of the attention line (follow-ups, unsynced, quarantined)."""

    def __init__(self, period: Period, location: str | None, stats: dict) -> None:
        super().__init__()
        self.period = period
        self.location = location
        self.stats = stats


class OverviewLoaded(Message):
    def __init__(self, overview) -> None:
        super().__init__()
        self.overview = overview


class OverviewFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class DayOverviewScreen(NmiScreen[None]):
    CSS_PATH = "day_overview.tcss"
    BINDINGS = [
        Binding("d", "period('day')", "day_overview.key_day"),
        Binding("w", "period('week')", "day_overview.key_week"),
        Binding("m", "period('month')", "day_overview.key_month"),
        Binding("c", "custom", "day_overview.key_custom"),
        Binding("left", "shift(-1)", "day_overview.key_previous"),
        Binding("right", "shift(1)", "day_overview.key_next"),
        Binding("l", "next_location", "day_overview.key_location"),
        Binding("e", "close_day", "day_overview.key_close"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, period: Period | None = None, location: str | None = "") -> None:
        super().__init__()
        self.period = period
        # "" = this desk's location (resolved on mount), None = all locations.
        self.location = location
        self.overview = None
        self._charted: dict | None = None  # the stats the charts show

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        yield Header()
        yield Static("", id="dov-period")
        yield Static(tr("today.loading"), id="dov-summary")
        with VerticalScroll(id="dov-scroll"):
            with Grid(id="dov-charts"):
                for dimension, title in CHARTS:
                    chart = BarChart(id=f"chart-{dimension}", classes="chart")
                    chart.border_title = tr(title)
                    yield chart
        yield footer()

    def on_mount(self) -> None:
        desk = self.app.desk
        if self.period is None:
            self.period = Period.around("day", desk.today())
        if self.location == "":
            self.location = desk.settings.location or None
        self.sub_title = self.app.tr("day_overview.title")
        self._show_period()
        self.reload()

    # ---- loading ----

    @work(thread=True, exclusive=True, group="day-overview")
    def reload(self) -> None:
        from nmi_desk.core.errors import UserError
        from nmi_desk.domain.stats.compute import compute_stats, open_source
        from nmi_desk.domain.stats.end_of_day import Overview, attention

        desk = self.app.desk
        period, location = self.period, self.location
        try:
            with open_source(desk.url, desk.key) as source:
                # The figures first (a few ms from visit_daily), then the attention counts.
                stats = compute_stats(source, period.first, period.last, location)
                self.post_message(StatsLoaded(period, location, stats))
                counts = attention(source, desk.today())
        except UserError as exc:
            self.post_message(OverviewFailed(self.app.tr.explain(exc)))
            return
        self.post_message(OverviewLoaded(Overview(period, location, stats, *counts)))

    def on_overview_failed(self, message: OverviewFailed) -> None:
        self.query_one("#dov-summary", Static).update(
            self.app.tr("error.database", reason=message.reason)
        )

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        if message.period != self.period or message.location != self.location:
            return  # an older request finished after the consultant moved on
        self._show_figures(message.stats, None)

    def on_overview_loaded(self, message: OverviewLoaded) -> None:
        overview = message.overview
        if overview.period != self.period or overview.location != self.location:
            return
        self.overview = overview
        self._show_figures(overview.stats, overview)

    def _show_figures(self, stats: dict, overview) -> None:
        """The summary line and the charts; the attention parts once `overview` is there."""
        tr = self.app.tr
        info = stats["info_sessions"]
        parts = [
            tr("day_overview.visits", n=stats["visits"]),
            tr(
                "walkin.sessions_summary",
                n=info["sessions"],
                attendees=tr("walkin.attendees", n=info["attendees"]),
            ),
        ]
        if overview is None:
            parts.append("…")
        else:
            parts += [
                follow_up_summary(tr, overview.due_follow_ups, overview.overdue_follow_ups),
                tr("day_overview.unsynced", n=overview.unsynced_total),
                tr("day_overview.quarantined", n=overview.quarantined),
            ]
        self.query_one("#dov-summary", Static).update("  ·  ".join(parts))
        if stats is self._charted:
            return  # the figures are on screen already; only the attention line was missing
        self._charted = stats
        none = tr("day_overview.none")
        for dimension, _title in CHARTS:
            self.query_one(f"#chart-{dimension}", BarChart).show(
                self._chart_items(dimension, stats[dimension]), none
            )

    # ---- rendering ----

    def _labels(self, dimension: str) -> dict[str, str]:
        from nmi_desk.domain.reference.files import labels_for

        labels = labels_for(
            self.app.desk.reference, BY_CODE[dimension].labels, self.app.desk.settings.lang
        )
        labels["unknown"] = self.app.tr("day_overview.unknown")
        return labels

    def _chart_items(self, dimension: str, figures: dict[str, int]) -> list[tuple[str, int]]:
        """(label, count) rows: hours in clock order, the rest largest first."""
        if dimension == "by_hour":
            return [(f"{k}:00", n) for k, n in sorted(figures.items())]
        labels = self._labels(dimension)
        return sorted(
            ((labels.get(k, k), n) for k, n in figures.items()), key=lambda x: (-x[1], x[0])
        )

    def _show_period(self) -> None:
        tr = self.app.tr
        p = self.period
        when = (
            p.first.strftime("%d-%m-%Y")
            if p.first == p.last
            else f"{p.first:%d-%m-%Y} – {p.last:%d-%m-%Y}"
        )
        if self.location:
            loc = self.app.desk.reference.by_code("locations").get(self.location)
            where = loc.label(self.app.desk.settings.lang) if loc else self.location
        else:
            where = tr("day_overview.all_locations")
        self.query_one("#dov-period", Static).update(
            tr(
                "day_overview.period_line",
                kind=tr(f"day_overview.kind_{p.kind}"),
                when=when,
                where=where,
            )
        )

    def _change(self, period: Period | None = None, location: str | None | bool = False) -> None:
        if period is not None:
            self.period = period
        if location is not False:
            self.location = location
        self._show_period()
        self.query_one("#dov-summary", Static).update(self.app.tr("today.loading"))
        self.reload()

    # ---- actions ----

    def action_period(self, kind: str) -> None:
        anchor = self.period.last if self.period.kind != "day" else self.period.first
        if kind == "day":
            anchor = min(self.app.desk.today(), self.period.last)
        self._change(period=Period.around(kind, anchor))

    def action_shift(self, steps: int) -> None:
        self._change(period=self.period.shift(steps))

    def action_next_location(self) -> None:
        cycle: list[str | None] = [None, *(loc.code for loc in self.app.desk.reference.locations)]
        index = cycle.index(self.location) if self.location in cycle else 0
        self._change(location=cycle[(index + 1) % len(cycle)])

    def action_custom(self) -> None:
        def chosen(period: Period | None) -> None:
            if period is not None:
                self._change(period=period)

        self.app.push_screen(CustomPeriodScreen(self.period), chosen)

    def action_close_day(self) -> None:
        self.app.push_screen(CloseDayScreen(self.period, self.location), lambda _: self.reload())

    def action_back(self) -> None:
        self.app.pop_screen()


class CustomPeriodScreen(NmiModal[Period | None]):
    """Two dates (DD-MM-YYYY, or YYYY-MM-DD); enter confirms, escape cancels."""

    CSS_PATH = "day_overview.tcss"
    BINDINGS = [Binding("escape", "cancel", "key.cancel")]

    def __init__(self, current: Period) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        tr = self.app.tr
        with Vertical(classes="dov-dialog"):
            yield Static(tr("day_overview.custom_title"))
            with Horizontal(classes="dov-dates"):
                hint = tr("general.date_placeholder")
                yield Input(format_date(self.current.first), id="dov-from", placeholder=hint)
                yield Input(format_date(self.current.last), id="dov-to", placeholder=hint)
            yield Static("", id="dov-custom-error", classes="dov-error")
            yield Static(tr("day_overview.custom_hint"), classes="dov-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        tr = self.app.tr
        error = self.query_one("#dov-custom-error", Static)
        values = []
        for box in ("#dov-from", "#dov-to"):
            raw = self.query_one(box, Input).value.strip()
            day = parse_date(raw)
            if day is None:
                error.update(tr("walkin.not_a_date", value=raw))
                return
            values.append(day)
        if values[1] < values[0]:
            error.update(tr("day_overview.custom_order"))
            return
        self.dismiss(Period.custom(values[0], values[1]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloseDone(Message):
    def __init__(self, report=None, error: str | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class CloseDayScreen(NmiModal[None]):
    """The end-of-day close: summary, folder, small-count suppression; writes, syncs, reports."""

    CSS_PATH = "day_overview.tcss"
    BINDINGS = [Binding("escape", "cancel", "key.close")]

    def __init__(self, period: Period, location: str | None) -> None:
        super().__init__()
        self.period = period
        self.location = location

    def compose(self) -> ComposeResult:
        from nmi_desk.domain.stats.end_of_day import default_folder

        tr = self.app.tr
        with Vertical(classes="dov-dialog"):
            yield Static(tr("day_overview.close_title"), classes="dov-title")
            yield Static(
                tr(
                    "day_overview.close_intro",
                    first=self.period.first.strftime("%d-%m-%Y"),
                    last=self.period.last.strftime("%d-%m-%Y"),
                )
            )
            # Compact widgets and a short checkbox label: nothing cut off at 80 columns.
            yield Static(tr("day_overview.close_folder"), classes="dov-label")
            yield Input(str(default_folder()), id="dov-folder", compact=True)
            yield CheckBox(tr("walkin.close_suppress"), id="dov-suppress", compact=True)
            yield Static(tr("walkin.close_suppress_hint"), classes="dov-hint")
            yield Static("", id="dov-close-result")
            with Horizontal(classes="dov-buttons"):
                yield Button(
                    tr("day_overview.close_go"), id="dov-go", variant="primary", compact=True
                )
                yield Button(tr("key.close"), id="dov-cancel", compact=True)

    def on_mount(self) -> None:
        # The folder is what a consultant may want to change; Enter there closes the day.
        folder = self.query_one("#dov-folder", Input)
        folder.focus()
        folder.cursor_position = len(folder.value)

    @on(Button.Pressed, "#dov-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#dov-go")
    @on(Input.Submitted, "#dov-folder")
    def _go(self) -> None:
        self.query_one("#dov-go", Button).disabled = True
        self.query_one("#dov-close-result", Static).update(self.app.tr("day_overview.close_busy"))
        self.run_close(
            Path(self.query_one("#dov-folder", Input).value.strip() or "."),
            self.query_one("#dov-suppress", Checkbox).value,
        )

    @work(thread=True, exclusive=True, group="close-day")
    def run_close(self, folder: Path, suppress: bool) -> None:
        from nmi_desk.core.errors import UserError
        from nmi_desk.domain.stats.end_of_day import close_day

        try:
            report = close_day(self.app.desk, self.period, self.location, folder, suppress=suppress)
        except UserError as exc:
            self.post_message(CloseDone(error=self.app.tr.explain(exc)))
            return
        self.post_message(CloseDone(report))

    def on_close_done(self, message: CloseDone) -> None:
        tr = self.app.tr
        self.query_one("#dov-go", Button).disabled = False
        result = self.query_one("#dov-close-result", Static)
        if message.error:
            result.update(Text(message.error, style="bold red"))
            return
        report = message.report
        lines = [tr("day_overview.close_visits", n=report.overview.stats["visits"])]
        lines += [tr("day_overview.close_wrote", path=p.name) for p in report.written]
        lines.append(tr("day_overview.close_where", folder=str(report.written[0].parent)))
        sync_key = {
            "done": "day_overview.sync_done",
            "not_configured": "day_overview.sync_not_configured",
            "failed": "day_overview.sync_failed",
            "skipped": "day_overview.sync_skipped",
        }[report.sync]
        lines.append(tr(sync_key, message=report.sync_message))
        left = ", ".join(
            f"{n} {tr('day_overview.table_' + t)}" for t, n in report.unsynced_after.items() if n
        )
        lines.append(
            tr("day_overview.not_synced", what=left) if left else tr("day_overview.all_synced")
        )
        if report.quarantined_after:
            lines.append(tr("day_overview.quarantined", n=report.quarantined_after))
        result.update("\n".join(lines))
