"""Sync speed: the first push of 100,000 visits (with their topics, referrals and clients) to
PostgreSQL next to the floor, the everyday sync of 20 new visits at 1,000, 10,000 and 35,000
held clients, and the central export of the year next to the laptop's. Goals: first push at
most 2x the floor; 20 new visits < 300 ms in-process and < 1 s as the `nmi-desk sync` process
at every size. Figures go in docs/performance.md, "## Sync".

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/sync_push.py [--visits 100000] [--new 20] [--runs 5] [--batch N]
            [--held 35000,10000,1000] [--pairs 3]

Per held-clients size: a fresh data dir with `--visits` demo visits (the share of returning
clients set so the laptop holds about that many clients), a fresh PostgreSQL schema (dropped
afterwards), the first push, then `--runs` everyday syncs of `--new` visits written through
the domain function the visit form uses (topics and a referral each), then one more as the
`nmi-desk sync` process (wall time, start-up included).

For the first size also:
- the plain floor: the same rows COPYed into plain tables with primary keys,
  foreign keys and three indexes (the uuid keys of client, visit and referral), no triggers,
  then one upsert per table, one transaction;
- floor and first push `--pairs` times in turns, each on a fresh schema (the push from a fresh
  copy of the laptop) and right after a CHECKPOINT (the WAL of the one before would set one
  off at a random moment), and the ratio of their medians: one pair alone swung 1.4x-2.6x on
  this two-core machine;
- the floor as measured before (the real central schema, its count triggers included, one
  transaction per table), printed beside it;
- the year exported (`compute_stats`) from the central database and from the laptop's file.

The push is wall time of `run_sync` in this process (what `nmi-desk sync` does after
start-up): open and migrate-check the central database, push, pull, record the outcome. The
central schema is made before (as the floor's tables are): a laptop's first push goes to a
central database that exists. Where the time goes is measured by wrapping push's and the
pull's steps with timers (the last push); steps in threads of their own (marks, fold, the
lane's second transaction) overlap the others, so the parts add up to more.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
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


def _rows(local_path: str) -> dict:
    """The laptop's rows as the push sends them (read beforehand, not timed)."""
    import sqlite3

    from nmi_desk.sync.tables import unit_kinds

    visit_kind = next(k for k in unit_kinds() if k.name == "visit")
    vcols = list(visit_kind.root.columns)
    rcols = list(visit_kind.children[0].columns)
    ccols = list(next(k.root.columns for k in unit_kinds() if k.root.table == "client"))
    src = sqlite3.connect(local_path)
    out = {
        "vcols": vcols,
        "rcols": rcols,
        "ccols": ccols,
        "visit": src.execute(f"SELECT {', '.join(vcols)} FROM visit").fetchall(),
        "client": src.execute(f"SELECT {', '.join(ccols)} FROM client").fetchall(),
        "referral": src.execute(
            f"SELECT {', '.join('r.' + c for c in rcols)}, v.uuid FROM referral r"
            " JOIN visit v ON v.id = r.visit_id"
        ).fetchall(),
        "visit_topic": src.execute(
            "SELECT v.uuid, t.topic_code FROM visit_topic t JOIN visit v ON v.id = t.visit_id"
        ).fetchall(),
    }
    src.close()
    return out


