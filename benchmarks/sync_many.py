"""Many laptops at once: 50 processes, each its own data dir with demo records, run
`nmi-desk sync` at the same moment against one PostgreSQL schema; then every record is checked
to be there exactly once and the conflict rule to have held (tests/many_laptops.py, the same
code the 22-laptop test uses). Figures go in docs/performance.md, "## Sync".

    NMI_DESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/sync_many.py [--laptops 50] [--visits 200] [--target URL]

--target sends the syncs somewhere else (e.g. a PgBouncer in front of the same schema, given
with --schema); the check always reads the schema directly.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--laptops", type=int, default=50)
    parser.add_argument("--visits", type=int, default=200)
    parser.add_argument("--target", help="sync through this URL instead (same schema)")
    parser.add_argument("--schema", help="use this existing schema (with --target)")
    args = parser.parse_args()

    import psycopg
    from many_laptops import check_central, prepare, sync_all
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("NMI_DESK_BENCH_PG_URL", DEFAULT_PG))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = args.schema or f"bench_many_{uuid.uuid4().hex[:8]}"
    if not args.schema:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    url = base.set(query={**base.query, "options": f"-csearch_path={schema}"})
    direct = url.render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as root:
            started = time.perf_counter()
            fleet = prepare(Path(root), args.laptops, args.visits)
            print(
                f"{args.laptops} laptops with {args.visits} demo visits each in"
                f" {time.perf_counter() - started:.1f} s"
            )
            seconds = sync_all(fleet, args.target or direct)
            check_central(fleet, direct)
            print(
                f"{args.laptops} laptops syncing at once: {seconds:.1f} s until the last"
                " finished; every record exactly once, conflict rule held"
            )
    finally:
        if not args.schema:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
