"""Referrals across visits: the follow-up list and closing a referral with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import text
from sqlmodel import Session, col, select

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.domain import audit, follow_up_rule
from nmi_desk.domain.context import Actor, Context
from nmi_desk.domain.visits import NotFound
from nmi_desk.store.models import Referral, Visit

CLOSED = ("done", "cancelled")


@dataclass(frozen=True)
class FollowUp:
    uuid: str
    visit_uuid: str
    organisation_code: str
    reason: str | None
    follow_up_on: date | None
    status: str
    client_name: str | None
    visit_date: str
    overdue: bool
    due: bool = False


def open_follow_ups(ctx: Context) -> list[FollowUp]:
    """Open referrals across all days (domain.follow_up_rule), overdue first, then by
    follow-up date; `due` and `overdue` as Today and the Day overview count them."""
    engine, today = ctx.engine, ctx.today()

    with Session(engine) as session:
        rows = session.exec(
            select(Referral, Visit)
            .join(Visit, col(Visit.id) == col(Referral.visit_id))
            .where(text(follow_up_rule.OPEN_FOLLOW_UP))
        ).all()
    items = [
        FollowUp(
            uuid=r.uuid,
            visit_uuid=v.uuid,
            organisation_code=r.organisation_code,
            reason=r.reason,
            follow_up_on=r.follow_up_on,
            status=r.status,
            client_name=v.client_name,
            visit_date=v.local_date,
            overdue=follow_up_rule.is_overdue(r.follow_up_on, today),
            due=follow_up_rule.is_due(r.follow_up_on, today),
        )
        for r, v in rows
    ]
    items.sort(key=lambda f: (not f.overdue, f.follow_up_on or date.max, f.visit_date))
    return items


def close_referral(
    engine, uuid: str, status: str, outcome_note: str | None, actor: Actor, now: datetime
) -> int:
    """Mark a referral done or cancelled with an outcome note; returns its new revision."""

    if status not in CLOSED:
        raise ValueError(f"status must be one of {CLOSED}")
    with Session(engine) as session:
        row = session.exec(select(Referral).where(Referral.uuid == uuid)).first()
        if row is None or row.deleted:
            raise NotFound(uuid)
        row.status = status
        row.outcome_note = (outcome_note or "").strip() or None
        row.closed_at = to_utc_naive(now)
        row.revision += 1
        row.updated_at = to_utc_naive(now)
        row.device_id = actor.device_id

        audit.record(session, actor, "close", "referral", row.uuid, now, detail=status)
        session.commit()
        return row.revision
