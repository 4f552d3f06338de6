"""Sync state per central target: a second central database gets everything, switching the
saved target asks first and says what will be pushed, `sync --status` lists the targets, and a
laptop that synced before per-target state keeps its marks for the target it synced with."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from test_sync_cli import run

from nmi_desk.domain.desk import Desk
from nmi_desk.store.engine import open_engine

pytestmark = pytest.mark.pg


@pytest.fixture
def second_pg_url(pg_url):
    """Another fresh schema on the same server: a second central database."""
    url = make_url(pg_url)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield url.set(query={"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def central_counts(url: str) -> dict[str, int]:
    engine = open_engine(url)
    try:
        with engine.connect() as c:
            return {
                t: c.execute(text(f"SELECT count(DISTINCT uuid) FROM {t}")).scalar_one()
                for t in ("visit", "referral", "info_session")
            }
    finally:
        engine.dispose()


def local_counts(home) -> dict[str, int]:
    desk = Desk.open(home)
    try:
        with desk.engine().connect() as c:
            return {
                t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("visit", "referral", "info_session")
            }
    finally:
        desk.close()


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    return proc


def test_a_second_target_receives_every_record_after_the_first_got_them(
    isolated_home, pg_url, second_pg_url
):
    ok(run(isolated_home, "demo", "--visits", "120"))
    first = ok(run(isolated_home, "sync", "--target", pg_url))
    assert " 120 visit" in first.stdout
    held = local_counts(isolated_home)
    assert central_counts(pg_url) == held

    second = ok(run(isolated_home, "sync", "--target", second_pg_url, "--yes"))
    assert " 120 visit" in second.stdout
    assert central_counts(second_pg_url) == held

    # Back to the first: it already has everything, and only new work travels.
    ok(run(isolated_home, "demo", "--visits", "5", "--seed", "2"))
    back = ok(run(isolated_home, "sync", "--target", pg_url, "--yes"))
    assert " 5 visit" in back.stdout
    assert central_counts(pg_url) == local_counts(isolated_home)
    status = ok(run(isolated_home, "sync", "--status")).stdout
    first_line = status.splitlines()[0]
    assert first_line.startswith("* ") and "search_path" in first_line
    assert " 5 visit" in status  # the second target has not had the 5 new ones


def test_switching_the_saved_target_asks_first_and_says_what_will_be_pushed(
    isolated_home, pg_url, second_pg_url
):
    ok(run(isolated_home, "demo", "--visits", "40"))
    ok(run(isolated_home, "sync", "--target", pg_url))
    refused = run(isolated_home, "sync", "--target", second_pg_url)  # no terminal, no --yes
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "last synced with" in line and " 40 visit" in line and "--yes" in line
    assert central_counts(second_pg_url)["visit"] == 0  # nothing was sent
    config = (isolated_home / "config.toml").read_text()
    assert "search_path%3D" + make_url(pg_url).query["options"].split("=")[1] in config


def test_a_recreated_central_database_behind_the_same_url_gets_everything(isolated_home, pg_url):
    ok(run(isolated_home, "demo", "--visits", "30"))
    ok(run(isolated_home, "sync", "--target", pg_url))
    schema = make_url(pg_url).query["options"].split("=")[1]
    conninfo = make_url(pg_url).set(drivername="postgresql", query={})
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f"DROP SCHEMA {schema} CASCADE")  # restored from nothing: a new database
        c.execute(f"CREATE SCHEMA {schema}")
    again = ok(run(isolated_home, "sync"))
    assert " 30 visit" in again.stdout
    assert central_counts(pg_url)["visit"] == 30


def test_a_laptop_that_synced_before_keeps_its_marks_for_its_target(
    isolated_home, pg_url, second_pg_url
):
    ok(run(isolated_home, "demo", "--visits", "25"))
    ok(run(isolated_home, "sync", "--target", pg_url))
    # The state migration 100 leaves on a laptop that synced before: marks, no target known.
    desk = Desk.open(isolated_home)
    with desk.engine().begin() as c:
        c.execute(text("DELETE FROM sync_target"))
        c.execute(text("UPDATE app_meta SET value = 'legacy' WHERE key = 'sync.active_target'"))
    desk.close()
    ok(run(isolated_home, "demo", "--visits", "3", "--seed", "5"))
    # A different target first: the old marks are kept aside for the saved one.
    other = ok(run(isolated_home, "sync", "--target", second_pg_url, "--yes"))
    assert " 28 visit" in other.stdout
    back = ok(run(isolated_home, "sync", "--target", pg_url, "--yes"))
    assert " 3 visit" in back.stdout  # not the 25 it had before the upgrade
    assert central_counts(pg_url)["visit"] == 28


def test_migration_marks_a_laptop_that_synced_as_legacy(tmp_path):
    import sqlite3
    from pathlib import Path

    db = tmp_path / "nmi-desk.db"
    conn = sqlite3.connect(db)
    fixture = Path(__file__).parent / "fixtures" / "schema_v1.sql"
    conn.executescript(fixture.read_text(encoding="utf-8"))
    conn.execute("UPDATE visit SET synced_revision = revision")
    conn.commit()
    conn.close()
    engine = open_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            meta = dict(c.execute(text("SELECT key, value FROM app_meta")).all())
    finally:
        engine.dispose()
    assert meta["sync.active_target"] == "legacy"
    assert uuid.UUID(meta["database.id"])


def test_the_laptops_own_database_is_refused_as_a_target(isolated_home):
    ok(run(isolated_home, "demo", "--visits", "5"))
    own = f"sqlite:///{isolated_home / 'nmi-desk.db'}"
    proc = run(isolated_home, "sync", "--target", own)
    assert proc.returncode == 1 and "own database" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_relative_sqlite_target_is_saved_as_an_absolute_path(isolated_home, tmp_path):
    ok(run(isolated_home, "demo", "--visits", "5"))
    here = tmp_path / "stick"
    here.mkdir()
    proc = subprocess_in(here, isolated_home, "sync", "--target", "sqlite:///central.db")
    assert proc.returncode == 0, proc.stderr
    assert (
        f'sync_target = "sqlite:///{here / "central.db"}"'
        in (isolated_home / "config.toml").read_text()
    )


def subprocess_in(cwd, home, *args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def test_a_failed_sync_is_one_line_with_no_empty_line_before_it(isolated_home):
    ok(run(isolated_home, "demo", "--visits", "3"))
    proc = run(isolated_home, "sync", "--target", "postgresql+psycopg://nmi@localhost:1/x")
    assert proc.returncode == 1
    assert proc.stderr.startswith("nmi-desk: cannot reach sync target"), repr(proc.stderr)
    assert proc.stderr.count("\n") == 1
