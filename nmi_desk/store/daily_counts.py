"""`visit_daily`: visit counts per (Amsterdam day, location, dimension, key), kept by triggers.

Statistics for a year then sum a table of summary rows instead of walking every visit, topic
link and referral (docs/statistics.md, "How the figures are counted"). The dimensions, their
keys and which columns move them all come from the registry (store.dimensions).

The triggers keep one rule, on both databases: the table holds exactly the counts of the rows
as they are now.
- a visit counts while it is not deleted (tombstoned); its topics and topic groups count while
  it counts; its referrals count while it counts and they are not deleted themselves;
- every change to a counted column, to a visit's day or location, or to `deleted` takes the
  old row's counts off and puts the new row's on (topics and referrals move with their visit);
- a visit is taken off BEFORE its delete: the ON DELETE CASCADE of its topics and referrals
  runs before anything after the delete, and their own triggers then find no visit;
- sync bookkeeping (`synced_revision`, `synced_at`) and purging personal fields are not
  counted columns: on SQLite they never fire the triggers (UPDATE OF), on PostgreSQL the
  statement trigger finds no counted change and writes nothing.
Counts of zero may stay behind after edits; readers skip them (HAVING sum(n) <> 0).

SQLite (the laptop, one writer): row triggers upsert into visit_daily directly
(store/daily_triggers_sqlite.py).
PostgreSQL (the central side, many laptops pushing at once): statement triggers with transition
tables add one aggregated row per key and statement to `visit_daily_pending`, a table no other
transaction ever sees a row of; a deferred constraint trigger moves them into visit_daily at
commit, in one statement in key order. So a push locks the hot summary rows (today, this
location) only while it commits and always in the same order: no deadlock between laptops,
and no transaction waits on another's summary rows while it still has work to do.

A big push (more than one batch of visits) counts nothing while it runs: its transactions
write their marker (the `change_tx` of their rows) into `visit_daily_uncounted`, and a visit
whose change_tx is uncounted counts nothing yet, nor do its links. The push ends with the fold
(sync/fold.py; `fold_begin`, `fold_counts_sql`, `fold_end`): the uncounted visits counted
from their rows, set-based, in one transaction (or counted beside the push, `precount_sql`).
Readers add them (`counts_source`) meanwhile, so a killed push loses nothing. Every counting
transaction takes the fold's advisory lock shared, the fold takes it alone. `visit_monthly`
(PostgreSQL) is visit_daily per month, kept in the same transactions and read for whole months
(`period_sql`); `visit_daily_deferred` holds what an older version deferred per batch. Why
and how: docs/statistics.md, "How the figures are counted".

`rebuild` is the migration step for a new or changed dimension: it drops every visit_daily
trigger, creates them from the registry and refills the counts from the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from nmi_desk.store.daily_sql import (
    GROUP_CODE,
    INSERT_COUNTS,
    REFERRAL_CODE,
    REFERRAL_COUNTED,
    TABLE,
    TOPIC_CODE,
    UPSERT_COUNTS,
    VISIT_COUNTED,
    group_of,
)
from nmi_desk.store.daily_triggers_sqlite import triggers
from nmi_desk.store.dimensions import VISIT_DIMENSIONS, topic_group_sql

if TYPE_CHECKING:
    from sqlalchemy import Connection

DEFERRED = "visit_daily_deferred"
# The migration that made it (nmi_desk.domain.stats.compute sums it on a database that has it).
DEFERRED_SINCE = (
    "statistics: a big push's count deltas folded into visit_daily once, "
    "no (dimension, key) index centrally (PostgreSQL)"
)
UNCOUNTED = "visit_daily_uncounted"
MONTHLY = "visit_monthly"
# Migration 175 (PostgreSQL): visit_monthly, kept beside visit_daily and read for whole months.
MONTHLY_SINCE = "statistics: visit_daily summed per month for long periods (PostgreSQL)"
# Migration 174 (PostgreSQL): a big push's visits are counted from their rows at its end.
UNCOUNTED_SINCE = "statistics: a big push's visits counted from their rows once, at its end"
# Advisory lock: a fold alone, every counting push transaction shared (the migrations use
# 7_426_001).
_FOLD_LOCK = 7_426_111
# The names of the migrations that (re)built the triggers from the registry, oldest first. A
# database with all of them applied keeps every dimension of the registry in visit_daily;
# nmi_desk.domain.stats.compute reads the rows instead when one is missing (a source never migrates).
REBUILDS = ("statistics: visit_daily kept on PostgreSQL too; topic groups (by_topic_group)",)
PENDING = "visit_daily_pending"
_PREFIX = "visit_daily_"  # every trigger (and PostgreSQL function) of this module


def create_table(dialect: str, name: str = TABLE) -> str:
    # WITHOUT ROWID on SQLite: the rows live in their key order, one b-tree, no rowid index.
    return (
        f"CREATE TABLE {name} ("
        "local_date VARCHAR(10) NOT NULL, location_code VARCHAR(64) NOT NULL, "
        "dimension VARCHAR(32) NOT NULL, key VARCHAR(64) NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY (local_date, location_code, dimension, key))"
        + (" WITHOUT ROWID" if dialect == "sqlite" else "")
    )


def create_monthly_table(dialect: str) -> str:
    """visit_monthly: visit_daily per (calendar month 'YYYY-MM', location, dimension, key).
    Kept on PostgreSQL only (empty on SQLite, whose covering index reads a year fast)."""
    pg = dialect == "postgresql"
    text = ' COLLATE "C"' if pg else ""
    return (
        f"CREATE TABLE {MONTHLY} (month VARCHAR(7){text} NOT NULL, "
        f"location_code VARCHAR(64){text} NOT NULL, dimension VARCHAR(32){text} NOT NULL, "
        f"key VARCHAR(64){text} NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY (month, location_code, dimension, key))"
        + (" WITH (fillfactor = 80)" if pg else "")
    )


def _monthly(rows: str) -> str:
    """PostgreSQL: add `rows` (local_date, location_code, dimension, key, n) to visit_monthly,
    in key order (like visit_daily: no deadlock between two commits)."""
    cols = "month, location_code, dimension, key"
    return (
        f"INSERT INTO {MONTHLY} ({cols}, n) SELECT substr(local_date, 1, 7), location_code, "
        f"dimension, key, sum(n) FROM {rows} GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 "
        f"ORDER BY 1, 2, 3, 4 ON CONFLICT ({cols}) DO UPDATE SET n = {MONTHLY}.n + excluded.n"
    )


def fill_monthly_sql() -> list[str]:
    """PostgreSQL: visit_monthly made again from visit_daily (migration 175, rebuild)."""
    return [f"DELETE FROM {MONTHLY}", _monthly(f"{TABLE} d")]


def period_sql(deferred: bool, uncounted: bool) -> str:
    """PostgreSQL with visit_monthly: (dimension, key, sum) of the days :f..:t (ISO dates),
    location :loc or all (''). Whole months :m1 <= month < :m2 from visit_monthly, the days
    :f <= day < :d1 and :d2 <= day <= :t from visit_daily; deferred deltas and uncounted
    visits (by day) over the whole period."""
    cols = "location_code, dimension, key, n"
    parts = [
        f"SELECT {cols} FROM {MONTHLY} WHERE month >= :m1 AND month < :m2",
        f"SELECT {cols} FROM {TABLE} WHERE (local_date >= :f AND local_date < :d1) "
        "OR (local_date >= :d2 AND local_date <= :t)",
    ]
    extra = counts_source(deferred, uncounted, daily=False)
    if extra:
        parts.append(f"SELECT {cols} FROM {extra} WHERE local_date BETWEEN :f AND :t")
    return (
        f"SELECT dimension, key, sum(n) FROM ({' UNION ALL '.join(parts)}) p "
        "WHERE (:loc = '' OR location_code = :loc) GROUP BY dimension, key HAVING sum(n) <> 0"
    )


def create_pending_table(dialect: str) -> str:
    """Deltas of the open transaction (PostgreSQL); empty outside one, unused on SQLite.

    UNLOGGED on PostgreSQL: its rows never outlive their transaction, so they need no WAL."""
    pg = dialect == "postgresql"
    text = ' COLLATE "C"' if pg else ""
    return (
        f"CREATE {'UNLOGGED ' if pg else ''}TABLE {PENDING} "
        f"(id {'BIGSERIAL' if pg else 'INTEGER'} NOT NULL, "
        f"local_date VARCHAR(10){text} NOT NULL, location_code VARCHAR(64){text} NOT NULL, "
        f"dimension VARCHAR(32){text} NOT NULL, key VARCHAR(64){text} NOT NULL, "
        "n INTEGER NOT NULL, PRIMARY KEY (id))"
    )


def create_deferred_table(dialect: str) -> str:
    """Deltas of committed push transactions not yet folded into visit_daily (PostgreSQL;
    empty on SQLite). Logged: they are counts of committed rows. No index: rows are appended,
    then all read and deleted by `fold`."""
    text = ' COLLATE "C"' if dialect == "postgresql" else ""
    return (
        f"CREATE TABLE {DEFERRED} ("
        f"local_date VARCHAR(10){text} NOT NULL, location_code VARCHAR(64){text} NOT NULL, "
        f"dimension VARCHAR(32){text} NOT NULL, key VARCHAR(64){text} NOT NULL, "
        "n INTEGER NOT NULL)"
    )


def create_uncounted_table() -> str:
    """The markers of committed push transactions whose visits visit_daily does not count yet
    (PostgreSQL; empty on SQLite)."""
    return f"CREATE TABLE {UNCOUNTED} (tx BIGINT NOT NULL, PRIMARY KEY (tx))"


def _uncounted(tx: str) -> str:
    """SQL: the visit whose change_tx is `tx` is not counted in visit_daily yet."""
    return f"EXISTS (SELECT 1 FROM {UNCOUNTED} u WHERE u.tx = {tx})"


def counts_source(deferred: bool, uncounted: bool = False, daily: bool = True) -> str:
    """FROM clause of the counts for readers: visit_daily, plus the deferred deltas and the
    uncounted visits counted from their rows where the database has them (rows with the same
    key are summed by the reader's GROUP BY). `daily=False`: only those additions ('' when
    there are none)."""
    if not deferred and not uncounted:
        return TABLE if daily else ""
    cols = "local_date, location_code, dimension, key, n"
    parts = [f"SELECT {cols} FROM {TABLE}"] if daily else []
    if deferred:
        parts.append(f"SELECT {cols} FROM {DEFERRED}")
    if uncounted:
        parts.append(uncounted_rows_sql())
    return f"({' UNION ALL '.join(parts)}) counts"


ANY_LEFT = f"SELECT EXISTS (SELECT 1 FROM {DEFERRED}) OR EXISTS (SELECT 1 FROM {UNCOUNTED})"


def _pg_visit_counts(v: str) -> str:
    """PostgreSQL: (local_date, location_code, dimension, key, n) of the visit dimensions of
    the visits `v`, in one pass: one grouping set per dimension (a hash table each) instead of
    a row per visit and dimension grouped at once (half the time for 100,000 visits)."""
    width = len(VISIT_DIMENSIONS)
    keys = ", ".join(
        f"{d.key_sql('v', 'postgresql')} AS k{i}" for i, d in enumerate(VISIT_DIMENSIONS)
    )
    names = ", ".join(f"k{i}" for i in range(width))
    sets = ", ".join(f"(k{i})" for i in range(width))
    # GROUPING(k0, ..., kN) sets a bit for each key not grouped, k0 the highest.
    bits = {i: (1 << width) - 1 - (1 << (width - 1 - i)) for i in range(width)}
    dimension = " ".join(f"WHEN {bits[i]} THEN '{d.code}'" for i, d in enumerate(VISIT_DIMENSIONS))
    key = " ".join(f"WHEN {bits[i]} THEN s.k{i}" for i in range(width))
    grouped = (
        f"SELECT a.local_date, a.location_code, GROUPING({names}) AS g, {names}, count(*) AS n "
        f"FROM (SELECT v.local_date, v.location_code, {keys} FROM {v}) a "
        f"GROUP BY a.local_date, a.location_code, GROUPING SETS ({sets})"
    )
    return (
        f"SELECT s.local_date, s.location_code, CASE s.g {dimension} END AS dimension, "
        f"CASE s.g {key} END AS key, s.n FROM ({grouped}) s"
    )


def _counts_of(v: str, topics: str = "visit_topic", referrals: str = "referral") -> str:
    """PostgreSQL: (local_date, location_code, dimension, key, n) of the visits `v` (a source
    aliased v: id and the counted columns, live visits only) counted as the triggers count
    (fill_sql): dimensions, topics, topic groups and live referrals; `topics` and `referrals`
    hold their links by visit_id (= v.id)."""
    return " UNION ALL ".join(
        [
            _pg_visit_counts(v),
            f"SELECT v.local_date, v.location_code, '{TOPIC_CODE}', t.topic_code, count(*) "
            f"FROM {topics} t JOIN {v} ON v.id = t.visit_id GROUP BY 1, 2, 4",
            f"SELECT v.local_date, v.location_code, '{GROUP_CODE}', g.g, count(*) "
            f"FROM (SELECT DISTINCT t.visit_id, {group_of('t', 'tp')} AS g FROM {topics} t "
            "LEFT JOIN topic tp ON tp.code = t.topic_code) g "
            f"JOIN {v} ON v.id = g.visit_id GROUP BY 1, 2, 4",
            f"SELECT v.local_date, v.location_code, '{REFERRAL_CODE}', x.organisation_code, "
            f"count(*) FROM {referrals} x JOIN {v} ON v.id = x.visit_id WHERE x.deleted = FALSE "
            "GROUP BY 1, 2, 4",
        ]
    )


def uncounted_rows_sql(but_own: bool = False) -> str:
    """PostgreSQL: (local_date, location_code, dimension, key, n) of the uncounted visits
    counted from their rows as the triggers count (fill_sql). `but_own`: all but those of
    the transaction %(own)s (their counts made beforehand: `precount_sql`)."""
    markers = f"SELECT tx FROM {UNCOUNTED}" + (" WHERE tx <> %(own)s" if but_own else "")
    # EXISTS: a one-time filter, so with nothing uncounted no part reads a row (the planner,
    # guessing, probed the uncounted markers from every visit: 110 ms per export).
    v = (
        f"(SELECT v.* FROM visit v WHERE v.deleted = FALSE AND v.change_tx IN ({markers}) "
        f"AND EXISTS ({markers})) v"
    )
    return _counts_of(v)


# A big push's new visits counted beside its transaction, from a copy of the rows it sends
# (sync/fold.py): temporary tables of the counting connection, keyed by the visit's uuid.
PRECOUNT_VISITS = "precount_visit"
PRECOUNT_TOPICS = "precount_topic"
PRECOUNT_REFERRALS = "precount_referral"
PRECOUNT_TABLES = (PRECOUNT_VISITS, PRECOUNT_TOPICS, PRECOUNT_REFERRALS)


def precount_tables() -> list[str]:
    """PostgreSQL: the counting connection's copies of a push's visits (uuid as id, the
    counted columns), topic links and referrals (the visit's uuid as visit_id), with the
    central columns' types."""
    temp = "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} LIMIT 0"
    visit_cols = ", ".join(("v.uuid AS id", *(f"v.{c}" for c in VISIT_COUNTED)))
    return [
        temp.format(PRECOUNT_VISITS, f"{visit_cols} FROM visit v"),
        temp.format(
            PRECOUNT_TOPICS, "v.uuid AS visit_id, t.topic_code FROM visit_topic t, visit v"
        ),
        temp.format(
            PRECOUNT_REFERRALS,
            "v.uuid AS visit_id, x.organisation_code, x.deleted FROM referral x, visit v",
        ),
    ]


def precount_sql() -> str:
    """PostgreSQL: the counts of the copies in precount_tables, as `uncounted_rows_sql` counts
    the same visits once they are rows (one definition: `_counts_of`)."""
    v = f"(SELECT v.* FROM {PRECOUNT_VISITS} v WHERE v.deleted = FALSE) v"
    return _counts_of(v, PRECOUNT_TOPICS, PRECOUNT_REFERRALS)


def begin_uncounted() -> list[str]:
    """PostgreSQL, first in a big push's transaction (parameter: its change_tx marker): its
    visits count nothing until the fold (the fold's lock shared first, as every count)."""
    return [
        f"SELECT pg_advisory_xact_lock_shared({_FOLD_LOCK})",
        f"INSERT INTO {UNCOUNTED} (tx) VALUES (%s) ON CONFLICT DO NOTHING",
    ]


FOLDED = "visit_daily_fold"  # the fold's counts, a temporary table of its transaction
_KEYS = ("local_date", "location_code", "dimension", "key")


def fold_begin() -> list[str]:
    """PostgreSQL, first in the fold's transaction. The advisory lock is taken alone: folds
    take turns, and no counting transaction (they hold it shared) is in flight, so what the
    statements read stays put and no other transaction writes a summary row meanwhile."""
    return [
        f"SELECT pg_advisory_xact_lock({_FOLD_LOCK})",
        # The aggregates of a first push's 100,000 visits spilled to disk at the default 4 MB.
        "SET LOCAL work_mem = '64MB'",
        # A fold lost with the server's last moments leaves its markers, and the readers count
        # those visits from their rows until the next fold: its commit need not wait for disk.
        "SET LOCAL synchronous_commit = off",
    ]


def precounted_table() -> str:
    """PostgreSQL: FOLDED made empty, for counts made beforehand (COPYed in by the caller,
    `precount_sql`)."""
    return (
        f"CREATE TEMP TABLE {FOLDED} ON COMMIT DROP AS SELECT {', '.join(_KEYS)}, "
        f"n::bigint AS n FROM {TABLE} LIMIT 0"
    )


def fold_counts_sql(precounted: bool = False) -> list[str]:
    """PostgreSQL, after fold_begin: the fold's counts into FOLDED. Every uncounted visit
    counted from its rows; `precounted`: FOLDED (precounted_table) holds the counts of the
    transaction %(own)s, the rest are counted from their rows. Each part of the counting is
    grouped by its own dimension: no sum across."""
    if not precounted:
        return [f"CREATE TEMP TABLE {FOLDED} ON COMMIT DROP AS {uncounted_rows_sql()}"]
    return [f"INSERT INTO {FOLDED} {uncounted_rows_sql(but_own=True)}"]


def fold_end() -> list[str]:
    """PostgreSQL, last in the fold's transaction: FOLDED into visit_daily and visit_monthly,
    the markers and the deferred deltas (an older version's) gone."""
    cols = ", ".join(_KEYS)
    same = " AND ".join(f"d.{c} = f.{c}" for c in _KEYS)
    upsert = f"ON CONFLICT ({cols}) DO UPDATE SET n = {TABLE}.n + excluded.n"
    return [
        # Counts already there are added to, the rest inserted in key order: with the lock
        # held alone nobody else writes a summary row, and a plain insert in key order took
        # 1.2-1.7 s for a first push's 180,868 rows against 2.0-2.6 s as an upsert
        # (docs/performance.md, Sync).
        f"UPDATE {TABLE} d SET n = d.n + f.n FROM {FOLDED} f WHERE {same}",
        f"{INSERT_COUNTS}SELECT {cols}, n FROM {FOLDED} f WHERE NOT EXISTS "
        f"(SELECT 1 FROM {TABLE} d WHERE {same}) ORDER BY 1, 2, 3, 4",
        _monthly(f"{FOLDED} f"),
        f"DELETE FROM {UNCOUNTED}",
        f"WITH moved AS (DELETE FROM {DEFERRED} RETURNING {cols}, n), "
        f"daily AS ({INSERT_COUNTS}SELECT {cols}, sum(n) FROM moved GROUP BY 1, 2, 3, 4 "
        f"HAVING sum(n) <> 0 {upsert}) {_monthly('moved')}",
    ]


# PostgreSQL, in the fold (its lock held alone): the counts made beforehand of the visits of
# the push transaction %(own)s still hold. Its marker is still uncounted (another push's fold
# may have counted its visits from their rows already), and its rows are still as it
# committed them: every central write of a visit, its links or a referral is a push
# transaction that takes a position in sync_change at its commit and leaves its marker
# (change_tx) on the visit or referral it wrote, and no central path deletes one; so no
# transaction after it with its marker on a visit or a referral means none touched them. (A
# later push of clients only, its own second transaction among them, does not count.)
PRECOUNT_HOLDS = (
    f"SELECT EXISTS (SELECT 1 FROM {UNCOUNTED} WHERE tx = %(own)s) AND "
    "EXISTS (SELECT 1 FROM sync_change WHERE tx = %(own)s) AND "
    "NOT EXISTS (SELECT 1 FROM sync_change c WHERE c.position > "
    "(SELECT position FROM sync_change WHERE tx = %(own)s) AND "
    "(EXISTS (SELECT 1 FROM visit v WHERE v.change_tx = c.tx) OR "
    "EXISTS (SELECT 1 FROM referral x WHERE x.change_tx = c.tx)))"
)


def drop_central_key_index() -> str:
    """PostgreSQL reads visit_daily by a scan and a hash (a long period) or its primary key (a
    short one), never by the (dimension, key, ..., n) index SQLite needs (migration 53):
    there it only doubled the index writes of every new count and, holding `n`, made every
    changed count a non-HOT update (docs/performance.md, Sync)."""
    return "DROP INDEX IF EXISTS ix_visit_daily_key"


def central_table_settings() -> list[str]:
    """PostgreSQL: visit_daily's keys compared byte by byte (codes and ISO days sort the same;
    the server's language collation made every key comparison several times dearer), and room
    in each page so a changed count is a HOT update that leaves the index alone. Run while the
    table is empty (migration 111)."""
    sizes = {"local_date": 10, "location_code": 64, "dimension": 32, "key": 64}
    return [
        f'ALTER TABLE {TABLE} ALTER COLUMN {col} TYPE VARCHAR({n}) COLLATE "C"'
        for col, n in sizes.items()
    ] + [f"ALTER TABLE {TABLE} SET (fillfactor = 80)"]


# ---- PostgreSQL: statement triggers with transition tables ----
# A push batch is small next to the tables, so every lookup from the changed rows into visit,
# visit_topic and referral goes through their indexes, one probe per changed row: LATERAL
# subqueries with OFFSET 0 (never flattened into a join) and scalar subqueries. A hash join
# would read the whole link table at every batch (measured: the first push of 100,000 visits
# 5.7x slower than without the triggers; docs/performance.md).

_PENDING_COLUMNS = f"INSERT INTO {PENDING} (local_date, location_code, dimension, key, n) "


def _pg_group(code: str) -> str:
    return topic_group_sql(code, f"(SELECT tp.parent FROM topic tp WHERE tp.code = {code})")


def _pg_visit_of(alias: str) -> str:
    """The live visit of `{alias}.visit_id`, looked up by its primary key."""
    return (
        "CROSS JOIN LATERAL (SELECT v.local_date, v.location_code FROM visit v "
        f"WHERE v.id = {alias}.visit_id AND v.deleted = FALSE "
        f"AND NOT {_uncounted('v.change_tx')} OFFSET 0) v"
    )


def _pg_visit_delta(links: bool) -> str:
    """Counts of the visit rows in CTE `r` (their columns and `sign`): their dimensions and,
    with `links`, their topics, topic groups and live referrals (a new visit has none yet:
    links point at an existing visit)."""
    values = ", ".join(f"('{d.code}', {d.key_sql('r', 'postgresql')})" for d in VISIT_DIMENSIONS)
    parts = [
        "SELECT r.local_date, r.location_code, d.dimension, d.key, r.sign AS n FROM r "
        f"CROSS JOIN LATERAL (VALUES {values}) d(dimension, key)"
    ]
    if links:
        topics = (
            "CROSS JOIN LATERAL (SELECT t.topic_code FROM visit_topic t "
            "WHERE t.visit_id = r.id OFFSET 0) t"
        )
        parts += [
            f"SELECT r.local_date, r.location_code, '{TOPIC_CODE}', t.topic_code, r.sign FROM r "
            f"{topics}",
            f"SELECT g.local_date, g.location_code, '{GROUP_CODE}', g.g, g.sign FROM ("
            "SELECT DISTINCT r.id, r.local_date, r.location_code, r.sign, "
            f"{_pg_group('t.topic_code')} AS g FROM r {topics}) g",
            f"SELECT r.local_date, r.location_code, '{REFERRAL_CODE}', x.organisation_code, r.sign "
            "FROM r CROSS JOIN LATERAL (SELECT x.organisation_code FROM referral x "
            "WHERE x.visit_id = r.id AND x.deleted = FALSE OFFSET 0) x",
        ]
    return (
        f"{_PENDING_COLUMNS}SELECT local_date, location_code, dimension, key, sum(n) FROM ("
        + " UNION ALL ".join(parts)
        + ") d GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0"
    )


def _rows_cte(table: str, sign: int, where: str = "TRUE") -> str:
    """The counting visit rows of a transition table: not deleted, not uncounted."""
    cols = ", ".join(f"{table}.{c}" for c in ("id", *VISIT_COUNTED))
    return (
        f"SELECT {cols}, {sign} AS sign FROM {table} WHERE NOT {table}.deleted "
        f"AND NOT {_uncounted(f'{table}.change_tx')} AND {where}"
    )


def _pg_moved(columns: tuple[str, ...], key: str = "id", also: str = "") -> str:
    old = ", ".join(f"o.{c}" for c in columns)
    new = ", ".join(f"n.{c}" for c in columns)
    return (
        f"SELECT o.{key} FROM old_rows o JOIN new_rows n ON n.{key} = o.{key} "
        f"WHERE ({old}) IS DISTINCT FROM ({new}){also}"
    )


def _pg_topic_delta(changes: str) -> str:
    """Topic and topic-group counts moved by changed links (`changes`: visit_id, topic_code,
    sign); per visit and group, the links there now are counted through the primary key (the
    group rule of `_group_delta`)."""
    on = "CASE WHEN cur.n > 0 THEN 1 ELSE 0 END"
    before = "CASE WHEN cur.n - c.net > 0 THEN 1 ELSE 0 END"
    return (
        f"WITH ch AS ({changes}), "
        f"c AS (SELECT ch.visit_id, {_pg_group('ch.topic_code')} AS g, sum(ch.sign) AS net "
        "FROM ch GROUP BY 1, 2) "
        f"{_PENDING_COLUMNS}SELECT v.local_date, v.location_code, d.dimension, d.key, sum(d.n) "
        f"FROM (SELECT ch.visit_id, '{TOPIC_CODE}' AS dimension, ch.topic_code AS key, ch.sign AS n "
        f"FROM ch UNION ALL SELECT c.visit_id, '{GROUP_CODE}', c.g, ({on}) - ({before}) FROM c "
        "CROSS JOIN LATERAL (SELECT count(*) AS n FROM visit_topic t "
        f"WHERE t.visit_id = c.visit_id AND {_pg_group('t.topic_code')} = c.g) cur) d "
        f"{_pg_visit_of('d')} GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0"
    )


def _pg_referral_delta(changes: str) -> str:
    return (
        f"WITH ch AS ({changes}) {_PENDING_COLUMNS}SELECT v.local_date, v.location_code, "
        f"'{REFERRAL_CODE}', ch.organisation_code, sum(ch.sign) FROM ch {_pg_visit_of('ch')} "
        "GROUP BY 1, 2, 4 HAVING sum(ch.sign) <> 0"
    )


def _pg_function(name: str, body: str, returns: str = "NULL", skippable: bool = False) -> str:
    # A push batch of new visits counts their new topic links and referrals itself, set-based
    # (SET_BASED, new_links_sql): these triggers then stand aside.
    skip = f"IF current_setting('{_SET_BASED}', true) = 'on' THEN RETURN {returns}; END IF; "
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{skip if skippable else ''}PERFORM visit_daily_mark(); {body}; RETURN {returns}; END $$"
    )


