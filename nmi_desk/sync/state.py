"""Sync bookkeeping in the laptop's database, per central target.

A central database is known by its own id (app_meta `database.id`, written by migration 100 on
every database), not by its URL: a new server, a test central or a re-created database behind
the same URL is a new target and gets everything.

The ACTIVE target's marks are the records' own `synced_revision` column (so Today's count, the
partial indexes and the retention clock keep working unchanged). Switching to another target
stashes those marks in `sync_mark` under the old target's id and loads the new target's marks
(none for a new target: everything is pending), in one local transaction.

`sync_target` keeps per target: URL (without password), last attempt, last success, last error
and last pull. app_meta keeps the last run of any target (the TUI's sync line).
"""

from __future__ import annotations

from dataclasses import dataclass

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import text

from nmi_desk.core.errors import UserError
from nmi_desk.core.i18n import Text
from nmi_desk.sync.tables import COUNTED_TABLES, record_tables

LAST_ATTEMPT = "sync.last_attempt"
LAST_SUCCESS = "sync.last_success"
LAST_ERROR = "sync.last_error"
LAST_ERROR_TEXT = "sync.last_error_text"  # the same error as a catalog text, for the TUI
LAST_PULL = "sync.last_pull"
ACTIVE = "sync.active_target"  # target_id whose marks are in synced_revision
DATABASE_ID = "database.id"
LEGACY = "legacy"  # marks made before per-target state (migration 100), not yet claimed


@dataclass(frozen=True)
class SyncStatus:
    pending: int
    last_success: str | None  # ISO UTC
    last_error: str | None
    quarantined: int
    conflicts: int


@dataclass(frozen=True)
class TargetState:
    target_id: str
    url: str
    active: bool
    pending: dict[str, int]  # client record table -> records still to push there
    last_success: str | None
    last_error: str | None

    @property
    def pending_total(self) -> int:
        return sum(self.pending.values())


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


def get_meta(conn, key: str) -> str | None:
    return conn.execute(text("SELECT value FROM app_meta WHERE key = :k"), {"k": key}).scalar()


def database_id(engine) -> str:
    """This database's own id; one is written if a database somehow lacks it."""
    import uuid

    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO app_meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"),
            {"k": DATABASE_ID, "v": str(uuid.uuid4())},
        )
        return get_meta(conn, DATABASE_ID)


def laptop_id(local) -> str | None:
    """This laptop's own database id: the central side notes which clients it holds under
    it (sync/changes.py)."""
    with local.connect() as conn:
        return get_meta(conn, DATABASE_ID)


def pulled_position(local, target_id: str) -> int | None:
    """The central change position this laptop pulled its clients up to (None: never)."""
    with local.connect() as conn:
        return conn.execute(
            text("SELECT pulled_position FROM sync_target WHERE target_id = :t"), {"t": target_id}
        ).scalar()


def set_pulled_position(conn, target_id: str, position: int) -> None:
    """In the transaction that applied what was pulled (a kill before it pulls it again)."""
    conn.execute(
        text("UPDATE sync_target SET pulled_position = :p WHERE target_id = :t"),
        {"p": position, "t": target_id},
    )


def active_target(engine) -> str | None:
    with engine.connect() as conn:
        return get_meta(conn, ACTIVE)


def target_url(engine, target_id: str | None) -> str | None:
    if target_id is None:
        return None
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT url FROM sync_target WHERE target_id = :t"), {"t": target_id}
        ).scalar()


def known_target_for_url(engine, url: str) -> str | None:
    """The id of the target last seen at this URL (None: this laptop never synced there)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT target_id FROM sync_target WHERE url = :u"
                " ORDER BY coalesce(last_attempt, first_seen, '') DESC LIMIT 1"
            ),
            {"u": url},
        ).scalar()


def _stash(conn, target_id: str) -> None:
    conn.execute(text("DELETE FROM sync_mark WHERE target_id = :t"), {"t": target_id})
    for table in record_tables():
        conn.execute(
            text(
                "INSERT INTO sync_mark (target_id, table_name, record_id, synced_revision)"
                f" SELECT :t, :n, id, synced_revision FROM {table} WHERE synced_revision > 0"
            ),
            {"t": target_id, "n": table},
        )


def _load(conn, target_id: str) -> None:
    """The target's stashed marks become the live ones; records it never got become pending."""
    for table in record_tables():
        marks = "SELECT record_id FROM sync_mark WHERE target_id = :t AND table_name = :n"
        p = {"t": target_id, "n": table}
        # Only rows whose mark changes are written: fewer rows through the triggers.
        conn.execute(
            text(
                f"UPDATE {table} SET synced_revision = 0"
                f" WHERE synced_revision > 0 AND id NOT IN ({marks})"
            ),
            p,
        )
        conn.execute(
            text(
                f"UPDATE {table} SET synced_revision = (SELECT m.synced_revision FROM sync_mark m"
                f" WHERE m.target_id = :t AND m.table_name = :n AND m.record_id = {table}.id)"
                f" WHERE id IN ({marks})"
            ),
            p,
        )
    conn.execute(text("DELETE FROM sync_mark WHERE target_id = :t"), {"t": target_id})


