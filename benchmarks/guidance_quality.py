"""Top-3 hit rate of guidance search over the consultant query set.

    python benchmarks/guidance_quality.py [--queries FILE] [--verbose]

A query is a hit when any of its expected slugs is among the first 3 results. The library is
the shipped one (data/guidance), indexed in a fresh temporary database exactly as the app
does it. Prints the misses and the rate; exit status 1 when the rate is below 95%.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "fixtures" / "guidance_queries.toml"
GOAL = 0.95


@dataclass
class Outcome:
    query: str
    expect: list[str]
    got: list[str]

    @property
    def hit(self) -> bool:
        return any(slug in self.got for slug in self.expect)


def load_queries(path: Path = QUERIES) -> list[tuple[str, list[str]]]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return [(q["q"], list(q["expect"])) for q in data["query"]]


def evaluate(guidance, queries) -> list[Outcome]:
    return [
        Outcome(q, expect, [h.slug for h in guidance.search(q, limit=3)]) for q, expect in queries
    ]


def run(queries_path: Path = QUERIES) -> tuple[float, list[Outcome]]:
    from nmi_desk.guidance.service import open_guidance_at
    from nmi_desk.store.engine import open_engine

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "quality.db"
        open_engine(f"sqlite:///{db}").dispose()  # the migrated schema, as on a laptop
        guidance = open_guidance_at(db)
        try:
            outcomes = evaluate(guidance, load_queries(queries_path))
        finally:
            guidance.close()
    rate = sum(o.hit for o in outcomes) / len(outcomes)
    return rate, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--verbose", action="store_true", help="print every query")
    args = parser.parse_args()
    rate, outcomes = run(args.queries)
    for o in outcomes:
        if args.verbose or not o.hit:
            mark = "hit " if o.hit else "MISS"
            print(f"{mark} {o.query!r}: expected {o.expect}, got {o.got}")
    hits = sum(o.hit for o in outcomes)
    print(f"top-3 hit rate: {hits}/{len(outcomes)} = {rate:.1%} (goal >= {GOAL:.0%})")
    return 0 if rate >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
