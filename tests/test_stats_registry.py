"""The registry is the one place a statistic is declared: a new dimension is one entry plus one
migration made by `daily_counts.rebuild`, and then the per-day counts, both query paths, the
exports and the report have it, equal to an independent count (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nmi_desk.store.dimensions import CHARTS, CODES, DIMENSIONS, VISIT

# Run in a fresh interpreter: declare one more dimension before anything else reads the
# registry, add the one migration, then open an existing database and read its figures.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from dataclasses import replace
    from datetime import date

    import nmi_desk.store.dimensions as registry

    extra = registry.Dimension("by_language", registry.VISIT, "language", nullable=True,
                               title_key="stats_report.key")
    registry.DIMENSIONS = (*registry.DIMENSIONS, extra)
    # what the module derives from DIMENSIONS at import
    registry.BY_CODE = {d.code: d for d in registry.DIMENSIONS}
    registry.CODES = tuple(d.code for d in registry.DIMENSIONS)
    registry.VISIT_DIMENSIONS = tuple(d for d in registry.DIMENSIONS if d.counts == registry.VISIT)

    from nmi_desk.store import daily_counts, migrations
    daily_counts.REBUILDS = (*daily_counts.REBUILDS, "statistics: by_language")
    step = migrations.LATEST + 1  # a new step is numbered above every released one
    migrations.MIGRATIONS.append(
        migrations.Migration(step, daily_counts.REBUILDS[-1], daily_counts.rebuild))
    migrations.LATEST = step

    from nmi_desk.domain.stats.report import build_report
    from nmi_desk.domain.stats.compute import compute_stats, open_source, render_csv
    from nmi_desk.store.engine import open_engine

    url = sys.argv[1]
    open_engine(url).dispose()  # the one migration: triggers remade, counts refilled
    first, last = date(2026, 1, 1), date(2026, 3, 10)
    with open_source(url) as source:
        summed = compute_stats(source, first, last)
        rows = compute_stats(source, first, last, from_rows=True)
        book, _ = build_report(source, first, last, "en")
    import io
    from openpyxl import load_workbook
    sheets = load_workbook(io.BytesIO(book)).sheetnames
    print(json.dumps({"summed": summed, "rows": rows, "sheets": sheets,
                      "csv": "by_language," in render_csv(summed)}))
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, desk):
    from nmi_desk.domain.demo import generate

    generate(desk.engine(), 1500, 60, 3, desk.settings.device_id, desk.now())
    if request.param == "sqlite":
        return desk.url
    from nmi_desk.sync import resolve_target, run_sync

    pg_url = request.getfixturevalue("pg_url")
    run_sync(desk.engine(), resolve_target(pg_url, ""), desk.now)
    return pg_url


def test_a_new_dimension_is_one_entry_and_one_migration(url, tmp_path):
    from collections import Counter

    from nmi_desk.store.engine import make_engine
    from tests.stats_oracle import read_rows

    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, url],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    summed = out["summed"]
    assert summed == out["rows"]  # per-day counts (filled by the migration) = the rows
    # The script's process added a step this one does not declare: read without migrating
    # (opening through open_engine refuses a database made by a newer version).
    engine = make_engine(url)
    try:
        rows = read_rows(engine)
        with engine.connect() as conn:
            from sqlalchemy import text

            languages = dict(conn.execute(text("SELECT id, language FROM visit")).all())
    finally:
        engine.dispose()
    from datetime import date

    from tests.stats_oracle import _moment, figures

    first, last = date(2026, 1, 1), date(2026, 3, 10)
    base = figures(rows, first, last)
    live = {
        v["id"]
        for v in rows["visits"]
        if not v["deleted"] and first <= _moment(v["started_at"]).date() <= last
    }
    expected = Counter(languages[i] or "unknown" for i in live)
    assert summed["by_language"] == dict(sorted(expected.items()))
    assert len(summed["by_language"]) > 1
    assert sum(summed["by_language"].values()) == summed["visits"] == base["visits"]
    assert out["sheets"][-1] == "by_language" and out["csv"]


def test_the_registry_is_consistent():
    from nmi_desk.core.i18n import catalog

    assert len(set(CODES)) == len(CODES)
    for lang in ("nl", "en"):
        assert all(d.title_key in catalog(lang) for d in DIMENSIONS), lang
    assert [d.chart for d in CHARTS] == list(range(len(CHARTS)))  # no gap, no clash
    for d in DIMENSIONS:
        assert d.title_key, d.code
        if d.counts == VISIT:
            assert d.column, d.code
