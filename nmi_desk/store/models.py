"""Tables, shared by the counter laptop (SQLite) and the central database (PostgreSQL).

Every record that syncs carries the sync columns of `SyncFields` (docs/sync.md): a UUID made
on the device, a revision counter, updated-at, the device that wrote it and a tombstone.
`synced_revision` is local bookkeeping: the revision the central side has committed.

Times are naive UTC. `local_date`/`local_hour` are the Europe/Amsterdam day and hour of a visit,
written with it, so statistics aggregate in plain SQL on either database.
There is deliberately no BSN field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table
from sqlmodel import Field, SQLModel

from nmi_desk.store.ids import new_uuid
from nmi_desk.store.limits import NAME_MAX, PLACE_MAX

# Naive UTC on both databases: no session-timezone surprises on PostgreSQL.
UTC_TS = DateTime(timezone=False)


class SyncFields(SQLModel):
    uuid: str = Field(default_factory=new_uuid, unique=True, index=True, max_length=36)
    revision: int = Field(default=1)
    updated_at: datetime = Field(sa_type=UTC_TS)
    device_id: str = Field(max_length=64)
    deleted: bool = Field(default=False)
    synced_revision: int = Field(default=0)


class Visit(SyncFields, table=True):
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(index=True, sa_type=UTC_TS)
    local_date: str = Field(max_length=10)  # YYYY-MM-DD, Europe/Amsterdam
    local_hour: int
    location_code: str = Field(max_length=64)
    consultant: str = Field(max_length=16)
    channel: str = Field(default="walk-in", max_length=32)
    count_only: bool = Field(default=False)
    came_via: str | None = Field(default=None, max_length=64)
    referred_by: str | None = Field(default=None, max_length=64)  # organisation code
    # Optional client details: as little as the conversation needs.
    client_name: str | None = Field(default=None, max_length=NAME_MAX)
    birth_year: int | None = None
    origin_country: str | None = Field(default=None, max_length=2)
    destination_country: str | None = Field(default=None, max_length=2)
    language: str | None = Field(default=None, max_length=16)
    partner_coremigrating: bool | None = None
    children_coremigrating: int | None = None
    outcome: str | None = Field(default=None, max_length=32)
    notes: str | None = None
    # Retention (nmi_desk.domain.retention): when the central side committed the latest revision
    # (set by a trigger on the laptop), and when the personal fields were purged locally.
    synced_at: datetime | None = Field(default=None, index=True, sa_type=UTC_TS)
    purged_at: datetime | None = Field(default=None, sa_type=UTC_TS)
    # The client this visit belongs to (nmi_desk.domain.clients); None for anonymous and count-only.
    client_uuid: str | None = Field(default=None, max_length=36)  # ix_visit_client, below
    # Central only: the push transaction that last wrote the row (sync_change; migration 172).
    change_tx: int | None = Field(default=None, sa_type=BigInteger)


class Client(SyncFields, table=True):
    """A returning client: the few stable fields the conversation needs (migration 150).

    `search_key` is the folded, normalised name (nmi_desk.domain.clients.search_key), written with the
    name so search never folds 20,000 names per keystroke. An erased or merged-away client is a
    tombstone (`deleted`) without personal fields; `merged_into` points at the survivor.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=NAME_MAX)
    birth_year: int | None = None
    origin_country: str | None = Field(default=None, max_length=2)
    destination_country: str | None = Field(default=None, max_length=2)
    language: str | None = Field(default=None, max_length=16)
    partner_coremigrating: bool | None = None
    children_coremigrating: int | None = None
    search_key: str | None = Field(default=None, max_length=400)
    merged_into: str | None = Field(default=None, max_length=36)
    erased_at: datetime | None = Field(default=None, sa_type=UTC_TS)
    # Retention (local only, like visit.purged_at): personal fields gone with the last visit's.
    purged_at: datetime | None = Field(default=None, sa_type=UTC_TS)
    change_tx: int | None = Field(default=None, sa_type=BigInteger)  # central only (sync_change)


class ClientChange(SQLModel, table=True):
    """Which client rows changed, in order (triggers on the laptop, migration 150): the client
    search index patches these in instead of rebuilding. Local bookkeeping; never synced."""

    __tablename__ = "client_change"
    seq: int | None = Field(default=None, primary_key=True)
    client_id: int


class VisitTopic(SQLModel, table=True):
    """A topic discussed on a visit. Travels with its visit; no sync columns of its own."""

    __tablename__ = "visit_topic"
    visit_id: int = Field(foreign_key="visit.id", primary_key=True, ondelete="CASCADE")
    topic_code: str = Field(primary_key=True, max_length=64)


