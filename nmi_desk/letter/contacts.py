"""Organisations' contact details (data/organisations.toml) and the check that refuses gaps.

Every organisation names where its details come from (`source`, a deep page of its own site)
and when that page was read (`checked`). A phone number or address is only written down where
that page gives one; the letter then shows what there is, the website at least.

Contact details can be dated: `valid_from` / `valid_until` on the organisation's own details,
and `[[organisation.contacts]]` for details that hold from or until another date (a new
number from a given day), each with its own `source` and `checked`. The letter prints what
holds on its own date; the check warns 60 days before details expire and fails after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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


WARN_DAYS = 60  # as for dated guidance statements


def _holds(details: dict, day: date) -> bool:
    since, until = details.get("valid_from"), details.get("valid_until")
    return not (isinstance(since, date) and day < since) and not (
        isinstance(until, date) and day > until
    )


def _variants(extra: dict) -> list[dict]:
    """The organisation's dated alternatives first, then its own details."""
    dated = [v for v in extra.get("contacts", ()) if isinstance(v, dict)]
    return [*dated, extra]


def contact_for(code: str, on: date | None = None) -> Contact | None:
    """The shipped contact details of an organisation that hold on `on` (default today; the
    central side publishes no contacts)."""
    entry = shipped_reference().by_code("organisations").get(code)
    return None if entry is None else contact_of(entry, on or date.today())


def contact_of(entry, day: date) -> Contact | None:
    """An organisation's contact details that hold on `day` (its dated ones first)."""
    for details in _variants(entry.extra):
        if _holds(details, day):
            return _contact(details)
    return None


def organisation_warnings(organisations, today: date, days: int = WARN_DAYS) -> list[str]:
    """Contact details that expire within `days`: said by the check, not a failure."""
    out = []
    for entry in organisations:
        for details in _variants(entry.extra):
            until = details.get("valid_until")
            if isinstance(until, date) and today <= until < today + timedelta(days=days):
                out.append(
                    f"organisation {entry.code}: contact details expire on {until} "
                    f"(in {(until - today).days} days): check the source page again"
                )
    return out


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


def _schemes(extra: dict) -> tuple[str, ...]:
    """https only, unless the data says the organisation's site serves plain http (`http_only
    = true`, with a comment where that was seen): its address is then printed as it is."""
    return ("https://", "http://") if extra.get("http_only") else ("https://",)


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
        elif extra.get("website") and not str(extra["website"]).startswith(_schemes(extra)):
            problems.append(f"{where}: website must be an https:// address")
        source = str(extra.get("source", ""))
        if not source.startswith(_schemes(extra)):
            problems.append(f"{where}: no source (the https:// page the details come from)")
        checked = extra.get("checked")
        if not isinstance(checked, date):
            problems.append(f"{where}: no checked date (checked = YYYY-MM-DD)")
        elif checked > today:
            problems.append(f"{where}: checked date {checked} is in the future")
        if extra.get("address") and extra.get("by_appointment"):
            problems.append(f"{where}: give an address or by_appointment, not both")
        for n, details in enumerate(_variants(extra)[:-1], 1):
            label = f"{where}, contacts #{n}"
            if not str(details.get("source", "")).startswith("https://"):
                problems.append(f"{label}: no source (the https:// page the details come from)")
            if not isinstance(details.get("checked"), date):
                problems.append(f"{label}: no checked date (checked = YYYY-MM-DD)")
            if not any(isinstance(details.get(k), date) for k in ("valid_from", "valid_until")):
                problems.append(f"{label}: give valid_from and/or valid_until")
        had = any(extra.get(k) for k in ("address", "phone", "website"))
        if had and not any(_holds(d, today) for d in _variants(extra)):
            problems.append(
                f"{where}: no contact details hold on {today} (they expired): "
                "check the source page and date the new details"
            )
    return problems