# Transaction-local: a transaction-mode pooler keeps it right.
_SET_BASED = "nmi_desk.daily_set_based"
SET_BASED_ON = f"SELECT set_config('{_SET_BASED}', 'on', true)"
SET_BASED_OFF = f"SELECT set_config('{_SET_BASED}', 'off', true)"
# Migration 173 (PostgreSQL): the insert triggers of topic links and referrals learn SET_BASED.
SET_BASED_SINCE = "statistics: a push batch of new visits counts their links set-based"


def new_links_sql() -> list[str]:
    """PostgreSQL, inside a push transaction in SET_BASED mode: the counts of the topic links
    of the new visits `%(visits)s` and of the new referrals `%(referrals)s` (central ids),
    what the skipped insert triggers would add: +1 per topic, per distinct topic group and per
    live referral of a live visit. One aggregate per dimension over the batch instead of the
    triggers' probes per link (for each link the other links of its group)."""
    live = (
        "CROSS JOIN LATERAL (SELECT v.local_date, v.location_code FROM visit v "
        f"WHERE v.id = k.id AND v.deleted = FALSE AND NOT {_uncounted('v.change_tx')} "
        "OFFSET 0) v"
    )
    links = (
        "CROSS JOIN LATERAL (SELECT t.topic_code FROM visit_topic t "
        "WHERE t.visit_id = k.id OFFSET 0) t"
    )
    visits = "unnest(CAST(%(visits)s AS int[])) AS k(id)"
    return [
        "SELECT visit_daily_mark()",
        f"{_PENDING_COLUMNS}SELECT v.local_date, v.location_code, '{TOPIC_CODE}', t.topic_code, "
        f"count(*) FROM {visits} {live} {links} GROUP BY 1, 2, 4",
        f"{_PENDING_COLUMNS}SELECT g.local_date, g.location_code, '{GROUP_CODE}', g.g, count(*) "
        f"FROM (SELECT DISTINCT k.id, v.local_date, v.location_code, "
        f"{_pg_group('t.topic_code')} AS g FROM {visits} {live} {links}) g GROUP BY 1, 2, 4",
        f"{_PENDING_COLUMNS}SELECT v.local_date, v.location_code, '{REFERRAL_CODE}', "
        "x.organisation_code, count(*) FROM unnest(CAST(%(referrals)s AS int[])) AS r(id) "
        "CROSS JOIN LATERAL (SELECT x.visit_id AS id, x.organisation_code FROM referral x "
        "WHERE x.id = r.id AND x.deleted = FALSE OFFSET 0) x "
        "CROSS JOIN LATERAL (SELECT v.local_date, v.location_code FROM visit v "
        f"WHERE v.id = x.id AND v.deleted = FALSE AND NOT {_uncounted('v.change_tx')} "
        "OFFSET 0) v GROUP BY 1, 2, 4",
    ]


