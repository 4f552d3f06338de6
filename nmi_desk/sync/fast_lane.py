"""The push's fast lane: records the central side has never seen, one statement per table.

Most of what a laptop's first push sends, and all an everyday push of new visits sends, is
records made on this laptop and never synced, of clients nobody erased or merged. For those the
per-batch path (push.py) does nothing but insert: no version to compare, nothing to blank, no
conflict. This lane takes exactly those, streamed from one read snapshot of the laptop into
COPY, and inserts each table with one statement, as the floor in docs/performance.md does.

Everything else stays pending, and the per-batch path that runs right after takes it the
careful way:
  - a record this laptop synced before (`synced_revision > 0`), or one in quarantine;
  - a client the laptop erased or merged (the erasure and merge rules, sync/erasure.py);
  - a visit whose client the central side holds erased or merged;
  - a record the central side has already (a push killed after its commit, another laptop):
    the insert skips it (ON CONFLICT DO NOTHING), and its links and children with it.

One transaction; for more than a batch of new visits two, side by side on two connections:
the visits (with their topics and referrals), and the clients, information sessions and audit
events, started once the visits' rows are read and sent (two Python readers at once take
turns). A root's links and children are read from the laptop in a thread while the roots are
inserted. New visits need no client central before them: the lane's clients are new, so
nothing central can have erased or merged them. A kill anywhere leaves a transaction's
records pending (pushed again); a value the central side refuses rolls that transaction back,
and the per-batch path isolates and quarantines it. A big push's visits are also counted on a
connection of their own while their transaction runs (sync/fold.py), and their synced marks
are written on the laptop before the central commit and committed there after it (`early`,
push.py). Only on PostgreSQL (COPY); a SQLite file target takes the per-batch path. Figures:
docs/performance.md, Sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy.exc import DataError, IntegrityError

from nmi_desk.store import daily_counts
from nmi_desk.sync import changes
from nmi_desk.sync.beside import Beside
from nmi_desk.sync.crashpoints import crash_point
from nmi_desk.sync.fold import Precount, Rows
from nmi_desk.sync.retry import retrying
from nmi_desk.sync.tables import RecordKind, UnitKind, unit_kinds

# Rows of these tables the careful path must see (sync/erasure.py decides how they are taken).
_LOCAL_FILTER = {"client": " AND {a}.erased_at IS NULL AND {a}.merged_into IS NULL"}


class Outcome:
    """Whether a lane transaction committed, for marks made on the laptop before it knew
    (push.py: they are committed on the laptop only once it has)."""

    def __init__(self) -> None:
        import threading

        self._known = threading.Event()
        self._committed = False

    def resolve(self, committed: bool) -> None:
        self._committed = committed
        self._known.set()

    def committed(self) -> bool:
        """Wait for the outcome: True once the central commit is done."""
        self._known.wait()
        return self._committed


# (records so far, the outcome of their transaction): marks the laptop may write but not
# commit yet (push.py).
EarlyMarks = Callable[[list[tuple[str, str, int, int]], Outcome], None]


@dataclass
class Lane:
    """What the lane committed: (table, uuid, revision, laptop's id) of every record written."""

    records: list[tuple[str, str, int, int]] = field(default_factory=list)
    marked: int = 0  # the first records, marked before the commit (early), not to mark again
    outcome: Outcome = field(default_factory=Outcome)
    early: EarlyMarks | None = None
    uncounted: bool = False  # its visits are counted by the fold (store.daily_counts)
    tx: int = 0  # the change_tx marker of its rows (sync/changes.py)
    precount: Precount | None = None  # its visits' counts, made beside it (sync/fold.py)


def _never_synced(alias: str, table: str) -> str:
    """SQLite: the record is pending, was never synced from this laptop, is not in quarantine."""
    return (
        f"{alias}.revision > {alias}.synced_revision AND {alias}.synced_revision = 0 AND "
        f"{alias}.uuid NOT IN (SELECT record_uuid FROM sync_quarantine WHERE table_name = "
        f"'{table}')"
    )


def _roots_where(root: RecordKind, alias: str) -> str:
    return _never_synced(alias, root.table) + _LOCAL_FILTER.get(root.table, "").format(a=alias)


def copy_rows(conn, stage: str, columns, rows) -> None:
    """PostgreSQL: rows into `stage` by COPY (push.py's batches load theirs this way too)."""
    cur = conn.connection.driver_connection.cursor()
    with cur.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _keeping(rows, local: dict[str, tuple[int, int]], rev_at: int) -> Iterator[tuple]:
    """Rows (laptop id, sent columns...) as sent, noting uuid -> (laptop id, revision)."""
    for row in rows:
        local[row[1]] = (row[0], row[1 + rev_at])
        yield row[1:]


def _temp(conn, name: str, select: str) -> None:
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}")


