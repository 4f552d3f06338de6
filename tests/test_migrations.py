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
from nmi_desk.store.migrations import (
    LAPTOP_ONLY_INDEXES,
    LATEST,
    MIGRATIONS,
    current_version,
    migrate,
)

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
        [
            *migrations.MIGRATIONS,
            migrations.Migration(LATEST + 1, "a lossy step", _delete_one_visit),
        ],
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


def _on_new_laptop(tmp_path, read):
    """`read` of a laptop database made from nothing by the migrations."""
    engine = open_engine(f"sqlite:///{tmp_path / 'laptop.db'}")
    try:
        return read(engine)
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(tmp_path):
    migrated = _on_new_laptop(tmp_path, _columns)
    declared = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert migrated == declared


def _index_names(engine) -> set[str]:
    sql = (
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index'"
    )
    with engine.connect() as conn:
        return set(conn.exec_driver_sql(sql).scalars())


def test_postgresql_gets_the_same_schema(pg_url):
    engine = open_engine(pg_url)
    try:
        assert current_version(engine) == LATEST
        migrated = _columns(engine)
        assert migrate(engine) == (LATEST, LATEST)
        indexes = _index_names(engine)
    finally:
        engine.dispose()
    declared = {t.name: {c.name for c in t.columns} for t in SQLModel.metadata.sorted_tables}
    assert migrated == declared
    # What only the laptop reads is not kept centrally (every push would write it).
    assert {"ix_visit_uuid", "ix_visit_client", "ix_visit_change_tx"} <= indexes
    assert indexes.isdisjoint(LAPTOP_ONLY_INDEXES)


def test_the_laptop_keeps_its_own_indexes(tmp_path):
    assert set(LAPTOP_ONLY_INDEXES) <= _on_new_laptop(tmp_path, _index_names)


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    from nmi_desk.core.errors import UserError

    bad = tmp_path / "nmi-desk.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="is damaged .1800 bytes, shorter than one encrypted page"):
        open_engine(f"sqlite:///{bad}")
    assert bad.read_bytes() == b"this is not sqlite" * 100


# ---- one sequence: the same steps in the same order on every laptop ----

RELEASED_SCHEMAS = sorted((Path(__file__).parent / "fixtures" / "released_schemas").glob("v*.sql"))


def sequence_problems(declared: tuple[int, ...], released: tuple[int, ...]) -> list[str]:
    """What is wrong with a list of step numbers: out of order, a released step changed, or a
    new step numbered below a released one (it would run at another point on an upgraded
    laptop than on a new one)."""
    problems = []
    if any(b <= a for a, b in zip(declared, declared[1:], strict=False)):
        problems.append(f"not strictly increasing: {declared}")
    if declared[: len(released)] != released:
        problems.append("the released steps are not the first steps, unchanged")
    newer = [v for v in declared if v not in released]
    if released and any(v <= max(released) for v in newer):
        problems.append(f"new steps must be above {max(released)}: {newer}")
    return problems


def test_the_steps_are_one_increasing_sequence_above_the_released_ones():
    from nmi_desk.store.migrations import DECLARED, RELEASED_VERSIONS

    assert sequence_problems(DECLARED, RELEASED_VERSIONS) == []
    assert LATEST == DECLARED[-1]


def test_a_step_numbered_into_a_gap_or_appended_out_of_order_is_caught():
    released = (1, 2, 50, 170)
    assert sequence_problems((1, 2, 50, 170, 171), released) == []
    assert sequence_problems((1, 2, 50, 72, 170), released)  # into a gap
    assert sequence_problems((1, 2, 50, 170, 72), released)  # appended, lower
    assert sequence_problems((1, 2, 51, 170), released)  # a released step renumbered


def test_the_applied_steps_are_compared_with_the_declared_ones():
    from nmi_desk.store.migrations import DECLARED, check_applied

    assert check_applied(set(DECLARED)).ok
    gap = check_applied(set(DECLARED) - {DECLARED[3]})
    assert gap.missing == (DECLARED[3],) and not gap.ok
    newer = check_applied({*DECLARED, LATEST + 1})
    assert newer.unknown == (LATEST + 1,) and not newer.ok


def test_a_database_made_by_a_newer_version_is_refused_in_one_line(tmp_path):
    from nmi_desk.core.errors import UserError

    db = tmp_path / "nmi-desk.db"
    open_engine(f"sqlite:///{db}").dispose()
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
        (LATEST + 1,),
    )
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match=f"newer nmi-desk .*step {LATEST + 1}"):
        open_engine(f"sqlite:///{db}")


def _schema(path: Path) -> dict[str, object]:
    """Tables (column name, type, not null, default, primary key; in any order, since an added
    column lands last), indexes and triggers by name with their SQL."""
    conn = sqlite3.connect(path)
    try:
        out: dict[str, object] = {}
        for kind, name, sql in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ):
            if kind == "table":
                cols = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
                out[f"table {name}"] = sorted((c[1], c[2], c[3], c[4], c[5]) for c in cols)
            else:
                out[f"{kind} {name}"] = " ".join((sql or "").split())
        return out
    finally:
        conn.close()


def test_every_released_schema_is_kept_as_a_fixture():
    assert len(RELEASED_SCHEMAS) >= 10
    from nmi_desk.store.migrations import RELEASED_VERSIONS

    newest = max(int(p.name[1:].split("-")[0]) for p in RELEASED_SCHEMAS)
    assert newest == max(RELEASED_VERSIONS)


@pytest.mark.parametrize("fixture", RELEASED_SCHEMAS, ids=lambda p: p.stem)
def test_a_database_of_every_released_version_migrates_to_the_schema_of_a_new_one(
    tmp_path, fixture
):
    new = tmp_path / "new.db"
    open_engine(f"sqlite:///{new}").dispose()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(fixture.read_text(encoding="utf-8"))
    conn.close()
    engine = open_engine(f"sqlite:///{old}")
    try:
        assert current_version(engine) == LATEST
    finally:
        engine.dispose()
    mine, theirs = _schema(old), _schema(new)
    assert sorted(mine) == sorted(theirs)
    assert {k: v for k, v in mine.items() if theirs[k] != v} == {}