def count_new_links(
    conn: Connection, visits: Iterable[int], referrals: Iterable[int] | None
) -> None:
    """Run new_links_sql for these central visit and referral ids, then leave SET_BASED."""
    from nmi_desk.store.pg_array import pg_array

    params = {"visits": pg_array(sorted(visits)), "referrals": pg_array(sorted(referrals or ()))}
    for sql in new_links_sql():
        conn.exec_driver_sql(sql, params if "%(" in sql else ())
    conn.exec_driver_sql(SET_BASED_OFF)


def trigger_functions() -> list[str]:
    """The trigger functions again, their triggers unchanged (migration 173: the two insert
    triggers skippable; 174: uncounted visits)."""
    return [sql for sql in pg_statements() if sql.startswith("CREATE OR REPLACE FUNCTION")]


def _pg_statement_trigger(name: str, event: str, table: str) -> str:
    tables = {
        "INSERT": "NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }[event]
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )


def apply_function() -> list[str]:
    """PostgreSQL: what the commit does with the transaction's deltas: into visit_daily, in
    key order. (Until migration 174 a big push's transactions appended them to
    visit_daily_deferred instead; `fold` still folds what an older version left there.)"""
    cols = "local_date, location_code, dimension, key"
    mine = f"FROM {PENDING} WHERE id >= first_id AND dimension <> ''"
    return [
        "CREATE OR REPLACE FUNCTION visit_daily_apply() RETURNS trigger LANGUAGE plpgsql "
        "SET enable_seqscan = off AS $$ "
        "DECLARE first_id bigint := current_setting('nmi_desk.daily_pending')::bigint; "
        f"BEGIN {INSERT_COUNTS}SELECT {cols}, sum(n) {mine} GROUP BY 1, 2, 3, 4 "
        "HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4 "
        f"ON CONFLICT ({cols}) DO UPDATE SET n = {TABLE}.n + excluded.n; "
        f"{_monthly(f'(SELECT {cols}, n {mine}) p')}; "
        f"DELETE FROM {PENDING} WHERE id >= first_id; "
        "PERFORM set_config('nmi_desk.daily_pending', '', true); RETURN NULL; END $$",
    ]