def _written(conn, table: str, local: dict, records: list, ids: list[int] | None) -> int:
    """How many rows the lane wrote to `table`; their records noted, and their central ids
    put in `ids` when asked for (the set-based counting needs them)."""
    if ids is None:
        n = conn.exec_driver_sql(f"SELECT count(*) FROM written_{table}").scalar_one()
        if n == len(local):  # all it staged: none to read back (100,000 uuids ~0.2 s)
            records.extend((table, uuid, rev, lid) for uuid, (lid, rev) in local.items())
            return n
    n = 0
    for uuid, central_id in conn.exec_driver_sql(f"SELECT uuid, id FROM written_{table}"):
        local_id, revision = local[uuid]
        records.append((table, uuid, revision, local_id))
        if ids is not None:
            ids.append(central_id)
        n += 1
    return n


def _insert(conn, rec: RecordKind, source: str, select: str) -> None:
    """Rows new to the central side, from `source`, into rec.table; the written ones (uuid,
    central id) kept in written_<table>. A row already there is skipped (and stays pending)."""
    tracked = rec.table in changes.TRACKED
    names = list(rec.columns) + ([rec.parent_fk] if rec.parent_fk else [])
    if tracked:
        names.append("change_tx")
        select += f", {changes.marker(conn)}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE written_{rec.table} (uuid varchar, id bigint) ON COMMIT DROP"
    )
    conn.exec_driver_sql(
        f"WITH ins AS (INSERT INTO {rec.table} ({', '.join(names)}, synced_revision)"
        f" SELECT {select}, s.revision FROM {source} ORDER BY s.uuid"
        f" ON CONFLICT (uuid) DO NOTHING RETURNING uuid, id)"
        f" INSERT INTO written_{rec.table} SELECT uuid, id FROM ins"
    )


def _ahead(read, kind: UnitKind, counted: bool) -> Beside[list[list[tuple]]]:
    """The laptop's rows of the lane roots' links, then of their children, read in a thread
    while the central side inserts the roots (the same snapshot: `read` is not used by
    anyone else meanwhile); `counted`: last, the roots' counted columns (the precount's)."""
    root = kind.root

    def of_roots(fk: str) -> str:  # rows of the lane's roots
        return f"JOIN {root.table} p ON p.id = c.{fk} WHERE {_roots_where(root, 'p')}"

    queries = [
        f"SELECT p.uuid, c.{link.value} FROM {link.table} c {of_roots(link.fk)}"
        for link in kind.links
    ] + [
        f"SELECT c.id, {', '.join('c.' + c for c in child.columns)}, p.uuid"
        f" FROM {child.table} c {of_roots(child.parent_fk)}"
        f" AND {_never_synced('c', child.table)}"
        for child in kind.children
    ]
    if counted:
        cols = ", ".join(f"r.{c}" for c in daily_counts.VISIT_COUNTED)
        queries.append(f"SELECT r.uuid, {cols} FROM {root.table} r WHERE {_roots_where(root, 'r')}")
    return Beside(lambda: [read.execute(q).fetchall() for q in queries], "sync-lane-read")


