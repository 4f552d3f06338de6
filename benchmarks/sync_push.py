"""Sync speed: the first push of 100,000 visits (with their topics and referrals) to PostgreSQL,
next to the floor (a plain COPY + one upsert per table of the same rows, same server, same run),
then incremental syncs of 20 new visits. Goals: first push < 5 s, 20 new visits < 300 ms.
Figures go in docs/performance.md, "## Sync".

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/sync_push.py [--visits 100000] [--new 20] [--runs 5] [--batch N]

Defaults are production's (the batch size is push.BATCH_SIZE). A fresh data dir and fresh
PostgreSQL schemas (dropped afterwards). The push is wall time of `run_sync` in this process
(what `nmi-desk sync` does after start-up): open and migrate-check the central database, push,
pull, record the outcome. Where the time goes is measured by wrapping push's steps (local read,
central transaction, local mark) with timers; the read runs in its own thread, overlapping the
central transactions. The 20 new visits are written through the domain function the visit form
uses, with topics and a referral each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime

from nmi_desk.domain.context import Context

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _schema(conninfo: str, base, tag: str):
    import psycopg

    schema = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = base.set(query={**base.query, "options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def floor(local_path: str, url: str) -> tuple[float, dict[str, int]]:
    """The same rows, COPYed and upserted with nothing around it: one transaction per table.
    The central schema is a real one, so the per-day counts' triggers run here too, once per
    table."""
    import sqlite3

    from nmi_desk.store.engine import open_engine
    from nmi_desk.sync.tables import unit_kinds

    visit_kind = next(k for k in unit_kinds() if k.name == "visit")
    vcols = list(visit_kind.root.columns)
    rcols = list(visit_kind.children[0].columns)
    ccols = next(k.root.columns for k in unit_kinds() if k.root.table == "client")
    src = sqlite3.connect(local_path)
    visits = src.execute(f"SELECT {', '.join(vcols)} FROM visit").fetchall()
    clients = src.execute(f"SELECT {', '.join(ccols)} FROM client").fetchall()
    referrals = src.execute(
        f"SELECT {', '.join('r.' + c for c in rcols)}, v.uuid FROM referral r"
        " JOIN visit v ON v.id = r.visit_id"
    ).fetchall()
    topics = src.execute(
        "SELECT v.uuid, t.topic_code FROM visit_topic t JOIN visit v ON v.id = t.visit_id"
    ).fetchall()
    src.close()
    engine = open_engine(url)  # the same schema, indexes and foreign keys as a real central
    raw = engine.raw_connection()
    raw.rollback()
    conn = raw.driver_connection
    conn.autocommit = True  # each `with conn.transaction()` is one transaction

    def upsert(table, cols, stage_cols, rows, select, conflict):
        with conn.transaction():
            conn.execute("SET LOCAL TIME ZONE 'UTC'")
            conn.execute(
                f"CREATE TEMP TABLE s_{table} ON COMMIT DROP AS"
                f" SELECT {', '.join(stage_cols)} FROM {table} LIMIT 0"
                if table != "visit_topic"
                else "CREATE TEMP TABLE s_visit_topic (uuid varchar, topic_code varchar)"
                " ON COMMIT DROP"
            )
            with conn.cursor().copy(f"COPY s_{table} ({', '.join(stage_cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) {select} {conflict}")

    started = time.perf_counter()
    csets = ", ".join(f"{c} = excluded.{c}" for c in ccols[1:])
    upsert(
        "client",
        [*ccols, "synced_revision"],
        ccols,
        clients,
        f"SELECT {', '.join(ccols)}, revision FROM s_client",
        f"ON CONFLICT (uuid) DO UPDATE SET {csets}",
    )
    sets = ", ".join(f"{c} = excluded.{c}" for c in vcols[1:])
    upsert(
        "visit",
        [*vcols, "synced_revision"],
        vcols,
        visits,
        f"SELECT {', '.join(vcols)}, revision FROM s_visit",
        f"ON CONFLICT (uuid) DO UPDATE SET {sets}",
    )
    rsets = ", ".join(f"{c} = excluded.{c}" for c in rcols[1:])
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        conn.execute(
            f"CREATE TEMP TABLE s_referral ON COMMIT DROP AS SELECT {', '.join(rcols)},"
            " uuid AS parent_uuid FROM referral LIMIT 0"
        )
        with conn.cursor().copy(
            f"COPY s_referral ({', '.join(rcols)}, parent_uuid) FROM STDIN"
        ) as copy:
            for row in referrals:
                copy.write_row(row)
        conn.execute(
            f"INSERT INTO referral ({', '.join(rcols)}, synced_revision, visit_id)"
            f" SELECT {', '.join('s.' + c for c in rcols)}, s.revision, v.id FROM s_referral s"
            f" JOIN visit v ON v.uuid = s.parent_uuid ON CONFLICT (uuid) DO UPDATE SET {rsets}"
        )
    upsert(
        "visit_topic",
        ["visit_id", "topic_code"],
        ["uuid", "topic_code"],
        topics,
        "SELECT v.id, s.topic_code FROM s_visit_topic s JOIN visit v ON v.uuid = s.uuid",
        "ON CONFLICT DO NOTHING",
    )
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    counts = {"visit": len(visits), "referral": len(referrals), "visit_topic": len(topics)}
    return seconds, counts | {"client": len(clients)}


class Timers:
    """Wall time per push step, summed per thread name, by wrapping the module's functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def wrap(self, module, name: str, label: str) -> None:
        inner = getattr(module, name, None)
        if inner is None:  # an older push without that step (measuring the code before)
            return

        def timed(*a, **kw):
            started = time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                with self._lock:
                    self.seconds[label] += time.perf_counter() - started

        setattr(module, name, timed)


