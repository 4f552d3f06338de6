"""Field checks shared by the CLI, the TUI and the demo generator (no Textual, no database)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from nmi_desk.core.clock import AMS


@dataclass
class FieldError:
    field: str
    key: str  # message-catalog key, e.g. "error.birth_year_range"
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class ValidationError(Exception):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.key}" for e in errors))


MIN_BIRTH_YEAR = 1900
MAX_CHILDREN = 20
MAX_ATTENDEES = 5000


def parse_iso_date(value: str) -> date:
    """The one way a typed date is read: exactly YYYY-MM-DD (surrounding blanks ignored), else
    ValueError. Python's fromisoformat alone also takes '20260310' and week dates."""
    text = value.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
    return date.fromisoformat(text)


def check_birth_year(year: int | None, today: date) -> FieldError | None:
    if year is None:
        return None
    if not MIN_BIRTH_YEAR <= year <= today.year:
        return FieldError(
            "birth_year", "error.birth_year_range", {"min": MIN_BIRTH_YEAR, "max": today.year}
        )
    return None


def check_children(count: int | None) -> FieldError | None:
    if count is None:
        return None
    if not 0 <= count <= MAX_CHILDREN:
        return FieldError("children_coremigrating", "error.children_range", {"max": MAX_CHILDREN})
    return None


def check_code(field_name: str, code: str | None, known: set[str]) -> FieldError | None:
    if code is None or code == "":
        return None
    if code not in known:
        return FieldError(field_name, "error.unknown_code", {"code": code})
    return None


# A time typed a little ahead of the clock is a laptop's clock or a rounded time, not a doubt.
LATER_THAN_NOW_GRACE = timedelta(minutes=2)


def doubt_later_than_now(started_at: datetime | None, now: datetime) -> FieldError | None:
    """A visit's time later than now: allowed (a visit typed in ahead, a wrong clock) but asked
    about once before saving; "16:55" at 14:14 is more often a typo for 15:55 or 14:55."""
    if started_at is None or started_at <= now + LATER_THAN_NOW_GRACE:
        return None
    return FieldError(
        "time",
        "walkin.later_than_now",
        {
            "time": started_at.astimezone(AMS).strftime("%H:%M"),
            "now": now.astimezone(AMS).strftime("%H:%M"),
        },
    )
