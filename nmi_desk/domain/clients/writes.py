"""Writing clients: linking a visit, correctie (the AVG's right to rectification), a
consultant's merge of two records of one person. Every change is audited."""

from __future__ import annotations

from datetime import datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import Session, select

from nmi_desk.core.clock import AMS, to_utc_naive
from nmi_desk.core.names import search_key
from nmi_desk.core.validation import (
    FieldError,
    ValidationError,
    check_birth_year,
    check_children,
    check_code,
)
from nmi_desk.domain import audit
from nmi_desk.domain.clients.base import ClientInput, get_client
from nmi_desk.domain.clients.fields import PERSONAL_CLIENT_FIELDS, STABLE_FIELDS
from nmi_desk.domain.context import Context
from nmi_desk.domain.reference.files import shipped_reference
from nmi_desk.store.limits import NAME_MAX
from nmi_desk.store.models import Client, Visit


def stamp(record, actor, now: datetime) -> None:
    record.revision += 1
    record.updated_at = to_utc_naive(now)
    record.device_id = actor.device_id


def link_visit(session, visit, client_uuid: str | None, actor, now: datetime) -> None:
    """Called by visits.create_visit in its transaction: link to the chosen client (whose
    stable fields take the visit's newer values), or register a new client for a named visit."""

    if visit.count_only or (client_uuid is None and not visit.client_name):
        return
    if client_uuid is not None:
        client = get_client(session, client_uuid)
        before = _fields_of(client)
        if visit.client_name:
            client.name = visit.client_name
        for name in ("birth_year", *STABLE_FIELDS):
            value = getattr(visit, name)
            if value is not None:
                setattr(client, name, value)
        client.search_key = search_key(client.name)
        if _fields_of(client) != before:
            stamp(client, actor, now)
            audit.record(session, actor, "update", "client", client.uuid, now)
    else:
        client = Client(
            name=visit.client_name,
            birth_year=visit.birth_year,
            search_key=search_key(visit.client_name),
            updated_at=to_utc_naive(now),
            device_id=actor.device_id,
            **{f: getattr(visit, f) for f in STABLE_FIELDS},
        )
        session.add(client)
        audit.record(session, actor, "create", "client", client.uuid, now)
    visit.client_uuid = client.uuid


def _fields_of(client) -> tuple:
    return tuple(getattr(client, f) for f in ("name", "birth_year", *STABLE_FIELDS))


def validate_client(inp: ClientInput, today, ref=None) -> list[FieldError]:

    ref = ref or shipped_reference()
    checks = [
        check_code("origin_country", inp.origin_country, ref.country_codes()),
        check_code("destination_country", inp.destination_country, ref.country_codes()),
        check_code("language", inp.language, ref.list_codes("language")),
        check_birth_year(inp.birth_year, today),
        check_children(inp.children_coremigrating),
    ]
    errors = [e for e in checks if e]
    if not (inp.name or "").strip():
        errors.append(FieldError("name", "error.required"))
    elif len(inp.name or "") > NAME_MAX:
        errors.append(FieldError("name", "error.too_long", {"max": NAME_MAX}))
    return errors


def correct_client(ctx: Context, uuid: str, inp: ClientInput) -> int:
    """Correctie: the client record as given; its revision goes up and it syncs."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    errors = validate_client(inp, now.astimezone(AMS).date(), ctx.reference)
    if errors:
        raise ValidationError(errors)
    with Session(engine) as session:
        client = get_client(session, uuid)
        if client.purged_at is not None:  # saving would send blanks over the central copy
            raise ValidationError([FieldError("name", "retention.purged")])
        client.name = " ".join((inp.name or "").replace("\x00", "").split())
        client.birth_year = inp.birth_year
        for name in STABLE_FIELDS:
            setattr(client, name, getattr(inp, name) or None)
        client.search_key = search_key(client.name)
        stamp(client, actor, now)
        audit.record(session, actor, "update", "client", client.uuid, now)
        session.commit()
        return client.revision


def merge_clients(ctx: Context, survivor: str, merged: str) -> int:
    """Two records of one person (the consultant decided): `merged`'s visits move to `survivor`,
    `merged` becomes a tombstone pointing at it. Returns how many visits moved."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    if survivor == merged:
        raise ValidationError([FieldError("merge", "clients.merge_same")])
    with Session(engine) as session:
        keep = get_client(session, survivor)
        gone = get_client(session, merged)
        visits = session.exec(select(Visit).where(Visit.client_uuid == gone.uuid)).all()
        for v in visits:
            v.client_uuid = keep.uuid
            stamp(v, actor, now)
        for name in ("birth_year", *STABLE_FIELDS):  # fill what the survivor lacks
            if getattr(keep, name) is None and getattr(gone, name) is not None:
                setattr(keep, name, getattr(gone, name))
        stamp(keep, actor, now)
        blank_client(gone)
        gone.deleted = True
        gone.merged_into = keep.uuid
        stamp(gone, actor, now)
        audit.record(session, actor, "merge", "client", gone.uuid, now, f"into {keep.uuid}")
        audit.record(session, actor, "update", "client", keep.uuid, now, f"{len(visits)} visits")
        session.commit()
        return len(visits)


def blank_client(client) -> None:
    for name in PERSONAL_CLIENT_FIELDS:
        setattr(client, name, None)