def pg_statements() -> list[str]:
    """PostgreSQL: the functions and triggers that keep visit_daily (in order)."""
    out = [
        # Once per transaction: a marker row whose deferred trigger applies the deltas. Its
        # id is kept (transaction-local): the transaction's rows are the ids from there on,
        # read through the primary key, never past the dead rows of earlier pushes. And the
        # fold's lock, shared, before anything reads visit_daily_uncounted (fold_begin).
        "CREATE OR REPLACE FUNCTION visit_daily_mark() RETURNS void LANGUAGE plpgsql AS $$ "
        "DECLARE first_id bigint; "
        "BEGIN IF coalesce(current_setting('nmi_desk.daily_pending', true), '') = '' THEN "
        f"PERFORM pg_advisory_xact_lock_shared({_FOLD_LOCK}); "
        f"INSERT INTO {PENDING} (local_date, location_code, dimension, key, n) "
        "VALUES ('', '', '', '', 0) RETURNING id INTO first_id; "
        "PERFORM set_config('nmi_desk.daily_pending', first_id::text, true); END IF; END $$",
        *apply_function(),
        f"CREATE CONSTRAINT TRIGGER visit_daily_apply AFTER INSERT ON {PENDING} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.dimension = '') "
        "EXECUTE FUNCTION visit_daily_apply()",
    ]
    delta = _pg_visit_delta(links=True)
    # A visit also moves when it becomes uncounted (a big push wrote it) or counted again.
    flag = f"{_uncounted('o.change_tx')} <> {_uncounted('n.change_tx')}"
    moved = _pg_moved(
        VISIT_COUNTED, also=f" OR (o.change_tx IS DISTINCT FROM n.change_tx AND {flag})"
    )
    visit = {
        "visit_daily_visit_insert": (
            "INSERT",
            f"WITH r AS ({_rows_cte('new_rows', 1)}) {_pg_visit_delta(links=False)}",
        ),
        "visit_daily_visit_update": (
            "UPDATE",
            f"WITH moved AS ({moved}), r AS ("
            f"{_rows_cte('old_rows', -1, 'old_rows.id IN (SELECT id FROM moved)')} UNION ALL "
            f"{_rows_cte('new_rows', 1, 'new_rows.id IN (SELECT id FROM moved)')}) {delta}",
        ),
    }
    for name, (event, body) in visit.items():
        out += [_pg_function(name, body), _pg_statement_trigger(name, event, "visit")]
    # A hard delete (rare: a tombstone is an update) is taken off row by row, before the
    # cascade removes its links.
    old = ", ".join(f"OLD.{c} AS {c}" for c in ("id", *VISIT_COUNTED))
    out += [
        _pg_function(
            "visit_daily_visit_delete",
            f"IF NOT OLD.deleted AND NOT {_uncounted('OLD.change_tx')} "
            f"THEN WITH r AS (SELECT {old}, -1 AS sign) {delta}; END IF",
            returns="OLD",
        ),
        "CREATE TRIGGER visit_daily_visit_delete BEFORE DELETE ON visit "
        "FOR EACH ROW EXECUTE FUNCTION visit_daily_visit_delete()",
    ]
    link = "SELECT {t}.visit_id, {t}.topic_code, {s} AS sign FROM {t}"
    topic = {
        "visit_daily_topic_insert": ("INSERT", link.format(t="new_rows", s=1)),
        "visit_daily_topic_delete": ("DELETE", link.format(t="old_rows", s=-1)),
        "visit_daily_topic_update": (
            "UPDATE",
            link.format(t="old_rows", s=-1) + " UNION ALL " + link.format(t="new_rows", s=1),
        ),
    }
    for name, (event, changes) in topic.items():
        out += [
            _pg_function(name, _pg_topic_delta(changes), skippable=event == "INSERT"),
            _pg_statement_trigger(name, event, "visit_topic"),
        ]
    ref = "SELECT {t}.visit_id, {t}.organisation_code, {s} AS sign FROM {t} WHERE NOT {t}.deleted"
    ref_moved = f"{{t}}.id IN ({_pg_moved(REFERRAL_COUNTED)})"
    referral = {
        "visit_daily_referral_insert": ("INSERT", ref.format(t="new_rows", s=1)),
        "visit_daily_referral_delete": ("DELETE", ref.format(t="old_rows", s=-1)),
        "visit_daily_referral_update": (
            "UPDATE",
            ref.format(t="old_rows", s=-1)
            + " AND "
            + ref_moved.format(t="old_rows")
            + " UNION ALL "
            + ref.format(t="new_rows", s=1)
            + " AND "
            + ref_moved.format(t="new_rows"),
        ),
    }
    for name, (event, changes) in referral.items():
        out += [
            _pg_function(name, _pg_referral_delta(changes), skippable=event == "INSERT"),
            _pg_statement_trigger(name, event, "referral"),
        ]
    return out


