"""Consultant queries for the money, care, residence and practical articles find them.

Uses the quality benchmark's own runner (a fresh migrated SQLite database, the shipped
library) on tests/fixtures/guidance_queries_topics.toml, so the figure a developer gets from
`benchmarks/guidance_quality.py --queries ...` is the figure this test holds.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

from nmi_desk.guidance.library import load_library

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "fixtures" / "guidance_queries_topics.toml"


def _quality():
    spec = importlib.util.spec_from_file_location(
        "guidance_quality", ROOT / "benchmarks" / "guidance_quality.py"
    )
    quality = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = quality  # its dataclasses look their module up there
    spec.loader.exec_module(quality)
    return quality


def test_every_expected_slug_is_a_shipped_article():
    with QUERIES.open("rb") as handle:
        expected = {slug for q in tomllib.load(handle)["query"] for slug in q["expect"]}
    shipped = set(load_library().articles)
    assert expected - shipped == set()


def test_topic_queries_find_their_article_in_the_top_3_at_least_95_percent():
    quality = _quality()
    queries = quality.load_queries(QUERIES)
    assert len(queries) >= 45
    rate, outcomes = quality.run(QUERIES)
    misses = [(o.query, o.expect, o.got) for o in outcomes if not o.hit]
    assert rate >= 0.95, misses
