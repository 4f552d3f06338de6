"""The audit trail: which consultant created, edited, viewed, exported or deleted which record, when.

Written by the domain functions inside their own transaction (one `record` call), so the CLI and
the TUI are audited alike. Every function here requires the actor (consultant and device) and
the desk's clock: a row that cannot say who and when is refused, not written as "unknown".
Rows are append-only (triggers refuse edits of their content and
deletes; only the sync bookkeeping may change) and sync with the records. They never hold
personal data: codes, UUIDs, initials and a short non-personal detail (e.g. an export period).
"""

from __future__ import annotations

import uuid as uuid_mod
from datetime import datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import col

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.store.connect import connect_sqlite
from nmi_desk.store.models import AuditEvent, new_uuid

ACTIONS = (
    "create",
    "update",
    "view",
    "delete",
    "close",
    "export",
    "purge",
    "letter",
    "merge",
    "erase",
)


def _who_and_when(actor, now: datetime | None, action: str) -> datetime:
    """The row's time; refuses a row without its actor or the desk's time."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None or not actor.consultant or not actor.device_id:
        raise ValueError(f"audit {action}: the consultant and device are required")
    if now is None:
        raise ValueError(f"audit {action}: the desk's time is required")
    return to_utc_naive(now)


def record(
    session,
    actor,
    action: str,
    table: str,
    uuid: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Add one audit row to the caller's session; it commits with the caller's change."""

    stamp = _who_and_when(actor, now, action)
    session.add(
        AuditEvent(
            at=stamp,
            consultant=actor.consultant[:16],
            action=action,
            table_name=table,
            record_uuid=uuid,
            detail=detail,
            updated_at=stamp,
            device_id=actor.device_id,
        )
    )


def record_now(
    engine,
    actor,
    action: str,
    table: str,
    uuid: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """For callers without a session of their own (statistics export): its own transaction."""
    from sqlmodel import Session

    with Session(engine) as session:
        record(session, actor, action, table, uuid, now, detail)
        session.commit()


def events(engine, record_uuid: str | None = None) -> list:
    """The trail, oldest first (optionally of one record)."""
    from sqlmodel import Session, select

    with Session(engine) as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if record_uuid is not None:
            query = query.where(AuditEvent.record_uuid == record_uuid)
        return list(session.exec(query).all())


def record_many(conn, actor, action: str, table: str, uuids: list[str], now, detail=None) -> None:
    """One row per record in one statement, on a Core connection inside the caller's transaction."""
    from sqlalchemy import insert

    stamp = _who_and_when(actor, now, action)
    base = {
        "at": stamp,
        "consultant": actor.consultant[:16],
        "action": action,
        "table_name": table,
        "detail": detail,
        "updated_at": stamp,
        "device_id": actor.device_id,
        "revision": 1,
        "deleted": False,
        "synced_revision": 0,
    }
    if uuids:
        conn.execute(
            insert(AuditEvent), [{**base, "uuid": new_uuid(), "record_uuid": u} for u in uuids]
        )


def record_export(engine, actor, now, first, last, fmt: str) -> None:
    """A statistics export: no record of its own; the period and format are the detail."""
    record_now(engine, actor, "export", "statistics", None, now, detail=f"{first}..{last} {fmt}")


def record_export_local(path, actor, now, first, last, fmt: str, key=None) -> None:
    """record_export on the laptop's SQLite file through the standard library: the export
    command stays free of the ORM's start-up cost (docs/performance.md, Statistics)."""

    stamp = _who_and_when(actor, now, "export").isoformat(sep=" ")
    conn = connect_sqlite(path, key=key)
    try:
        ready = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_event'"
        ).fetchone()[0]
        if ready:
            with conn:
                conn.execute(
                    "INSERT INTO audit_event (uuid, revision, updated_at, device_id, deleted, "
                    "synced_revision, at, consultant, action, table_name, record_uuid, detail) "
                    "VALUES (?, 1, ?, ?, 0, 0, ?, ?, 'export', 'statistics', NULL, ?)",
                    (
                        str(uuid_mod.uuid4()),
                        stamp,
                        actor.device_id,
                        stamp,
                        actor.consultant[:16],
                        f"{first}..{last} {fmt}",
                    ),
                )
    finally:
        conn.close()
    if not ready:  # an older schema without the trail: migrate, then write
        from nmi_desk.store.engine import open_engine

        engine = open_engine(f"sqlite:///{path}", key=key)
        try:
            record_export(engine, actor, now, first, last, fmt)
        finally:
            engine.dispose()


def record_desk_export(desk, first, last, fmt: str) -> None:
    """An export of this desk's own statistics, by its consultant on its device at the desk's
    time: the CLI's `export` and the end-of-day close both call this."""
    path = desk.database_path
    if path is not None:
        record_export_local(path, desk.actor, desk.now(), first, last, fmt, key=desk.key)
    else:
        record_export(desk.engine(), desk.actor, desk.now(), first, last, fmt)