# ---- filling from the rows ----


def fill_sql(visit_from: int = 0, referral_from: int = 0, dialect: str = "sqlite") -> list[str]:
    """Statements that add the counts of visits with id >= visit_from (their topics) and of
    referrals with id >= referral_from, in bulk (GROUP BY), onto what the table holds."""
    upsert = (
        UPSERT_COUNTS if dialect == "sqlite" else UPSERT_COUNTS.replace("n + ", f"{TABLE}.n + ")
    )
    live = f"v.deleted = FALSE AND v.id >= {int(visit_from)}"
    out = [
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{d.code}', {d.key_sql('v', dialect)}, "
        f"count(*) FROM visit v WHERE {live} GROUP BY 1, 2, 4{upsert}"
        for d in VISIT_DIMENSIONS
    ]
    out.append(
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{TOPIC_CODE}', t.topic_code, count(*) "
        "FROM visit_topic t JOIN visit v ON v.id = t.visit_id "
        f"WHERE v.deleted = FALSE AND t.visit_id >= {int(visit_from)} GROUP BY 1, 2, 4{upsert}"
    )
    out.append(
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{GROUP_CODE}', g.g, count(*) "
        f"FROM (SELECT DISTINCT t.visit_id, {group_of('t', 'tp')} AS g FROM visit_topic t "
        "LEFT JOIN topic tp ON tp.code = t.topic_code "
        f"WHERE t.visit_id >= {int(visit_from)}) g JOIN visit v ON v.id = g.visit_id "
        f"WHERE v.deleted = FALSE GROUP BY 1, 2, 4{upsert}"
    )
    out.append(
        f"{INSERT_COUNTS}SELECT v.local_date, v.location_code, '{REFERRAL_CODE}', x.organisation_code, "
        "count(*) FROM referral x JOIN visit v ON v.id = x.visit_id "
        f"WHERE v.deleted = FALSE AND x.deleted = FALSE AND x.id >= {int(referral_from)} "
        f"GROUP BY 1, 2, 4{upsert}"
    )
    return out


