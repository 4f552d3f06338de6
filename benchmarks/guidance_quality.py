"""Top-3 hit rate of guidance search over the consultant query set.

    python benchmarks/guidance_quality.py [--queries FILE ...] [--verbose]

The query set is every tests/fixtures/guidance_queries*.toml (one file per group of articles,
each a list of [[query]] tables with `q` and `expect`). A query is a hit when any of its
expected slugs is among the first 3 results. The library is the shipped one (data/guidance),
indexed in a fresh temporary index exactly as the app does it. Prints every miss and the rate;
exit status 1 when the rate is below 97%.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOAL = 0.97


def query_files() -> list[Path]:
    """Every consultant query file: the core set and one per group of articles."""
    return sorted(FIXTURES.glob("guidance_queries*.toml"))


@dataclass
class Outcome:
    query: str
    expect: list[str]
    got: list[str]

    @property
    def hit(self) -> bool:
        return any(slug in self.got for slug in self.expect)


def _files(paths: Path | list[Path] | None) -> list[Path]:
    if isinstance(paths, Path):
        return [paths]
    return list(paths) if paths else query_files()


def load_queries(paths: Path | list[Path] | None = None) -> list[tuple[str, list[str]]]:
    """The queries of one file, of several, or (default) of every guidance_queries*.toml."""
    queries = []
    for path in _files(paths):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        queries += [(q["q"], list(q["expect"])) for q in data.get("query", [])]
    return queries


def evaluate(guidance, queries) -> list[Outcome]:
    return [
        Outcome(q, expect, [h.slug for h in guidance.search(q, limit=3)]) for q, expect in queries
    ]


def run(paths: Path | list[Path] | None = None) -> tuple[float, list[Outcome]]:
    from nmi_desk.guidance.service import open_guidance_index

    with tempfile.TemporaryDirectory() as tmp:
        guidance = open_guidance_index(Path(tmp) / "guidance-index.sqlite", overrides=[])
        try:
            outcomes = evaluate(guidance, load_queries(paths))
        finally:
            guidance.close()
    rate = sum(o.hit for o in outcomes) / len(outcomes)
    return rate, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--queries", type=Path, nargs="+", help="query files (default: every guidance_queries*)"
    )
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
