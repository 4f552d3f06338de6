"""Field checks shared by the CLI, the TUI and the demo generator (no Textual, no database)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any


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
