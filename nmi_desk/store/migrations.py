"""A small versioned migration runner, the same on SQLite (laptop) and PostgreSQL (central).

Why not Alembic: our schema is small, migrations must run unattended on every start of a
counter laptop and on the central database from `nmi-desk sync`, and Alembic's SQLite story
(batch mode, env.py, script directory at run time) adds start-up cost and moving parts for no
gain here. Each migration is a numbered step; applied steps are recorded in `schema_migrations`.
Version 1 is the frozen DDL of the first release (store/sql/0001_initial.<dialect>.sql); later
steps are plain DDL that both databases accept. tests/test_migrations.py checks that the
migrated schema matches store/models.py, so models and migrations cannot drift apart.

One sequence: steps are applied in list order, which is also increasing version order, and
a new step is numbered above every released one (RELEASED_VERSIONS, frozen; a test checks
both). So a new laptop and an upgraded one apply the same steps in the same order. The
numbers up to 170 kept the gaps of an earlier numbering per capability; from 171 on they are
consecutive. `check_applied` compares a database's applied steps with the declared ones:
`doctor` reports a missing step or one this version does not know.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import Connection, Engine, text

from nmi_desk.core.names import search_key
from nmi_desk.store import daily_counts
from nmi_desk.store.ids import new_uuid

SQL_DIR = Path(__file__).with_name("sql")
PG_LOCK_KEY = 7_426_001  # advisory lock: two devices migrating the central side at once


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _run_sql_file(stem: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        path = SQL_DIR / f"{stem}.{conn.dialect.name}.sql"
        script = path.read_text(encoding="utf-8")
        for statement in script.split(";"):
            body = "\n".join(
                line for line in statement.splitlines() if not line.strip().startswith("--")
            ).strip()
            if body:
                conn.exec_driver_sql(body)

    return apply


def _statements(*sql: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for statement in sql:
            conn.exec_driver_sql(statement)

    return apply


def _sqlite_only(step: Callable[[Connection], None]) -> Callable[[Connection], None]:
    """Indexes shaped for SQLite's planner (no hash aggregate, no hash join) and for the
    laptop's own bookkeeping. The central PostgreSQL counts with its own plans and never
    asks what is unsynced; there these indexes only slowed every push (36 s -> 21 s for a
    first push of 100,000 visits, docs/performance.md)."""

    def apply(conn: Connection) -> None:
        if conn.dialect.name == "sqlite":
            step(conn)

    return apply


# ---- 70-79 data protection (nmi_desk.domain.audit, nmi_desk.domain.retention) ----

_AUDIT_CONTENT = (
    "uuid",
    "at",
    "consultant",
    "action",
    "table_name",
    "record_uuid",
    "detail",
    "device_id",
    "deleted",
)


def _ts(conn: Connection) -> str:
    return "TIMESTAMP WITHOUT TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"


def _audit_trail(conn: Connection) -> None:
    pg = conn.dialect.name == "postgresql"
    ts = _ts(conn)
    conn.exec_driver_sql(
        "CREATE TABLE audit_event ("
        "uuid VARCHAR(36) NOT NULL, revision INTEGER NOT NULL, "
        f"updated_at {ts} NOT NULL, device_id VARCHAR(64) NOT NULL, "
        "deleted BOOLEAN NOT NULL, synced_revision INTEGER NOT NULL, "
        f"id {'SERIAL' if pg else 'INTEGER'} NOT NULL, at {ts} NOT NULL, "
        "consultant VARCHAR(16) NOT NULL, action VARCHAR(16) NOT NULL, "
        "table_name VARCHAR(64) NOT NULL, record_uuid VARCHAR(36), detail VARCHAR(200), "
        "PRIMARY KEY (id))"
    )
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_audit_event_uuid ON audit_event (uuid)")
    conn.exec_driver_sql("CREATE INDEX ix_audit_event_record_uuid ON audit_event (record_uuid)")
    # Append-only: no delete, no change of what a row says; sync bookkeeping may still move.
    if pg:
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _AUDIT_CONTENT)
        conn.exec_driver_sql(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF TG_OP = 'DELETE' OR " + changed + " THEN "
            "RAISE EXCEPTION 'the audit trail is append-only'; END IF; RETURN NEW; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _AUDIT_CONTENT)
        conn.exec_driver_sql(
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER audit_event_no_edit BEFORE UPDATE ON audit_event WHEN {changed} "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )


def _retention_columns(conn: Connection) -> None:
    ts = _ts(conn)
    conn.exec_driver_sql(f"ALTER TABLE visit ADD COLUMN synced_at {ts}")
    conn.exec_driver_sql(f"ALTER TABLE visit ADD COLUMN purged_at {ts}")
    conn.exec_driver_sql("CREATE INDEX ix_visit_synced_at ON visit (synced_at)")
    if conn.dialect.name == "sqlite":
        # The laptop notes when the central side committed a visit's latest revision, whatever
        # code marks it synced: the retention clock (nmi_desk.domain.retention) starts there.
        conn.exec_driver_sql(
            "CREATE TRIGGER visit_synced_at AFTER UPDATE OF synced_revision ON visit "
            "WHEN NEW.synced_revision = NEW.revision "
            "AND (OLD.synced_revision IS NOT NEW.synced_revision OR NEW.synced_at IS NULL) "
            "BEGIN UPDATE visit SET synced_at = strftime('%Y-%m-%d %H:%M:%S', 'now') "
            "WHERE id = NEW.id; END"
        )


def _visit_daily(conn: Connection) -> None:
    conn.exec_driver_sql(daily_counts.create_table(conn.dialect.name))
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL's triggers came later (migration 111)
    for sql in daily_counts.triggers().values():
        conn.exec_driver_sql(sql)
    for sql in daily_counts.fill_sql():
        conn.exec_driver_sql(sql)


# ---- 2 and 50: the statistics indexes as they were created (most dropped again by 110;
# benchmarks/stats_indexes.py puts those back to measure what they cost) ----

_DAY_INDEX_COLUMNS = (
    "local_hour",
    "channel",
    "came_via",
    "origin_country",
    "destination_country",
    "outcome",
)
STATISTICS_INDEXES_2 = (
    "CREATE INDEX ix_visit_stats ON visit (local_date, location_code, deleted, local_hour)",
    "CREATE INDEX ix_visit_topic_code ON visit_topic (topic_code, visit_id)",
    "CREATE INDEX ix_referral_visit_org ON referral (visit_id, organisation_code)",
)
STATISTICS_INDEXES_50 = (
    *(
        f"CREATE INDEX ix_visit_day_{col} ON visit (local_date, {col}, location_code, deleted)"
        for col in _DAY_INDEX_COLUMNS
    ),
    "CREATE INDEX ix_visit_id_day ON visit (id, local_date, location_code, deleted)",
    "CREATE INDEX ix_referral_org_visit ON referral (organisation_code, deleted, visit_id)",
)


# ---- 110-119 statistics (nmi_desk.domain.stats.compute, store.dimensions, store.daily_counts) ----

# Indexes of migrations 2 and 50 that no read path uses since visit_daily (EXPLAIN QUERY PLAN
# over every read: docs/statistics.md); only the old fill read them. -32 % of the file at
# 100,000 visits, and ten fewer b-trees written per visit.
UNUSED_INDEXES = (
    *(f"ix_visit_day_{col}" for col in _DAY_INDEX_COLUMNS),
    "ix_visit_id_day",
    "ix_referral_org_visit",
    "ix_visit_topic_code",
    "ix_referral_visit_org",
)


def _central_daily_counts(conn: Connection) -> None:
    conn.exec_driver_sql(daily_counts.create_pending_table(conn.dialect.name))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DELETE FROM {daily_counts.TABLE}")  # empty there until now
        for sql in daily_counts.central_table_settings():
            conn.exec_driver_sql(sql)
    daily_counts.rebuild(conn)


def _deferred_counts(conn: Connection) -> None:
    conn.exec_driver_sql(daily_counts.create_deferred_table(conn.dialect.name))
    if conn.dialect.name == "postgresql":
        for sql in daily_counts.apply_function():
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql(daily_counts.drop_central_key_index())


# ---- 120-129 reliability ----


def _backfill_synced_at(conn: Connection) -> None:
    """Visits synced before migration 71 have no synced_at, so retention never saw them: their
    last change (updated_at) stands in for the sync moment; they were synced after it."""
    if conn.dialect.name != "sqlite":
        return  # synced_at is the laptop's own bookkeeping (sync/tables.py LOCAL_ONLY)
    conn.exec_driver_sql(
        "UPDATE visit SET synced_at = strftime('%Y-%m-%d %H:%M:%S', updated_at) "
        "WHERE synced_at IS NULL AND synced_revision > 0 AND synced_revision = revision"
    )


# ---- 150-159 returning clients (nmi_desk.domain.clients) ----


def _client_table(conn: Connection) -> None:
    pg = conn.dialect.name == "postgresql"
    ts = _ts(conn)
    conn.exec_driver_sql(
        "CREATE TABLE client ("
        "uuid VARCHAR(36) NOT NULL, revision INTEGER NOT NULL, "
        f"updated_at {ts} NOT NULL, device_id VARCHAR(64) NOT NULL, "
        "deleted BOOLEAN NOT NULL, synced_revision INTEGER NOT NULL, "
        f"id {'SERIAL' if pg else 'INTEGER'} NOT NULL, name VARCHAR(200), birth_year INTEGER, "
        "origin_country VARCHAR(2), destination_country VARCHAR(2), language VARCHAR(16), "
        "partner_coremigrating BOOLEAN, children_coremigrating INTEGER, "
        f"search_key VARCHAR(400), merged_into VARCHAR(36), erased_at {ts}, purged_at {ts}, "
        "PRIMARY KEY (id))"
    )
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_client_uuid ON client (uuid)")
    conn.exec_driver_sql("ALTER TABLE visit ADD COLUMN client_uuid VARCHAR(36)")
    conn.exec_driver_sql("CREATE INDEX ix_visit_client ON visit (client_uuid, deleted, local_date)")
    if pg:
        # The same tables everywhere (tests/test_migrations.py); the central side keeps no log
        # and gets its clients and links from the laptops' pushes.
        conn.exec_driver_sql(
            "CREATE TABLE client_change (seq SERIAL NOT NULL, client_id INTEGER NOT NULL, "
            "PRIMARY KEY (seq))"
        )
        return
    # Search keeps an in-memory index of the clients (nmi_desk.domain.clients); this log tells it,
    # per keystroke and from any process, which clients changed, so it patches them in.
    conn.exec_driver_sql(
        "CREATE TABLE client_change (seq INTEGER NOT NULL, client_id INTEGER NOT NULL, "
        "PRIMARY KEY (seq))"
    )
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        conn.exec_driver_sql(
            f"CREATE TRIGGER client_change_{event.lower()} AFTER {event} ON client BEGIN "
            f"INSERT INTO client_change (client_id) VALUES ({row}.id); END"
        )
    _link_existing_visits(conn)


def _link_existing_visits(conn: Connection) -> None:
    """One client per distinct (name, birth year) of the visits that have a name; nothing is
    merged on a guess. The linked visits' revision goes up so the link reaches the central
    side at the next sync."""

    rows = conn.exec_driver_sql(
        "SELECT id, client_name, birth_year, origin_country, destination_country, language, "
        "partner_coremigrating, children_coremigrating, device_id FROM visit "
        "WHERE client_name IS NOT NULL AND count_only = 0 AND deleted = 0 "
        "ORDER BY started_at, id"
    ).all()
    if not rows:
        return
    clients: dict[tuple[object, ...], dict[str, Any]] = {}
    links: list[tuple[str, int]] = []
    for row in rows:
        key = (row[1], row[2])
        client = clients.get(key)
        if client is None:
            client = clients[key] = {"uuid": new_uuid(), "name": row[1], "birth_year": row[2]}
        # The latest visit's stable fields (rows are oldest first).
        for i, name in enumerate(
            ("origin_country", "destination_country", "language", "partner_coremigrating",
             "children_coremigrating", "device_id"),
            start=3,
        ):  # fmt: skip
            if row[i] is not None:
                client[name] = row[i]
        links.append((client["uuid"], row[0]))
    stamp = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.exec_driver_sql(
        "INSERT INTO client (uuid, revision, updated_at, device_id, deleted, synced_revision, "
        "name, birth_year, origin_country, destination_country, language, "
        "partner_coremigrating, children_coremigrating, search_key) "
        "VALUES (?, 1, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                c["uuid"], stamp, c.get("device_id", "migration"), c["name"], c["birth_year"],
                c.get("origin_country"), c.get("destination_country"), c.get("language"),
                c.get("partner_coremigrating"), c.get("children_coremigrating"),
                search_key(c["name"]),
            )
            for c in clients.values()
        ],
    )  # fmt: skip
    conn.exec_driver_sql(
        "UPDATE visit SET client_uuid = ?, revision = revision + 1 WHERE id = ?", links
    )


# ---- 100-109 sync state per central target (nmi_desk.sync.state) ----


def _sync_targets(conn: Connection) -> None:

    conn.exec_driver_sql(
        "CREATE TABLE sync_target (target_id VARCHAR(64) NOT NULL, url VARCHAR NOT NULL, "
        "first_seen VARCHAR(32), last_attempt VARCHAR(32), last_success VARCHAR(32), "
        "last_error VARCHAR, last_pull VARCHAR(32), PRIMARY KEY (target_id))"
    )
    # What an inactive target holds: its synced_revision per local record. The active target's
    # marks live in the records' own synced_revision column (cheap pending counts, indexes).
    conn.exec_driver_sql(
        "CREATE TABLE sync_mark (target_id VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, "
        "record_id INTEGER NOT NULL, synced_revision INTEGER NOT NULL, "
        "PRIMARY KEY (target_id, table_name, record_id))"
    )
    for table in ("sync_conflict", "sync_quarantine"):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN target_id VARCHAR(64)")
    # Every database names itself once: a central target is known by this id, not its URL.
    conn.execute(
        text("INSERT INTO app_meta (key, value) VALUES ('database.id', :v)"),
        {"v": str(uuid.uuid4())},
    )
    # A laptop that synced before: its marks belong to the target it synced with, which only
    # config.toml names; the first sync after the upgrade claims them (sync.state.activate).
    synced = conn.exec_driver_sql(
        "SELECT 1 FROM app_meta WHERE key = 'sync.last_success' UNION ALL "
        "SELECT 1 FROM visit WHERE synced_revision > 0 UNION ALL "
        "SELECT 1 FROM info_session WHERE synced_revision > 0 LIMIT 1"
    ).first()
    if synced is not None:
        conn.exec_driver_sql(
            "INSERT INTO app_meta (key, value) VALUES ('sync.active_target', 'legacy')"
        )


def _rekey_invisible_names(conn: Connection) -> None:
    """Names with a zero-width space or another invisible character got a search key that
    glued or split words wrongly (nmi_desk.core.names.visible): computed again."""
    chars = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f",
             "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
             "\u2069", "\u061c"]  # fmt: skip
    where = " OR ".join(f"name LIKE :c{i}" for i in range(len(chars)))
    params = {f"c{i}": f"%{c}%" for i, c in enumerate(chars)}
    rows = conn.execute(
        text(f"SELECT id, name FROM client WHERE {where}"),  # noqa: S608
        params,
    ).all()
    for row_id, name in rows:
        conn.execute(
            text("UPDATE client SET search_key = :k WHERE id = :id"),
            {"k": search_key(name), "id": row_id},
        )


# ---- 172- the central change sequence (nmi_desk.sync.changes) ----


def _change_sequence(conn: Connection) -> None:
    """Every central push transaction gets a position, in commit order (sync_change); the
    rows it wrote carry its transaction marker (change_tx), and sync_holder says which
    laptop holds which client, so a pull reads only what changed for it (docs/sync.md).
    The same tables everywhere (tests/test_migrations.py); on a laptop they stay empty."""
    pg = conn.dialect.name == "postgresql"
    big = "BIGINT"
    for table in ("client", "visit", "referral"):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN change_tx {big}")
        # Partial: the laptop's rows never carry one, so there the index stays empty.
        conn.exec_driver_sql(
            f"CREATE INDEX ix_{table}_change_tx ON {table} (change_tx) WHERE change_tx IS NOT NULL"
        )
    conn.exec_driver_sql(
        f"CREATE TABLE sync_change (position {big} NOT NULL, tx {big} NOT NULL, "
        "PRIMARY KEY (position))"
    )
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_sync_change_tx ON sync_change (tx)")
    conn.exec_driver_sql(
        "CREATE TABLE sync_holder (holder VARCHAR(64) NOT NULL, client_uuid VARCHAR(36) NOT NULL, "
        "PRIMARY KEY (holder, client_uuid))"
    )
    conn.exec_driver_sql(f"ALTER TABLE sync_target ADD COLUMN pulled_position {big}")
    if pg:
        conn.exec_driver_sql("CREATE SEQUENCE sync_position")


def _set_based_links(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for sql in daily_counts.trigger_functions():
            conn.exec_driver_sql(sql)


def _uncounted_visits(conn: Connection) -> None:
    """The same table everywhere (empty on a laptop); on PostgreSQL the trigger functions
    learn that an uncounted visit counts nothing yet (store.daily_counts)."""
    conn.exec_driver_sql(daily_counts.create_uncounted_table())
    _set_based_links(conn)


# Indexes the laptop reads and the central side never does: the retention clock (synced_at,
# the laptop's own and always empty centrally), the visit list by start time and the due
# follow-ups. Each cost every push its index writes (a first push of 100,000 visits ~0.5 s).
LAPTOP_ONLY_INDEXES = ("ix_visit_synced_at", "ix_visit_started_at", "ix_referral_follow_up_on")


def _central_drops_laptop_indexes(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for name in LAPTOP_ONLY_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _monthly_counts(conn: Connection) -> None:
    """visit_monthly everywhere (empty on a laptop); on PostgreSQL filled from visit_daily
    and kept from now on by the commit's apply and the fold (store.daily_counts)."""
    conn.exec_driver_sql(daily_counts.create_monthly_table(conn.dialect.name))
    if conn.dialect.name == "postgresql":
        for sql in daily_counts.apply_function():
            conn.exec_driver_sql(sql)
        for sql in daily_counts.fill_monthly_sql():
            conn.exec_driver_sql(sql)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _run_sql_file("0001_initial")),
    Migration(
        2,
        "covering indexes for statistics",
        # Time first, then the dimension (docs/statistics.md).
        _sqlite_only(_statements(*STATISTICS_INDEXES_2)),
    ),
    Migration(
        50,
        "statistics: one ordered covering index per dimension",
        # stats.py groups by (local_date, dimension) in index order, so no sort of every visit
        # in the period; the id index and the referral index let topic and referral counts
        # probe a narrow index instead of the wide visit rows. See docs/performance.md.
        _sqlite_only(_statements(*STATISTICS_INDEXES_50)),
    ),
    Migration(
        51,
        "day overview: partial indexes for unsynced records and open follow-ups",
        # `revision > synced_revision` cannot use an ordinary index; these hold just those rows.
        _sqlite_only(
            _statements(
                *(
                    f"CREATE INDEX ix_{t}_unsynced ON {t} (id) WHERE revision > synced_revision"
                    for t in ("visit", "referral", "info_session")
                ),
                "CREATE INDEX ix_referral_open ON referral (follow_up_on, visit_id, deleted) "
                "WHERE status = 'open'",
            )
        ),
    ),
    Migration(52, "statistics: visit_daily counts kept by triggers (SQLite)", _visit_daily),
    Migration(
        53,
        "statistics: visit_daily in (dimension, key) order for long periods",
        # A year sums ~180,000 day rows: in this order SQLite groups without sorting them.
        _statements(
            "CREATE INDEX ix_visit_daily_key ON visit_daily (dimension, key, local_date, "
            "location_code, n)"
        ),
    ),
    Migration(70, "audit trail (append-only, synced)", _audit_trail),
    Migration(71, "retention: when a visit was synced and purged", _retention_columns),
    Migration(100, "sync: state per central target, database id", _sync_targets),
    Migration(
        110,
        "statistics: drop the indexes visit_daily made unused",
        _sqlite_only(_statements(*(f"DROP INDEX IF EXISTS {name}" for name in UNUSED_INDEXES))),
    ),
    Migration(
        111,
        daily_counts.REBUILDS[0],
        # How a later dimension is added: one registry entry, a name appended to
        # daily_counts.REBUILDS and Migration(N, daily_counts.REBUILDS[-1], daily_counts.rebuild).
        _central_daily_counts,
    ),
    Migration(112, daily_counts.DEFERRED_SINCE, _deferred_counts),
    Migration(
        120, "retention: visits synced before 71 become due by their dates", _backfill_synced_at
    ),
    Migration(150, "returning clients: client records, visits linked by name", _client_table),
    Migration(
        170,
        "info sessions: the municipality where a session was held (CBS code)",
        _statements("ALTER TABLE info_session ADD COLUMN municipality_code VARCHAR(8)"),
    ),
    Migration(
        171, "returning clients: search keys without invisible characters", _rekey_invisible_names
    ),
    Migration(172, "sync: central change sequence, holders, pull position", _change_sequence),
    Migration(173, daily_counts.SET_BASED_SINCE, _set_based_links),
    Migration(174, daily_counts.UNCOUNTED_SINCE, _uncounted_visits),
    Migration(175, daily_counts.MONTHLY_SINCE, _monthly_counts),
    Migration(
        176,
        "sync: erased and merged clients found through indexes of their own",
        # Every push batch asks which of its clients are erased or merged (sync/erasure.py):
        # almost none are, and a probe into these small indexes answers without reading the
        # client rows (a first push of 100,000 visits spent ~3 s in those look-ups).
        _statements(
            "CREATE INDEX ix_client_erased ON client (uuid) WHERE erased_at IS NOT NULL",
            "CREATE INDEX ix_client_merged ON client (uuid) WHERE merged_into IS NOT NULL",
        ),
    ),
    Migration(
        177,
        "sync: the central side without the laptop's own indexes",
        _central_drops_laptop_indexes,
    ),
]