def _copy(conn, table: str, cols: list[str], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def plain_floor(rows: dict, url: str) -> float:
    """Issue 19's floor: plain tables (the central columns) with primary keys, foreign keys
    and three indexes (the uuid keys the upserts need), no triggers; the rows COPYed into
    staging tables and one upsert per table, all in one transaction."""
    from nmi_desk.store.engine import open_engine

    engine = open_engine(url)  # the central column types, to copy from
    raw = engine.raw_connection()
    raw.rollback()
    conn = raw.driver_connection
    conn.autocommit = True
    with conn.transaction():  # the plain tables, not timed
        for t in ("client", "visit", "referral", "visit_topic"):
            conn.execute(f"CREATE TABLE p_{t} (LIKE {t} INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE p_client ADD PRIMARY KEY (id)")
        conn.execute("ALTER TABLE p_visit ADD PRIMARY KEY (id)")
        conn.execute("ALTER TABLE p_referral ADD PRIMARY KEY (id)")
        conn.execute("ALTER TABLE p_visit_topic ADD PRIMARY KEY (visit_id, topic_code)")
        conn.execute("ALTER TABLE p_referral ADD FOREIGN KEY (visit_id) REFERENCES p_visit (id)")
        conn.execute("ALTER TABLE p_visit_topic ADD FOREIGN KEY (visit_id) REFERENCES p_visit (id)")
        for t in ("client", "visit", "referral"):
            conn.execute(f"CREATE UNIQUE INDEX p_{t}_uuid ON p_{t} (uuid)")
    vcols, rcols, ccols = rows["vcols"], rows["rcols"], rows["ccols"]
    started = time.perf_counter()
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        for table, cols in (("client", ccols), ("visit", vcols)):
            conn.execute(
                f"CREATE TEMP TABLE s_{table} ON COMMIT DROP AS"
                f" SELECT {', '.join(cols)} FROM {table} LIMIT 0"
            )
            _copy(conn, f"s_{table}", cols, rows[table])
            sets = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
            conn.execute(
                f"INSERT INTO p_{table} ({', '.join(cols)}, synced_revision)"
                f" SELECT {', '.join(cols)}, revision FROM s_{table}"
                f" ON CONFLICT (uuid) DO UPDATE SET {sets}"
            )
        conn.execute(
            f"CREATE TEMP TABLE s_referral ON COMMIT DROP AS SELECT {', '.join(rcols)},"
            " uuid AS parent_uuid FROM referral LIMIT 0"
        )
        _copy(conn, "s_referral", [*rcols, "parent_uuid"], rows["referral"])
        rsets = ", ".join(f"{c} = excluded.{c}" for c in rcols[1:])
        conn.execute(
            f"INSERT INTO p_referral ({', '.join(rcols)}, synced_revision, visit_id)"
            f" SELECT {', '.join('s.' + c for c in rcols)}, s.revision, v.id FROM s_referral s"
            f" JOIN p_visit v ON v.uuid = s.parent_uuid ON CONFLICT (uuid) DO UPDATE SET {rsets}"
        )
        conn.execute(
            "CREATE TEMP TABLE s_visit_topic (uuid varchar, topic_code varchar) ON COMMIT DROP"
        )
        _copy(conn, "s_visit_topic", ["uuid", "topic_code"], rows["visit_topic"])
        conn.execute(
            "INSERT INTO p_visit_topic (visit_id, topic_code) SELECT v.id, s.topic_code"
            " FROM s_visit_topic s JOIN p_visit v ON v.uuid = s.uuid ON CONFLICT DO NOTHING"
        )
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return seconds


def trigger_floor(rows: dict, url: str) -> float:
    """The floor as measured before: the same rows into the real central schema (its per-day
    count triggers run, once per table), one transaction per table."""
    from nmi_desk.store.engine import open_engine

    vcols, rcols, ccols = rows["vcols"], rows["rcols"], rows["ccols"]
    engine = open_engine(url)
    raw = engine.raw_connection()
    raw.rollback()
    conn = raw.driver_connection
    conn.autocommit = True  # each `with conn.transaction()` is one transaction

    def upsert(table, cols, stage_cols, data, select, conflict):
        with conn.transaction():
            conn.execute("SET LOCAL TIME ZONE 'UTC'")
            conn.execute(
                f"CREATE TEMP TABLE s_{table} ON COMMIT DROP AS"
                f" SELECT {', '.join(stage_cols)} FROM {table} LIMIT 0"
                if table != "visit_topic"
                else "CREATE TEMP TABLE s_visit_topic (uuid varchar, topic_code varchar)"
                " ON COMMIT DROP"
            )
            _copy(conn, f"s_{table}", stage_cols, data)
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) {select} {conflict}")

    started = time.perf_counter()
    csets = ", ".join(f"{c} = excluded.{c}" for c in ccols[1:])
    upsert("client", [*ccols, "synced_revision"], ccols, rows["client"],
           f"SELECT {', '.join(ccols)}, revision FROM s_client",
           f"ON CONFLICT (uuid) DO UPDATE SET {csets}")  # fmt: skip
    sets = ", ".join(f"{c} = excluded.{c}" for c in vcols[1:])
    upsert("visit", [*vcols, "synced_revision"], vcols, rows["visit"],
           f"SELECT {', '.join(vcols)}, revision FROM s_visit",
           f"ON CONFLICT (uuid) DO UPDATE SET {sets}")  # fmt: skip
    rsets = ", ".join(f"{c} = excluded.{c}" for c in rcols[1:])
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        conn.execute(
            f"CREATE TEMP TABLE s_referral ON COMMIT DROP AS SELECT {', '.join(rcols)},"
            " uuid AS parent_uuid FROM referral LIMIT 0"
        )
        _copy(conn, "s_referral", [*rcols, "parent_uuid"], rows["referral"])
        conn.execute(
            f"INSERT INTO referral ({', '.join(rcols)}, synced_revision, visit_id)"
            f" SELECT {', '.join('s.' + c for c in rcols)}, s.revision, v.id FROM s_referral s"
            f" JOIN visit v ON v.uuid = s.parent_uuid ON CONFLICT (uuid) DO UPDATE SET {rsets}"
        )
    upsert("visit_topic", ["visit_id", "topic_code"], ["uuid", "topic_code"],
           rows["visit_topic"],
           "SELECT v.id, s.topic_code FROM s_visit_topic s JOIN visit v ON v.uuid = s.uuid",
           "ON CONFLICT DO NOTHING")  # fmt: skip
    seconds = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return seconds


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


