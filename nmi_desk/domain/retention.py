"""Retention: personal fields of visits synced more than N days ago are purged on the laptop,
with every other copy of them that the laptop keeps.

The central database keeps them (it committed the visit's latest revision, see
store/migrations.py step 71: `synced_at` is stamped when synced_revision reaches revision).
What the statistics count stays: codes, day, hour, location, topics, referral organisations,
and the origin/destination countries (they are statistics dimensions). A purged visit is read
only locally: saving it would send blanks over the central copy.

The other copies on the laptop (docs/security.md, "Retention"):
- conflict logs (sync_conflict.loser_payload): personal fields blanked once the entry is older
  than the period, or at once when its visit is purged; the codes and revisions stay;
- quarantine (sync_quarantine): rows whose record has since been synced, or whose visit is
  purged, are removed;
- drafts of an edit of a purged visit are removed;
- drafts older than the period are removed, whatever they name;
- inzage documents and letters the app wrote (registered, nmi_desk.domain.copies) and inzage
  documents in the data folder, older than the period, are removed;
- files beside the database: migration backups (`*.v<N>.bak`) and an interrupted re-key
  (`*.rekey-tmp`) are whole older copies, removed by a purge (`purge_copies`).
Visits synced before the retention columns existed (migration 71) got `synced_at` from their
last change in migration 120, so they become due by their dates too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import text

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.domain import audit
from nmi_desk.domain.clients.rights import purge_clients
from nmi_desk.domain.context import Context
from nmi_desk.domain.copies import (  # noqa: F401 - older_copies, purge_copies: used here before
    erased_files_left,
    files_due,
    older_copies,
    purge_copies,
    purge_files,
)
from nmi_desk.domain.inputs import PERSONAL_FIELDS

# Kept: statistics dimensions (stats.VISIT_COLUMNS).
KEPT_FOR_STATISTICS = ("origin_country", "destination_country")
PURGED_VISIT_FIELDS = tuple(f for f in PERSONAL_FIELDS if f not in KEPT_FOR_STATISTICS)
PURGED_REFERRAL_FIELDS = ("reason", "note", "outcome_note")

_HOLDS_PERSONAL = " OR ".join(
    [f"v.{f} IS NOT NULL" for f in PURGED_VISIT_FIELDS]
    + [
        "EXISTS (SELECT 1 FROM referral r WHERE r.visit_id = v.id AND ("
        + " OR ".join(f"r.{f} IS NOT NULL" for f in PURGED_REFERRAL_FIELDS)
        + "))"
    ]
)
_DUE = (
    "v.purged_at IS NULL AND v.synced_at IS NOT NULL AND v.synced_revision = v.revision "
    f"AND v.synced_at < :cutoff AND ({_HOLDS_PERSONAL})"
)


@dataclass
class PurgeReport:
    cutoff: datetime  # naive UTC: visits synced before this are due
    visits: int = 0
    fields: dict[str, int] = field(default_factory=dict)  # field -> how many values go
    days: list[str] = field(default_factory=list)  # the visit days concerned (YYYY-MM-DD)
    done: bool = False
    clients: int = 0  # client records that lost their personal fields with their visits
    conflicts: int = 0  # conflict log entries whose personal fields go
    quarantine: int = 0  # quarantine rows removed
    drafts: int = 0  # drafts of purged visits removed
    files: list[str] = field(default_factory=list)  # older copies beside the database removed
    documents: list[str] = field(default_factory=list)  # inzage documents, letters removed


def cutoff(now: datetime, days: int) -> datetime:
    return to_utc_naive(now) - timedelta(days=days)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def purge(ctx: Context, days: int, dry_run: bool = False) -> PurgeReport:
    """Purge (or, dry run, only report) the personal fields of visits due; audited per visit."""
    engine, now, actor = ctx.engine, ctx.now(), ctx.actor

    if days < 0:
        raise ValueError("retention days must be 0 or more")
    report = PurgeReport(cutoff=cutoff(now, days))
    params = {"cutoff": _stamp(report.cutoff)}
    with engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            raise ValueError("purge runs on the laptop's database, not on the central side")
        rows = conn.execute(
            text(f"SELECT v.id, v.uuid, v.local_date FROM visit v WHERE {_DUE} ORDER BY v.id"),  # noqa: S608
            params,
        ).all()
        report.visits = len(rows)
        report.days = sorted({r[2] for r in rows})
        purged_uuids = _purged_record_uuids(conn, [r[0] for r in rows])
        conflicts = _conflicts_due(conn, params["cutoff"], purged_uuids)
        report.conflicts = len(conflicts)
        stale = _quarantine_due(conn, purged_uuids)
        report.quarantine = len(stale)
        drafts = [f"visit:{r[1]}" for r in rows]
        # Unsaved drafts older than the period go whatever they name: a draft is a copy of
        # what was typed, linked to no record yet (nmi_desk.domain.copies).
        old_drafts = conn.execute(
            text("SELECT count(*) FROM draft WHERE updated_at < :cutoff"), params
        ).scalar_one()
        report.documents = purge_files(conn, ctx.data_dir, report.cutoff, dry_run=True)
        if dry_run:
            report.drafts = old_drafts
        else:
            conn.exec_driver_sql("PRAGMA secure_delete = ON")  # freed bytes are zeroed
            _blank_conflicts(conn, conflicts)
            if stale:
                conn.execute(
                    text("DELETE FROM sync_quarantine WHERE id = :id"), [{"id": i} for i in stale]
                )
            if drafts:
                report.drafts = conn.execute(
                    text("DELETE FROM draft WHERE form IN (SELECT value FROM json_each(:f))"),
                    {"f": json.dumps(drafts)},
                ).rowcount
            report.drafts += conn.execute(
                text("DELETE FROM draft WHERE updated_at < :cutoff"), params
            ).rowcount
        if rows:
            _purge_visits(conn, rows, report, params, now, days, actor, dry_run)
        if not dry_run:  # after the visits: the documents of what was purged go too
            report.documents = purge_files(conn, ctx.data_dir, report.cutoff)
    report.done = not dry_run
    if not dry_run:
        with engine.connect() as conn:  # fold the old page images out of the WAL
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return report


def _purge_visits(conn, rows, report: PurgeReport, params, now, days, actor, dry_run) -> None:

    conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS purge_ids (id INTEGER PRIMARY KEY)")
    conn.exec_driver_sql("DELETE FROM purge_ids")
    conn.execute(text("INSERT INTO purge_ids (id) VALUES (:id)"), [{"id": r[0]} for r in rows])
    for name in PURGED_VISIT_FIELDS:
        report.fields[name] = conn.execute(
            text(f"SELECT count(*) FROM visit WHERE id IN purge_ids AND {name} IS NOT NULL")  # noqa: S608
        ).scalar_one()
    for name in PURGED_REFERRAL_FIELDS:
        report.fields[f"referral.{name}"] = conn.execute(
            text(
                f"SELECT count(*) FROM referral WHERE visit_id IN purge_ids AND {name} IS NOT NULL"  # noqa: S608
            )
        ).scalar_one()
    if dry_run:
        conn.exec_driver_sql("DELETE FROM purge_ids")
        return
    # Overwrite freed bytes with zeros, so a plain database keeps no readable remnant.
    conn.exec_driver_sql("PRAGMA secure_delete = ON")
    blank = ", ".join(f"{name} = NULL" for name in PURGED_VISIT_FIELDS)
    conn.execute(
        text(f"UPDATE visit SET {blank}, purged_at = :now WHERE id IN purge_ids"),  # noqa: S608
        {"now": _stamp(to_utc_naive(now))},
    )
    blank = ", ".join(f"{name} = NULL" for name in PURGED_REFERRAL_FIELDS)
    conn.exec_driver_sql(f"UPDATE referral SET {blank} WHERE visit_id IN purge_ids")  # noqa: S608
    conn.exec_driver_sql("DELETE FROM purge_ids")

    report.clients = purge_clients(conn, now)  # whose every visit is purged now
    # Local bookkeeping only: no revision bump, so nothing of this travels to the central side.
    audit.record_many(
        conn, actor, "purge", "visit", [r[1] for r in rows], now, detail=f"{days} days"
    )


# Every personal field a conflict log payload can hold (visits, referrals, info sessions).
PERSONAL_PAYLOAD_FIELDS = frozenset(PURGED_VISIT_FIELDS) | frozenset(PURGED_REFERRAL_FIELDS)


def _purged_record_uuids(conn, visit_ids: list[int]) -> set[str]:
    """The uuids of the visits being purged and of their referrals."""

    if not visit_ids:
        return set()
    ids = json.dumps(visit_ids)
    found = (
        conn.execute(
            text("SELECT uuid FROM visit WHERE id IN (SELECT value FROM json_each(:ids))"),
            {"ids": ids},
        )
        .scalars()
        .all()
    )
    found += (
        conn.execute(
            text("SELECT uuid FROM referral WHERE visit_id IN (SELECT value FROM json_each(:ids))"),
            {"ids": ids},
        )
        .scalars()
        .all()
    )
    return set(found)


def _conflicts_due(conn, cutoff_stamp: str, purged: set[str]) -> list[tuple[int, str]]:
    """(id, blanked payload) of conflict entries older than the period or of purged records,
    that still hold a personal field."""

    out = []
    rows = conn.execute(
        text("SELECT id, record_uuid, loser_payload, logged_at FROM sync_conflict")
    ).all()
    for row_id, uuid, payload, logged_at in rows:
        if not (str(logged_at) < cutoff_stamp or uuid in purged):
            continue
        blanked = _blank_payload(payload)
        if blanked is not None:
            out.append((row_id, blanked))
    return out


def _blank_payload(payload: str) -> str | None:
    """The payload with its personal fields set to null; None when none was left to blank."""
    try:
        data = json.loads(payload)
    except (TypeError, ValueError):
        return json.dumps({"unreadable": True})  # cannot tell what is in it: it goes
    if not isinstance(data, dict):
        return json.dumps({"unreadable": True})
    hit = [k for k in data if k in PERSONAL_PAYLOAD_FIELDS and data[k] is not None]
    if not hit:
        return None
    for key in hit:
        data[key] = None
    return json.dumps(data, default=str)


def _blank_conflicts(conn, conflicts: list[tuple[int, str]]) -> None:

    if conflicts:
        conn.execute(
            text("UPDATE sync_conflict SET loser_payload = :p WHERE id = :id"),
            [{"id": i, "p": p} for i, p in conflicts],
        )


def _quarantine_due(conn, purged: set[str]) -> list[int]:
    """Quarantine rows no longer needed: the record has been synced since, or was purged."""

    out = []
    for table in ("visit", "referral", "info_session"):
        out += (
            conn.execute(
                text(
                    f"SELECT q.id FROM sync_quarantine q JOIN {table} r ON r.uuid = q.record_uuid "  # noqa: S608
                    "WHERE q.table_name = :t AND r.synced_revision >= q.revision"
                ),
                {"t": table},
            )
            .scalars()
            .all()
        )
    if purged:
        out += (
            conn.execute(
                text(
                    "SELECT id FROM sync_quarantine WHERE record_uuid IN "
                    "(SELECT value FROM json_each(:u))"
                ),
                {"u": json.dumps(sorted(purged))},
            )
            .scalars()
            .all()
        )
    return sorted(set(out))


@dataclass
class RetentionState:
    days: int
    due: int  # synced longer ago than the period, personal fields still here
    purged: int
    unsynced_personal_older: (
        int  # personal data older than the period that never reached the centre
    )
    conflicts_due: int = 0  # conflict log entries whose personal fields are due
    drafts_due: int = 0  # unsaved drafts older than the period
    files_due: list[str] = field(default_factory=list)  # documents that should be gone


def state(engine, now: datetime, days: int, data_dir: Path | None = None) -> RetentionState:

    edge = cutoff(now, days)
    params = {"cutoff": _stamp(edge), "day": (edge.date()).isoformat()}
    with engine.connect() as conn:
        due = conn.execute(text(f"SELECT count(*) FROM visit v WHERE {_DUE}"), params).scalar_one()  # noqa: S608
        purged = conn.execute(
            text("SELECT count(*) FROM visit WHERE purged_at IS NOT NULL")
        ).scalar_one()
        old = conn.execute(
            text(
                "SELECT count(*) FROM visit v WHERE v.deleted = FALSE AND v.purged_at IS NULL "
                f"AND v.revision > v.synced_revision AND v.local_date < :day AND ({_HOLDS_PERSONAL})"  # noqa: S608
            ),
            params,
        ).scalar_one()
        due_uuids = set(
            conn.execute(text(f"SELECT v.uuid FROM visit v WHERE {_DUE}"), params).scalars()  # noqa: S608
        )
        conflicts_due = len(_conflicts_due(conn, params["cutoff"], due_uuids))
        drafts_due = conn.execute(
            text("SELECT count(*) FROM draft WHERE updated_at < :cutoff"), params
        ).scalar_one()
        registered, folder = files_due(conn, data_dir, edge)
        files = [str(f.path) for f in registered if f.path.exists()] + [str(p) for p in folder]
        files += [str(p) for p in erased_files_left(conn)]
    return RetentionState(days, due, purged, old, conflicts_due, drafts_due, sorted(set(files)))
