"""Push: pending records go to the central database in batches of units, exactly once.

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
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DataError, IntegrityError

from nmi_desk.store.errors import first_line as _reason
from nmi_desk.sync.crashpoints import crash_point
from nmi_desk.sync.tables import LinkKind, RecordKind, UnitKind, unit_kinds

# Units per central transaction. 2,000 measured faster than 1,000 (18.9 s vs 22.5 s for a first
# push of 100,000 visits) and than 5,000 (24 s): docs/performance.md, Sync.
BATCH_SIZE = 2000


class Refused(Exception):
    """The central side cannot take a unit as it is."""


@dataclass
class Unit:
    kind: UnitKind
    uuid: str  # the root record's uuid
    root: tuple | None = None  # (columns..., base_revision) when the root itself is pending
    links: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[tuple]] = field(default_factory=dict)  # (cols..., base, parent_uuid)
    local_ids: dict[str, int] = field(default_factory=dict)  # record uuid -> laptop's id

    def records(self):
        """(table, uuid, revision) of every record this unit carries."""
        if self.root is not None:
            yield self.kind.root.table, self.root[0], self.root[_rev_index(self.kind.root)]
        for child in self.kind.children:
            at = _rev_index(child)
            for row in self.children.get(child.table, ()):
                yield child.table, row[0], row[at]


@dataclass(frozen=True)
class Conflict:
    table: str
    uuid: str
    winner_revision: int
    loser_revision: int
    loser_device: str
    loser_payload: str


@dataclass
class PushResult:
    pushed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    conflicts: list[Conflict] = field(default_factory=list)
    quarantined: list[tuple[str, str, int, str]] = field(default_factory=list)


def _rev_index(kind: RecordKind) -> int:
    return kind.columns.index("revision")


# ---- local side (the laptop's SQLite, through the engine's raw DB-API connection) ----


def pending_unit_ids(raw, kind: UnitKind) -> list[int]:
    parts = [f"SELECT id FROM {kind.root.table} WHERE revision > synced_revision"]
    parts += [
        f"SELECT {c.parent_fk} FROM {c.table} WHERE revision > synced_revision"
        for c in kind.children
    ]
    sql = " UNION ".join(parts) + " ORDER BY 1"
    return [row[0] for row in raw.execute(sql)]


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


def _sqlite_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's DATETIME text form


def mark_synced(raw, units: list[Unit], conflicts: list[Conflict], now: datetime) -> None:
    """After the central commit: the pushed revisions are synced, the conflicts logged here too.

    `synced_revision < ?` keeps this idempotent and never lowers a mark; a record edited while
    it was on its way stays pending (its revision is higher than the one pushed).
    """
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for unit in units:
        for table, uuid, revision in unit.records():
            groups[table, revision].append(unit.local_ids[uuid])
    cur = raw.cursor()
    for (table, revision), ids in groups.items():  # one statement per table and revision
        cur.execute(
            f"UPDATE {table} SET synced_revision = ? WHERE synced_revision < ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (revision, revision, json.dumps(ids)),
        )
    for c in conflicts:
        seen = cur.execute(
            "SELECT 1 FROM sync_conflict WHERE table_name = ? AND record_uuid = ?"
            " AND loser_revision = ? AND loser_device = ? AND loser_payload = ?",
            (c.table, c.uuid, c.loser_revision, c.loser_device, c.loser_payload),
        ).fetchone()
        if seen is None:
            cur.execute(
                "INSERT INTO sync_conflict (table_name, record_uuid, winner_revision,"
                " loser_revision, loser_device, loser_payload, logged_at) VALUES (?,?,?,?,?,?,?)",
                (
                    c.table,
                    c.uuid,
                    c.winner_revision,
                    c.loser_revision,
                    c.loser_device,
                    c.loser_payload,
                    _sqlite_ts(now),
                ),
            )
    raw.commit()


def quarantine(raw, unit: Unit, reason: str, now: datetime) -> list[tuple[str, str, int, str]]:
    """Keep a refused unit's records pending, with the reason, one row per record version."""
    cur = raw.cursor()
    out = []
    for table, uuid, revision in unit.records():
        cur.execute(
            "DELETE FROM sync_quarantine WHERE table_name = ? AND record_uuid = ? AND revision = ?",
            (table, uuid, revision),
        )
        cur.execute(
            "INSERT INTO sync_quarantine (table_name, record_uuid, revision, reason, logged_at)"
            " VALUES (?,?,?,?,?)",
            (table, uuid, revision, reason, _sqlite_ts(now)),
        )
        out.append((table, uuid, revision, reason))
    raw.commit()
    return out


# ---- central side (PostgreSQL or a SQLite file, through SQLAlchemy) ----