class Referral(SyncFields, table=True):
    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True, ondelete="CASCADE")
    organisation_code: str = Field(max_length=64)
    reason: str | None = None
    note: str | None = None
    follow_up_on: date | None = Field(default=None, index=True)
    status: str = Field(default="open", max_length=16)  # open / done / cancelled
    outcome_note: str | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTC_TS)
    change_tx: int | None = Field(default=None, sa_type=BigInteger)  # central only (sync_change)


class InfoSession(SyncFields, table=True):
    """A voorlichtingsbijeenkomst: many people at once, counted apart from visits."""

    __tablename__ = "info_session"
    id: int | None = Field(default=None, primary_key=True)
    held_on: date = Field(index=True)
    location_code: str | None = Field(default=None, max_length=64)
    place: str | None = Field(default=None, max_length=PLACE_MAX)
    municipality_code: str | None = Field(default=None, max_length=8)  # CBS "GM0150"
    partner_code: str | None = Field(default=None, max_length=64)  # organisation code
    consultant: str = Field(max_length=16)
    attendees: int = 0
    notes: str | None = None


class InfoSessionTopic(SQLModel, table=True):
    __tablename__ = "info_session_topic"
    session_id: int = Field(foreign_key="info_session.id", primary_key=True, ondelete="CASCADE")
    topic_code: str = Field(primary_key=True, max_length=64)


# Reference tables: loaded from data/*.toml (and later pulled from the central side).
class RefFields(SQLModel):
    code: str = Field(primary_key=True, max_length=64)
    label_nl: str
    label_en: str = ""
    revision: int = 1


class Topic(RefFields, table=True):
    parent: str | None = Field(default=None, max_length=64)
    synonyms: str = ""  # "|"-separated


class Organisation(RefFields, table=True):
    handles: str = ""


class Location(RefFields, table=True):
    opens: str = "09:00"
    closes: str = "17:00"


class Country(RefFields, table=True):
    pass


class GuidanceArticle(SQLModel, table=True):
    """Guidance published centrally (pulled by sync); newer revisions override the shipped file."""

    __tablename__ = "guidance_article"
    slug: str = Field(primary_key=True, max_length=128)
    revision: int = 1
    content: str  # the whole Markdown file, front matter included
    updated_at: datetime = Field(sa_type=UTC_TS)


class Draft(SQLModel, table=True):
    """Unsaved form content, kept as the consultant types so a crash loses nothing."""

    id: int | None = Field(default=None, primary_key=True)
    form: str = Field(max_length=64, index=True)  # e.g. "visit", "visit:<uuid>"
    payload: str  # JSON
    updated_at: datetime = Field(sa_type=UTC_TS)


class AppMeta(SQLModel, table=True):
    """Key/value facts about this database (device, last sync, ...)."""

    __tablename__ = "app_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class SyncConflict(SQLModel, table=True):
    """The losing version of a record in a sync conflict: kept, never dropped silently."""

    __tablename__ = "sync_conflict"
    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=64)
    record_uuid: str = Field(max_length=36, index=True)
    winner_revision: int
    loser_revision: int
    loser_device: str = Field(max_length=64)
    loser_payload: str  # JSON
    logged_at: datetime = Field(sa_type=UTC_TS)
    target_id: str | None = Field(default=None, max_length=64)  # the central side it was with


class SyncQuarantine(SQLModel, table=True):
    """A record the central side refused, with its reason; it does not block the rest."""

    __tablename__ = "sync_quarantine"
    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=64)
    record_uuid: str = Field(max_length=36, index=True)
    revision: int
    reason: str
    logged_at: datetime = Field(sa_type=UTC_TS)
    target_id: str | None = Field(default=None, max_length=64)  # the central side that refused


class SyncTarget(SQLModel, table=True):
    """A central database this laptop synced with, by its own id (app_meta database.id there)."""

    __tablename__ = "sync_target"
    target_id: str = Field(primary_key=True, max_length=64)
    url: str  # without password
    first_seen: str | None = Field(default=None, max_length=32)  # ISO UTC, like app_meta
    last_attempt: str | None = Field(default=None, max_length=32)
    last_success: str | None = Field(default=None, max_length=32)
    last_error: str | None = None
    last_pull: str | None = Field(default=None, max_length=32)
    # The central change position this laptop has pulled up to (nmi_desk.sync.changes).
    pulled_position: int | None = Field(default=None, sa_type=BigInteger)


class SyncChange(SQLModel, table=True):
    """Central: one position per committed push transaction, in commit order (migration 172).
    `tx` is the marker the rows that transaction wrote carry in `change_tx`."""

    __tablename__ = "sync_change"
    position: int = Field(primary_key=True, sa_type=BigInteger)
    tx: int = Field(sa_type=BigInteger)


class SyncHolder(SQLModel, table=True):
    """Central: which laptop (its own database id) holds which client, so a pull is filtered
    on the central side (migration 172)."""

    __tablename__ = "sync_holder"
    holder: str = Field(primary_key=True, max_length=64)
    client_uuid: str = Field(primary_key=True, max_length=36)


