"""Dates and times as the consultant reads and types them (no Textual, no database).

On screen a date is DD-MM-YYYY, the Dutch way; input also takes YYYY-MM-DD (what a script or
an earlier version wrote) and D-M-YYYY. A time is HH:MM; typing 1655, 16.55 or 9:5 works too.
"""

from __future__ import annotations

import re
from datetime import date, time

from nmi_desk.core.validation import parse_iso_date

SCREEN_DATE = "%d-%m-%Y"
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{1,2})|(\d{2}))?$")


def format_date(day: date | None) -> str:
    return day.strftime(SCREEN_DATE) if day else ""


def screen_date(stored: str | None) -> str:
    """A date kept as text (YYYY-MM-DD, as records and JSON hold it) the way the screen shows
    it; text that is not a date is shown as it is."""
    day = parse_date(stored or "")
    return format_date(day) if day else (stored or "")


def parse_date(text: str) -> date | None:
    """DD-MM-YYYY (also with / or .) or YYYY-MM-DD; None if it is not a date."""

    text = (text or "").strip()
    try:
        if m := _DMY.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        return parse_iso_date(text)  # the one YYYY-MM-DD reader
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    """HH:MM, H:MM, HH.MM, HHMM or HH; None if it is not a time of day."""
    text = (text or "").strip()
    m = _TIME.match(text)
    if not m:
        return None
    if m[3] is not None:  # "1655"
        hour, minute = int(text[:-2]), int(m[3])
    else:
        hour, minute = int(m[1]), int(m[2] or 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