def _trigger_names(conn: Connection) -> list[tuple[str, str]]:
    """(trigger, table) of every visit_daily trigger in this database."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND s.nspname = current_schema() "
            f"AND starts_with(t.tgname, '{_PREFIX}')"
        )
    else:
        rows = conn.exec_driver_sql(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
            f"AND substr(name, 1, {len(_PREFIX)}) = '{_PREFIX}'"
        )
    return [(r[0], r[1]) for r in rows]


def rebuild(conn: Connection) -> None:
    """Migration step: recreate every visit_daily trigger from the registry and refill the
    counts from the rows (a new dimension, a changed key or topic grouping)."""
    dialect = conn.dialect.name
    for name, table in _trigger_names(conn):
        on = f" ON {table}" if dialect == "postgresql" else ""
        conn.exec_driver_sql(f"DROP TRIGGER {name}{on}")
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    if dialect == "postgresql":  # the fill counts every visit: nothing deferred or uncounted
        for table in (DEFERRED, UNCOUNTED):
            conn.exec_driver_sql(
                f"DO $$ BEGIN IF to_regclass('{table}') IS NOT NULL THEN "
                f"DELETE FROM {table}; END IF; END $$"
            )
    statements = pg_statements() if dialect == "postgresql" else list(triggers().values())
    for sql in statements:
        conn.exec_driver_sql(sql)
    for sql in fill_sql(dialect=dialect):
        conn.exec_driver_sql(sql)
    if (
        dialect == "postgresql"
        and conn.exec_driver_sql(f"SELECT to_regclass('{MONTHLY}') IS NOT NULL").scalar()
    ):
        for sql in fill_monthly_sql():
            conn.exec_driver_sql(sql)
