"""The office report (`nmi-desk report`): it opens in openpyxl with a summary sheet, a sheet per
dimension by location and by month, two native charts, and its totals equal `export --source`
for the same period, on SQLite and on the central PostgreSQL."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from nmi_desk.cli.app import main
from nmi_desk.domain.stats.compute import DIMENSIONS
from nmi_desk.sync import resolve_target, run_sync


def _export(source: str, out, first: str, last: str) -> dict:
    main(["export", "--source", source, "--from", first, "--to", last, "--format", "json",
          "--output", str(out)])  # fmt: skip
    return json.loads(out.read_text())


def _blocks(ws) -> dict[str, dict]:
    """{"by location"/"by month" heading: {key: (total, {column: n})}} of a dimension sheet."""
    rows = list(ws.iter_rows(values_only=True))
    out: dict[str, dict] = {}
    current = None
    header: tuple = ()
    for row in rows[1:]:
        if not any(v is not None for v in row):
            continue
        if row[1] is None and row[0] is not None:  # a block's heading
            current = out.setdefault(row[0], {})
            header = ()
            continue
        if not header:
            header = row
            continue
        columns = {h: n for h, n in zip(header[3:], row[3:], strict=False) if h is not None}
        current[row[0]] = (row[2], columns)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def source(request, desk):
    from nmi_desk.domain.demo import generate

    generate(desk.engine(), 2500, 90, 5, desk.settings.device_id, desk.now())
    if request.param == "sqlite":
        return desk.url
    pg_url = request.getfixturevalue("pg_url")
    run_sync(desk.engine(), resolve_target(pg_url, ""), desk.now)
    return pg_url


def test_report_sheets_charts_and_totals_equal_the_export(source, tmp_path):
    first, last = "2026-01-01", "2026-03-10"
    out = tmp_path / "report.xlsx"
    main(["--lang", "en", "report", "--source", source, "--from", first, "--to", last,
          "--output", str(out)])  # fmt: skip
    figures = _export(source, tmp_path / "x.json", first, last)
    assert figures["visits"] > 1000

    book = load_workbook(out)
    assert book.sheetnames == ["summary", *DIMENSIONS]
    summary = book["summary"]
    values = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert values["Visits"] == figures["visits"]
    assert values["From"] == first and values["To"] == last
    assert values["Information sessions"] == figures["info_sessions"]["sessions"]
    charts = summary._charts
    assert [c.tagname for c in charts] == ["barChart", "barChart"]
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in charts]
    assert titles == ["Visits per month", "Top topics (visits)"]

    months = {}
    for name in DIMENSIONS:
        blocks = _blocks(book[name])
        assert set(blocks) == {"By location", "By month"}, name
        for heading, rows in blocks.items():
            totals = {k: total for k, (total, _) in rows.items()}
            assert totals == figures[name], (name, heading)
            for key, (total, columns) in rows.items():
                assert sum(columns.values()) == total, (name, heading, key)
        if name == "by_location":
            months = {
                m: sum(cols[m] for _, cols in blocks["By month"].values())
                for m in next(iter(blocks["By month"].values()))[1]
            }
    # the chart's table: visits per month = the by-month sums of the location sheet
    start = next(i for i, r in enumerate(summary.iter_rows(values_only=True), 1) if r[0] == "Month")
    table = {
        r[0]: r[1]
        for r in summary.iter_rows(min_row=start + 1, max_col=2, values_only=True)
        if r[0]
    }
    assert table == months and sum(table.values()) == figures["visits"]
    assert list(table) == ["2026-01", "2026-02", "2026-03"]


def test_report_errors_are_one_line(desk, tmp_path, capsys):
    desk.engine()
    for args, message in [
        (["--from", "2026-03-10", "--to", "2026-03-01"], "is before"),
        (["--output", str(tmp_path / "nowhere" / "r.xlsx")], "does not exist"),
        (["--source", f"sqlite:///{tmp_path / 'none.db'}"], "no database at"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(["report", *args])
        assert exit_.value.code == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
