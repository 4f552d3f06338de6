"""Database errors as one line for the consultant or the operator."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of the driver's own message (SQLAlchemy wraps it in `orig` and appends
    the statement and a link), or the exception's type when it says nothing."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
