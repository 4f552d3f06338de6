"""A period of the day overview and the statistics: a day, an ISO week, a calendar month or
a custom range. Plain dates, no database: the Day overview screen uses it on the TUI's main
thread."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from nmi_desk.core.errors import UserError


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date

    @classmethod
    def around(cls, kind: str, day: date) -> Period:
        """The day, ISO week (Monday-Sunday) or calendar month holding `day`."""
        if kind == "week":
            monday = day - timedelta(days=day.weekday())
            return cls("week", monday, monday + timedelta(days=6))
        if kind == "month":
            days = calendar.monthrange(day.year, day.month)[1]
            return cls("month", day.replace(day=1), day.replace(day=days))
        if kind == "day":
            return cls("day", day, day)
        raise ValueError(f"unknown period kind {kind!r}")

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        if last < first:
            raise UserError.of("errors.day.last_before_first", first=first, last=last)
        return cls("custom", first, last)

    def shift(self, steps: int) -> Period:
        """The previous (-1) or next (+1) period of the same kind."""
        if self.kind == "month":
            month = self.first.month - 1 + steps
            year = self.first.year + month // 12
            return Period.around("month", date(year, month % 12 + 1, 1))
        length = (self.last - self.first).days + 1
        delta = timedelta(days=length * steps)
        return Period(self.kind, self.first + delta, self.last + delta)
