"""Statistics: every dimension against an independent count in Python over the same rows,
Amsterdam day edges (DST days included), suppression, XLSX = JSON, PostgreSQL = SQLite, privacy."""

from __future__ import annotations

import io
import json
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from nmi_desk.core.clock import AMS
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.stats.compute import (
    DIMENSIONS,
    compute_stats,
    open_source,
    render_csv,
    render_json,
    render_xlsx,
    suppress_small,
)
from nmi_desk.domain.visits import create_visit
from tests.stats_oracle import figures, read_rows


def _independent(db_path, first: date, last: date, location: str | None = None) -> dict:
    """Count in Python from raw rows, deciding the Amsterdam day from the stored UTC time."""
    return figures(read_rows(db_path), first, last, location)


def _same(stats: dict, expected: dict) -> None:
    assert stats["visits"] == expected["visits"]
    for name in DIMENSIONS:
        assert stats[name] == dict(expected.get(name, {})), name


@pytest.fixture
def demo_desk(desk):
    from nmi_desk.domain.demo import generate

    generate(desk.engine(), 3000, 60, 7, desk.settings.device_id, desk.now())
    return desk


@pytest.mark.parametrize(
    ("first", "last", "location"),
    [
        (date(2026, 1, 10), date(2026, 3, 10), None),  # the whole demo span
        (date(2026, 3, 10), date(2026, 3, 10), None),  # one day
        (date(2026, 2, 1), date(2026, 2, 28), "roermond"),  # a month at one location
    ],
)
def test_every_dimension_matches_an_independent_count(demo_desk, first, last, location):
    with open_source(demo_desk.url) as source:
        stats = compute_stats(source, first, last, location)
    expected = _independent(demo_desk.paths.database, first, last, location)
    assert expected["visits"] > 0
    _same(stats, expected)
    # The engine path (SQLAlchemy) gives the very same figures as the stdlib path.
    assert compute_stats(demo_desk.engine(), first, last, location) == stats


def _visit(desk, moment: datetime, **kw) -> str:
    inp = VisitInput(location_code="eindhoven-stadskantoor", started_at=moment, **kw)
    return create_visit(desk.context(), inp)


# Last Sundays of March and October 2026: 29 March (02:00 -> 03:00), 25 October (03:00 -> 02:00).
DST_CASES = [
    (date(2026, 3, 29), ["00:30", "01:59", "03:01", "23:59"], date(2026, 3, 28), date(2026, 3, 30)),
    (
        date(2026, 10, 25),
        ["00:30", "01:59", "02:30", "03:01", "23:59"],
        date(2026, 10, 24),
        date(2026, 10, 26),
    ),
]


@pytest.mark.parametrize(("day", "times", "before", "after"), DST_CASES)
def test_period_edges_are_amsterdam_midnights_on_dst_days(desk, day, times, before, after):
    from datetime import time

    for hhmm in times:
        _visit(desk, datetime.combine(day, time.fromisoformat(hhmm), tzinfo=AMS), topics=["aow"])
    # One minute either side of the day, in Amsterdam time.
    _visit(desk, datetime.combine(before, time(23, 59), tzinfo=AMS), topics=["aow"])
    _visit(desk, datetime.combine(after, time(0, 0), tzinfo=AMS), topics=["aow"])
    # 02:30 on 25 October happens twice: the second one (after the clocks go back) counts too.
    if day.month == 10:
        second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the repeated hour
        assert second.astimezone(AMS).hour == 2
        _visit(desk, second, topics=["aow"])
    with open_source(desk.url) as source:
        stats = compute_stats(source, day, day)
        around = compute_stats(source, before, after)
        next_day = compute_stats(source, after, after)
    n = len(times) + (day.month == 10)
    assert stats["visits"] == n
    assert stats["by_topic"] == {"aow": n}
    expected = _independent(desk.paths.database, day, day)
    _same(stats, expected)
    assert around["visits"] == n + 2
    assert next_day["visits"] == 1 and next_day["by_hour"] == {"00": 1}
    hours = Counter(h[:2] for h in times) + Counter(["02"] if day.month == 10 else [])
    assert stats["by_hour"] == dict(sorted(hours.items()))
    assert max(stats["by_hour"]) == "23"


def test_deleted_visits_and_referrals_do_not_count(desk):
    from nmi_desk.domain.inputs import ReferralInput
    from nmi_desk.domain.visits import delete_visit

    moment = datetime(2026, 3, 10, 10, 0, tzinfo=AMS)
    keep = _visit(desk, moment, topics=["aow"], referrals=[ReferralInput("svb")])
    gone = _visit(desk, moment, topics=["zorg"], referrals=[ReferralInput("cak")])
    assert keep != gone
    delete_visit(desk.context(), gone)
    with open_source(desk.url) as source:
        stats = compute_stats(source, date(2026, 3, 10), date(2026, 3, 10))
    assert stats["visits"] == 1
    assert stats["by_topic"] == {"aow": 1}
    assert stats["by_referral"] == {"svb": 1}