def _upsert_target(conn, target_id: str, url: str, now: str) -> None:
    conn.execute(
        text(
            "INSERT INTO sync_target (target_id, url, first_seen) VALUES (:t, :u, :now)"
            " ON CONFLICT (target_id) DO UPDATE SET url = excluded.url"
        ),
        {"t": target_id, "u": url, "now": now},
    )


def activate(local, target_id: str, url: str, previous_url: str, now: str) -> bool:
    """Make `target_id` (reached at `url`, without password) the target whose marks are live.

    `previous_url` is the target this laptop was set to before this run (config.toml or the
    environment): marks made before per-target state belong to it. Returns True when the
    target changed (the caller's confirmation came before this).
    """
    if local.dialect.name == "sqlite":
        with local.connect() as conn:
            if get_meta(conn, DATABASE_ID) == target_id:
                raise UserError.of("errors.sync.target_is_this_laptop")
    with local.begin() as conn:
        current = get_meta(conn, ACTIVE)
        if current == target_id:
            _upsert_target(conn, target_id, url, now)
            return False
        if current == LEGACY and previous_url in ("", url):
            _upsert_target(conn, target_id, url, now)  # the target it synced with before
            set_meta(conn, ACTIVE, target_id)
            return False
        if current == LEGACY:
            _upsert_target(conn, LEGACY, previous_url, now)  # claimed when that URL is reached
        if current:
            _stash(conn, current)
        known = conn.execute(
            text("SELECT 1 FROM sync_target WHERE target_id = :t"), {"t": target_id}
        ).first()
        legacy_here = conn.execute(
            text("SELECT 1 FROM sync_target WHERE target_id = :l AND url = :u"),
            {"l": LEGACY, "u": url},
        ).first()
        if known is None and legacy_here is not None:
            conn.execute(
                text("UPDATE sync_mark SET target_id = :t WHERE target_id = :l"),
                {"t": target_id, "l": LEGACY},
            )
            conn.execute(text("DELETE FROM sync_target WHERE target_id = :l"), {"l": LEGACY})
        _load(conn, target_id)
        _upsert_target(conn, target_id, url, now)
        set_meta(conn, ACTIVE, target_id)
    return True


def record_outcome(
    engine, attempt: str, error: str | None, target_id: str | None = None, pulled: bool = False
) -> None:
    """After a run: the attempt time, and either the success time or the one-line error."""
    plain = None if error is None else str(error)
    with engine.begin() as conn:
        set_meta(conn, LAST_ATTEMPT, attempt)
        if error is None:
            set_meta(conn, LAST_SUCCESS, attempt)
        set_meta(conn, LAST_ERROR, plain)
        set_meta(conn, LAST_ERROR_TEXT, error.to_json() if isinstance(error, Text) else None)
        if target_id is not None:
            conn.execute(
                text(
                    "UPDATE sync_target SET last_attempt = :a, last_error = :e,"
                    " last_success = CASE WHEN :e IS NULL THEN :a ELSE last_success END,"
                    " last_pull = CASE WHEN :p THEN :a ELSE last_pull END"
                    " WHERE target_id = :t"
                ),
                {"a": attempt, "e": plain, "t": target_id, "p": pulled},
            )


def pending_by_table(engine, target_id: str | None = None) -> dict[str, int]:
    """Client records still to push: to the active target (target_id None or the active one,
    the same figure as Today's count) or to an inactive one (its stashed marks)."""
    out: dict[str, int] = {}
    with engine.connect() as conn:
        active = get_meta(conn, ACTIVE)
        for t in COUNTED_TABLES:
            if target_id is None or target_id == active:
                sql = f"SELECT count(*) FROM {t} WHERE revision > synced_revision"  # noqa: S608
            else:
                sql = (
                    f"SELECT count(*) FROM {t} r LEFT JOIN sync_mark m ON m.target_id = :t"
                    f" AND m.table_name = '{t}' AND m.record_id = r.id"
                    " WHERE r.revision > coalesce(m.synced_revision, 0)"
                )
            out[t] = conn.execute(text(sql), {"t": target_id}).scalar_one()
    return out