class VisitDailyUncounted(SQLModel, table=True):
    """Central: markers (change_tx) of committed push transactions whose visits visit_daily
    does not count yet; the fold counts them from their rows (migration 174,
    store.daily_counts)."""

    __tablename__ = "visit_daily_uncounted"
    tx: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})


class VisitMonthly(SQLModel, table=True):
    """visit_daily summed per calendar month (PostgreSQL, migration 175; empty on SQLite):
    a long period's figures read whole months here (store.daily_counts)."""

    __tablename__ = "visit_monthly"
    month: str = Field(primary_key=True, max_length=7)
    location_code: str = Field(primary_key=True, max_length=64)
    dimension: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    n: int


class SyncMark(SQLModel, table=True):
    """An inactive target's synced revision of one local record (sync.state)."""

    __tablename__ = "sync_mark"
    target_id: str = Field(primary_key=True, max_length=64)
    table_name: str = Field(primary_key=True, max_length=64)
    record_id: int = Field(primary_key=True)
    synced_revision: int


class AuditEvent(SyncFields, table=True):
    """Who did what to which record, when (nmi_desk.domain.audit). Append-only; never personal data."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTC_TS)
    consultant: str = Field(max_length=16)
    action: str = Field(max_length=16)  # create, update, view, delete, close, export, purge
    table_name: str = Field(max_length=64)
    record_uuid: str | None = Field(default=None, max_length=36, index=True)
    detail: str | None = Field(default=None, max_length=200)  # codes and periods only


class VisitDaily(SQLModel, table=True):
    """Visit counts per Amsterdam day, location, dimension and key (migration 52).

    Kept by triggers on both databases (nmi_desk.store.daily_counts; PostgreSQL from
    migration 111).
    """

    __tablename__ = "visit_daily"
    __table_args__ = {"sqlite_with_rowid": False}
    local_date: str = Field(primary_key=True, max_length=10)
    location_code: str = Field(primary_key=True, max_length=64)
    dimension: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    n: int


class VisitDailyPending(SQLModel, table=True):
    """Deltas of visit_daily written by the open transaction (PostgreSQL, migration 111).

    Applied to visit_daily and emptied at commit (store.daily_counts); no other transaction
    ever sees a row. Unused on SQLite, where the triggers write visit_daily directly.
    """

    __tablename__ = "visit_daily_pending"
    id: int | None = Field(default=None, primary_key=True)
    local_date: str = Field(max_length=10)
    location_code: str = Field(max_length=64)
    dimension: str = Field(max_length=32)
    key: str = Field(max_length=64)
    n: int


def _deferred_table() -> None:
    """visit_daily_deferred (migration 112): deltas of a big push's committed transactions not
    yet folded into visit_daily (PostgreSQL; store.daily_counts). No key: appended, then read
    and emptied as a whole, so a plain table rather than a model."""

    Table(
        "visit_daily_deferred",
        SQLModel.metadata,
        Column("local_date", String(10), nullable=False),
        Column("location_code", String(64), nullable=False),
        Column("dimension", String(32), nullable=False),
        Column("key", String(64), nullable=False),
        Column("n", Integer, nullable=False),
    )


_deferred_table()


def _table(model: Any) -> Any:
    """A model's Table (SQLModel's class attribute, which its type stubs do not declare)."""
    return model.__table__


# ---- indexes for the day overview and statistics (migrations 51, 53; SQLite only) ----
# The per-dimension covering indexes of migration 50 were dropped by migration 110.
def _stats_indexes() -> None:

    referral = _table(Referral).c
    # Migration 51: the records still to sync (partial indexes).
    for model in (Visit, Referral, InfoSession):
        c = _table(model).c
        Index(
            f"ix_{_table(model).name}_unsynced",
            c.id,
            sqlite_where=c.revision > c.synced_revision,
            postgresql_where=c.revision > c.synced_revision,
        )
    daily = _table(VisitDaily).c
    # SQLite's long-period read; dropped on PostgreSQL by migration 112 (no read used it there).
    Index(
        "ix_visit_daily_key", daily.dimension, daily.key, daily.local_date, daily.location_code,
        daily.n,
    )  # fmt: skip
    Index(
        "ix_referral_open",
        referral.follow_up_on,
        referral.visit_id,
        referral.deleted,
        sqlite_where=referral.status == "open",
        postgresql_where=referral.status == "open",
    )


_stats_indexes()


def _client_indexes() -> None:
    """Migration 150: a client's visits, and their last day for the search index, from one
    covering index (nmi_desk.domain.clients)."""

    visit = _table(Visit).c
    Index("ix_visit_client", visit.client_uuid, visit.deleted, visit.local_date)


_client_indexes()