# Named demo visits at 100,000 (about 59 in 100 carry a name): the share of returning
# clients that leaves about `held` clients on the laptop.
NAMED_SHARE = 0.594


def _returning(visits: int, held: int) -> float:
    from nmi_desk.domain.demo import RETURNING

    named = visits * NAMED_SHARE
    if held >= named * (1 - RETURNING):
        return RETURNING
    return max(0.0, 1 - held / named)


def _year_export(source_url: str) -> float:
    """Median of 3: compute_stats for every day the demo covers, all locations."""
    from datetime import date, timedelta

    from nmi_desk.domain.stats.compute import compute_stats, open_source

    last = date.today() + timedelta(days=1)
    first = last - timedelta(days=400)
    times = []
    with open_source(source_url) as source:
        for _ in range(3):
            started = time.perf_counter()
            compute_stats(source, first, last)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _explain_pull(local, url: str) -> None:
    """The plan of the pull's change queries for the last everyday sync's window: index
    probes from the window's transactions, no scan of the visits."""
    from sqlalchemy import text

    from nmi_desk.store.engine import open_engine

    try:
        from nmi_desk.sync import changes
        from nmi_desk.sync.state import laptop_id
    except ImportError:  # measuring the code before the change sequence
        return

    central = open_engine(url)
    try:
        with central.connect() as conn:
            upto = changes.latest(conn)
            p = {"h": laptop_id(local), "since": upto - 1, "upto": upto}
            for name, sql in (
                ("clients", changes.clients_sql(True)),
                ("visits", changes.visits_sql(True)),
            ):
                plan = [r[0] for r in conn.execute(text("EXPLAIN " + sql), p)]
                scans = [line.strip() for line in plan if "Seq Scan" in line]
                print(f"  plan of the pull's {name} query: {len(plan)} lines, seq scans: {scans}")
    finally:
        central.dispose()


def _checkpoint(conninfo: str) -> None:
    """A CHECKPOINT before each timed floor and push: the WAL of the previous one (~1 GB for a
    first push with the floor before it) otherwise set one off at a random moment of the next
    measurement. Skipped where the role may not (it needs pg_checkpoint or superuser)."""
    import psycopg

    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass


