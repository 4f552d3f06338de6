"""Verwijdering (the AVG's right to erasure) and retention: personal fields blanked here, the
erasure carried to the central database and other laptops by sync."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import text
from sqlmodel import Session, col, delete, select

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.core.config import DB_NAME
from nmi_desk.domain import audit
from nmi_desk.domain.clients.base import get_client
from nmi_desk.domain.clients.fields import (
    PERSONAL_CLIENT_FIELDS,
    REFERRAL_ERASED,
    STABLE_FIELDS,
    VISIT_ERASED,
)
from nmi_desk.domain.clients.writes import blank_client, stamp
from nmi_desk.domain.context import Context
from nmi_desk.domain.copies import erase_files, names_client, purge_copies
from nmi_desk.store.models import Draft, Referral, SyncConflict, SyncQuarantine, Visit


@dataclass
class Erasure:
    visits: int
    referrals: int
    drafts: int = 0  # unsaved drafts naming the client, removed
    files: list[str] = field(default_factory=list)  # inzage documents, letters, backups removed
    files_left: list[str] = field(default_factory=list)  # could not be removed: say so


def erase_client(ctx: Context, uuid: str) -> Erasure:
    """Verwijdering: the client's personal fields go, here now, centrally at the next sync
    (the blanked records carry a higher revision), on other laptops at their next pull.
    Counts by code stay (day, location, topics, organisations, countries, outcome)."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    with Session(engine) as session:
        if _sqlite(engine):  # freed cells are zeroed, not left readable in the file
            session.connection().exec_driver_sql("PRAGMA secure_delete = ON")
        client = get_client(session, uuid)
        visits = session.exec(select(Visit).where(Visit.client_uuid == client.uuid)).all()
        # Every spelling this laptop holds, to find copies that name the client without
        # its record id (an unlinked draft, a document).
        names = sorted({n for n in [client.name, *(v.client_name for v in visits)] if n})
        n_ref = 0
        for v in visits:
            for name in VISIT_ERASED:
                setattr(v, name, None)
            stamp(v, actor, now)
            for r in session.exec(select(Referral).where(Referral.visit_id == v.id)).all():
                for name in REFERRAL_ERASED:
                    setattr(r, name, None)
                stamp(r, actor, now)
                n_ref += 1
        # Records merged into this one earlier are tombstones already; they hold no fields.
        blank_client(client)
        for name in STABLE_FIELDS:
            setattr(client, name, None)
        client.deleted = True
        client.erased_at = to_utc_naive(now)
        stamp(client, actor, now)
        visit_uuids = [v.uuid for v in visits]
        drafts = _scrub_local(session, client.uuid, visit_uuids, names)
        conn = session.connection()
        removed, left = erase_files(conn, ctx.data_dir, client.uuid, visit_uuids, names)
        audit.record(session, actor, "erase", "client", client.uuid, now,
                     f"{len(visits)} visits, {n_ref} referrals")  # fmt: skip
        session.commit()
    if ctx.data_dir is not None and _sqlite(engine):
        # Whole older copies of the database (an upgrade's backup, an interrupted re-key)
        # hold the client as it was.
        removed += [str(ctx.data_dir / n) for n in purge_copies(ctx.data_dir / DB_NAME)]
    compact(engine)
    return Erasure(len(visits), n_ref, drafts, removed, left)


def _sqlite(engine) -> bool:
    return engine.dialect.name == "sqlite"


def _scrub_local(session, client_uuid: str, visit_uuids: list[str], names: list[str]) -> int:
    """Copies of the personal fields elsewhere in the database (nmi_desk.domain.copies): the
    losing versions kept by sync conflicts, quarantine entries, and every draft of the
    client's visits or naming the client, by record id or by name (an unsaved new visit is
    not linked yet). Returns how many drafts went."""

    uuids = [client_uuid, *visit_uuids]
    session.exec(delete(SyncConflict).where(col(SyncConflict.record_uuid).in_(uuids)))
    session.exec(delete(SyncQuarantine).where(col(SyncQuarantine.record_uuid).in_(uuids)))
    forms = {f"visit:{u}" for u in visit_uuids}
    gone = 0
    for draft in session.exec(select(Draft)).all():
        if draft.form in forms or names_client(draft.payload or "", client_uuid, names):
            session.delete(draft)
            gone += 1
    return gone


def compact(engine) -> None:
    """Freed pages out of the file: VACUUM rewrites it, the WAL is truncated (SQLite only)."""
    if not _sqlite(engine):
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if driver.in_transaction:
            driver.commit()
        driver.execute("VACUUM")
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def purge_clients(conn, now: datetime) -> int:
    """Clients whose every visit lost its personal fields (nmi_desk.domain.retention) lose theirs too;
    local only, like the visits' purge. Runs inside retention.purge's transaction."""

    stamp = to_utc_naive(now).strftime("%Y-%m-%d %H:%M:%S")
    blank = ", ".join(f"{name} = NULL" for name in PERSONAL_CLIENT_FIELDS)
    due = (
        "c.purged_at IS NULL AND c.deleted = 0 AND c.revision = c.synced_revision "
        "AND EXISTS (SELECT 1 FROM visit v WHERE v.client_uuid = c.uuid) "
        "AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.client_uuid = c.uuid "
        "AND v.deleted = 0 AND v.purged_at IS NULL)"
    )
    return conn.execute(
        text(
            f"UPDATE client SET {blank}, purged_at = :now WHERE id IN "  # noqa: S608
            f"(SELECT c.id FROM client c WHERE {due})"
        ),  # fmt: skip
        {"now": stamp},
    ).rowcount