LATEST = max(m.version for m in MIGRATIONS)
DECLARED = tuple(m.version for m in MIGRATIONS)

# Every step a released nmi-desk has applied somewhere. Never edit or renumber these; a new
# step goes at the end of MIGRATIONS with the next number above LATEST, and is added here
# when it is released.
RELEASED_VERSIONS = (1, 2, 50, 51, 52, 53, 70, 71, 100, 110, 111, 112, 120, 150, 170)


@dataclass(frozen=True)
class AppliedCheck:
    missing: tuple[int, ...]  # declared, not applied: the database skipped a step
    unknown: tuple[int, ...]  # applied, not declared: made by a newer (or other) nmi-desk

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unknown


def check_applied(applied: set[int]) -> AppliedCheck:
    declared = [m.version for m in MIGRATIONS]
    return AppliedCheck(
        missing=tuple(v for v in declared if v not in applied),
        unknown=tuple(sorted(v for v in applied if v not in declared)),
    )


class NewerSchema(Exception):
    """The database holds steps this version does not declare: it was made by a newer one."""

    def __init__(self, step: int) -> None:
        super().__init__(f"unknown migration step {step}")
        self.step = step


def _ensure_table(conn: Connection) -> None:
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at VARCHAR(32) NOT NULL)"
    )


def applied_versions(conn: Connection) -> set[int]:
    _ensure_table(conn)
    return {row[0] for row in conn.execute(text("SELECT version FROM schema_migrations"))}


def current_version(engine: Engine) -> int:
    with engine.begin() as conn:
        versions = applied_versions(conn)
    return max(versions, default=0)


def migrate(engine: Engine, before: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Apply every missing step, each in its own transaction. Returns (from, to) versions.

    `before(from_version)` runs once before the first step when an existing database is
    upgraded (the SQLite engine factory uses it to take a backup copy).
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
        done = applied_versions(conn)
    start = max(done, default=0)
    unknown = check_applied(done).unknown
    if unknown:
        # Applying our steps around a newer version's would make a schema neither knows.
        raise NewerSchema(unknown[0])
    todo = [m for m in MIGRATIONS if m.version not in done]
    if todo and done and before is not None:
        before(start)
    for step in todo:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
                if step.version in applied_versions(conn):
                    continue  # another device applied it while we waited
            step.apply(conn)
            conn.execute(
                text(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"
                ),
                {"v": step.version, "n": step.name, "t": datetime.now(UTC).isoformat()},
            )
    return start, max(start, *(m.version for m in todo)) if todo else start
