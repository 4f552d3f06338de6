"""Sync bookkeeping in the local app_meta table: last attempt, last success, last error."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

LAST_ATTEMPT = "sync.last_attempt"
LAST_SUCCESS = "sync.last_success"
LAST_ERROR = "sync.last_error"
LAST_PULL = "sync.last_pull"


@dataclass(frozen=True)
class SyncStatus:
    pending: int
    last_success: str | None  # ISO UTC
    last_error: str | None
    quarantined: int
    conflicts: int


def set_meta(conn, key: str, value: str | None) -> None:
    if value is None:
        conn.execute(text("DELETE FROM app_meta WHERE key = :k"), {"k": key})
        return
    conn.execute(
        text(
            "INSERT INTO app_meta (key, value) VALUES (:k, :v)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"k": key, "v": value},
    )


def record_outcome(engine, attempt: str, error: str | None) -> None:
    """After a run: the attempt time, and either the success time or the one-line error."""
    with engine.begin() as conn:
        set_meta(conn, LAST_ATTEMPT, attempt)
        if error is None:
            set_meta(conn, LAST_SUCCESS, attempt)
        set_meta(conn, LAST_ERROR, error)


def pending_count(engine) -> int:
    """Client records still to push: the same figure as Today's count (today.day_counts)."""
    from nmi_desk.today import CLIENT_RECORD_TABLES

    with engine.connect() as conn:
        return sum(
            conn.execute(
                text(f"SELECT count(*) FROM {t} WHERE revision > synced_revision")  # noqa: S608
            ).scalar_one()
            for t in CLIENT_RECORD_TABLES
        )


def read_status(engine) -> SyncStatus:
    with engine.connect() as conn:
        meta = dict(
            conn.execute(
                text("SELECT key, value FROM app_meta WHERE key IN (:a, :b)"),
                {"a": LAST_SUCCESS, "b": LAST_ERROR},
            ).all()
        )
        quarantined = conn.execute(text("SELECT count(*) FROM sync_quarantine")).scalar_one()
        conflicts = conn.execute(text("SELECT count(*) FROM sync_conflict")).scalar_one()
    return SyncStatus(
        pending=pending_count(engine),
        last_success=meta.get(LAST_SUCCESS),
        last_error=meta.get(LAST_ERROR),
        quarantined=quarantined,
        conflicts=conflicts,
    )