def _kind(
    conn, read, kind: UnitKind, holder: str | None, uncounted: bool, lane: Lane, staged
) -> None:
    root = kind.root
    cols = ", ".join(root.columns)
    stage = f"stage_{root.table}"
    _temp(conn, stage, f"SELECT {cols} FROM {root.table} LIMIT 0")
    local: dict[str, tuple[int, int]] = {}
    rows = read.execute(f"SELECT r.id, {cols} FROM {root.table} r WHERE {_roots_where(root, 'r')}")
    copy_rows(conn, stage, root.columns, _keeping(rows, local, root.rev_index))
    if not local:
        return
    crash_point("after-stage")
    if staged is not None:
        staged()
    # A big push's visits, counted beside this transaction from the rows it sends (sync/fold.py).
    counting = uncounted and root.table == "visit"
    ahead = _ahead(read, kind, counting) if kind.links or kind.children else None
    precount = None
    if counting and ahead is not None:
        read_ahead = ahead
        precount = Precount(conn.engine, lane.tx, lambda: _precount_rows(kind, read_ahead.wait()))
    try:
        complete = _rest(conn, kind, stage, local, holder, uncounted, lane, ahead)
    except BaseException:
        if precount is not None:
            precount.drop()
        raise
    finally:
        if ahead is not None:  # `read` is this thread's again (an error: joined all the same)
            ahead.wait(quiet=True)
    if precount is not None and not complete:  # some rows not written: fold from the rows
        precount.drop()
    elif precount is not None:
        lane.precount = precount


def _precount_rows(kind: UnitKind, ahead: list[list[tuple]] | None) -> Rows:
    """The precount's rows from what the visits' lane read ahead (_ahead's order: the topic
    links, the referrals, the visits' counted columns), each with its visit's uuid."""
    links, referrals, visits = ahead or ([], [], [])
    child = kind.children[0]
    org, deleted = (1 + child.columns.index(c) for c in ("organisation_code", "deleted"))
    return visits, links, [(r[-1], r[org], r[deleted]) for r in referrals]


def _rest(conn, kind, stage, local, holder, uncounted, lane, ahead) -> bool:
    """The roots staged in `stage` into their table, then their links and children; whether
    every row staged was written (none there already, none held back)."""
    root = kind.root
    if root.table == "visit":  # their client erased or merged centrally: the careful path
        conn.exec_driver_sql(
            f"DELETE FROM {stage} s WHERE s.client_uuid IN (SELECT uuid FROM client WHERE"
            " erased_at IS NOT NULL UNION ALL SELECT uuid FROM client WHERE merged_into IS NOT"
            " NULL)"
        )
    _insert(conn, root, f"{stage} s", ", ".join(f"s.{c}" for c in root.columns))
    if root.table == "client":  # this laptop's pulls bring later changes of its clients
        changes.hold_staged(conn, holder, stage)
    set_based = root.table == "visit"  # links and referrals counted at once, not by triggers
    # Central ids for the set-based counting of links (uncounted visits: the fold counts).
    root_ids: list[int] | None = [] if set_based and not uncounted else None
    child_ids: list[int] | None = [] if root_ids is not None else None
    complete = _written(conn, root.table, local, lane.records, root_ids) == len(local)
    if set_based:
        conn.exec_driver_sql(daily_counts.SET_BASED_ON)

    read_ahead = iter(ahead.wait() or ()) if ahead is not None else iter(())
    for link in kind.links:
        name = f"stage_{link.table}"
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {name} (uuid varchar, value varchar) ON COMMIT DROP"
        )
        rows = next(read_ahead)
        copy_rows(conn, name, ("uuid", "value"), rows)
        written = conn.exec_driver_sql(
            f"INSERT INTO {link.table} ({link.fk}, {link.value}) SELECT w.id, s.value"
            f" FROM {name} s JOIN written_{root.table} w ON w.uuid = s.uuid ORDER BY 1, 2"
            " ON CONFLICT DO NOTHING"
        ).rowcount
        complete = complete and written == len(rows)
    if uncounted and lane.early is not None:  # a big push's visits: marked while it goes on
        lane.marked = len(lane.records)
        lane.early(lane.records[: lane.marked], lane.outcome)
    for child in kind.children:
        ccols = ", ".join(child.columns)
        name = f"stage_{child.table}"
        _temp(conn, name, f"SELECT {ccols}, uuid AS parent_uuid FROM {child.table} LIMIT 0")
        mine: dict[str, tuple[int, int]] = {}
        rows = next(read_ahead)
        copy_rows(
            conn, name, (*child.columns, "parent_uuid"), _keeping(rows, mine, child.rev_index)
        )
        _insert(
            conn,
            child,
            f"{name} s JOIN written_{root.table} w ON w.uuid = s.parent_uuid",
            ", ".join(f"s.{c}" for c in child.columns) + ", w.id",
        )
        written = _written(conn, child.table, mine, lane.records, child_ids)
        complete = complete and written == len(rows)
    if set_based and uncounted:  # uncounted visits: the fold counts their links from rows
        conn.exec_driver_sql(daily_counts.SET_BASED_OFF)
    elif set_based:
        daily_counts.count_new_links(conn, root_ids or [], child_ids)
    return complete


