"""Central statistics: the per-day counts PostgreSQL keeps in the push's transaction equal the
raw rows through pushes and every kind of edit; `export --source` reads them, read-only, and
refuses (changing nothing) a database that is not an nmi-desk database."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import text

from nmi_desk.cli.app import main
from nmi_desk.core.clock import AMS
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.stats.compute import compute_stats, open_source
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import resolve_target, run_sync
from tests.stats_oracle import figures, per_day, read_rows


def _summary(engine) -> Counter:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT local_date, location_code, dimension, key, n FROM visit_daily WHERE n <> 0"
            )
        ).all()
        pending = conn.execute(text("SELECT count(*) FROM visit_daily_pending")).scalar_one()
        deferred = conn.execute(text("SELECT count(*) FROM visit_daily_deferred")).scalar_one()
    assert pending == 0  # applied at commit, nothing left behind
    assert deferred == 0  # a push of several batches folded its counts before it ended
    return Counter({tuple(r[:4]): r[4] for r in rows})


def _monthly(engine) -> Counter:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT month, location_code, dimension, key, n FROM visit_monthly WHERE n <> 0")
        ).all()
    return Counter({tuple(r[:4]): r[4] for r in rows})


def _in_step(engine) -> None:
    daily = _summary(engine)
    assert daily == per_day(read_rows(engine))
    by_month: Counter = Counter()
    for (day, location, dimension, key), n in daily.items():
        by_month[day[:7], location, dimension, key] += n
    assert _monthly(engine) == +by_month  # visit_monthly is visit_daily per month


def _input(**kw) -> VisitInput:
    base = dict(
        location_code="eindhoven-stadskantoor",
        started_at=datetime(2026, 3, 10, 10, 0, tzinfo=AMS),
        channel="walk-in",
        came_via="gemeente-sociaal-loket",
        origin_country="TR",
        destination_country="TR",
        outcome="informed",
        topics=["aow", "anw", "zorg"],  # aow and anw: two pension topics, one group
        referrals=[ReferralInput("svb"), ReferralInput("cak")],
    )
    base.update(kw)
    return VisitInput(**base)


def test_central_counts_follow_every_edit(desk, pg_url):
    """The domain functions and raw SQL write to PostgreSQL; after each commit the summary
    equals the recount, and the export from it equals the export from the rows."""
    engine = open_engine(pg_url)
    actor, now = desk.actor, desk.now()
    try:
        a = create_visit(Context.of(engine, actor, now), _input())
        b = create_visit(Context.of(engine, actor, now), _input(topics=["aow"], referrals=[]))
        c = create_visit(Context.of(engine, actor, now), _input(origin_country=None, outcome=None))
        _in_step(engine)
        groups = _summary(engine)
        assert groups[("2026-03-10", "eindhoven-stadskantoor", "by_topic_group", "pensioen")] == 3

        def edit(uuid, **kw):
            view = load_visit(Context.of(engine, actor, now), uuid)
            update_visit(Context.of(engine, actor, now), uuid, replace(view.input, **kw))

        edit(a, topics=["wonen", "anw"])  # still one pension topic: the group stays
        _in_step(engine)
        edit(b, location_code="roermond", started_at=datetime(2026, 3, 9, 14, 5, tzinfo=AMS))
        _in_step(engine)
        edit(c, outcome="referred", came_via=None, channel="phone", topics=["zorg"])
        _in_step(engine)
        delete_visit(Context.of(engine, actor, now), c)  # tombstone
        _in_step(engine)
        with engine.begin() as conn:  # raw SQL, several statements in one transaction
            conn.execute(text("UPDATE visit SET deleted = FALSE WHERE uuid = :u"), {"u": c})
            conn.execute(text("UPDATE referral SET deleted = TRUE WHERE organisation_code = 'cak'"))
            conn.execute(
                text("UPDATE visit_topic SET topic_code = 'aow' WHERE topic_code = 'zorg'")
            )
            conn.execute(text("UPDATE visit SET synced_revision = revision, client_name = NULL"))
        _in_step(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE referral SET organisation_code = 'uwv', deleted = FALSE"))
            conn.execute(text("DELETE FROM visit WHERE uuid = :u"), {"u": a})  # hard, cascades
            conn.execute(text("DELETE FROM visit_topic WHERE topic_code = 'wonen'"))
        _in_step(engine)
        with pytest.raises(Exception, match="boom"):  # a rolled-back transaction leaves nothing
            with engine.begin() as conn:
                conn.execute(text("UPDATE visit SET location_code = 'roermond'"))
                raise RuntimeError("boom")
        _in_step(engine)
        assert read_rows(engine)["visits"], "something is left to count"
        first, last = date(2026, 3, 9), date(2026, 3, 10)
        stats = compute_stats(engine, first, last)
        assert stats == compute_stats(engine, first, last, from_rows=True)
        rows = figures(read_rows(engine), first, last)
        assert stats["by_topic_group"] == rows["by_topic_group"] and stats["visits"] == 2
    finally:
        engine.dispose()


def test_export_source_of_a_pushed_central_equals_the_rows_and_the_laptop(desk, pg_url):
    """A laptop pushes through the real sync; the central export (from its per-day counts)
    equals the same export computed from the central rows, and the laptop's own."""
    from nmi_desk.domain.demo import generate

    generate(desk.engine(), 3000, 60, 11, desk.settings.device_id, desk.now())
    target = resolve_target(pg_url, "")
    run_sync(desk.engine(), target, desk.now)
    view_uuid = None
    with desk.engine().connect() as conn:
        view_uuid = conn.execute(text("SELECT uuid FROM visit ORDER BY id LIMIT 1")).scalar_one()
    # Edits after the first push: a changed visit (topics, location) and a tombstone.
    view = load_visit(desk.context(), view_uuid)
    update_visit(
        desk.context(),
        view_uuid,
        replace(view.input, topics=["aow", "wia"], location_code="roermond"),
    )
    with desk.engine().connect() as conn:
        gone = conn.execute(text("SELECT uuid FROM visit ORDER BY id DESC LIMIT 1")).scalar_one()
    delete_visit(desk.context(), gone)
    run_sync(desk.engine(), target, desk.now)
    central = open_engine(pg_url)
    try:
        _in_step(central)
        for first, last, loc in [
            (date(2026, 1, 10), date(2026, 3, 10), None),  # whole February, days either side
            (date(2026, 1, 10), date(2026, 3, 10), "amsterdam"),
            (date(2026, 1, 1), date(2026, 2, 28), None),  # whole months only
            (date(2026, 1, 2), date(2026, 2, 15), None),  # 45 days, no whole month
            (date(2025, 1, 1), date(2026, 12, 31), None),  # two calendar years
            (date(2026, 3, 1), date(2026, 3, 10), "amsterdam"),
        ]:
            with open_source(pg_url) as source:
                summed = compute_stats(source, first, last, loc)
                from_rows = compute_stats(source, first, last, loc, from_rows=True)
            assert summed == from_rows
            with open_source(desk.url) as laptop:
                assert compute_stats(laptop, first, last, loc) == summed
            assert summed["visits"] > 0
    finally:
        central.dispose()