def main() -> None:
    from nmi_desk.sync.push import BATCH_SIZE

    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE)
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from nmi_desk.domain.demo import generate
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.inputs import ReferralInput, VisitInput
    from nmi_desk.domain.visits import create_visit
    from nmi_desk.sync import clients_pull, resolve_target, run_sync
    from nmi_desk.sync import push as push_module

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    schemas = []
    try:
        with tempfile.TemporaryDirectory() as home:
            desk = Desk.open(home)
            desk.settings.consultant, desk.settings.location = "BM", "eindhoven-stadskantoor"
            engine = desk.engine()
            started = time.perf_counter()
            generate(engine, args.visits, 365, 1, desk.settings.device_id, desk.now())
            print(f"demo: {args.visits:,} visits in {time.perf_counter() - started:.1f} s")

            schema, floor_url = _schema(conninfo, base, "floor")
            schemas.append(schema)
            floor_s, rows = floor(str(desk.database_path), floor_url)
            print(
                f"floor (COPY + one upsert per table, {rows['visit']:,} visits,"
                f" {rows['referral']:,} referrals, {rows['visit_topic']:,} topics,"
                f" {rows['client']:,} clients):"
                f" {floor_s:.2f} s"
            )

            schema, url = _schema(conninfo, base, "sync")
            schemas.append(schema)
            target = resolve_target(url, "")
            timers = Timers()
            timers.wrap(push_module, "read_units", "local read (thread)")
            timers.wrap(push_module, "_central_transaction", "central transactions")
            timers.wrap(push_module, "mark_synced", "local mark synced")
            timers.wrap(push_module, "pending_unit_ids", "pending ids")
            timers.wrap(push_module, "fold_counts", "fold of the deferred counts")
            timers.wrap(clients_pull, "pull_clients", "pull of held clients")
            now = lambda: datetime.now(UTC)  # noqa: E731
            report = run_sync(engine, target, now, batch_size=args.batch)
            first = report.seconds
            print(f"first push: {report.summary()}")
            print(f"first push of {args.visits:,} visits: {first:.2f} s (goal < 5 s)")
            print(f"ratio to the floor: {first / floor_s:.1f}x (batch {args.batch:,})")
            for label, seconds in timers.seconds.items():
                print(f"  {label}: {seconds:.2f} s")
            # The floor pulls nothing: the same comparison without the clients' pull.
            pushing = first - timers.seconds.get("pull of held clients", 0.0)
            print(
                f"first push without the pull of held clients: {pushing:.2f} s,"
                f" {pushing / floor_s:.1f}x the floor"
            )
            timers.seconds.clear()

            incremental = []
            for _ in range(args.runs):
                for i in range(args.new):
                    create_visit(
                        Context.of(engine, desk.actor, now()),
                        VisitInput(
                            location_code="eindhoven-stadskantoor",
                            topics=["aow", "zorg"] if i % 2 else ["remigratiewet"],
                            referrals=[ReferralInput("svb", reason="Benchmark")],
                        ),
                    )
                report = run_sync(engine, target, now, batch_size=args.batch)
                assert report.pushed.get("visit") == args.new, report.summary()
                incremental.append(report.seconds)
            desk.close()
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")

    print(
        f"incremental sync of {args.new} new visits: median {statistics.median(incremental) * 1000:.0f} ms,"
        f" min {min(incremental) * 1000:.0f} ms, max {max(incremental) * 1000:.0f} ms"
        f" over {args.runs} runs (goal < 300 ms)"
    )
    for label, seconds in timers.seconds.items():
        print(f"  {label}: {seconds / args.runs * 1000:.0f} ms per run")


if __name__ == "__main__":
    main()
