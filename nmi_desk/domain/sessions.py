"""Information sessions (voorlichtingsbijeenkomsten): many people at once, counted apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.core.validation import MAX_ATTENDEES, FieldError, ValidationError, check_code
from nmi_desk.domain import audit
from nmi_desk.domain.context import Context
from nmi_desk.domain.reference.files import Reference
from nmi_desk.store.models import InfoSession, InfoSessionTopic


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


def create_info_session(ctx: Context, inp: InfoSessionInput) -> str:
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    errors = validate_info_session(inp, ctx.reference)
    if errors:
        raise ValidationError(errors)
    with Session(engine) as session:
        row = InfoSession(
            held_on=inp.held_on,
            attendees=inp.attendees,
            location_code=inp.location_code or None,
            place=(inp.place or "").strip() or None,
            municipality_code=inp.municipality_code or None,
            partner_code=inp.partner_code or None,
            consultant=actor.consultant,
            notes=(inp.notes or "").strip() or None,
            updated_at=to_utc_naive(now),
            device_id=actor.device_id,
        )
        session.add(row)
        session.flush()
        session_id = row.id
        assert session_id is not None  # flushed: the database gave it an id
        for code in dict.fromkeys(inp.topics):
            session.add(InfoSessionTopic(session_id=session_id, topic_code=code))
        audit.record(session, actor, "create", "info_session", row.uuid, now)
        session.commit()
        return row.uuid