def _any_new(read, kind: UnitKind) -> bool:
    """The laptop has a root of this kind for the lane (its children come only with one)."""
    root = kind.root
    where = _roots_where(root, "r")
    return read.execute(f"SELECT EXISTS (SELECT 1 FROM {root.table} r WHERE {where})").fetchone()[0]


def _central(
    central,
    read,
    kinds: list[UnitKind],
    part: str,
    holder: str | None,
    staged=None,
    early: EarlyMarks | None = None,
) -> Lane:
    lane = Lane(early=early)
    try:
        _transaction(central, read, kinds, part, holder, staged, lane)
    except BaseException:
        lane.outcome.resolve(False)  # marks made early are rolled back
        raise
    lane.outcome.resolve(True)
    return lane


def _transaction(central, read, kinds, part, holder, staged, lane: Lane) -> None:
    # More than a batch of visits (parts: their transaction of their own): counted once, by
    # the fold after the commit, as the per-batch path counts a push of several batches
    # (store.daily_counts, begin_uncounted).
    lane.uncounted = part == VISITS
    with central.begin() as conn:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # timestamps are naive UTC
        conn.exec_driver_sql("SET LOCAL jit = off")  # see push._central_transaction
        tx = lane.tx = changes.begin(conn)
        try:
            if lane.uncounted:
                first, mark = daily_counts.begin_uncounted()
                conn.exec_driver_sql(first)
                conn.exec_driver_sql(mark, (tx,))
            for kind in kinds:
                _kind(conn, read, kind, holder, lane.uncounted, lane, staged)
            changes.finish(conn)
        except BaseException:
            changes.forget(conn)
            raise
        crash_point("before-central-commit")


ALL, VISITS, OTHERS = "all", "visits", "others"  # which kinds a lane transaction takes


def parts(local, batch_size: int) -> tuple[str, ...]:
    """The lane's transactions: more than a batch of new visits (their counts folded after
    the commit) go first and alone, so the fold runs beside the second; else one."""
    read = local.raw_connection()
    try:
        new_visits = read.execute(
            f"SELECT count(*) FROM visit r WHERE {_never_synced('r', 'visit')}"
        ).fetchone()[0]
    finally:
        read.close()
    big = new_visits > batch_size
    return (VISITS, OTHERS) if big else (ALL,)


def push_new(
    local,
    central,
    holder: str | None,
    part: str = ALL,
    staged: Callable[[], None] | None = None,
    early: EarlyMarks | None = None,
) -> Lane | None:
    """Commit the never-synced records of the kinds in `part` centrally in one transaction
    (module docstring); None when the central side refused a value (nothing committed: the
    per-batch path isolates it). The caller marks lane.records synced on the laptop, but for
    the first lane.marked: `early` got those while the transaction was still open (a big
    push's visits), to write their marks on the laptop and commit them once
    lane.outcome says the central side has committed, or roll them back.
    `staged` is called once a kind's rows are read and sent (the laptop's reading done: the
    next lane transaction can start beside this one without the two taking turns for it)."""
    import psycopg

    read = local.raw_connection()  # one snapshot: a visit and its topics as they were
    try:
        read.execute("BEGIN")
        kinds = [
            kind
            for kind in unit_kinds()
            if (part == ALL or (kind.root.table == "visit") == (part == VISITS))
            and _any_new(read, kind)
        ]
        if not kinds:
            read.rollback()
            return Lane()  # only edits: no transaction of its own (no rows, no marker)
        crash_point("after-read")
        try:
            lane = retrying(lambda: _central(central, read, kinds, part, holder, staged, early))
        except (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError):
            return None
        finally:
            read.rollback()
    finally:
        read.close()
    crash_point("after-central-commit")
    return lane
