"""What the forms fill in and how it is checked: the inputs of a visit, a referral and an
information session, and their validation against the reference data. Plain dataclasses and
checks, no database: the TUI's main thread uses these (through form_payloads) while workers
import the ORM; two threads importing SQLAlchemy at once can meet it half-made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from nmi_desk.core.validation import (
    MAX_ATTENDEES,
    FieldError,
    check_birth_year,
    check_children,
    check_code,
)
from nmi_desk.domain.reference.files import Reference, shipped_reference
from nmi_desk.store.limits import NAME_MAX, PLACE_MAX

FOLLOW_UP_DAYS = 14


@dataclass
class ReferralInput:
    organisation_code: str
    reason: str | None = None
    note: str | None = None
    follow_up_on: date | None = None
    status: str = "open"
    outcome_note: str | None = None
    uuid: str | None = None  # set when editing an existing referral


@dataclass
class VisitInput:
    location_code: str
    started_at: datetime | None = None  # aware; None = now
    channel: str = "walk-in"
    count_only: bool = False
    came_via: str | None = None
    referred_by: str | None = None
    client_name: str | None = None
    birth_year: int | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    language: str | None = None
    partner_coremigrating: bool | None = None
    children_coremigrating: int | None = None
    outcome: str | None = None
    notes: str | None = None
    topics: list[str] = field(default_factory=list)
    referrals: list[ReferralInput] = field(default_factory=list)
    # The returning client this visit continues (nmi_desk.domain.clients); a named visit without one
    # registers a new client.
    client_uuid: str | None = None


PERSONAL_FIELDS = (
    "client_name",
    "birth_year",
    "origin_country",
    "destination_country",
    "language",
    "partner_coremigrating",
    "children_coremigrating",
    "notes",
)


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def validate_visit(inp: VisitInput, today: date, ref: Reference | None = None) -> list[FieldError]:
    ref = ref or shipped_reference()
    checks = [
        check_code("location_code", inp.location_code or None, ref.location_codes()),
        check_code("channel", inp.channel, ref.list_codes("channel")),
        check_code("came_via", inp.came_via, ref.list_codes("came_via")),
        check_code("referred_by", inp.referred_by, ref.organisation_codes()),
        check_code("origin_country", inp.origin_country, ref.country_codes()),
        check_code("destination_country", inp.destination_country, ref.country_codes()),
        check_code("language", inp.language, ref.list_codes("language")),
        check_code("outcome", inp.outcome, ref.list_codes("outcome")),
        check_birth_year(inp.birth_year, today),
        check_children(inp.children_coremigrating),
    ]
    errors = [e for e in checks if e]
    if len(inp.client_name or "") > NAME_MAX:
        errors.append(FieldError("client_name", "error.too_long", {"max": NAME_MAX}))
    if not inp.location_code:
        errors.append(FieldError("location_code", "error.required"))
    topics = ref.topic_codes()
    for code in inp.topics:
        if code not in topics:
            errors.append(FieldError("topics", "error.unknown_code", {"code": code}))
    orgs = ref.organisation_codes()
    statuses = ref.list_codes("referral_status")
    for r in inp.referrals:
        if r.organisation_code not in orgs:
            errors.append(
                FieldError("referrals", "error.unknown_code", {"code": r.organisation_code})
            )
        if r.status not in statuses:
            errors.append(FieldError("referrals", "error.unknown_code", {"code": r.status}))
    if inp.count_only and any(
        getattr(inp, f) not in (None, "") for f in (*PERSONAL_FIELDS, "client_uuid")
    ):
        errors.append(FieldError("count_only", "error.count_only_personal"))
    return errors


MAX_PEOPLE = 99  # a count-only entry for more than this is an information session


@dataclass
class InfoSessionInput:
    held_on: date
    attendees: int = 0
    location_code: str | None = None
    place: str | None = None
    municipality_code: str | None = None  # CBS code from data/municipalities.toml
    partner_code: str | None = None
    topics: list[str] = field(default_factory=list)
    notes: str | None = None


def validate_info_session(inp: InfoSessionInput, ref: Reference) -> list[FieldError]:
    errors = [
        e
        for e in (
            check_code("location_code", inp.location_code, ref.location_codes()),
            check_code("partner_code", inp.partner_code, ref.organisation_codes()),
            check_code("municipality_code", inp.municipality_code, ref.municipality_codes()),
        )
        if e
    ]
    ended = ref.by_code("municipalities").get(inp.municipality_code or "")
    if ended is not None and not ended.valid_on(inp.held_on):
        errors.append(_municipality_not_then(ended, inp.held_on, ref))
    if len(inp.place or "") > PLACE_MAX:
        errors.append(FieldError("place", "error.too_long", {"max": PLACE_MAX}))
    if not 0 <= inp.attendees <= MAX_ATTENDEES:
        errors.append(FieldError("attendees", "error.attendees_range", {"max": MAX_ATTENDEES}))
    known = ref.topic_codes()
    errors += [
        FieldError("topics", "error.unknown_code", {"code": c})
        for c in inp.topics
        if c not in known
    ]
    return errors


def _municipality_not_then(entry, day: date, ref: Reference) -> FieldError:
    """A municipality that did not exist on the session's day: say when it ended (or began)
    and which one took its place, so the consultant picks that one."""
    until, since = entry.extra.get("valid_until"), entry.extra.get("valid_from")
    successor = ref.by_code("municipalities").get(entry.successor or "")
    if isinstance(until, date) and day > until:
        return FieldError(
            "municipality_code",
            "walkin.municipality_ended",
            {
                "name": entry.nl,
                "until": until.strftime("%d-%m-%Y"),
                "successor": successor.nl if successor else "—",
            },
        )
    return FieldError(
        "municipality_code",
        "walkin.municipality_not_yet",
        {"name": entry.nl, "since": since.strftime("%d-%m-%Y") if isinstance(since, date) else "?"},
    )