def pending_count(engine, target_id: str | None = None) -> int:
    return sum(pending_by_table(engine, target_id).values())


def pending_for_url(engine, url: str) -> dict[str, int]:
    """What a sync to `url` would push: its known target's pending records, or everything."""
    known = known_target_for_url(engine, url)
    with engine.connect() as conn:
        if known is None and get_meta(conn, ACTIVE) == LEGACY:
            legacy = conn.execute(
                text("SELECT url FROM sync_target WHERE target_id = :l"), {"l": LEGACY}
            ).scalar()
            if legacy == url:
                known = LEGACY
    if known is None:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                for t in COUNTED_TABLES
            }
    return pending_by_table(engine, known)


def list_targets(engine) -> list[TargetState]:
    with engine.connect() as conn:
        active = get_meta(conn, ACTIVE)
        rows = conn.execute(
            text(
                "SELECT target_id, url, last_success, last_error FROM sync_target"
                " ORDER BY coalesce(last_attempt, first_seen, '') DESC"
            )
        ).all()
    return [
        TargetState(
            target_id=tid,
            url=url,
            active=tid == active,
            pending=pending_by_table(engine, tid),
            last_success=success,
            last_error=error,
        )
        for tid, url, success, error in rows
    ]


def read_status(engine) -> SyncStatus:
    with engine.connect() as conn:
        meta = dict(
            conn.execute(
                text("SELECT key, value FROM app_meta WHERE key IN (:a, :b, :c)"),
                {"a": LAST_SUCCESS, "b": LAST_ERROR, "c": ACTIVE},
            ).all()
        )
        said = get_meta(conn, LAST_ERROR_TEXT)
        active = meta.get(ACTIVE)
        where = "target_id IS NULL OR target_id = :t"
        quarantined = conn.execute(
            text(f"SELECT count(*) FROM sync_quarantine WHERE {where}"), {"t": active}
        ).scalar_one()
        conflicts = conn.execute(
            text(f"SELECT count(*) FROM sync_conflict WHERE {where}"), {"t": active}
        ).scalar_one()
    return SyncStatus(
        pending=pending_count(engine),
        last_success=meta.get(LAST_SUCCESS),
        last_error=_last_error(meta.get(LAST_ERROR), said),
        quarantined=quarantined,
        conflicts=conflicts,
    )


def _last_error(plain: str | None, said: str | None) -> str | None:
    """The stored error, as the catalog text when one was stored with it (and still says the
    same: a run that wrote only the plain line leaves an older text behind)."""
    if plain is None or said is None:
        return plain
    text = Text.from_json(said)
    return text if text is not None and text == plain else plain


@dataclass(frozen=True)
class Switch:
    """A sync about to go to another central database than the one this laptop last used."""

    previous: str  # URL (without password) of the last target, or "" when not known
    pending: dict[str, int]  # client record table -> what the new target will receive

    def describe(self, label=lambda table: table) -> str:
        return ", ".join(f"{n:,} {label(t)}" for t, n in self.pending.items() if n)


def switch_needed(engine, url: str, saved_url: str) -> Switch | None:
    """Whether syncing with `url` (without password) changes the target: to ask first.

    None when this laptop never synced, or last synced with this URL; marks from before
    per-target state belong to the saved target (`saved_url`).
    """
    active = active_target(engine)
    if active is None:
        return None
    previous = saved_url if active == LEGACY else target_url(engine, active)
    if previous in (None, "", url):
        return None
    return Switch(previous, pending_for_url(engine, url))


@dataclass(frozen=True)
class Quarantined:
    """A record the central side refused, kept here with its reason until it is corrected
    (the next sync then takes it out of quarantine)."""

    table: str
    uuid: str
    revision: int
    reason: str
    logged_at: str


def quarantined_records(engine, limit: int = 20) -> list[Quarantined]:
    """The newest refused records of the active target (or of none), newest first."""
    with engine.connect() as conn:
        active = get_meta(conn, ACTIVE)
        rows = conn.execute(
            text(
                "SELECT table_name, record_uuid, revision, reason, logged_at FROM sync_quarantine"
                " WHERE target_id IS NULL OR target_id = :t ORDER BY id DESC LIMIT :n"
            ),
            {"t": active, "n": limit},
        ).all()
    return [Quarantined(t, u, int(r), _first_line(reason), str(at)) for t, u, r, reason, at in rows]


def _first_line(reason: str) -> str:
    lines = (reason or "").strip().splitlines()
    return lines[0][:160] if lines else "refused"
