"""Sync speed: the first push of 100,000 visits to PostgreSQL, then incremental syncs of 20 new
visits (goals: < 20 s and < 300 ms). Figures go in docs/performance.md, "## Sync".

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/sync_push.py [--visits 100000] [--new 20] [--runs 5] [--batch 2000]

A fresh data dir and a fresh PostgreSQL schema (dropped afterwards). Times are wall time of
`run_sync` in this process (what `nmi-desk sync` does after start-up): open and migrate-check the
central database, push, pull, record the outcome. The 20 new visits are written through the
domain function the visit form uses, with topics and a referral each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    from nmi_desk.sync.push import BATCH_SIZE

    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    # the production batch size unless measuring another one
    parser.add_argument("--batch", type=int, default=BATCH_SIZE)
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from nmi_desk.demo import generate
    from nmi_desk.desk import Desk
    from nmi_desk.sync import resolve_target, run_sync
    from nmi_desk.visits import ReferralInput, VisitInput, create_visit

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    schema = f"bench_sync_{uuid.uuid4().hex[:8]}"
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = base.set(query={**base.query, "options": f"-csearch_path={schema}"})
    target = resolve_target(url.render_as_string(hide_password=False), "")
    try:
        with tempfile.TemporaryDirectory() as home:
            desk = Desk.open(home)
            desk.settings.consultant, desk.settings.location = "BM", "eindhoven-stadskantoor"
            engine = desk.engine()
            started = time.perf_counter()
            generate(engine, args.visits, 365, 1, desk.settings.device_id, desk.now())
            print(f"demo: {args.visits:,} visits in {time.perf_counter() - started:.1f} s")

            now = lambda: datetime.now(UTC)  # noqa: E731
            report = run_sync(engine, target, now, batch_size=args.batch)
            print(f"first push: {report.summary()}")
            first = report.seconds

            incremental = []
            for _ in range(args.runs):
                for i in range(args.new):
                    create_visit(
                        engine,
                        VisitInput(
                            location_code="eindhoven-stadskantoor",
                            topics=["aow", "zorg"] if i % 2 else ["remigratiewet"],
                            referrals=[ReferralInput("svb", reason="Benchmark")],
                        ),
                        desk.actor,
                        now(),
                    )
                report = run_sync(engine, target, now, batch_size=args.batch)
                assert report.pushed.get("visit") == args.new, report.summary()
                incremental.append(report.seconds)
            desk.close()
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    print(f"first push of {args.visits:,} visits: {first:.2f} s (goal < 20 s)")
    print(
        f"incremental sync of {args.new} new visits: median {statistics.median(incremental) * 1000:.0f} ms,"
        f" min {min(incremental) * 1000:.0f} ms, max {max(incremental) * 1000:.0f} ms"
        f" over {args.runs} runs (goal < 300 ms)"
    )


if __name__ == "__main__":
    main()
