"""Reading one client: every visit and referral, open follow-ups first; a new visit with the
stable fields filled in."""

from __future__ import annotations

from dataclasses import dataclass, field

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import Session, col, select

from nmi_desk.core.clock import local
from nmi_desk.domain import audit
from nmi_desk.domain.clients.base import get_client
from nmi_desk.domain.clients.fields import STABLE_FIELDS
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.store.models import Referral, Visit, VisitTopic


@dataclass
class HistoryReferral:
    uuid: str
    visit_uuid: str
    organisation_code: str
    reason: str | None
    note: str | None
    follow_up_on: str | None
    status: str
    outcome_note: str | None


@dataclass
class HistoryVisit:
    uuid: str
    day: str  # YYYY-MM-DD
    time: str  # HH:MM
    location_code: str
    consultant: str
    channel: str
    topics: list[str]
    outcome: str | None
    notes: str | None
    came_via: str | None
    referrals: list[HistoryReferral] = field(default_factory=list)


@dataclass
class ClientRecord:
    uuid: str
    revision: int
    name: str | None
    birth_year: int | None
    origin_country: str | None
    destination_country: str | None
    language: str | None
    partner_coremigrating: bool | None
    children_coremigrating: int | None
    purged: bool
    updated_at: str


@dataclass
class History:
    client: ClientRecord
    visits: list[HistoryVisit]  # newest first
    open_follow_ups: list[HistoryReferral]  # soonest first: shown on top


def _record(c) -> ClientRecord:
    return ClientRecord(
        uuid=c.uuid,
        revision=c.revision,
        name=c.name,
        birth_year=c.birth_year,
        origin_country=c.origin_country,
        destination_country=c.destination_country,
        language=c.language,
        partner_coremigrating=c.partner_coremigrating,
        children_coremigrating=c.children_coremigrating,
        purged=c.purged_at is not None,
        updated_at=c.updated_at.isoformat(sep=" ", timespec="seconds"),
    )


def build_history(session, client) -> History:

    visits = session.exec(
        select(Visit)
        .where(Visit.client_uuid == client.uuid, col(Visit.deleted).is_(False))
        .order_by(col(Visit.started_at).desc(), col(Visit.id).desc())
    ).all()
    ids = [v.id for v in visits]
    topics: dict[int, list[str]] = {}
    referrals: dict[int, list] = {}
    if ids:
        for vid, code in session.exec(
            select(VisitTopic.visit_id, VisitTopic.topic_code).where(
                col(VisitTopic.visit_id).in_(ids)
            )
        ):
            topics.setdefault(vid, []).append(code)
        for r in session.exec(
            select(Referral)
            .where(col(Referral.visit_id).in_(ids), col(Referral.deleted).is_(False))
            .order_by(col(Referral.id))
        ):
            referrals.setdefault(r.visit_id, []).append(r)
    out = []
    for v in visits:
        started = local(v.started_at)
        out.append(
            HistoryVisit(
                uuid=v.uuid,
                day=v.local_date,
                time=started.strftime("%H:%M"),
                location_code=v.location_code,
                consultant=v.consultant,
                channel=v.channel,
                topics=sorted(topics.get(v.id, [])),
                outcome=v.outcome,
                notes=v.notes,
                came_via=v.came_via,
                referrals=[
                    HistoryReferral(
                        uuid=r.uuid,
                        visit_uuid=v.uuid,
                        organisation_code=r.organisation_code,
                        reason=r.reason,
                        note=r.note,
                        follow_up_on=r.follow_up_on.isoformat() if r.follow_up_on else None,
                        status=r.status,
                        outcome_note=r.outcome_note,
                    )
                    for r in referrals.get(v.id, [])
                ],
            )
        )
    open_ = sorted(
        (r for v in out for r in v.referrals if r.status == "open"),
        key=lambda r: r.follow_up_on or "9999",
    )
    return History(_record(client), out, open_)


def history(ctx: Context, uuid: str) -> History:
    """Everything of one client for the consultant's screen; the view is audited."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    with Session(engine) as session:
        client = get_client(session, uuid)
        result = build_history(session, client)
        audit.record(session, actor, "view", "client", client.uuid, now)
        session.commit()
        return result


def new_visit_input(ctx: Context, uuid: str, location_code: str):
    """A new visit for this client: name, birth year and the stable fields filled in."""
    engine = ctx.engine

    with Session(engine) as session:
        client = get_client(session, uuid)
        return VisitInput(
            location_code=location_code,
            client_uuid=client.uuid,
            client_name=client.name,
            birth_year=client.birth_year,
            **{f: getattr(client, f) for f in STABLE_FIELDS},
        )