def test_info_sessions_are_counted_apart(desk):
    from nmi_desk.domain.inputs import InfoSessionInput
    from nmi_desk.domain.sessions import create_info_session

    create_info_session(
        desk.context(),
        InfoSessionInput(date(2026, 3, 10), 40, "eindhoven-stadskantoor", topics=["aow", "zorg"]),
    )
    create_info_session(desk.context(), InfoSessionInput(date(2026, 3, 11), 12, topics=["aow"]))
    with open_source(desk.url) as source:
        stats = compute_stats(source, date(2026, 3, 10), date(2026, 3, 11))
        one = compute_stats(source, date(2026, 3, 10), date(2026, 3, 10), "eindhoven-stadskantoor")
    assert stats["visits"] == 0
    assert stats["info_sessions"] == {
        "sessions": 2,
        "attendees": 52,
        "by_topic": {"aow": 2, "zorg": 1},
    }
    assert one["info_sessions"]["attendees"] == 40


def test_suppress_small_hides_counts_one_to_four(demo_desk):
    with open_source(demo_desk.url) as source:
        stats = compute_stats(source, date(2026, 3, 10), date(2026, 3, 10), "amsterdam")
    hidden = suppress_small(stats)
    listed = {(s["dimension"], s["key"]) for s in hidden["suppressed"]}
    small = {(name, k) for name in DIMENSIONS for k, n in stats[name].items() if 0 < n < 5}
    assert small, "the demo day should have some small counts"
    for name, key in small:
        assert hidden[name][key] is None
    assert small <= listed
    for name in DIMENSIONS:
        for k, n in stats[name].items():
            if n >= 5:
                assert hidden[name][k] == n
    assert '"<5"' not in render_json(hidden) and "null" in render_json(hidden)
    assert ",<5\n" in render_csv(hidden)


def test_xlsx_read_back_holds_the_json_figures(demo_desk):
    from openpyxl import load_workbook

    with open_source(demo_desk.url) as source:
        stats = compute_stats(source, date(2026, 1, 10), date(2026, 3, 10))
    book = load_workbook(io.BytesIO(render_xlsx(stats)))
    from_json = json.loads(render_json(stats))
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["visits"] == from_json["visits"]
    assert summary["from"] == "2026-01-10" and summary["to"] == "2026-03-10"
    assert summary["info_sessions"] == from_json["info_sessions"]["sessions"]
    for name in DIMENSIONS:
        ws = book[name]
        assert next(ws.iter_rows(max_row=1, values_only=True)) == ("key", "count")
        rows = {k: n for k, n in ws.iter_rows(min_row=2, values_only=True)}
        assert all(isinstance(n, int) for n in rows.values()), name  # numbers, not text
        assert rows == from_json[name], name


def test_no_names_free_text_or_uuids_in_any_format(desk):
    from nmi_desk.domain.inputs import ReferralInput

    name = "Zeynep Testpersoon-Synthetisch"
    note = "Vertrouwelijke notitie XYZZY"
    uuid = _visit(
        desk,
        datetime(2026, 3, 10, 10, 0, tzinfo=AMS),
        client_name=name,
        notes=note,
        origin_country="TR",
        topics=["aow"],
        referrals=[ReferralInput("svb", reason="Reden PLUGH", note="Notitie QUUX")],
    )
    with open_source(desk.url) as source:
        stats = compute_stats(source, date(2026, 3, 10), date(2026, 3, 10))
    assert stats["visits"] == 1
    outputs = [render_json(stats), render_csv(stats)]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(render_xlsx(stats)))
    outputs.append(
        "\n".join(
            str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
        )
    )
    conn = sqlite3.connect(desk.paths.database)
    uuids = [r[0] for t in ("visit", "referral") for r in conn.execute(f"SELECT uuid FROM {t}")]
    conn.close()
    for text in outputs:
        for secret in (
            name,
            "Zeynep",
            note,
            "XYZZY",
            "PLUGH",
            "QUUX",
            uuid,
            desk.settings.device_id,
            *uuids,
        ):
            assert secret not in text


def test_postgresql_gives_the_same_figures_as_sqlite(demo_desk, pg_url):
    """The same records copied into PostgreSQL (SQLAlchemy Core) give the same statistics."""
    from sqlalchemy import MetaData, insert, select

    from nmi_desk.store.engine import open_engine

    local = demo_desk.engine()
    central = open_engine(pg_url)
    try:
        meta = MetaData()
        meta.reflect(local, only=["visit", "visit_topic", "referral", "info_session"])
        pg_meta = MetaData()
        pg_meta.reflect(central, only=["visit", "visit_topic", "referral", "info_session"])
        with local.connect() as src, central.begin() as dst:
            for table in ("visit", "visit_topic", "referral"):
                columns = [
                    c.name for c in pg_meta.tables[table].columns if c.name in meta.tables[table].c
                ]
                rows = [
                    dict(r._mapping)
                    for r in src.execute(select(*(meta.tables[table].c[c] for c in columns)))
                ]
                for i in range(0, len(rows), 2000):
                    dst.execute(insert(pg_meta.tables[table]), rows[i : i + 2000])
        for first, last, loc in [
            (date(2026, 1, 10), date(2026, 3, 10), None),
            (date(2026, 3, 1), date(2026, 3, 10), "amsterdam"),
        ]:
            with open_source(demo_desk.url) as source:
                expected = compute_stats(source, first, last, loc)
            assert compute_stats(central, first, last, loc) == expected
    finally:
        central.dispose()
