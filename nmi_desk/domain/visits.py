"""Visits: register, edit, tombstone, read. Called by the CLI, the TUI and the demo alike."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from nmi_desk.core.clock import AMS, local, to_utc_naive
from nmi_desk.core.validation import (
    FieldError,
    ValidationError,
)
from nmi_desk.domain import audit
from nmi_desk.domain.clients.writes import link_visit
from nmi_desk.domain.context import Actor, Context
from nmi_desk.domain.inputs import (
    FOLLOW_UP_DAYS,
    MAX_PEOPLE,
    ReferralInput,
    VisitInput,
    _clean_text,
    validate_visit,
)
from nmi_desk.domain.reference.files import Reference
from nmi_desk.store.models import Referral, Visit, VisitTopic


def _apply_fields(visit, inp: VisitInput, now: datetime) -> None:
    started = inp.started_at or now
    visit.started_at = to_utc_naive(started)
    stamp = started.astimezone(AMS)
    visit.local_date = stamp.date().isoformat()
    visit.local_hour = stamp.hour
    for name in (
        "location_code",
        "channel",
        "count_only",
        "came_via",
        "referred_by",
        "birth_year",
        "origin_country",
        "destination_country",
        "language",
        "partner_coremigrating",
        "children_coremigrating",
        "outcome",
    ):
        setattr(visit, name, getattr(inp, name) if getattr(inp, name) != "" else None)
    visit.client_name = _clean_text(inp.client_name)
    visit.notes = _clean_text(inp.notes)


def _stamp(record, actor: Actor, now: datetime, bump: bool) -> None:
    if bump:
        record.revision += 1
    record.updated_at = to_utc_naive(now)
    record.device_id = actor.device_id


def _new_referral(visit_id: int, r: ReferralInput, actor: Actor, now: datetime):

    row = Referral(
        visit_id=visit_id,
        organisation_code=r.organisation_code,
        updated_at=to_utc_naive(now),
        device_id=actor.device_id,
    )
    _apply_referral(row, r, now)
    return row


def _apply_referral(row, r: ReferralInput, now: datetime) -> None:
    row.organisation_code = r.organisation_code
    row.reason = _clean_text(r.reason)
    row.note = _clean_text(r.note)
    row.follow_up_on = r.follow_up_on or (
        now.astimezone(AMS).date() + timedelta(days=FOLLOW_UP_DAYS)
    )
    if r.status != row.status:
        row.closed_at = None if r.status == "open" else to_utc_naive(now)
    row.status = r.status
    row.outcome_note = _clean_text(r.outcome_note)


REFERRAL_CONTENT = ("organisation_code", "reason", "note", "follow_up_on", "status", "outcome_note")


def _referral_content(row) -> tuple:
    """What an edit of a referral can change: a save that changes none of it bumps nothing."""
    return tuple(getattr(row, name) for name in REFERRAL_CONTENT)


def _raise_if_invalid(inp: VisitInput, now: datetime, ref: Reference) -> None:
    errors = validate_visit(inp, now.astimezone(AMS).date(), ref)
    if errors:
        raise ValidationError(errors)


def create_visit(ctx: Context, inp: VisitInput) -> str:
    """Store a new visit with its topics and referrals in one transaction; returns its UUID."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    _raise_if_invalid(inp, now, ctx.reference)
    with Session(engine) as session:
        uuid = _insert_visit(session, inp, actor, now)
        session.commit()
        return uuid


def _insert_visit(session, inp: VisitInput, actor: Actor, now: datetime) -> str:

    visit = Visit(
        updated_at=to_utc_naive(now),
        device_id=actor.device_id,
        consultant=actor.consultant,
        started_at=to_utc_naive(now),
        local_date="",
        local_hour=0,
        location_code="",
    )
    _apply_fields(visit, inp, now)

    link_visit(session, visit, inp.client_uuid, actor, now)
    session.add(visit)
    session.flush()
    visit_id = visit.id
    assert visit_id is not None  # flushed: the database gave it an id
    for code in dict.fromkeys(inp.topics):
        session.add(VisitTopic(visit_id=visit_id, topic_code=code))
    for r in inp.referrals:
        session.add(_new_referral(visit_id, r, actor, now))
    audit.record(session, actor, "create", "visit", visit.uuid, now)
    return visit.uuid


