"""visit_daily (the per-day counts statistics read on SQLite) stays equal to an independent
count of the rows through every kind of edit, the demo bulk load and a migration."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import pytest

from nmi_desk.core.clock import AMS
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.stats.compute import compute_stats, open_source
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit
from tests.stats_oracle import per_day, read_rows


def _recount(db) -> Counter:
    """Counts per (day, location, dimension, key) from the raw rows, in Python."""
    return per_day(read_rows(db))


def _summary(db) -> Counter:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT local_date, location_code, dimension, key, n FROM visit_daily WHERE n <> 0"
    ).fetchall()
    conn.close()
    return Counter({tuple(r[:4]): r[4] for r in rows})


def _assert_in_step(desk) -> None:
    expected = _recount(desk.paths.database)
    assert _summary(desk.paths.database) == expected


def _input(**kw) -> VisitInput:
    base = dict(
        location_code="eindhoven-stadskantoor",
        started_at=datetime(2026, 3, 10, 10, 0, tzinfo=AMS),
        channel="walk-in",
        came_via="gemeente-sociaal-loket",
        origin_country="TR",
        destination_country="TR",
        outcome="informed",
        topics=["aow", "zorg"],
        referrals=[ReferralInput("svb"), ReferralInput("svb"), ReferralInput("cak")],
    )
    base.update(kw)
    return VisitInput(**base)


def _edit(desk, uuid: str, **kw) -> None:
    view = load_visit(desk.context(), uuid)
    update_visit(desk.context(), uuid, replace(view.input, **kw))


def test_every_edit_keeps_the_counts_equal_to_the_rows(desk):
    engine = desk.engine()
    a = create_visit(Context.of(engine, desk.actor, desk.now()), _input())
    b = create_visit(
        Context.of(engine, desk.actor, desk.now()), _input(topics=["aow"], referrals=[])
    )
    c = create_visit(
        Context.of(engine, desk.actor, desk.now()), _input(origin_country=None, outcome=None)
    )
    _assert_in_step(desk)
    summary = _summary(desk.paths.database)
    assert summary[("2026-03-10", "eindhoven-stadskantoor", "by_topic", "aow")] == 3
    assert summary[("2026-03-10", "eindhoven-stadskantoor", "by_referral", "svb")] == 4

    _edit(desk, a, topics=["wonen"])  # topic changed
    _assert_in_step(desk)
    # location and day changed: the visit's topics and referrals move with it
    _edit(desk, b, location_code="roermond", started_at=datetime(2026, 3, 9, 14, 5, tzinfo=AMS))
    _assert_in_step(desk)
    assert _summary(desk.paths.database)[("2026-03-09", "roermond", "by_topic", "aow")] == 1
    _edit(desk, c, outcome="referred", came_via=None, channel="phone")
    _assert_in_step(desk)

    # a referral dropped from the form (tombstoned), another closed
    view = load_visit(Context.of(engine, desk.actor, desk.now()), a)
    kept = [
        ReferralInput(r.organisation_code, uuid=u)
        for r, u in zip(view.input.referrals, view.referral_uuids, strict=True)
        if r.organisation_code == "svb"
    ]
    update_visit(Context.of(engine, desk.actor, desk.now()), a, replace(view.input, referrals=kept))
    _assert_in_step(desk)
    assert (
        _summary(desk.paths.database)[
            ("2026-03-10", "eindhoven-stadskantoor", "by_referral", "cak")
        ]
        == 1
    )  # only visit c's
    from nmi_desk.domain.referrals import close_referral

    close_referral(engine, kept[0].uuid, "done", "geregeld", desk.actor, desk.now())
    _assert_in_step(desk)

    delete_visit(
        Context.of(engine, desk.actor, desk.now()), c
    )  # tombstone: visit, topics, referrals off
    _assert_in_step(desk)
    assert ("2026-03-10", "eindhoven-stadskantoor", "by_referral", "cak") not in _summary(
        desk.paths.database
    )

    # Raw SQL the way sync and purge write: a tombstone lifted, a hard delete (cascading to
    # topics and referrals), a moved link, sync marks and a purge of personal fields.
    conn = sqlite3.connect(desk.paths.database)
    conn.execute("PRAGMA foreign_keys = ON")
    with conn:
        conn.execute("UPDATE visit SET deleted = 0 WHERE uuid = ?", (c,))
        conn.execute("UPDATE referral SET deleted = 0")
    assert _summary(desk.paths.database) == _recount(desk.paths.database)
    with conn:
        conn.execute("UPDATE visit_topic SET topic_code = 'schulden' WHERE topic_code = 'zorg'")
        conn.execute(
            "UPDATE referral SET organisation_code = 'uwv' WHERE organisation_code = 'cak'"
        )
    assert _summary(desk.paths.database) == _recount(desk.paths.database)
    before = _summary(desk.paths.database)
    with conn:
        conn.execute("UPDATE visit SET synced_revision = revision")
        conn.execute("UPDATE visit SET client_name = NULL, notes = NULL, language = NULL")
    assert _summary(desk.paths.database) == before
    with conn:
        conn.execute("DELETE FROM visit WHERE uuid = ?", (a,))
        conn.execute("DELETE FROM referral WHERE organisation_code = 'uwv'")
        conn.execute("DELETE FROM visit_topic WHERE topic_code = 'aow'")
    conn.close()
    _assert_in_step(desk)
    assert _recount(desk.paths.database), "something is left to count"

    with open_source(desk.url) as source:
        stats = compute_stats(source, date(2026, 3, 9), date(2026, 3, 10))
    assert stats == compute_stats(desk.engine(), date(2026, 3, 9), date(2026, 3, 10))
    assert stats["visits"] == 2


def test_demo_bulk_load_fills_the_counts_and_keeps_the_triggers(desk, monkeypatch):
    from nmi_desk.domain import demo

    monkeypatch.setattr(demo, "BULK_REBUILD", 100)  # take the drop-and-rebuild path
    desk.engine()  # creates and migrates the database
    conn = sqlite3.connect(desk.paths.database)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).fetchall()
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    ).fetchall()
    conn.close()
    assert any(name == "visit_daily_visit_insert" for name, _ in triggers)
    demo.generate(desk.engine(), 600, 30, 3, desk.settings.device_id, desk.now())
    _assert_in_step(desk)
    # a second load adds onto what is there
    demo.generate(desk.engine(), 400, 30, 4, desk.settings.device_id, desk.now())
    _assert_in_step(desk)
    conn = sqlite3.connect(desk.paths.database)
    assert (
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).fetchall()
        == triggers
    )
    assert (
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).fetchall()
        == indexes
    )
    conn.close()
    # the triggers work again after the load
    create_visit(desk.context(), _input())
    _assert_in_step(desk)


def test_a_failed_bulk_load_leaves_counts_and_triggers_as_they_were(desk, monkeypatch):
    from nmi_desk.domain import demo
    from nmi_desk.store import daily_counts

    monkeypatch.setattr(demo, "BULK_REBUILD", 100)
    create_visit(desk.context(), _input())
    before = _summary(desk.paths.database)

    def broken(**kw):
        return ["SELECT no_such_column FROM visit"]

    monkeypatch.setattr(daily_counts, "fill_sql", broken)
    with pytest.raises(sqlite3.OperationalError):
        demo.generate(desk.engine(), 300, 30, 3, desk.settings.device_id, desk.now())
    conn = sqlite3.connect(desk.paths.database)
    assert conn.execute("SELECT count(*) FROM visit").fetchone()[0] == 1
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    conn.close()
    assert set(daily_counts.triggers()) <= names
    assert _summary(desk.paths.database) == before


def test_migration_fills_the_counts_of_an_existing_database(tmp_path):
    """A database from before migration 52 gets its counts from the rows already there."""
    from nmi_desk.store import daily_counts
    from nmi_desk.store.engine import open_engine

    db = tmp_path / "nmi-desk.db"
    engine = open_engine(f"sqlite:///{db}")
    from nmi_desk.domain.context import Actor

    actor = Actor("BM", "dev-1")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=AMS)
    create_visit(Context.of(engine, actor, now), _input())
    create_visit(Context.of(engine, actor, now), _input(location_code="roermond", topics=["wmo"]))
    with engine.begin() as conn:
        for name in daily_counts.triggers():
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        conn.exec_driver_sql("DROP TABLE visit_daily")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE version = 52")
    engine.dispose()
    engine = open_engine(f"sqlite:///{db}")  # migrates again: 52 only
    engine.dispose()
    assert _summary(db) == _recount(db)
    assert sum(n for (_, _, dim, _), n in _summary(db).items() if dim == "by_location") == 2
