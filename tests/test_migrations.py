"""Schema migrations: last month's database upgrades in place without loss, on SQLite and
PostgreSQL, and the migrated schema matches the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

import nmi_desk.store.models  # noqa: F401  (registers the tables)
from nmi_desk.store.engine import open_engine
from nmi_desk.store.migrations import LATEST, MIGRATIONS, current_version, migrate

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.sql"


def _load_v1(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()


def _columns(engine) -> dict[str, set[str]]:
    insp = inspect(engine)
    return {
        t: {c["name"] for c in insp.get_columns(t)}
        for t in insp.get_table_names()
        if t != "schema_migrations"
    }


def test_v1_database_is_upgraded_in_place_without_loss(tmp_path):
    db = tmp_path / "nmi-desk.db"
    _load_v1(db)
    engine = open_engine(f"sqlite:///{db}")
    try:
        assert current_version(engine) == LATEST
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT uuid, revision, client_name, notes FROM visit ORDER BY id"
            ).all()
            topics = conn.exec_driver_sql("SELECT count(*) FROM visit_topic").scalar_one()
            referral = conn.exec_driver_sql("SELECT organisation_code, reason FROM referral").one()
            indexes = {
                r[0]
                for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
            }
    finally:
        engine.dispose()
    # Revision 2 in the file; linking it to its client (migration 150) adds one, so it syncs.
    assert rows[0][1:] == (3, "Ayşe Yılmaz-Testpersoon", "Synthetische testnotitie")
    assert len(rows) == 2
    assert topics == 3
    assert tuple(referral) == ("svb", "AOW naar Turkije")
    assert "ix_visit_stats" in indexes  # version 2 was applied
    # The backup taken before the upgrade is gone once the upgraded file checked out: it would
    # keep every personal field past retention, unencrypted.
    assert not (tmp_path / "nmi-desk.db.v1.bak").exists()
    # The visit synced before the retention columns existed is due by its date, not never.
    conn = sqlite3.connect(db)
    stamps = conn.execute("SELECT synced_revision, synced_at FROM visit ORDER BY id").fetchall()
    conn.close()
    assert stamps == [(2, "2026-10-28 09:15:00"), (0, None)]


def test_a_migration_that_loses_rows_keeps_its_backup(tmp_path, monkeypatch):
    from nmi_desk.store import migrations

    db = tmp_path / "nmi-desk.db"
    _load_v1(db)
    monkeypatch.setattr(
        migrations,
        "MIGRATIONS",
        [*migrations.MIGRATIONS, migrations.Migration(128, "a lossy step", _delete_one_visit)],
    )
    open_engine(f"sqlite:///{db}").dispose()
    backup = tmp_path / "nmi-desk.db.v1.bak"
    assert backup.exists()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == 1
    assert old.execute("SELECT count(*) FROM visit").fetchone()[0] == 2
    old.close()


def _delete_one_visit(conn) -> None:
    conn.exec_driver_sql("DELETE FROM visit_topic WHERE visit_id = 2")
    conn.exec_driver_sql("DELETE FROM visit WHERE id = 2")


def test_migrating_twice_changes_nothing(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert migrate(engine) == (LATEST, LATEST)
        with engine.connect() as conn:
            applied = conn.exec_driver_sql("SELECT count(*) FROM schema_migrations").scalar_one()
        assert applied == len(MIGRATIONS)
    finally:
        engine.dispose()
    assert not (tmp_path / f"a.db.v{LATEST}.bak").exists()  # no upgrade, no backup


def test_migrated_schema_matches_the_models(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        migrated = _columns(engine)
    finally:
        engine.dispose()
    declared = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert migrated == declared


def test_postgresql_gets_the_same_schema(pg_url):
    engine = open_engine(pg_url)
    try:
        assert current_version(engine) == LATEST
        migrated = _columns(engine)
        assert migrate(engine) == (LATEST, LATEST)
    finally:
        engine.dispose()
    declared = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert migrated == declared


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    from nmi_desk.core.errors import UserError

    bad = tmp_path / "nmi-desk.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="is damaged .1800 bytes, shorter than one encrypted page"):
        open_engine(f"sqlite:///{bad}")
    assert bad.read_bytes() == b"this is not sqlite" * 100
