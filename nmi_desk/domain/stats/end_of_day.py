"""The end of the day: the overview of a period and the end-of-day close.

Domain only (no Textual): the Day overview screen calls these; `nmi-desk export` shares the
statistics and the audit of an export with the close.
The overview is the statistics of stats.compute_stats plus what still needs attention: open
follow-ups, records not yet synced and records the central side refused (quarantined).
The close writes the export files to a folder, starts a sync when a target is configured
(nmi_desk.sync) and reports what was written and what did not sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import platformdirs

from nmi_desk.core.errors import UserError, os_reason
from nmi_desk.domain import follow_up_rule
from nmi_desk.domain.audit import record_desk_export
from nmi_desk.domain.stats.compute import (
    FORMATS,
    _Runner,
    check_format,
    compute_stats,
    open_source,
    write_export,
)
from nmi_desk.domain.stats.compute import suppress_small as hide
from nmi_desk.domain.stats.period import Period
from nmi_desk.sync import resolve_target, run_sync
from nmi_desk.sync.tables import COUNTED_TABLES


@dataclass
class Overview:
    period: Period
    location: str | None
    stats: dict
    due_follow_ups: int
    overdue_follow_ups: int
    unsynced: dict[str, int]
    quarantined: int

    @property
    def unsynced_total(self) -> int:
        return sum(self.unsynced.values())


def attention(source, today: date) -> tuple[int, int, dict[str, int], int]:
    """Due and overdue follow-ups (domain.follow_up_rule), unsynced records, quarantined records (this database).

    The Overview's second half: it counts every unsynced record and open follow-up, so on a
    laptop that never synced a year of visits it costs more than the figures themselves; the
    Day overview shows the figures first and this line when it arrives."""
    run = _Runner(source)
    with run.connection() as conn:
        # Follow-ups are the consultant's across every location (as on the Today screen).
        due, overdue = run.rows(
            conn, follow_up_rule.COUNTS_SQL, follow_up_rule.today_param(today, run.dialect)
        )[0]
        unsynced = {
            table: int(
                run.rows(
                    conn,
                    # The partial indexes of migration 51 hold exactly these rows.
                    f"SELECT count(*) FROM {table} WHERE revision > synced_revision",  # noqa: S608
                    {},
                )[0][0]
            )
            for table in COUNTED_TABLES  # the same records as Today's count
        }
        quarantined = int(run.rows(conn, "SELECT count(*) FROM sync_quarantine", {})[0][0])
    return int(due), int(overdue), unsynced, quarantined


def load_overview(source, period: Period, location: str | None, today: date) -> Overview:
    """Everything the Day overview shows, from a stats source (see stats.open_source)."""
    stats = compute_stats(source, period.first, period.last, location)
    due, overdue, unsynced, quarantined = attention(source, today)
    return Overview(period, location, stats, due, overdue, unsynced, quarantined)


# ---- the end-of-day close ----


def default_folder() -> Path:
    """The user's documents folder (platformdirs), where the consultant finds the files; if
    that folder does not exist (a fresh account, a server), the home folder, else the
    current one: the dialog never proposes a folder that is not there."""

    for candidate in (Path(platformdirs.user_documents_dir()), Path.home()):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


def export_name(period: Period, location: str | None, fmt: str) -> str:
    days = f"{period.first}" if period.first == period.last else f"{period.first}_{period.last}"
    return f"nmi-statistics-{location or 'all'}-{days}.{fmt}"


@dataclass
class CloseReport:
    overview: Overview
    written: list[Path] = field(default_factory=list)
    sync: str = "not_configured"  # done / not_configured / failed / skipped
    sync_message: str = ""
    unsynced_after: dict[str, int] = field(default_factory=dict)
    quarantined_after: int = 0


def _sync(desk) -> tuple[str, str]:
    """Start a sync when a target is configured (nmi_desk.sync); (state, one-line message)."""

    try:
        target = resolve_target(None, desk.settings.sync_target)
    except UserError:
        return "not_configured", ""
    try:
        report = run_sync(desk.engine(), target, desk.now)
    except UserError as exc:
        return "failed", str(exc)
    return "done", report.summary()


def close_day(
    desk,
    period: Period,
    location: str | None,
    folder: Path | None = None,
    formats: tuple[str, ...] = FORMATS,
    *,
    suppress: bool = False,
    sync: bool = True,
    sync_runner: Callable[[object], tuple[str, str]] | None = None,
) -> CloseReport:
    """Write the period's statistics to `folder` in each format, sync, report what is left."""

    for fmt in formats:
        check_format(fmt)
    folder = Path(folder).expanduser() if folder else default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError.of(
            "errors.day.cannot_create_folder", folder=folder, reason=os_reason(exc)
        ) from exc
    with open_source(desk.url, desk.key) as source:
        overview = load_overview(source, period, location, desk.today())
    figures = hide(overview.stats) if suppress else overview.stats
    report = CloseReport(overview=overview)

    for fmt in formats:
        report.written.append(
            Path(write_export(figures, fmt, str(folder / export_name(period, location, fmt))))
        )
        record_desk_export(desk, period.first, period.last, fmt)
    if sync:
        report.sync, report.sync_message = (sync_runner or _sync)(desk)
    else:
        report.sync = "skipped"
    with open_source(desk.url, desk.key) as source:
        _, _, report.unsynced_after, report.quarantined_after = attention(source, desk.today())
    return report