def _is_pg(conn) -> bool:
    return conn.dialect.name == "postgresql"


def _temp_table(conn, name: str, select: str) -> None:
    if _is_pg(conn):
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}")
    else:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} AS {select}")


def _stage_columns(rec: RecordKind) -> list[str]:
    return [*rec.columns, "base_revision"] + (["parent_uuid"] if rec.parent_fk else [])


def _load(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    if _is_pg(conn):
        import psycopg

        cur = conn.connection.driver_connection.cursor()
        try:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise Refused(_reason(exc)) from exc
    else:
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _stage(conn, kind: UnitKind, units: list[Unit]) -> None:
    root = kind.root
    _temp_table(
        conn,
        f"stage_{root.table}",
        f"SELECT {', '.join(root.columns)}, revision AS base_revision FROM {root.table} LIMIT 0",
    )
    _load(conn, f"stage_{root.table}", _stage_columns(root), [u.root for u in units if u.root])
    for child in kind.children:
        _temp_table(
            conn,
            f"stage_{child.table}",
            f"SELECT {', '.join(child.columns)}, revision AS base_revision,"
            f" uuid AS parent_uuid FROM {child.table} LIMIT 0",
        )
        rows = [r for u in units for r in u.children.get(child.table, ())]
        _load(conn, f"stage_{child.table}", _stage_columns(child), rows)
    if _is_pg(conn):  # fresh temp tables have no statistics: let the planner see the sizes
        for rec in (root, *kind.children):
            conn.exec_driver_sql(f"ANALYZE stage_{rec.table}")


def _version(alias: str, pg: bool) -> str:
    collate = ' COLLATE "C"' if pg else ""  # byte order: the same tie-break on every server
    return f"({alias}.revision, {alias}.updated_at, {alias}.device_id{collate})"


def _conflicts(
    conn, rec: RecordKind, staged: dict[str, tuple], existing: set[str]
) -> list[Conflict]:
    """Central rows that hold a version this device never saw: one side loses, and is logged.

    Locks the existing central rows (PostgreSQL) so two devices pushing the same record at once
    decide one after the other.
    """
    cols = ", ".join(f"c.{c}" for c in rec.columns)
    sql = (
        f"SELECT s.base_revision, s.revision, s.updated_at, s.device_id, {cols}"
        f" FROM stage_{rec.table} s JOIN {rec.table} c ON c.uuid = s.uuid"
    )
    if _is_pg(conn):
        sql += " FOR UPDATE OF c"
    out = []
    i_rev = rec.columns.index("revision")
    i_upd = rec.columns.index("updated_at")
    i_dev = rec.columns.index("device_id")
    for row in conn.exec_driver_sql(sql):
        base, mine = row[0], tuple(row[1:4])
        central = tuple(row[4:])
        existing.add(central[0])
        theirs = (central[i_rev], central[i_upd], central[i_dev])
        if theirs == mine or theirs[0] == base:
            continue  # the same version again (a re-run), or a plain edit of what we synced
        uuid = central[0]
        if mine > theirs:
            winner, loser_row = mine[0], central
        else:
            winner, loser_row = theirs[0], staged[uuid][: len(rec.columns)]
        payload = json.dumps(dict(zip(rec.columns, loser_row, strict=True)), default=str)
        out.append(
            Conflict(
                rec.table,
                uuid,
                winner,
                loser_row[i_rev],
                loser_row[i_dev],
                payload,
            )
        )
    return out


def _upsert(
    conn, rec: RecordKind, root: RecordKind | None, staged_roots: frozenset | set = frozenset()
) -> dict[str, int]:
    """Merge the staged rows; returns uuid -> central id of the rows written (new or won)."""
    pg = _is_pg(conn)
    cols = list(rec.columns)
    updates = [f"{c} = excluded.{c}" for c in cols[1:]] + [
        "synced_revision = excluded.synced_revision"
    ]
    if root is None:
        select = f"SELECT {', '.join(cols)}, revision FROM stage_{rec.table} WHERE true"
        target = f"{', '.join(cols)}, synced_revision"
    else:
        # Parents pushed in this batch are there now; only the others need looking up.
        others = sorted(
            {r[0] for r in conn.exec_driver_sql(f"SELECT parent_uuid FROM stage_{rec.table}")}
            - set(staged_roots)
        )
        if others:
            found = conn.execute(
                text(f"SELECT uuid FROM {root.table} WHERE uuid IN :u").bindparams(
                    bindparam("u", expanding=True)
                ),
                {"u": others},
            ).scalars()
            missing = set(others) - set(found)
            if missing:
                raise Refused(
                    f"a {rec.table} of {root.table} {min(missing)}: that {root.table} is not"
                    " on the central side"
                )
        select = (
            f"SELECT {', '.join('s.' + c for c in cols)}, s.revision, p.id"
            f" FROM stage_{rec.table} s JOIN {root.table} p ON p.uuid = s.parent_uuid WHERE true"
        )
        target = f"{', '.join(cols)}, synced_revision, {rec.parent_fk}"
        updates.append(f"{rec.parent_fk} = excluded.{rec.parent_fk}")
    written = conn.exec_driver_sql(
        f"INSERT INTO {rec.table} ({target}) {select}"
        f" ON CONFLICT (uuid) DO UPDATE SET {', '.join(updates)}"
        f" WHERE {_version(rec.table, pg)} < {_version('excluded', pg)}"
        " RETURNING uuid, id"
    )
    return dict(written.all())


def _replace_links(
    conn, link: LinkKind, units: list[Unit], written: dict[str, int], existing: set[str]
) -> None:
    """Links follow the root's winning version: rewritten only for roots this batch wrote.

    A root the batch did not write either lost (the central links stay with the winner) or is
    the very version already there, committed together with its links.
    """
    ids = [written[u.uuid] for u in units if u.uuid in existing and u.uuid in written]
    if ids:  # only a root that was there before has old links (none on a first push)
        conn.execute(
            text(f"DELETE FROM {link.table} WHERE {link.fk} IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
    rows = [
        (written[u.uuid], value)
        for u in units
        if u.root is not None and u.uuid in written
        for value in u.links.get(link.table, ())
    ]
    _load(conn, link.table, [link.fk, link.value], rows)


def _log_conflicts(conn, conflicts: list[Conflict], now: datetime) -> None:
    stamp = now.replace(tzinfo=None) if _is_pg(conn) else _sqlite_ts(now)
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


def push_central(central, kind: UnitKind, units: list[Unit], now: datetime) -> list[Conflict]:
    """One central transaction for a batch of units; returns the conflicts it logged."""
    with central.begin() as conn:
        if _is_pg(conn):
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # timestamps are naive UTC
            # A batch joins a thousand staged rows to a table of millions: probe the uuid index
            # instead of hashing the whole table once per batch (that grew as n squared).
            conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
            conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
        _stage(conn, kind, units)
        crash_point("after-stage")
        conflicts: list[Conflict] = []
        existing: set[str] = set()  # uuids the central side already had
        for rec in (kind.root, *kind.children):
            staged = {
                row[0]: row
                for u in units
                for row in (
                    [u.root] if rec is kind.root and u.root else u.children.get(rec.table, ())
                )
            }
            if staged:
                conflicts += _conflicts(conn, rec, staged, existing)
        written = _upsert(conn, kind.root, None)
        for link in kind.links:
            _replace_links(conn, link, units, written, existing)
        roots = {u.uuid for u in units if u.root is not None}
        for child in kind.children:
            _upsert(conn, child, kind.root, roots)
        _log_conflicts(conn, conflicts, now)
        crash_point("before-central-commit")
    crash_point("after-central-commit")
    return conflicts


def push_batch(
    central,
    raw,
    kind: UnitKind,
    units: list[Unit],
    now: datetime,
    result: PushResult,
) -> None:
    """Push units; a refused unit is isolated by halving the batch and quarantined."""
    try:
        conflicts = push_central(central, kind, units, now)
    except (Refused, DataError, IntegrityError) as exc:
        if len(units) == 1:
            result.quarantined += quarantine(raw, units[0], _reason(exc), now)
            return
        mid = len(units) // 2
        push_batch(central, raw, kind, units[:mid], now, result)
        push_batch(central, raw, kind, units[mid:], now, result)
        return
    mark_synced(raw, units, conflicts, now)
    crash_point("after-local-mark")
    result.conflicts += conflicts
    for unit in units:
        for table, _uuid, _rev in unit.records():
            result.pushed[table] += 1


def push(
    local,
    central,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> PushResult:
    result = PushResult()
    raw = local.raw_connection()
    try:
        plan = [(kind, pending_unit_ids(raw, kind)) for kind in unit_kinds()]
        total = sum(len(ids) for _, ids in plan)
        done = 0
        if progress:
            progress(0, total)
        for kind, ids in plan:
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                raw.execute("BEGIN")  # one snapshot: a visit and its topics as they were
                try:
                    units = read_units(raw, kind, chunk[0], chunk[-1])
                finally:
                    raw.rollback()
                crash_point("after-read")
                if units:
                    push_batch(central, raw, kind, units, now, result)
                done += len(chunk)
                if progress:
                    progress(done, total)
    finally:
        raw.close()
    return result
