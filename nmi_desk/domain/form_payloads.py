"""The forms' content as plain data, and its mapping to the domain's inputs (no Textual here).

A form's content is a "payload": a dict of strings, lists and bools, exactly what its widgets
show and what a draft stores. `payload_to_input` / `session_input` turn a payload into the
domain's VisitInput / InfoSessionInput, with field errors for what cannot even be parsed
(a time, a number, a date); the domain validates the rest.
"""

from __future__ import annotations

from datetime import datetime

from nmi_desk.core.clock import AMS
from nmi_desk.core.dates import parse_date, parse_time
from nmi_desk.core.validation import FieldError
from nmi_desk.domain.inputs import InfoSessionInput, ReferralInput, VisitInput


def empty_payload(now: datetime) -> dict:
    local_now = now.astimezone(AMS)
    return {
        "uuid": None,
        "date": local_now.date().isoformat(),
        "time": local_now.strftime("%H:%M"),
        "client_name": "",
        "birth_year": "",
        "origin_country": "",
        "destination_country": "",
        "language": "",
        "partner": False,
        "children": "",
        "came_via": "",
        "channel": "walk-in",
        "topics": [],
        "referrals": [],
        "notes": "",
        "outcome": "",
        "client_uuid": None,
    }


def referral_payload(r) -> dict:
    return {
        "organisation_code": r.organisation_code,
        "reason": r.reason or "",
        "note": r.note or "",
        "follow_up_on": r.follow_up_on.isoformat() if r.follow_up_on else "",
        "status": r.status,
        "outcome_note": r.outcome_note or "",
        "uuid": r.uuid,
    }


def visit_payload(uuid: str, inp) -> dict:
    started = inp.started_at.astimezone(AMS)
    return {
        "uuid": uuid,
        "date": started.date().isoformat(),
        "time": started.strftime("%H:%M"),
        "client_name": inp.client_name or "",
        "birth_year": "" if inp.birth_year is None else str(inp.birth_year),
        "origin_country": inp.origin_country or "",
        "destination_country": inp.destination_country or "",
        "language": inp.language or "",
        "partner": bool(inp.partner_coremigrating),
        "children": "" if inp.children_coremigrating is None else str(inp.children_coremigrating),
        "came_via": inp.came_via or "",
        "channel": inp.channel or "walk-in",
        "topics": list(inp.topics),
        "referrals": [referral_payload(r) for r in inp.referrals],
        "notes": inp.notes or "",
        "outcome": inp.outcome or "",
        "client_uuid": inp.client_uuid,
    }


def _int(payload: dict, name: str, field: str, errors: list) -> int | None:
    text = (payload.get(name) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        errors.append(FieldError(field, "form.not_a_number"))
        return None


def payload_to_input(payload: dict, location: str):
    """(VisitInput, errors): errors for what cannot even be parsed (time, numbers)."""

    errors: list[FieldError] = []
    started = None
    at = parse_time(payload.get("time") or "")  # 16:55, 1655 or 16.55
    day = parse_date(payload.get("date") or "")
    if at is None or day is None:
        errors.append(FieldError("time", "form.time_invalid"))
    else:
        started = datetime(day.year, day.month, day.day, at.hour, at.minute, tzinfo=AMS)
    referrals = []
    for r in payload.get("referrals", []):
        follow = None
        if r.get("follow_up_on"):
            follow = parse_date(r["follow_up_on"])
            if follow is None:
                errors.append(FieldError("referrals", "walkin.date_invalid"))
        referrals.append(
            ReferralInput(
                organisation_code=r["organisation_code"],
                reason=r.get("reason") or None,
                note=r.get("note") or None,
                follow_up_on=follow,
                status=r.get("status") or "open",
                outcome_note=r.get("outcome_note") or None,
                uuid=r.get("uuid"),
            )
        )
    inp = VisitInput(
        location_code=location,
        started_at=started,
        client_name=payload.get("client_name") or None,
        birth_year=_int(payload, "birth_year", "birth_year", errors),
        origin_country=payload.get("origin_country") or None,
        destination_country=payload.get("destination_country") or None,
        language=payload.get("language") or None,
        partner_coremigrating=True if payload.get("partner") else None,
        children_coremigrating=_int(payload, "children", "children_coremigrating", errors),
        came_via=payload.get("came_via") or None,
        channel=payload.get("channel") or "walk-in",
        topics=list(payload.get("topics", [])),
        referrals=referrals,
        notes=payload.get("notes") or None,
        outcome=payload.get("outcome") or None,
        client_uuid=payload.get("client_uuid") or None,
    )
    return inp, errors


def session_input(payload: dict):
    """(InfoSessionInput | None, errors) from the form's payload."""

    errors = []
    held_on = parse_date(payload.get("held_on") or "")  # DD-MM-YYYY, or YYYY-MM-DD
    if held_on is None:
        errors.append(FieldError("held_on", "walkin.date_invalid"))
    attendees = 0
    text = (payload.get("attendees") or "").strip()
    if text:
        try:
            attendees = int(text)
        except ValueError:
            errors.append(FieldError("attendees", "form.not_a_number"))
    if errors or held_on is None:
        return None, errors
    return (
        InfoSessionInput(
            held_on=held_on,
            attendees=attendees,
            location_code=payload.get("location_code") or None,
            municipality_code=payload.get("municipality_code") or None,
            place=payload.get("place") or None,
            partner_code=payload.get("partner_code") or None,
            topics=list(payload.get("topics", [])),
            notes=payload.get("notes") or None,
        ),
        [],
    )


# What a draft must look like to be put back into its form (a draft of an older version, or
# a damaged one, is set aside instead: nmi_desk.domain.drafts).
_VISIT_TEXT = ("date", "time", "client_name", "birth_year", "children", "notes",
               "origin_country", "destination_country", "language", "came_via", "channel",
               "outcome")  # fmt: skip
_SESSION_TEXT = ("held_on", "place", "attendees", "notes", "municipality_code", "partner_code",
                 "location_code")  # fmt: skip
_REFERRAL_TEXT = ("organisation_code", "reason", "note", "follow_up_on", "status",
                  "outcome_note")  # fmt: skip


def _text_or_none(value) -> bool:
    return value is None or isinstance(value, str)


def _list_of_text(value) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def fits_form(form: str, payload) -> bool:
    """Whether a draft's payload can be shown in its form: every field of the type the form's
    widgets take (text, a list of codes, a yes/no). Unknown keys are ignored."""
    if not isinstance(payload, dict):
        return False
    kind = form.split(":")[0]
    if kind == "session":
        return all(_text_or_none(payload.get(n)) for n in _SESSION_TEXT) and _list_of_text(
            payload.get("topics")
        )
    if kind != "visit":
        return False
    if not all(_text_or_none(payload.get(n)) for n in (*_VISIT_TEXT, "uuid", "client_uuid")):
        return False
    if not isinstance(payload.get("partner", False), bool | None):
        return False
    if not _list_of_text(payload.get("topics")):
        return False
    referrals = payload.get("referrals")
    if referrals is None:
        return True
    return isinstance(referrals, list) and all(
        isinstance(r, dict) and all(_text_or_none(r.get(n)) for n in (*_REFERRAL_TEXT, "uuid"))
        for r in referrals
    )
