"""Push: pending records go to the central database in batches of units, exactly once.

On PostgreSQL the records the central side has never seen go first, all in one transaction,
through the fast lane (sync/fast_lane.py); what it leaves pending comes here.

A batch is one central transaction: its rows are bulk-loaded into temporary staging tables (COPY
on PostgreSQL, executemany on a SQLite target), then merged with one INSERT ... ON CONFLICT per
table that keeps the higher version (revision, then updated-at, then device id). Only after the
central commit are the local rows marked synced, so a kill at any moment leaves records either
pending (pushed again: the upsert is idempotent) or synced, never lost and never doubled.

A batch the central side refuses (a value it cannot store, a referral without its visit) is
split in halves until the refused unit is alone; that unit is quarantined with the reason and
the rest go through.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from nmi_desk.store import daily_counts
from nmi_desk.store.errors import first_line as _reason
from nmi_desk.store.pg_array import pg_array
from nmi_desk.sync import changes, erasure
from nmi_desk.sync.beside import Beside
from nmi_desk.sync.crashpoints import crash_point
from nmi_desk.sync.fast_lane import Lane, copy_rows, parts, push_new
from nmi_desk.sync.fold import fold_counts
from nmi_desk.sync.marks_writer import Writer, mark_records, mark_synced, quarantine, sqlite_ts
from nmi_desk.sync.retry import retrying as _retrying
from nmi_desk.sync.tables import LinkKind, RecordKind, UnitKind, unit_kinds
from nmi_desk.sync.units import Conflict, Unit

# Units per central transaction. With the read and the marks overlapping the central side,
# 10,000 measured no faster than 2,000 (docs/performance.md, Sync), and a smaller transaction
# holds its row locks for less time when many laptops push at once.
BATCH_SIZE = 2000


class Refused(Exception):
    """The central side cannot take a unit as it is."""


@dataclass
class PushResult:
    pushed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    conflicts: list[Conflict] = field(default_factory=list)
    quarantined: list[tuple[str, str, int, str]] = field(default_factory=list)
    # Clients the central side holds erased that this push touched, and visits it took
    # blanked: the laptop blanks its own copies at once (clients_pull.apply_erasures).
    erased: set[str] = field(default_factory=set)
    erased_visits: set[str] = field(default_factory=set)
    folding: Beside[None] | None = None  # the fast lane's fold, still running
    # The fast lane's central transactions (their change_tx): rows they wrote are the
    # laptop's own as it sent them, so the pull right after skips them (clients_pull.py).
    lane_tx: list[int] = field(default_factory=list)
    # The clients those transactions noted this laptop holds (sync/changes.py, hold_staged):
    # the pull right after need not note them again.
    held: set[str] = field(default_factory=set)

    def wait_fold(self, quiet: bool = False) -> None:
        """Join the fold (the caller pulls meanwhile); raise what it raised unless `quiet`."""
        if self.folding is not None:
            folding, self.folding = self.folding, None
            folding.wait(quiet)


@dataclass
class Told:
    clients: set[str] = field(default_factory=set)
    visits: set[str] = field(default_factory=set)


# ---- local side (the laptop's SQLite, through the engine's raw DB-API connection) ----


def pending_unit_ids(raw, kind: UnitKind) -> list[int]:
    # One query per table, each on its partial "unsynced" index (migration 51); as one UNION
    # SQLite merged them in id order through a full scan of the referrals (60 ms at 50,000).
    ids = {
        row[0]
        for row in raw.execute(f"SELECT id FROM {kind.root.table} WHERE revision > synced_revision")
    }
    for c in kind.children:
        ids.update(
            row[0]
            for row in raw.execute(
                f"SELECT {c.parent_fk} FROM {c.table} WHERE revision > synced_revision"
            )
        )
    return sorted(ids)


def read_units(raw, kind: UnitKind, lo: int, hi: int) -> list[Unit]:
    """The pending units whose root id is in [lo, hi], read in one snapshot."""
    root = kind.root
    units: dict[int, Unit] = {}
    cols = ", ".join(root.columns)
    for row in raw.execute(
        f"SELECT id, {cols}, synced_revision FROM {root.table}"
        " WHERE id BETWEEN ? AND ? AND revision > synced_revision",
        (lo, hi),
    ):
        units[row[0]] = Unit(kind, row[1], root=tuple(row[1:]), local_ids={row[1]: row[0]})
    for link in kind.links:
        for fk, value in raw.execute(
            f"SELECT l.{link.fk}, l.{link.value} FROM {link.table} l"
            f" JOIN {root.table} p ON p.id = l.{link.fk}"
            f" WHERE l.{link.fk} BETWEEN ? AND ? AND p.revision > p.synced_revision",
            (lo, hi),
        ):
            units[fk].links.setdefault(link.table, []).append(value)
    for child in kind.children:
        ccols = ", ".join(f"c.{c}" for c in child.columns)
        for row in raw.execute(
            f"SELECT c.{child.parent_fk}, c.id, {ccols}, c.synced_revision, p.uuid"
            f" FROM {child.table} c"
            f" JOIN {root.table} p ON p.id = c.{child.parent_fk}"
            f" WHERE c.{child.parent_fk} BETWEEN ? AND ? AND c.revision > c.synced_revision",
            (lo, hi),
        ):
            unit = units.get(row[0])
            if unit is None:
                unit = units[row[0]] = Unit(kind, row[-1])
            unit.children.setdefault(child.table, []).append(tuple(row[2:]))
            unit.local_ids[row[2]] = row[1]
    return [units[k] for k in sorted(units)]


# ---- central side (PostgreSQL or a SQLite file, through SQLAlchemy) ----
#
# Per batch, one transaction; roots, then links, then children; in each table rows go in uuid
# order, so two laptops pushing the same records lock them in the same order (_merge):
#   1. roots: COPY into staging; new ones inserted in one statement; rows that were there are
#      locked (FOR NO KEY UPDATE: a referral's foreign-key check on its visit is not blocked),
#      conflicts decided, and upserted by version
#   2. links of the written roots: old ones deleted, new ones COPYed and merged in one statement
#   3. children (referrals) with their parent's central id: as the roots
# Only temp tables dropped at commit and SET LOCAL: nothing outlives the transaction, so a
# transaction-mode pooler (PgBouncer) can hand each transaction to another server connection.
# A push of more than one batch of visits counts nothing while it runs: each of its visit
# transactions marks its visits uncounted (committed with them), and the push ends with one
# set-based fold of them into visit_daily (store.daily_counts: begin_uncounted; sync/fold.py).


def _is_pg(conn) -> bool:
    return conn.dialect.name == "postgresql"


def _temp_table(conn, rec_table: str, columns: list[str]) -> str:
    name = f"stage_{rec_table}"
    select = f"SELECT {', '.join(columns)} FROM {rec_table} LIMIT 0"
    if _is_pg(conn):
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} AS {select}")
    return name


def _load(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if _is_pg(conn):
        import psycopg

        try:
            copy_rows(conn, table, columns, rows)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise Refused(_reason(exc)) from exc
    else:
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _keyed(conn, table: str, key: str, values: list) -> tuple[str, tuple]:
    """FROM clause: `table` rows whose `key` is one of `values`. On PostgreSQL a join with the
    unnested array parameter (index probes; measured 8x faster than `key = ANY(array)` for a
    batch of 2,000 uuids); on SQLite json_each."""
    if _is_pg(conn):
        cast = "varchar" if isinstance(values[0], str) else "int"
        return (
            f"unnest(%s::{cast}[]) AS k(key) JOIN {table} ON {table}.{key} = k.key",
            (pg_array(values),),
        )
    return f"{table} WHERE {key} IN (SELECT value FROM json_each(?))", (json.dumps(values),)


def _existing(conn, rec: RecordKind, uuids: list[str]) -> dict[str, tuple]:
    """uuid -> (central id, sent columns...) of the rows the central side has already, locked."""
    if not uuids:
        return {}
    source, params = _keyed(conn, rec.table, "uuid", uuids)
    cols = ", ".join(f"{rec.table}.{c}" for c in ("id", *rec.columns))
    sql = f"SELECT {cols} FROM {source} ORDER BY {rec.table}.uuid"
    if _is_pg(conn):
        sql += f" FOR NO KEY UPDATE OF {rec.table}"
    return {row[1]: tuple(row) for row in conn.exec_driver_sql(sql, params)}


def _ts(value):
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _conflicts(rec: RecordKind, staged: dict[str, tuple], existing: dict[str, tuple]):
    """Central rows that hold a version this device never saw: one side loses, and is logged.

    `staged[uuid]` is (sent columns..., synced_revision, ...): what the laptop last synced.
    """
    i_rev, i_upd, i_dev = rec.version_indexes
    base_at = len(rec.columns)
    out = []
    for uuid, row in existing.items():
        central = row[1:]
        mine_row = staged[uuid]
        mine = (mine_row[i_rev], _ts(mine_row[i_upd]), mine_row[i_dev])
        theirs = (central[i_rev], _ts(central[i_upd]), central[i_dev])
        if theirs == mine or theirs[0] == mine_row[base_at]:
            continue  # the same version again (a re-run), or a plain edit of what we synced
        if mine > theirs:
            winner, loser_row = mine[0], central
        else:
            winner, loser_row = theirs[0], mine_row[:base_at]
        payload = json.dumps(dict(zip(rec.columns, loser_row, strict=True)), default=str)
        out.append(Conflict(rec.table, uuid, winner, loser_row[i_rev], loser_row[i_dev], payload))
    return out


def _version(alias: str, pg: bool) -> str:
    collate = ' COLLATE "C"' if pg else ""  # byte order: the same tie-break on every server
    return f"({alias}.revision, {alias}.updated_at, {alias}.device_id{collate})"


@dataclass
class Merged:
    written: dict[str, int]  # uuid -> central id of the rows written (new, or their version won)
    existing: dict[str, tuple]  # uuid -> (central id, columns...) of rows that were there
    conflicts: list[Conflict]


def _merge(conn, rec: RecordKind, rows: list[tuple], staged: dict[str, tuple]) -> Merged:
    """COPY rows (sent columns [+ parent id]) into staging; insert the new ones in one
    statement; then, only for rows the central side had already, lock them, decide conflicts
    and upsert by version. A first push is the single INSERT ... ON CONFLICT DO NOTHING.

    A row another laptop inserts at the same moment makes the insert wait for that commit and
    then skip the row, so the second step compares it like any existing row: nothing is
    overwritten unseen.
    """
    pg = _is_pg(conn)
    cols = list(rec.columns) + ([rec.parent_fk] if rec.parent_fk else [])
    stage = _temp_table(conn, rec.table, cols)
    _load(conn, stage, cols, rows)
    names = ", ".join(cols)
    # change_tx: the transaction's marker, so the pulls of other laptops find the row.
    tracked = rec.table in changes.TRACKED
    insert = (
        f"INSERT INTO {rec.table} ({names}, synced_revision{', change_tx' if tracked else ''})"
        f" SELECT {names}, revision{f', {changes.marker(conn)}' if tracked else ''} FROM {stage}"
    )
    written = dict(
        conn.exec_driver_sql(
            f"{insert} ORDER BY uuid ON CONFLICT (uuid) DO NOTHING RETURNING uuid, id"
        ).all()
    )
    rest = sorted(r[0] for r in rows if r[0] not in written)
    existing = _existing(conn, rec, rest)
    conflicts = _conflicts(rec, staged, existing)
    if rest:
        updates = [f"{c} = excluded.{c}" for c in cols[1:]]
        updates.append("synced_revision = excluded.synced_revision")
        if tracked:
            updates.append("change_tx = excluded.change_tx")
        if pg:
            among, params = "uuid IN (SELECT unnest(%s::varchar[]))", (pg_array(rest),)
        else:
            among, params = "uuid IN (SELECT value FROM json_each(?))", (json.dumps(rest),)
        if pg:  # rows that were there: their counts move by the triggers, whatever came before
            conn.exec_driver_sql(daily_counts.SET_BASED_OFF)
        written |= dict(
            conn.exec_driver_sql(
                f"{insert} WHERE {among} ORDER BY uuid"
                f" ON CONFLICT (uuid) DO UPDATE SET {', '.join(updates)}"
                f" WHERE {_version(rec.table, pg)} < {_version('excluded', pg)}"
                " RETURNING uuid, id",
                params,
            ).all()
        )
    return Merged(written, existing, conflicts)


def _replace_links(
    conn, link: LinkKind, units: list[Unit], written: dict[str, int], existing: dict
) -> None:
    """Links follow the root's winning version: rewritten only for roots this batch wrote.

    A root the batch did not write either lost (the central links stay with the winner) or is
    the very version already there, committed together with its links.
    """
    old = sorted(written[u.uuid] for u in units if u.uuid in existing and u.uuid in written)
    if old:  # only a root that was there before has old links (none on a first push)
        if _is_pg(conn):
            conn.exec_driver_sql(
                f"DELETE FROM {link.table} WHERE {link.fk} = ANY(%s::int[])", (pg_array(old),)
            )
        else:
            conn.exec_driver_sql(
                f"DELETE FROM {link.table} WHERE {link.fk} IN (SELECT value FROM json_each(?))",
                (json.dumps(old),),
            )
    rows = sorted(
        (written[u.uuid], value)
        for u in units
        if u.root is not None and u.uuid in written
        for value in u.links.get(link.table, ())
    )
    if not rows:
        return
    cols = [link.fk, link.value]
    stage = _temp_table(conn, link.table, cols)
    _load(conn, stage, cols, rows)
    conn.exec_driver_sql(
        f"INSERT INTO {link.table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage}"
        f" ORDER BY {', '.join(cols)} ON CONFLICT DO NOTHING"
    )


def _parent_ids(conn, root: RecordKind, known: dict[str, int], wanted: set[str]) -> dict:
    """Central ids of the parents the children need; Refused when one is not there."""
    missing = sorted(wanted - known.keys())
    if not missing:
        return known
    source, params = _keyed(conn, root.table, "uuid", missing)
    found = dict(
        conn.exec_driver_sql(
            f"SELECT {root.table}.uuid, {root.table}.id FROM {source}", params
        ).all()
    )
    absent = set(missing) - found.keys()
    if absent:
        raise Refused(f"a child of {root.table} {min(absent)}: that {root.table} is not central")
    return {**known, **found}


def _log_conflicts(conn, conflicts: list[Conflict], now: datetime) -> None:
    stamp = now.replace(tzinfo=None) if _is_pg(conn) else sqlite_ts(now)
    for c in conflicts:
        params = {
            "t": c.table,
            "u": c.uuid,
            "w": c.winner_revision,
            "r": c.loser_revision,
            "d": c.loser_device,
            "p": c.loser_payload,
            "at": stamp,
        }
        seen = conn.execute(
            text(
                "SELECT 1 FROM sync_conflict WHERE table_name = :t AND record_uuid = :u"
                " AND loser_revision = :r AND loser_device = :d AND loser_payload = :p"
            ),
            params,
        ).first()
        if seen is None:
            conn.execute(
                text(
                    "INSERT INTO sync_conflict (table_name, record_uuid, winner_revision,"
                    " loser_revision, loser_device, loser_payload, logged_at)"
                    " VALUES (:t, :u, :w, :r, :d, :p, :at)"
                ),
                params,
            )


def _central_transaction(
    central,
    kind: UnitKind,
    units: list[Unit],
    now: datetime,
    uncounted: bool = False,
    holder: str | None = None,
) -> tuple[list[Conflict], Told]:
    told = Told()
    with central.begin() as conn:
        if _is_pg(conn):
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # timestamps are naive UTC
            # A batch's statements (and the count triggers they fire) take milliseconds; the
            # planner's guesses for staging and transition tables put them over the JIT
            # threshold, and compiling them (~50 ms each, never reused) cost more than running.
            conn.exec_driver_sql("SET LOCAL jit = off")
        tx = changes.begin(conn)
        root = kind.root
        uncounted = uncounted and _is_pg(conn) and root.table == "visit"
        if uncounted:
            first, mark = daily_counts.begin_uncounted()
            conn.exec_driver_sql(first)
            conn.exec_driver_sql(mark, (tx,))
        n = len(root.columns)
        roots = {u.uuid: u.root for u in units if u.root is not None}
        # An erasure dominates (sync/erasure.py): rows of erased clients go in blanked.
        blanked: set[str] = set()  # record uuids taken blanked
        parents_blanked: set[str] = set()
        if root.table == "client":
            roots = erasure.before_clients(conn, root, roots)
            i_erased = root.columns.index("erased_at")
            blanked = {u for u, r in roots.items() if r[i_erased] is not None}
        elif root.table == "visit":
            where = erasure.central_clients_of(conn, [u.uuid for u in units])
            i_client = root.columns.index("client_uuid")
            roots, blanked, told.clients = erasure.before_visits(conn, root, roots, where)
            parents_blanked = blanked | {
                u.uuid for u in units
                if u.root is None and where.get(u.uuid) in told.clients
            } | {u for u, r in roots.items() if r[i_client] in told.clients}  # fmt: skip
            told.visits = set(parents_blanked)
        merged = _merge(conn, root, [r[:n] for r in roots.values()], roots)
        if root.table == "client":  # this laptop's pulls bring later changes of its clients
            changes.hold_staged(conn, holder, "stage_client")
        crash_point("after-stage")
        conflicts = merged.conflicts
        # Every visit of the batch new (a first push): their topic links and referrals are
        # counted by one aggregate per dimension below, not by the insert triggers' probes.
        # Every visit of the batch written by this transaction and uncounted: their links
        # count nothing until the fold, so the insert triggers stand aside too.
        written_all = all(u.root is not None and u.uuid in merged.written for u in units)
        set_based = _is_pg(conn) and root.table == "visit" and not merged.existing
        set_based = set_based and written_all and not uncounted
        if set_based or (uncounted and written_all):
            conn.exec_driver_sql(daily_counts.SET_BASED_ON)
        new_children: dict[str, list[int]] = {}
        for link in kind.links:
            _replace_links(conn, link, units, merged.written, merged.existing)
        for c in kind.children:
            rows = {row[0]: row for u in units for row in u.children.get(c.table, ())}
            if not rows:
                continue
            if parents_blanked and c.table in erasure.ERASED_FIELDS:
                rows = {
                    k: (erasure.blank_row(c, r) if r[-1] in parents_blanked else r)
                    for k, r in rows.items()
                }
                blanked |= {k for k, r in rows.items() if r[-1] in parents_blanked}
            known = {u: row[0] for u, row in merged.existing.items()} | merged.written
            parents = _parent_ids(conn, root, known, {r[-1] for r in rows.values()})
            m = len(c.columns)
            child = _merge(conn, c, [(*r[:m], parents[r[-1]]) for r in rows.values()], rows)
            conflicts += child.conflicts
            new_children[c.table] = [i for u, i in child.written.items() if u not in child.existing]
        if set_based:
            daily_counts.count_new_links(
                conn, merged.written.values(), new_children.get("referral")
            )
        elif uncounted and written_all:
            conn.exec_driver_sql(daily_counts.SET_BASED_OFF)
        if root.table == "client":
            told.clients = erasure.after_clients(conn, root, roots)
            blanked |= told.clients
        elif told.clients:
            erasure.sweep(conn, told.clients)
        conflicts = [
            replace(c, loser_payload=erasure.blank_payload(c.table, c.loser_payload))
            if c.uuid in blanked or c.uuid in told.clients else c
            for c in conflicts
        ]  # fmt: skip
        _log_conflicts(conn, conflicts, now)
        changes.finish(conn)
        crash_point("before-central-commit")
    return conflicts, told


def push_central(
    central,
    kind: UnitKind,
    units: list[Unit],
    now: datetime,
    uncounted: bool = False,
    holder: str | None = None,
) -> tuple[list[Conflict], Told]:
    """One central transaction for a batch of units; returns the conflicts it logged and
    the erased clients it met (the laptop blanks its copies: clients_pull.apply_erasures).
    `uncounted`: its visits are counted by the fold at the end of the push."""
    out = _retrying(lambda: _central_transaction(central, kind, units, now, uncounted, holder))
    crash_point("after-central-commit")
    return out


def push_batch(
    central,
    writer: Writer,
    kind: UnitKind,
    units: list[Unit],
    now: datetime,
    result: PushResult,
    target_id: str | None = None,
    uncounted: bool = False,
    holder: str | None = None,
) -> None:
    """Push units; a refused unit is isolated by halving the batch and quarantined."""
    try:
        conflicts, told = push_central(central, kind, units, now, uncounted, holder)
    except (Refused, DataError, IntegrityError) as exc:
        if len(units) == 1:
            reason = _reason(exc)

            def keep(raw, unit=units[0]):
                result.quarantined.extend(quarantine(raw, unit, reason, now, target_id))

            writer.submit(keep)
            return
        mid = len(units) // 2
        push_batch(central, writer, kind, units[:mid], now, result, target_id, uncounted, holder)
        push_batch(central, writer, kind, units[mid:], now, result, target_id, uncounted, holder)
        return

    def mark(raw):
        mark_synced(raw, units, conflicts, now, target_id)
        crash_point("after-local-mark")

    writer.submit(mark)
    result.conflicts += conflicts
    result.erased |= told.clients
    result.erased_visits |= told.visits
    for unit in units:
        for table, _uuid, _rev in unit.records():
            result.pushed[table] += 1


class _Reader:
    """Reads batch N+1 from the laptop (its own connection, in a thread) while batch N is in
    its central transaction: the two overlap instead of taking turns (docs/performance.md)."""

    def __init__(self, local, batches: list[tuple[UnitKind, list[int]]]) -> None:
        import queue
        import threading

        self._local, self._batches = local, batches
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-read", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            raw = self._local.raw_connection()  # its own: reads beside the marks being written
        except Exception as exc:  # handed to the pushing thread, raised there
            self._put(exc)
            return
        try:
            for kind, chunk in self._batches:
                raw.execute("BEGIN")  # one snapshot: a visit and its topics as they were
                try:
                    units = read_units(raw, kind, chunk[0], chunk[-1])
                finally:
                    raw.rollback()
                if not self._put((kind, chunk, units)):
                    return
            self._put(None)
        except Exception as exc:
            self._put(exc)
        finally:
            raw.close()

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


def _fast_lane(local, central, raw, now, batch_size, target_id, holder, result: PushResult):
    """The fast lane (sync/fast_lane.py): the new records; for a big push the visits in one
    transaction and every other kind in a second beside it (a thread and a connection of their
    own: the central side's work is one core each), the visits' counts folded in a thread once
    they are committed. Each lane's records are marked synced after its commit. Returns the
    plan of what is still pending."""

    def job(lane):
        def marks(raw):
            mark_records(raw, lane.records[lane.marked :], [], now, target_id)
            crash_point("after-local-mark")

        return marks

    def early(records, outcome) -> None:
        # Written while the central transaction still runs, committed on the laptop only
        # after it (the writer waits: nothing else of the laptop's is written meanwhile).
        def marks(raw):
            try:
                mark_records(raw, records, [], now, target_id, commit=False)
            except BaseException:
                raw.rollback()
                raise
            if outcome.committed():
                raw.commit()
                crash_point("after-local-mark")
            else:
                raw.rollback()

        writer.submit(marks)

    def account(lane) -> None:
        if lane.tx:  # 0: nothing new of its kinds, no transaction
            result.lane_tx.append(lane.tx)
        for table, uuid, _rev, _id in lane.records:
            result.pushed[table] += 1
            if table == "client":
                result.held.add(uuid)

    writer = Writer(raw)
    beside: Beside[Lane | None] | None = None

    def others() -> Lane | None:  # its marks go in as soon as it has committed
        other = push_new(local, central, holder, lanes[1])
        if other is not None:
            writer.submit(job(other))
        return other

    def second_lane() -> None:  # once the first lane has read and sent its rows
        nonlocal beside
        if beside is None and len(lanes) > 1:
            beside = Beside(others, "sync-lane")

    try:
        lanes = parts(local, batch_size)
        lane = push_new(local, central, holder, lanes[0], staged=second_lane, early=early)
        second_lane()  # (the first had nothing to send after all)
        if lane is not None:  # None: a value refused, what is left goes the per-batch way
            writer.submit(job(lane))
            account(lane)
            if lane.uncounted:
                crash_point("before-fold")
                folding = lambda: fold_counts(central, precount=lane.precount)  # noqa: E731
                result.folding = Beside(folding, "sync-fold")
        if beside is not None:
            other = beside.wait()
            if other is not None:
                account(other)
    except BaseException:
        if beside is not None:
            beside.wait(quiet=True)  # no thread left behind
        writer.close(quiet=True)
        raise
    writer.close()
    return [(kind, pending_unit_ids(raw, kind)) for kind in unit_kinds()]


def push(
    local,
    central,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    target_id: str | None = None,
    holder: str | None = None,
) -> PushResult:
    """`holder`: this laptop's own database id; the central side notes that it holds the
    clients it pushes (sync/changes.py)."""
    result = PushResult()
    raw = local.raw_connection()
    reader = writer = None
    try:
        plan = [(kind, pending_unit_ids(raw, kind)) for kind in unit_kinds()]
        total = sum(len(ids) for _, ids in plan)
        if progress:
            progress(0, total)
        if total and central.dialect.name == "postgresql":
            # Records new to the central side first, one insert per table (sync/fast_lane.py);
            # what it leaves pending goes the per-batch way below.
            plan = _fast_lane(local, central, raw, now, batch_size, target_id, holder, result)
            if progress:
                progress(total - sum(len(ids) for _, ids in plan), total)
        batches = [
            (kind, ids[start : start + batch_size])
            for kind, ids in plan
            for start in range(0, len(ids), batch_size)
        ]
        done = total - sum(len(ids) for _, ids in plan)
        # Only visit units move per-day counts. One batch of them keeps its counts in its own
        # transaction (the everyday push: then only a look for a killed push's leftovers);
        # more batches leave them uncounted and fold them once at the end.
        counted = sum(1 for kind, _ in batches if kind.root.table == "visit")
        uncounted = central.dialect.name == "postgresql" and counted > 1
        reader = _Reader(local, batches)
        writer = Writer(raw)
        for kind, chunk, units in reader:
            crash_point("after-read")
            if units:
                push_batch(central, writer, kind, units, now, result, target_id, uncounted, holder)
            done += len(chunk)
            if progress:
                progress(done, total)
        if uncounted:
            crash_point("before-fold")
        if central.dialect.name == "postgresql":
            if uncounted or result.folding is None:  # the lane's fold takes any leftovers
                fold_counts(central, leftovers=not uncounted)
        writer, closing = None, writer
        closing.close()
    except BaseException:
        result.wait_fold(quiet=True)  # no thread left behind; the error on its way is reported
        raise
    finally:
        if reader is not None:
            reader.close()
        if writer is not None:  # an error on the way: still let the marks made so far land
            writer.close(quiet=True)
        raw.close()
    return result
