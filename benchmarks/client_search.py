"""Client search as you type: the time of one keystroke's search, in-process.

Builds a database of --visits demo visits with about --clients clients (returning visits
linked to them), then types --names client names letter by letter, as a consultant does
(some without diacritics, some with a typo), calling nmi_desk.domain.clients.search (index look-up
plus the result details: visits, last visit, open follow-ups) for every prefix of at least
two letters. Reports p50/p95/max per keystroke (wall time: on a shared machine scheduling
noise is in it, so the load average is printed too) and the one-off index build.

    python benchmarks/client_search.py --visits 100000 --clients 20000 [--names 60]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from nmi_desk.domain.context import Context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nmi_desk.core.folding import fold  # noqa: E402
from nmi_desk.domain import clients  # noqa: E402
from nmi_desk.domain.demo import generate  # noqa: E402
from nmi_desk.store.engine import open_engine  # noqa: E402


def typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(1, max(2, len(text) - 1))
    return text[:i] + text[i + 1 :]  # one letter dropped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--names", type=int, default=60)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    import os

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        named = args.visits * 0.85 * 0.7  # demo: 15 % count-only, 70 % of the rest named
        returning = min(0.95, max(0.0, 1 - args.clients / named))
        now = datetime.now(UTC)
        started = time.perf_counter()
        generate(engine, args.visits, 365, args.seed, "bench", now, returning=returning)
        with engine.connect() as conn:
            n_clients = conn.exec_driver_sql("SELECT count(*) FROM client").scalar_one()
            n_visits = conn.exec_driver_sql("SELECT count(*) FROM visit").scalar_one()
            names = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM client ORDER BY random() LIMIT ?", (args.names,)
                )
            ]
        print(f"{n_visits:,} visits, {n_clients:,} clients ({time.perf_counter() - started:.1f} s)")
        from nmi_desk.domain.context import Actor

        # one context for the session, as the app's desk keeps one index cache
        ctx = Context.of(engine, Actor("BM", "bench"), now)
        t0 = time.perf_counter()
        clients.index_for(engine, ctx.client_indexes)
        print(
            f"index build: {(time.perf_counter() - t0) * 1000:.0f} ms (once per process; a changed client is patched in)"
        )
        rng = random.Random(args.seed)
        times = []
        for i, name in enumerate(names):
            typed = fold(name) if i % 3 == 0 else name  # a third typed without diacritics
            if i % 4 == 1:
                typed = typo(typed, rng)
            for end in range(2, len(typed) + 1):
                t = time.perf_counter()
                clients.search(ctx, typed[:end])
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{len(times)} keystrokes: p50 {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
        )
        # A visit saved for a returning client changes that client: the next keystroke patches
        # the index instead of building it again.
        from nmi_desk.domain.visits import create_visit

        hit = clients.search(ctx, names[0])[0]
        inp = clients.new_visit_input(ctx, hit.uuid, "roermond")
        inp.client_name = hit.name + " Jr"
        create_visit(ctx, inp)
        t = time.perf_counter()
        found = clients.search(ctx, hit.name + " jr")
        patched = (time.perf_counter() - t) * 1000
        assert found and found[0].uuid == hit.uuid
        print(f"first keystroke after a client changed: {patched:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
