"""Retention: personal fields of visits synced more than N days ago are purged on the laptop.

The central database keeps them (it committed the visit's latest revision, see
store/migrations.py step 71: `synced_at` is stamped when synced_revision reaches revision).
What the statistics count stays: codes, day, hour, location, topics, referral organisations,
and the origin/destination countries (they are statistics dimensions). A purged visit is read
only locally: saving it would send blanks over the central copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nmi_desk.clock import to_utc_naive
from nmi_desk.visits import PERSONAL_FIELDS

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


def cutoff(now: datetime, days: int) -> datetime:
    return to_utc_naive(now) - timedelta(days=days)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def purge(engine, now: datetime, days: int, actor, dry_run: bool = False) -> PurgeReport:
    """Purge (or, dry run, only report) the personal fields of visits due; audited per visit."""
    from sqlalchemy import text

    from nmi_desk import audit

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
        if not rows:
            report.done = not dry_run
            return report
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
            return report
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
        from nmi_desk.clients import purge_clients

        report.clients = purge_clients(conn, now)  # whose every visit is purged now
        # Local bookkeeping only: no revision bump, so nothing of this travels to the central side.
        audit.record_many(
            conn, actor, "purge", "visit", [r[1] for r in rows], now, detail=f"{days} days"
        )
    report.done = True
    with engine.connect() as conn:  # fold the old page images out of the WAL
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return report


@dataclass
class RetentionState:
    days: int
    due: int  # synced longer ago than the period, personal fields still here
    purged: int
    unsynced_personal_older: (
        int  # personal data older than the period that never reached the centre
    )


def state(engine, now: datetime, days: int) -> RetentionState:
    from sqlalchemy import text

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
    return RetentionState(days, due, purged, old)
