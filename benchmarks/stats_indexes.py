"""Which indexes the laptop's read paths use, and what the unused ones cost in file size.

    python benchmarks/stats_indexes.py [--visits 100000] [--keep DIR]

Builds a database of synthetic visits at the current schema, puts back the ten indexes
migration 110 dropped (migrations 2 and 50), then runs every read path of the laptop (Today's
rows and counts, follow-ups, the Day overview's attention line, statistics for a day and a
year, retention, sync's pending count and its read of pending records, opening a visit)
while recording each SELECT it sends, and asks SQLite for the plan of each (EXPLAIN QUERY
PLAN). Prints the indexes each path uses and the file size (VACUUM INTO) with and without
the ten.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nmi_desk.domain.context import Context
from nmi_desk.store.migrations import STATISTICS_INDEXES_2, STATISTICS_INDEXES_50, UNUSED_INDEXES

# The ten dropped indexes exactly as migrations 2 and 50 created them.
OLD_INDEXES = [
    sql
    for sql in (*STATISTICS_INDEXES_2, *STATISTICS_INDEXES_50)
    if sql.split()[2] in UNUSED_INDEXES
]


class Recording:
    """A sqlite3 connection that notes every statement and its parameters."""

    def __init__(self, conn: sqlite3.Connection, log: list) -> None:
        self._conn, self._log = conn, log

    def execute(self, sql, params=()):
        self._log.append((sql, params))
        return self._conn.execute(sql, params)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def _size(db: Path, tmp: Path, name: str) -> int:
    target = tmp / name
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute(f"VACUUM INTO '{target}'")
    conn.close()
    return target.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the data dir here")
    args = parser.parse_args()

    from sqlalchemy import event

    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.referrals import open_follow_ups
    from nmi_desk.domain.retention import purge, state
    from nmi_desk.domain.stats.compute import compute_stats
    from nmi_desk.domain.stats.end_of_day import attention
    from nmi_desk.domain.stats.today import day_counts, day_rows
    from nmi_desk.domain.visits import load_visit
    from nmi_desk.store.connect import connect_sqlite
    from nmi_desk.store.migrations import UNUSED_INDEXES
    from nmi_desk.sync.push import pending_unit_ids, read_units
    from nmi_desk.sync.state import pending_count
    from nmi_desk.sync.tables import unit_kinds

    home = args.keep or Path(tempfile.mkdtemp(prefix="nmi-index-bench-"))
    now = datetime.now(UTC)
    desk = Desk.open(home, clock=lambda: now)
    desk.settings.consultant, desk.settings.location = "BM", "amsterdam"
    desk.save_settings()
    if not desk.paths.database.exists():
        from nmi_desk.domain.demo import generate

        generate(desk.engine(), args.visits, 365, 1, desk.settings.device_id, now)
    engine = desk.engine()
    db = desk.paths.database
    tmp = Path(tempfile.mkdtemp(prefix="nmi-index-size-"))
    size_after = _size(db, tmp, "without.db")
    conn = sqlite3.connect(db)
    for sql in OLD_INDEXES:
        conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
    conn.commit()
    conn.close()
    size_before = _size(db, tmp, "with.db")

    log: list[tuple[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, parameters, _context, _many) -> None:
        log.append((statement, parameters))

    today = desk.today()
    with engine.connect() as c:
        some_uuid = c.exec_driver_sql("SELECT uuid FROM visit ORDER BY id DESC LIMIT 1").scalar()
    raw = Recording(connect_sqlite(db, readonly=True), log)
    year = today - timedelta(days=364)
    runs = {
        "Today: rows": lambda: day_rows(raw, "amsterdam", today),
        "Today: counts": lambda: day_counts(raw, "amsterdam", today),
        "follow-ups": lambda: open_follow_ups(Context.of(engine, None, today)),
        "Day overview: attention line": lambda: attention(raw, today),
        "statistics: one day, one location": lambda: compute_stats(raw, today, today, "amsterdam"),
        "statistics: a year": lambda: compute_stats(raw, year, today),
        "retention: state": lambda: state(engine, now, 30),
        "retention: purge --dry-run": lambda: purge(
            Context.of(engine, desk.actor, now), 30, dry_run=True
        ),
        "sync: pending count": lambda: pending_count(engine),
        "sync: pending ids and records": lambda: [
            read_units(raw, kind, ids[0], ids[min(len(ids), 500) - 1])
            for kind in unit_kinds()
            if (ids := pending_unit_ids(raw, kind))
        ],
        "open a visit": lambda: load_visit(Context.of(engine, desk.actor, now), some_uuid),
    }

    def survey() -> tuple[dict[str, set[str]], dict[str, float]]:
        used_by: dict[str, set[str]] = {}
        took: dict[str, float] = {}
        for name, run in runs.items():
            log.clear()
            run()
            statements = list(log)
            runs_ms = []
            for _ in range(3):
                start = time.perf_counter()
                run()
                runs_ms.append((time.perf_counter() - start) * 1000)
            took[name] = statistics.median(runs_ms)
            plain = sqlite3.connect(db)
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                plan = plain.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()
                for row in plan:
                    for index in re.findall(r"INDEX (\w+)", row[-1]):
                        used_by.setdefault(index, set()).add(name)
            plain.close()
        return used_by, took

    used_by, took_with = survey()
    print(
        f"\n{args.visits:,} visits; indexes each read path uses (EXPLAIN QUERY PLAN), "
        "with the ten indexes:\n"
    )
    for index in sorted(used_by):
        print(f"- {index}: {', '.join(sorted(used_by[index]))}")
    conn = sqlite3.connect(db)
    for index in UNUSED_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.commit()
    conn.close()
    used_after, took_without = survey()
    print("\nwithout them (migration 110), what changed:")
    for index in sorted(set(used_by) | set(used_after)):
        if used_by.get(index) != used_after.get(index):
            print(f"- {index}: {', '.join(sorted(used_after.get(index, ()))) or '-'}")
    print("\n| read path | ms with the ten | ms without |\n|---|---|---|")
    for name in runs:
        print(f"| {name} | {took_with[name]:,.1f} | {took_without[name]:,.1f} |")
    raw.close()
    mib = 1024 * 1024
    print(
        f"\nfile size (VACUUM INTO): with them {size_before / mib:.1f} MiB, "
        f"without {size_after / mib:.1f} MiB ({(size_after / size_before - 1) * 100:+.0f} %)"
    )
    if not args.keep:
        print(f"\n(data left in {home}; pass --keep DIR to reuse it)")


if __name__ == "__main__":
    main()
