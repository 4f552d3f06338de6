"""What "follow-up due" and "overdue" mean: the one definition every screen and command uses.

A follow-up is a referral with status open, not deleted, of a visit not deleted. It is *due*
when its follow-up date is today or earlier, *overdue* when that date is before today. A
referral without a follow-up date is open but never due.

Plain module (no SQLAlchemy): Today reads through sqlite3 on the start-up path, the Day
overview through `stats.compute._Runner` (SQLite or PostgreSQL), the Follow-ups list through
the ORM; all three take the SQL condition or the predicates below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Table names, not aliases, so the same text serves a raw query and an ORM select of
# Referral joined with Visit (`.where(text(OPEN_FOLLOW_UP))`). FALSE is read by SQLite and
# PostgreSQL alike.
OPEN_FOLLOW_UP = "referral.status = 'open' AND referral.deleted = FALSE AND visit.deleted = FALSE"
OPEN_FOLLOW_UP_FROM = "FROM referral JOIN visit ON visit.id = referral.visit_id"
DUE = "referral.follow_up_on <= :today"
OVERDUE = "referral.follow_up_on < :today"

COUNTS_SQL = (
    f"SELECT coalesce(sum(CASE WHEN {DUE} THEN 1 ELSE 0 END), 0), "  # noqa: S608 - constants
    f"coalesce(sum(CASE WHEN {OVERDUE} THEN 1 ELSE 0 END), 0) "
    f"{OPEN_FOLLOW_UP_FROM} WHERE {OPEN_FOLLOW_UP}"
)


@dataclass(frozen=True)
class FollowUpCounts:
    due: int
    overdue: int


def is_due(follow_up_on: date | None, today: date) -> bool:
    return follow_up_on is not None and follow_up_on <= today


def is_overdue(follow_up_on: date | None, today: date) -> bool:
    return follow_up_on is not None and follow_up_on < today


def today_param(today: date, dialect: str = "sqlite") -> dict:
    """The :today parameter: a date for PostgreSQL, ISO text for SQLite (how it stores dates)."""
    return {"today": today if dialect == "postgresql" else today.isoformat()}


def counts_from_row(row) -> FollowUpCounts:
    due, overdue = row
    return FollowUpCounts(int(due), int(overdue))
