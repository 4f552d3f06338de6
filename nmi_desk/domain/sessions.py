"""Information sessions (voorlichtingsbijeenkomsten): many people at once, counted apart."""

from __future__ import annotations

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import Session

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.core.validation import ValidationError
from nmi_desk.domain import audit
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import InfoSessionInput, validate_info_session
from nmi_desk.store.models import InfoSession, InfoSessionTopic


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
