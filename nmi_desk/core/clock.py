"""Time in one place: stored times are UTC, days are Europe/Amsterdam days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def to_utc_naive(moment: datetime) -> datetime:
    """Aware -> naive UTC, the form the database holds (portable across SQLite and PostgreSQL)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return moment.astimezone(UTC).replace(tzinfo=None)


def local(moment_utc_naive: datetime) -> datetime:
    return moment_utc_naive.replace(tzinfo=UTC).astimezone(AMS)


def local_today(clock: Clock) -> date:
    return clock().astimezone(AMS).date()