def test_a_postgresql_source_is_read_only(desk, pg_url):
    open_engine(pg_url).dispose()  # an nmi-desk database
    with open_source(pg_url) as source, source.connect() as conn:
        with pytest.raises(Exception, match="read-only"):
            conn.execute(text("DELETE FROM visit"))


def _tables_pg(pg_url) -> list[tuple]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    schema = url.query["options"].split("=", 1)[1]
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        return (
            conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY 1",
                (schema,),
            ).fetchall()
            + conn.execute(
                "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = %s",
                (schema,),
            ).fetchall()
        )


def test_export_source_refuses_a_foreign_postgresql_schema_and_changes_nothing(
    pg_url, tmp_path, capsys
):
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE someone_elses (id int PRIMARY KEY, what text)")
        conn.execute("INSERT INTO someone_elses VALUES (1, 'theirs')")
    before = _tables_pg(pg_url)
    out = tmp_path / "x.json"
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--source", pg_url, "--from", "2026-03-01", "--output", str(out)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an nmi-desk database" in err
    assert "Traceback" not in err
    assert _tables_pg(pg_url) == before
    assert not out.exists()


def test_export_source_refuses_a_foreign_sqlite_file_and_changes_nothing(tmp_path, capsys):
    (tmp_path / "theirs").mkdir()
    foreign = tmp_path / "theirs" / "theirs.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY, name TEXT)")  # a namesake
    conn.execute("INSERT INTO visit VALUES (1, 'theirs')")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    listing = sorted(p.name for p in foreign.parent.iterdir())
    with pytest.raises(SystemExit) as exit_:
        main(
            ["export", "--source", f"sqlite:///{foreign}", "--from", "2026-03-01", "--output", "-"]
        )
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an nmi-desk database" in err
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == listing  # no -wal, -shm, backup


def test_laptops_pushing_at_once_keep_the_central_counts_exact(tmp_path, clock, pg_url):
    """Six laptops at the same location and days push at the same moment (threads, each its
    own data dir and engine): no deadlock on the shared summary rows, and the counts equal
    the rows afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from nmi_desk.domain.demo import generate
    from nmi_desk.domain.desk import Desk

    open_engine(pg_url).dispose()
    desks = []
    for i in range(6):
        d = Desk.open(tmp_path / f"laptop-{i}", clock=clock)
        d.settings.consultant, d.settings.location = "TS", "amsterdam"
        d.settings.device_id = f"laptop-{i}"
        d.save_settings()
        generate(d.engine(), 400, 5, 100 + i, d.settings.device_id, d.now(), location="amsterdam")
        desks.append(d)

    def push(d):
        return run_sync(d.engine(), resolve_target(pg_url, ""), d.now, batch_size=50)

    with ThreadPoolExecutor(len(desks)) as pool:
        reports = list(pool.map(push, desks))
    assert all(r is not None for r in reports)
    central = open_engine(pg_url)
    try:
        _in_step(central)
        with central.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM visit")).scalar_one() == 2400
    finally:
        central.dispose()
        for d in desks:
            d.close()
