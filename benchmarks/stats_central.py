"""Central statistics: a year of 1,000,000 visits across all locations in PostgreSQL, exported
from the per-day counts (goal: < 1 s of query time), and what the counts' triggers add to a
first push of 100,000 visits. Figures go in docs/performance.md, "Statistics".

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/stats_central.py [--visits 1000000] [--push 100000] [--keep]

1. A fresh schema at the current migration; visits, topic links (1-3 a visit) and referrals
   (2 in 5 visits) written by INSERT ... SELECT generate_series in chunks of 100,000 visits
   with the per-day count triggers disabled, then the counts filled by the migration's own
   step (`daily_counts.rebuild`, what migration 111 does on an existing central database),
   timed;
2. `compute_stats` for the year through `open_source` (read-only), median of 5: query time;
   the same from the rows (`from_rows=True`, the nine GROUP BYs of before), and a check that
   both give the same figures; the office report's by-location and by-month breakdowns;
3. `nmi-desk export --source URL` for the year as a process (wall time, start-up included);
4. with --push N: a laptop of N demo visits pushed by `run_sync` to two fresh schemas, one
   with the visit_daily triggers and one with them disabled, alternating, 3 runs each.
The schemas are dropped afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 100_000
NEW = 20


def _arr(values) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _h(expr: str, salt: int) -> str:
    """A stable pseudo-random non-negative int from a row number."""
    return f"(hashtext(({expr})::text || '{salt}') & 2147483647)"


def load(conn, lo: int, hi: int, ref) -> None:
    locations = [loc.code for loc in ref.locations]
    topics = [t.code for t in ref.topics]
    orgs = [o.code for o in ref.organisations]
    countries = ["TR", "MA", "SR", "CW", "ID", "ES", "PT", "IT", "GH", "CV", "DE", "BE"]
    came = [e.code for e in ref.lists["came_via"]]
    outcomes = [e.code for e in ref.lists["outcome"]]
    channels = ["walk-in", "walk-in", "walk-in", "phone", "email"]

    def pick(arr: list[str], salt: int, nullable: bool = False) -> str:
        idx = f"1 + {_h('i', salt)} % {len(arr) + (2 if nullable else 0)}"
        return f"({_arr(arr)})[{idx}]"  # out of range: NULL (the "unknown" share)

    def run(sql: str) -> None:
        conn.exec_driver_sql(sql.replace("%", "%%"))  # psycopg's placeholders

    run(
        "INSERT INTO visit (uuid, revision, updated_at, device_id, deleted, synced_revision,"
        " started_at, local_date, local_hour, location_code, consultant, channel, count_only,"
        " came_via, origin_country, destination_country, outcome)"
        " SELECT md5(i::text)::uuid::text, 1, ts, 'bench', i % 53 = 0, 1, ts,"
        " to_char(ts, 'YYYY-MM-DD'), extract(hour FROM ts)::int,"
        f" {pick(locations, 1)}, 'BM', {pick(channels, 2)}, false, {pick(came, 3, True)},"
        f" {pick(countries, 4, True)}, {pick(countries, 5, True)}, {pick(outcomes, 6, True)}"
        f" FROM generate_series({lo}, {hi}) i,"
        f" LATERAL (SELECT timestamp '2025-01-01 08:00' + ({_h('i', 7)} % 365) * interval '1 day'"
        f" + ({_h('i', 8)} % 9) * interval '1 hour' AS ts) t"
    )
    run(
        "INSERT INTO visit_topic (visit_id, topic_code)"
        f" SELECT v.id, ({_arr(topics)})[1 + {_h('v.id * 7 + k', 9)} % {len(topics)}]"
        " FROM visit v, generate_series(1, 1 + v.id % 3) k"
        f" WHERE v.id BETWEEN {lo} AND {hi}"
        " ON CONFLICT DO NOTHING"
    )
    run(
        "INSERT INTO referral (uuid, revision, updated_at, device_id, deleted, synced_revision,"
        " visit_id, organisation_code, status)"
        " SELECT md5('r' || v.id)::uuid::text, 1, v.updated_at, 'bench', false, 1, v.id,"
        f" ({_arr(orgs)})[1 + {_h('v.id', 10)} % {len(orgs)}], 'done'"
        " FROM visit v"
        f" WHERE v.id BETWEEN {lo} AND {hi}"
        " AND v.id % 5 < 2"
    )


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def _schema(conninfo: str, base, name: str | None = None) -> tuple[str, str]:
    import psycopg

    schema = name or f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    query = dict(base.query)
    query["options"] = f"-csearch_path={schema}"
    return schema, base.set(query=query).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--push", type=int, default=0, help="also measure a first push of N")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from nmi_desk.domain.reference.files import shipped_reference
    from nmi_desk.domain.stats.compute import breakdown, compute_stats, open_source
    from nmi_desk.store import daily_counts
    from nmi_desk.store.engine import open_engine

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    schema, url = _schema(conninfo, base)
    rows: list[tuple[str, str]] = []
    try:
        engine = open_engine(url)
        start = time.perf_counter()
        with engine.begin() as conn:
            for table in ("visit", "visit_topic", "referral"):
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for lo in range(1, args.visits + 1, CHUNK):
            with engine.begin() as conn:
                load(conn, lo, min(lo + CHUNK - 1, args.visits), shipped_reference())
        loaded = time.perf_counter() - start
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        start = time.perf_counter()
        with engine.begin() as conn:
            for table in ("visit", "visit_topic", "referral"):
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            daily_counts.rebuild(conn)
        filled = time.perf_counter() - start
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            counts = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()  # noqa: S608
                for t in ("visit", "visit_topic", "referral", "visit_daily")
            }
        engine.dispose()
        first, last = date(2025, 1, 1), date(2025, 12, 31)
        with open_source(url) as source:
            summed_s, summed = timed(lambda: compute_stats(source, first, last))
            rows_s, from_rows = timed(
                lambda: compute_stats(source, first, last, from_rows=True), repeat=3
            )
            loc_s, _ = timed(lambda: breakdown(source, first, last, "location"), repeat=3)
            month_s, _ = timed(lambda: breakdown(source, first, last, "month"), repeat=3)
        assert summed == from_rows, "the per-day counts differ from the rows"
        with tempfile.TemporaryDirectory() as home:
            cmd = [
                sys.executable, "-m", "nmi_desk", "export", "--source", url, "--from", str(first),
                "--to", str(last), "--format", "json", "--output", f"{home}/x.json",
            ]  # fmt: skip
            env = dict(os.environ, NMI_DESK_HOME=home)
            wall_s, _ = timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
        print(
            f"\n{counts['visit']:,} visits, {counts['visit_topic']:,} topic links, "
            f"{counts['referral']:,} referrals, {counts['visit_daily']:,} visit_daily rows; "
            f"{summed['visits']:,} counted visits in {first} .. {last}; "
            f"loaded in {loaded:.0f} s, per-day counts filled (daily_counts.rebuild) in "
            f"{filled:.1f} s\n"
        )
        rows += [
            (
                "compute_stats, a year, all locations, from the counts (visit_monthly for whole months; query time)",
                summed_s,
            ),
            ("the same from the rows (nine GROUP BYs; equal figures checked)", rows_s),
            ("report: the year by location (breakdown)", loc_s),
            ("report: the year by month (breakdown)", month_s),
            ("`nmi-desk export --source URL` a year as JSON (process wall)", wall_s),
        ]
    finally:
        if not args.keep:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print("| what | ms |\n|---|---|", flush=True)
    for label, seconds in rows:
        print(f"| {label} | {seconds * 1000:,.0f} |", flush=True)
    if args.push:
        for label, seconds in push_cost(args.push, base, conninfo):
            print(f"| {label} | {seconds * 1000:,.0f} |")


def push_cost(visits: int, base, conninfo: str) -> list[tuple[str, float]]:
    """A first push of `visits` demo visits, with and without the visit_daily triggers."""
    import psycopg

    from nmi_desk.domain.demo import generate
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.inputs import ReferralInput, VisitInput
    from nmi_desk.domain.visits import create_visit
    from nmi_desk.store.engine import open_engine
    from nmi_desk.sync import resolve_target, run_sync

    home = tempfile.mkdtemp(prefix="nmi-central-push-")
    now = datetime.now().astimezone()
    desk = Desk.open(home, clock=lambda: now)
    desk.settings.consultant, desk.settings.location = "BM", "amsterdam"
    desk.save_settings()
    generate(desk.engine(), visits, 365, 1, desk.settings.device_id, now)
    source = desk.paths.database.read_bytes()
    times: dict[bool, list[float]] = {True: [], False: []}
    small: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(3):
        for triggers in (True, False):
            schema, url = _schema(conninfo, base)
            try:
                engine = open_engine(url)
                if not triggers:
                    with engine.begin() as conn:
                        for table in ("visit", "visit_topic", "referral"):
                            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                engine.dispose()
                desk.close()
                desk.paths.database.write_bytes(source)  # unpushed again
                for suffix in ("-wal", "-shm"):
                    extra = desk.paths.database.with_name(desk.paths.database.name + suffix)
                    extra.unlink(missing_ok=True)
                desk = Desk.open(home, clock=lambda: now)
                target = resolve_target(url, "")
                start = time.perf_counter()
                run_sync(desk.engine(), target, desk.now)
                times[triggers].append(time.perf_counter() - start)
                for _ in range(NEW):  # the everyday case: a few new visits since the last sync
                    create_visit(desk.context(), VisitInput(
                            location_code="amsterdam", started_at=now, topics=["aow", "zorg"],
                            referrals=[ReferralInput("svb")],
                        ))  # fmt: skip
                start = time.perf_counter()
                run_sync(desk.engine(), target, desk.now)
                small[triggers].append(time.perf_counter() - start)
            finally:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(
        f"\nfirst push of {visits:,} visits: with triggers {on:.2f} s, without {off:.2f} s "
        f"(+{(on / off - 1) * 100:.0f} %); runs {times}"
    )
    return [
        (f"first push of {visits:,} visits (run_sync), visit_daily triggers on", on),
        (f"first push of {visits:,} visits (run_sync), triggers disabled", off),
        (f"then {NEW} new visits (run_sync), triggers on", statistics.median(small[True])),
        (f"then {NEW} new visits (run_sync), triggers disabled", statistics.median(small[False])),
    ]


if __name__ == "__main__":
    main()
