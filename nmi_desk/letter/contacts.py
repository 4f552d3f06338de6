"""Organisations' contact details (data/organisations.toml) and the check that refuses gaps.

Every organisation names where its details come from (`source`, a deep page of its own site)
and when that page was read (`checked`). A phone number or address is only written down where
that page gives one; the letter then shows what there is, the website at least.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nmi_desk.domain.reference.files import shipped_reference


@dataclass(frozen=True)
class Contact:
    address: str | None  # visiting address, lines separated by newlines
    by_appointment: bool  # no walk-in desk: the client makes an appointment first
    phone: str | None
    website: str | None
    source: str
    checked: date | None


def _text(value) -> str | None:
    return str(value).strip() or None if value is not None else None


def contact_for(code: str) -> Contact | None:
    """The shipped contact details of an organisation (the central side publishes no contacts)."""

    entry = shipped_reference().by_code("organisations").get(code)
    if entry is None:
        return None
    return _contact(entry.extra)


def _contact(extra: dict) -> Contact | None:
    if not any(extra.get(k) for k in ("address", "phone", "website")):
        return None
    checked = extra.get("checked")
    return Contact(
        address=_text(extra.get("address")),
        by_appointment=bool(extra.get("by_appointment", False)),
        phone=_text(extra.get("phone")),
        website=_text(extra.get("website")),
        source=str(extra.get("source", "")),
        checked=checked if isinstance(checked, date) else None,
    )


def check_organisations(organisations, today: date) -> list[str]:
    """Problems in the organisations' contact details, one line each (empty: all fine)."""
    problems = []
    for entry in organisations:
        extra = entry.extra
        where = f"organisation {entry.code}"
        if not extra.get("website") and not extra.get("own"):
            problems.append(
                f"{where}: no website (every letter shows at least the website; "
                "own = true for the client's own insurer, fund or municipality)"
            )
        elif extra.get("website") and not str(extra["website"]).startswith("https://"):
            problems.append(f"{where}: website must be an https:// address")
        source = str(extra.get("source", ""))
        if not source.startswith("https://"):
            problems.append(f"{where}: no source (the https:// page the details come from)")
        checked = extra.get("checked")
        if not isinstance(checked, date):
            problems.append(f"{where}: no checked date (checked = YYYY-MM-DD)")
        elif checked > today:
            problems.append(f"{where}: checked date {checked} is in the future")
        if extra.get("address") and extra.get("by_appointment"):
            problems.append(f"{where}: give an address or by_appointment, not both")
    return problems