def create_count_only_visits(ctx: Context, people: int, inp: VisitInput) -> list[str]:
    """`people` count-only visits at once (a family at the counter, a busy quarter of an
    hour): each counts as one visit, with the same time and topics. One transaction."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    inp = replace(inp, count_only=True)
    errors = validate_visit(inp, now.astimezone(AMS).date(), ctx.reference)
    if not 1 <= people <= MAX_PEOPLE:
        errors.insert(0, FieldError("people", "walkin.people_range", {"max": MAX_PEOPLE}))
    if errors:
        raise ValidationError(errors)
    with Session(engine) as session:
        uuids = [_insert_visit(session, inp, actor, now) for _ in range(people)]
        session.commit()
        return uuids


class NotFound(LookupError):
    pass


def _get_visit(session, uuid: str):

    visit = session.exec(select(Visit).where(Visit.uuid == uuid)).first()
    if visit is None or visit.deleted:
        raise NotFound(uuid)
    return visit


def update_visit(ctx: Context, uuid: str, inp: VisitInput) -> int:
    """Replace a visit's fields, topics and referrals; its revision goes up. Returns the revision."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    _raise_if_invalid(inp, now, ctx.reference)
    with Session(engine) as session:
        visit = _get_visit(session, uuid)
        if visit.purged_at is not None:  # saving would overwrite the central copy with blanks
            raise ValidationError([FieldError("client_name", "retention.purged")])
        consultant = visit.consultant
        _apply_fields(visit, inp, now)
        visit.consultant = consultant  # the visit stays with who registered it
        if inp.client_uuid and inp.client_uuid != visit.client_uuid:
            from nmi_desk.domain.clients.writes import link_visit

            link_visit(session, visit, inp.client_uuid, actor, now)
        _stamp(visit, actor, now, bump=True)
        session.exec(delete(VisitTopic).where(VisitTopic.visit_id == visit.id))
        for code in dict.fromkeys(inp.topics):
            session.add(VisitTopic(visit_id=visit.id, topic_code=code))
        existing = {
            r.uuid: r
            for r in session.exec(select(Referral).where(Referral.visit_id == visit.id)).all()
            if not r.deleted
        }
        for r in inp.referrals:
            row = existing.pop(r.uuid, None) if r.uuid else None
            if row is None:
                session.add(_new_referral(visit.id, r, actor, now))
            else:
                before = _referral_content(row)
                _apply_referral(row, r, now)
                if before != _referral_content(row):
                    _stamp(row, actor, now, bump=True)
        for row in existing.values():  # dropped from the form: tombstone, never a hard delete
            row.deleted = True
            _stamp(row, actor, now, bump=True)
        audit.record(session, actor, "update", "visit", visit.uuid, now)
        session.commit()
        return visit.revision


def delete_visit(ctx: Context, uuid: str) -> int:
    """Tombstone a visit and its referrals (they sync as deleted). Returns the new revision."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    with Session(engine) as session:
        visit = _get_visit(session, uuid)
        visit.deleted = True
        _stamp(visit, actor, now, bump=True)
        for row in session.exec(select(Referral).where(Referral.visit_id == visit.id)).all():
            if not row.deleted:
                row.deleted = True
                _stamp(row, actor, now, bump=True)
        audit.record(session, actor, "delete", "visit", visit.uuid, now)
        session.commit()
        return visit.revision


@dataclass
class VisitView:
    uuid: str
    revision: int
    consultant: str
    input: VisitInput
    referral_uuids: list[str]


def load_visit(ctx: Context, uuid: str) -> VisitView:
    """A stored visit as the form edits it (times aware, Europe/Amsterdam).

    Viewing personal data is audited: who (`actor`) and when (the desk's `now`)."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    with Session(engine) as session:
        visit = _get_visit(session, uuid)
        topics = session.exec(
            select(VisitTopic.topic_code).where(VisitTopic.visit_id == visit.id)
        ).all()
        rows = session.exec(
            select(Referral)
            .where(
                Referral.visit_id == visit.id,
                col(Referral.deleted).is_(False),
            )  # noqa: E712
            .order_by(col(Referral.id))
        ).all()
        names = {f.name for f in fields(VisitInput)} - {"started_at", "topics", "referrals"}
        inp = VisitInput(
            started_at=local(visit.started_at),
            topics=sorted(topics),
            referrals=[
                ReferralInput(
                    organisation_code=r.organisation_code,
                    reason=r.reason,
                    note=r.note,
                    follow_up_on=r.follow_up_on,
                    status=r.status,
                    outcome_note=r.outcome_note,
                    uuid=r.uuid,
                )
                for r in rows
            ],
            **{n: getattr(visit, n) for n in names},
        )
        view = VisitView(visit.uuid, visit.revision, visit.consultant, inp, [r.uuid for r in rows])
        audit.record(session, actor, "view", "visit", visit.uuid, now)
        session.commit()
        return view


PREFERRED_FIELDS = ("origin_country", "destination_country", "language", "came_via")


def preferred_choices(
    ctx: Context, location_code: str, most: int = 5, recent: int = 3, since_days: int = 365
) -> dict[str, list[str]]:
    """Per choice field of the walk-in form, the codes to offer first at this location: the
    `most` chosen in the last `since_days`, then the `recent` last used that are not among them.

    Only codes are read (no names or other personal fields), counted in SQL."""
    engine, now = ctx.engine, ctx.now()

    out: dict[str, list[str]] = {}
    since = to_utc_naive(now - timedelta(days=since_days))
    with Session(engine) as session:
        for name in PREFERRED_FIELDS:
            column = getattr(Visit, name)
            mine = (
                Visit.location_code == location_code,
                col(Visit.deleted).is_(False),
                column.is_not(None),
            )
            counted = session.exec(
                select(column, func.count().label("n"))
                .where(*mine, Visit.started_at >= since)
                .group_by(column)
                .order_by(func.count().desc(), column)
                .limit(most)
            ).all()
            codes = [code for code, _ in counted]
            last = session.exec(
                select(column).where(*mine).order_by(col(Visit.started_at).desc()).limit(recent * 4)
            ).all()
            for code in last:
                if code not in codes and len(codes) < most + recent:
                    codes.append(code)
            out[name] = codes
    return out