def _drop(conninfo: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _first_push_of_copy(pristine: str, conninfo: str, base, batch: int) -> float:
    """A first push (run_sync's wall time) from a copy of the laptop to a fresh central
    schema, made before the push as the floor's tables are; both dropped afterwards."""
    from nmi_desk.domain.desk import Desk
    from nmi_desk.sync import resolve_target, run_sync
    from nmi_desk.sync.target import open_central

    with tempfile.TemporaryDirectory() as root:
        home = os.path.join(root, "laptop")
        shutil.copytree(pristine, home)
        schema, url = _schema(conninfo, base, "turn")
        desk = Desk.open(home)
        try:
            target = resolve_target(url, "")
            open_central(target).dispose()
            _checkpoint(conninfo)
            report = run_sync(desk.engine(), target, lambda: datetime.now(UTC), batch_size=batch)
            return report.seconds
        finally:
            desk.close()
            _drop(conninfo, schema)


def _precounted() -> list[bool]:
    """How the folds from now on made their counts (True: from those made beside the push,
    sync/fold.py)."""
    from nmi_desk.store import daily_counts

    used: list[bool] = []
    inner = daily_counts.fold_counts_sql

    def spy(precounted: bool = False) -> list[str]:
        used.append(precounted)
        return inner(precounted)

    daily_counts.fold_counts_sql = spy
    return used


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def one_size(args, base, conninfo, held: int, first_size: bool, schemas: list) -> dict:
    from nmi_desk.domain.demo import generate
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.inputs import ReferralInput, VisitInput
    from nmi_desk.domain.visits import create_visit
    from nmi_desk.sync import clients_pull, resolve_target, run_sync
    from nmi_desk.sync import push as push_module
    from nmi_desk.sync.target import open_central

    try:
        from nmi_desk.sync import fast_lane
    except ImportError:  # measuring the code before the fast lane
        fast_lane = None

    out: dict = {"held_goal": held}
    now = lambda: datetime.now(UTC)  # noqa: E731
    with tempfile.TemporaryDirectory() as home:
        desk = Desk.open(home)
        desk.settings.consultant, desk.settings.location = "BM", "eindhoven-stadskantoor"
        desk.save_settings()
        engine = desk.engine()
        started = time.perf_counter()
        made = generate(
            engine, args.visits, 365, 1, desk.settings.device_id, desk.now(),
            returning=_returning(args.visits, held),
        )  # fmt: skip
        out["clients"] = made.clients
        print(
            f"\n== {made.clients:,} held clients: demo {args.visits:,} visits"
            f" in {time.perf_counter() - started:.1f} s (load {_load()})"
        )

        floors: list[float] = []
        pushes: list[float] = []
        if first_size:
            rows = _rows(str(desk.database_path))
            schema, url = _schema(conninfo, base, "trig")
            out["trigger_floor"] = trigger_floor(rows, url)
            _drop(conninfo, schema)
            print(
                f"floor as before (real central schema, count triggers, a transaction per"
                f" table): {out['trigger_floor']:.2f} s"
            )
            # Floor and first push in turns, each on a fresh schema (and a fresh copy of the
            # laptop): the ratio of their medians, not of one noisy pair.
            pristine = os.path.join(home, "pristine")
            shutil.copytree(home, pristine, ignore=shutil.ignore_patterns("pristine"))
            for turn in range(args.pairs):
                schema, url = _schema(conninfo, base, "plain")
                _checkpoint(conninfo)
                floors.append(plain_floor(rows, url))
                _drop(conninfo, schema)
                if turn < args.pairs - 1:  # the last push is the one below, on this laptop
                    pushes.append(_first_push_of_copy(pristine, conninfo, base, args.batch))
                    print(
                        f"  turn {turn + 1}: floor {floors[-1]:.2f} s, first push {pushes[-1]:.2f} s"
                    )
            print(
                f"plain floor (plain tables, keys, three indexes, no triggers, one"
                f" transaction; {len(rows['visit']):,} visits, {len(rows['referral']):,}"
                f" referrals, {len(rows['visit_topic']):,} topics, {len(rows['client']):,}"
                f" clients): median {statistics.median(floors):.2f} s of {len(floors)}"
            )
            del rows

        schema, url = _schema(conninfo, base, "sync")
        schemas.append(schema)
        target = resolve_target(url, "")
        # The central database exists before the push, as the floor's tables do (made by the
        # first laptop's sync or the office; its creation is not the push's work).
        open_central(target).dispose()
        _checkpoint(conninfo)
        timers = Timers()
        timers.wrap(
            fast_lane, "_central", "fast lane: its central transactions, reading the laptop"
        )
        timers.wrap(push_module, "mark_records", "local marks (writer thread)")
        timers.wrap(push_module, "fold_counts", "fold of the uncounted visits (own thread)")
        timers.wrap(push_module, "read_units", "per-batch path: local read (thread)")
        timers.wrap(push_module, "_central_transaction", "per-batch path: central transactions")
        timers.wrap(push_module, "pending_unit_ids", "pending ids")
        timers.wrap(clients_pull, "pull_clients", "pull of held clients")
        precounted = _precounted()
        try:
            report = run_sync(engine, target, now, batch_size=args.batch)
            pushes.append(report.seconds)
            out["first"] = statistics.median(pushes)
            print(f"first push: {report.summary()}")
            for label, seconds in timers.seconds.items():
                print(f"  {label}: {seconds:.2f} s")
            print(f"  the fold took the counts made beside the push: {True in precounted}")
            if first_size:
                out["floor"] = statistics.median(floors)
                print(
                    f"  turn {len(pushes)}: floor {floors[-1]:.2f} s, first push {pushes[-1]:.2f} s"
                )
                print(
                    f"first push median {out['first']:.2f} s of {len(pushes)} ="
                    f" {out['first'] / out['floor']:.2f}x the floor's median (goal <= 2x);"
                    f" per turn {', '.join(f'{p / f:.2f}x' for f, p in zip(floors, pushes, strict=True))};"
                    f" {out['first'] / out['trigger_floor']:.1f}x the floor as before"
                )
                out["export_central"] = _year_export(url)
                out["export_laptop"] = _year_export(f"sqlite:///{desk.database_path}")
                print(
                    f"year export, central {out['export_central'] * 1000:.0f} ms, laptop"
                    f" {out['export_laptop'] * 1000:.0f} ms:"
                    f" {out['export_central'] / out['export_laptop']:.2f}x (goal <= 1.5x)"
                )
            timers.seconds.clear()

            def add_visits():
                for i in range(args.new):
                    create_visit(Context.of(engine, desk.actor, now()), VisitInput(
                        location_code="eindhoven-stadskantoor",
                        topics=["aow", "zorg"] if i % 2 else ["remigratiewet"],
                        referrals=[ReferralInput("svb", reason="Benchmark")],
                    ))  # fmt: skip

            everyday = []
            for _ in range(args.runs):
                add_visits()
                report = run_sync(engine, target, now, batch_size=args.batch)
                assert report.pushed.get("visit") == args.new, report.summary()
                everyday.append(report.seconds)
            out["everyday"] = everyday
            out["everyday_parts"] = {k: v / args.runs for k, v in timers.seconds.items()}
            add_visits()
            # Bytecode cached as an installed nmi-desk has it (this machine's environment sets
            # PYTHONDONTWRITEBYTECODE, which made every run compile the package again, ~0.3 s),
            # and one `sync --status` first, as the laptop ran nmi-desk before.
            env = {**os.environ, "NMI_DESK_HOME": home}
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            warm = [sys.executable, "-m", "nmi_desk", "sync", "--status"]
            subprocess.run(warm, env=env, capture_output=True, check=False)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "nmi_desk", "sync", "--target", url, "--yes"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            out["process"] = time.perf_counter() - started
            assert done.returncode == 0, done.stderr
            print(
                f"everyday sync of {args.new} new visits: median"
                f" {statistics.median(everyday) * 1000:.0f} ms, min {min(everyday) * 1000:.0f},"
                f" max {max(everyday) * 1000:.0f} over {args.runs} runs (goal < 300 ms);"
                f" as the `nmi-desk sync` process {out['process'] * 1000:.0f} ms (goal < 1 s)"
            )
            for label, seconds in out["everyday_parts"].items():
                print(f"  {label}: {seconds * 1000:.0f} ms per run")
            _explain_pull(engine, url)
        finally:
            desk.close()
    return out


def main() -> None:
    from nmi_desk.sync.push import BATCH_SIZE

    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE)
    parser.add_argument("--held", default="35000,10000,1000", help="held-clients sizes")
    parser.add_argument("--pairs", type=int, default=3, help="floor / first push turns")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    print(f"load average at start: {_load()}")
    results = []
    schemas: list[str] = []
    try:
        for i, held in enumerate(int(x) for x in args.held.split(",")):
            results.append(one_size(args, base, conninfo, held, i == 0, schemas))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print(f"\nload average at end: {_load()}")
    print("| held clients | everyday sync, median (min-max) | as the process |")
    print("|---|---|---|")
    for r in results:
        e = r["everyday"]
        print(
            f"| {r['clients']:,} | {statistics.median(e) * 1000:.0f} ms"
            f" ({min(e) * 1000:.0f}-{max(e) * 1000:.0f}) | {r['process'] * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
