"""The everyday sync as the `nmi-desk sync` process: 20 new visits on a laptop of 100,000
visits (about 35,000 held clients), wall time from process start to exit. Goal: < 1 s.

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/sync_process.py --home /tmp/sp-home [--visits 100000] [--runs 7]
            [--tree DIR ...] [--importtime] [--status]

The first call with a --home that holds no laptop builds it (`demo` visits, a fresh
PostgreSQL schema, the first push: ~35 s on a quiet machine) and keeps both, with the URL in
<home>/bench-target.txt; later calls reuse them (--drop removes the schema and stops).

Each run writes `--new` visits through the visit form's domain function in this process,
then runs `python -m nmi_desk sync --target URL --yes` once per `--tree` (a source tree put
first on PYTHONPATH; default: this one), alternating, so trees are compared within one run on
the same laptop. Bytecode is cached as on a laptop that ran nmi-desk before (this machine's
environment sets PYTHONDONTWRITEBYTECODE) and each tree runs `sync --status` once first.
For reference the same loop times `python -c pass` and `python -c "import sqlalchemy,
psycopg"`. The load average (`uptime`) is printed at start and end: compare within a run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sync_push import DEFAULT_PG, _load, _returning, _schema  # noqa: E402

TARGET_FILE = "bench-target.txt"
LOCATION = "eindhoven-stadskantoor"


def now() -> datetime:
    return datetime.now(UTC)


def _desk(home: Path):
    from nmi_desk.domain.desk import Desk

    desk = Desk.open(home)
    desk.settings.consultant, desk.settings.location = "BM", LOCATION
    desk.save_settings()
    return desk


def build(home: Path, visits: int, held: int, base, conninfo: str) -> str:
    """A laptop of `visits` demo visits, pushed once to a fresh schema; returns its URL."""
    from nmi_desk.domain.demo import generate
    from nmi_desk.sync import resolve_target, run_sync

    desk = _desk(home)
    try:
        engine = desk.engine()
        started = time.perf_counter()
        made = generate(
            engine, visits, 365, 1, desk.settings.device_id, desk.now(),
            returning=_returning(visits, held),
        )  # fmt: skip
        print(f"demo: {visits:,} visits, {made.clients:,} clients in"
              f" {time.perf_counter() - started:.1f} s")  # fmt: skip
        _schema_name, url = _schema(conninfo, base, "proc")
        report = run_sync(engine, resolve_target(url, ""), now)
        print(f"first push: {report.summary()}")
    finally:
        desk.close()
    (home / TARGET_FILE).write_text(url)
    return url


def add_visits(home: Path, n: int) -> None:
    from nmi_desk.domain.context import Context
    from nmi_desk.domain.inputs import ReferralInput, VisitInput
    from nmi_desk.domain.visits import create_visit

    desk = _desk(home)
    try:
        engine = desk.engine()
        for i in range(n):
            create_visit(Context.of(engine, desk.actor, now()), VisitInput(
                location_code=LOCATION,
                topics=["aow", "zorg"] if i % 2 else ["remigratiewet"],
                referrals=[ReferralInput("svb", reason="Benchmark")],
            ))  # fmt: skip
    finally:
        desk.close()


def _env(home: Path, tree: Path | None) -> dict:
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def timed(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    # cwd: the data dir, so `-m` (which puts cwd first on sys.path) finds the tree asked for
    done = subprocess.run(
        argv, env=env, cwd=env["NMI_DESK_HOME"], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[2:]} failed: {done.stderr.strip()}")
    return seconds


def importtime(argv: list[str], env: dict, top: int = 25) -> None:
    """The slowest imports of one run (cumulative microseconds, -X importtime)."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=env["NMI_DESK_HOME"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|")
        rows.append((int(cum_us), int(self_us), name.rstrip()))
    total = sum(s for _, s, _ in rows)
    print(f"  imports: {total / 1000:.0f} ms in {len(rows)} modules; slowest (cumulative):")
    depth0 = [r for r in rows if not r[2].startswith("  ")]  # imported by nmi_desk itself
    for cum, _self, name in sorted(depth0, reverse=True)[:top]:
        print(f"    {cum / 1000:7.1f} ms  {name.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--held", type=int, default=35_000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, action="append", help="source tree (repeatable)")
    parser.add_argument("--importtime", action="store_true", help="also -X importtime per tree")
    parser.add_argument("--status", action="store_true", help="also `sync --status` per tree")
    parser.add_argument("--drop", action="store_true", help="drop the laptop's schema, stop")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    home = args.home.resolve()
    saved = home / TARGET_FILE
    if args.drop:
        if saved.exists():
            schema = make_url(saved.read_text()).query["options"].split("=", 1)[1]
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            saved.unlink()
        return
    home.mkdir(parents=True, exist_ok=True)
    url = saved.read_text() if saved.exists() else build(home, args.visits, args.held, base,
                                                          conninfo)  # fmt: skip

    py = sys.executable
    trees = [t.resolve() for t in args.tree] if args.tree else [None]
    sync = [py, "-m", "nmi_desk", "sync", "--target", url, "--yes"]
    cases = [(f"sync {t or 'this tree'}", sync, _env(home, t)) for t in trees]
    status = [py, "-m", "nmi_desk", "sync", "--status"]
    if args.status:  # the same start-up without the central database
        cases += [(f"sync --status {t or 'this tree'}", status, _env(home, t)) for t in trees]
    cases += [
        ("python -c pass", [py, "-c", "pass"], _env(home, None)),
        ("import sqlalchemy, psycopg", [py, "-c", "import sqlalchemy, psycopg"], _env(home, None)),
    ]
    print(f"load average at start: {_load()}")
    for _label, _argv, env in cases[: len(trees)]:
        timed([py, "-m", "nmi_desk", "sync", "--status"], env)  # bytecode written, caches warm
    times: dict[str, list[float]] = {label: [] for label, _, _ in cases}
    for _ in range(args.runs):
        for label, argv, env in cases:
            if argv is sync:
                add_visits(home, args.new)
            times[label].append(timed(argv, env))
    print(f"load average at end: {_load()}")
    print(f"\n{args.runs} runs each, alternating; wall time of the process, ms")
    print("| process | median | min | max |")
    print("|---|---|---|---|")
    for label, seconds in times.items():
        if not seconds:
            continue
        ms = [s * 1000 for s in seconds]
        print(f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    if args.importtime:
        for label, argv, env in cases[: len(trees)]:
            add_visits(home, args.new)
            print(f"\n-X importtime, {label}:")
            importtime(argv, env)


if __name__ == "__main__":
    main()
