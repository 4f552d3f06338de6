"""Picker search as you type: the time of one keystroke's search over topics, organisations
and countries, typing every query of tests/fixtures/{topic,organisation,country}_queries.toml
letter by letter, each round on a freshly built matcher. Reports p50/p95/max per keystroke
and the load average (wall time: on a shared machine scheduling noise is in it).

    python benchmarks/topic_search.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nmi_desk.domain.matching import Matcher, matcher_for  # noqa: E402

SETS = [("topic", "topic_queries.toml"), ("organisation", "organisation_queries.toml"),
        ("country", "country_queries.toml")]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for kind, name in SETS:
        queries = tomllib.loads((ROOT / "tests" / "fixtures" / name).read_text("utf-8"))["query"]
        t0 = time.perf_counter()
        matcher = matcher_for(kind)
        build = (time.perf_counter() - t0) * 1000
        times = []
        for _ in range(args.rounds):
            fresh = Matcher(matcher.entries)  # no word kept from an earlier round
            for q in queries:
                typed = q["q"]
                for end in range(1, len(typed) + 1):
                    t = time.perf_counter()
                    fresh.search(typed[:end])
                    times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(
            f"{kind}: {len(matcher.entries)} entries, build {build:.0f} ms; "
            f"{len(times)} keystrokes: p50 {statistics.median(times):.2f} ms, "
            f"p95 {p95:.2f} ms, max {times[-1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
