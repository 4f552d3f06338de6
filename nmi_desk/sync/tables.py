"""What syncs, described once: the record tables, their link tables and how they form units.

A unit is what travels in one central transaction: a visit with its topics and referrals, or an
information session with its topics (docs/sync.md). The columns each kind sends are listed
here (SENT_COLUMNS) rather than read from the model classes, whose building would cost the
`nmi-desk sync` process ~0.25 s it otherwise spends on nothing but SQL; tests/test_sync_pending.py
checks the lists against store/models.py (`model_columns`), so a column a migration adds
cannot be left behind silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

# The one list of the record kinds sync moves that a consultant registered: what counts as
# "not yet synced" (Today's count, the sync line, the end-of-day close, `sync --status`,
# `doctor`). The audit trail syncs too, but is bookkeeping (BOOKKEEPING), not a record anyone
# registered. unit_kinds() refuses a table that syncs and is in neither list, so a kind cannot
# be pushed without being counted (D3: a corrected client was pushed but not counted). Kept
# here, with what syncs; this module imports nothing heavy, so the start-up path
# (nmi_desk.domain.stats.today) can use it.
COUNTED_TABLES = ("client", "visit", "referral", "info_session")
BOOKKEEPING = ("audit_event",)

# Local bookkeeping that never travels: the integer key differs per database, synced_revision
# means "what the central side committed" only on the laptop, and synced_at/purged_at are the
# laptop's retention clock (nmi_desk.domain.retention): purging there must not reach the central copy.
# change_tx is the central side's own: which push transaction last wrote the row (sync/changes.py).
LOCAL_ONLY = ("id", "synced_revision", "synced_at", "purged_at", "change_tx")


@dataclass(frozen=True)
class RecordKind:
    table: str
    columns: tuple[str, ...]  # sent columns, uuid first
    parent_fk: str | None = None  # e.g. referral.visit_id -> the root's integer id

    # Positions in a sent row, looked up once per kind (push touches every row).
    @cached_property
    def rev_index(self) -> int:
        return self.columns.index("revision")

    @cached_property
    def version_indexes(self) -> tuple[int, int, int]:
        return tuple(self.columns.index(c) for c in ("revision", "updated_at", "device_id"))


@dataclass(frozen=True)
class LinkKind:
    table: str  # e.g. visit_topic
    fk: str  # e.g. visit_id
    value: str  # e.g. topic_code


@dataclass(frozen=True)
class UnitKind:
    name: str
    root: RecordKind
    links: tuple[LinkKind, ...]
    children: tuple[RecordKind, ...]


# The sent columns of every table that syncs, uuid first, in the models' order: each model's
# columns but LOCAL_ONLY and the parent's key (referral.visit_id). Every other table carrying
# the sync columns (the audit trail) travels on its own, in this order after the units.
# fmt: off
SENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "client": (
        "uuid", "revision", "updated_at", "device_id", "deleted", "name", "birth_year",
        "origin_country", "destination_country", "language", "partner_coremigrating",
        "children_coremigrating", "search_key", "merged_into", "erased_at"
    ),
    "visit": (
        "uuid", "revision", "updated_at", "device_id", "deleted", "started_at", "local_date",
        "local_hour", "location_code", "consultant", "channel", "count_only", "came_via",
        "referred_by", "client_name", "birth_year", "origin_country", "destination_country",
        "language", "partner_coremigrating", "children_coremigrating", "outcome", "notes",
        "client_uuid"
    ),
    "referral": (
        "uuid", "revision", "updated_at", "device_id", "deleted", "organisation_code", "reason",
        "note", "follow_up_on", "status", "outcome_note", "closed_at"
    ),
    "info_session": (
        "uuid", "revision", "updated_at", "device_id", "deleted", "held_on", "location_code",
        "place", "municipality_code", "partner_code", "consultant", "attendees", "notes"
    ),
    "audit_event": (
        "uuid", "revision", "updated_at", "device_id", "deleted", "at", "consultant", "action",
        "table_name", "record_uuid", "detail"
    ),
}
# fmt: on
PARENT_KEYS = {"referral": "visit_id"}  # not sent: the central side has its own ids


def _columns(table, skip=()) -> tuple[str, ...]:
    names = [c.name for c in table.columns if c.name not in LOCAL_ONLY + tuple(skip)]
    names.remove("uuid")
    return ("uuid", *names)


def model_columns() -> dict[str, tuple[str, ...]]:
    """What SENT_COLUMNS must be, read from the model classes (the tests compare the two):
    every table with the sync columns, in the metadata's order."""
    from nmi_desk.store.models import SQLModel

    return {
        name: _columns(table, skip=(PARENT_KEYS.get(name, ""),))
        for name, table in SQLModel.metadata.tables.items()
        if {"uuid", "revision", "synced_revision"} <= set(table.c.keys())
    }


@cache
def unit_kinds() -> tuple[UnitKind, ...]:
    sent = SENT_COLUMNS
    visit = UnitKind(
        "visit",
        RecordKind("visit", sent["visit"]),
        (LinkKind("visit_topic", "visit_id", "topic_code"),),
        (RecordKind("referral", sent["referral"], parent_fk=PARENT_KEYS["referral"]),),
    )
    session = UnitKind(
        "info_session",
        RecordKind("info_session", sent["info_session"]),
        (LinkKind("info_session_topic", "session_id", "topic_code"),),
        (),
    )
    # Clients go first: an erasure or merge the central side takes decides how the visits
    # that follow are taken (sync/erasure.py).
    client = UnitKind("client", RecordKind("client", sent["client"]), (), ())
    kinds = [client, visit, session]
    # Any other table carrying the sync columns (e.g. the audit trail) travels on its own.
    covered = {"client", "visit", "referral", "info_session"}
    for name, columns in sent.items():
        if name not in covered:
            kinds.append(UnitKind(name, RecordKind(name, columns), (), ()))
    pushed = {k.table for u in kinds for k in (u.root, *u.children)}
    uncounted = pushed - set(COUNTED_TABLES) - set(BOOKKEEPING)
    if uncounted:
        raise RuntimeError(f"tables that sync but are not counted as pending: {sorted(uncounted)}")
    return tuple(kinds)


def record_tables() -> tuple[str, ...]:
    return tuple(k.table for u in unit_kinds() for k in (u.root, *u.children))
