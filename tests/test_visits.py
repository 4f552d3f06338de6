"""The visit model through the domain functions: sync columns, revisions, tombstones,
validation, odd characters, and the files on disk."""

from __future__ import annotations

import os
import stat
import sys
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from nmi_desk.core.clock import AMS
from nmi_desk.core.validation import ValidationError
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import InfoSessionInput, ReferralInput, VisitInput
from nmi_desk.domain.referrals import close_referral, open_follow_ups
from nmi_desk.domain.sessions import create_info_session
from nmi_desk.domain.stats.today import day_counts, day_rows
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit
from nmi_desk.store.connect import connect_sqlite
from nmi_desk.store.models import InfoSession, Referral, Visit, VisitTopic

NAMES = ["Şükrü Gümüşdağ", "İsmail Işık", "فاطمة الزهراء", "Zoë Ångström-Niño", 'O\'Brien "Test"']


def _walk_in(**over) -> VisitInput:
    values = dict(
        location_code="eindhoven-stadskantoor",
        client_name="Ayşe Testpersoon",
        birth_year=1961,
        origin_country="TR",
        destination_country="TR",
        language="tr",
        partner_coremigrating=True,
        children_coremigrating=1,
        came_via="gemeente-sociaal-loket",
        outcome="referred",
        notes="Synthetische notitie",
        topics=["aow", "zorg"],
        referrals=[ReferralInput("svb", reason="AOW meenemen")],
    )
    values.update(over)
    return VisitInput(**values)


def test_a_new_visit_carries_sync_columns_topics_and_referral(desk):
    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _walk_in())
    with Session(engine) as s:
        visit = s.exec(select(Visit).where(Visit.uuid == uuid)).one()
        topics = s.exec(select(VisitTopic.topic_code).where(VisitTopic.visit_id == visit.id)).all()
        referral = s.exec(select(Referral).where(Referral.visit_id == visit.id)).one()
    assert len(uuid) == 36
    assert (visit.revision, visit.deleted, visit.synced_revision) == (1, False, 0)
    assert visit.device_id == desk.settings.device_id
    assert visit.consultant == "TS"
    assert visit.started_at == desk.now().astimezone(UTC).replace(tzinfo=None)
    assert (visit.local_date, visit.local_hour) == ("2026-03-10", 10)
    assert sorted(topics) == ["aow", "zorg"]
    assert referral.organisation_code == "svb"
    assert referral.follow_up_on == date(2026, 3, 24)  # default: 14 days on
    assert referral.status == "open"
    assert len(referral.uuid) == 36 and referral.uuid != uuid


def test_edit_raises_revision_and_delete_is_a_tombstone(desk, clock):
    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _walk_in())
    view = load_visit(Context.of(engine, desk.actor, desk.now()), uuid)
    view.input.topics = ["aow", "belastingen"]
    view.input.notes = "Aangepast"
    clock.advance(minutes=5)
    assert update_visit(Context.of(engine, desk.actor, desk.now()), uuid, view.input) == 2
    again = load_visit(Context.of(engine, desk.actor, desk.now()), uuid)
    assert again.input.topics == ["aow", "belastingen"]
    assert again.input.notes == "Aangepast"
    assert again.input.referrals[0].uuid == view.input.referrals[0].uuid  # same referral kept
    clock.advance(minutes=5)
    assert delete_visit(Context.of(engine, desk.actor, desk.now()), uuid) == 3
    with Session(engine) as s:
        row = s.exec(select(Visit).where(Visit.uuid == uuid)).one()
        referral = s.exec(select(Referral).where(Referral.visit_id == row.id)).one()
    assert row.deleted and referral.deleted  # still there, marked: it syncs as deleted
    assert row.updated_at == desk.now().astimezone(UTC).replace(tzinfo=None)
    conn = connect_sqlite(desk.paths.database)
    try:
        assert day_rows(conn, "eindhoven-stadskantoor", date(2026, 3, 10)) == []
    finally:
        conn.close()


def test_dropping_a_referral_in_an_edit_tombstones_it(desk):
    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _walk_in())
    view = load_visit(Context.of(engine, desk.actor, desk.now()), uuid)
    view.input.referrals = [ReferralInput("uwv", reason="WW")]
    update_visit(Context.of(engine, desk.actor, desk.now()), uuid, view.input)
    with Session(engine) as s:
        rows = s.exec(select(Referral).order_by(Referral.id)).all()
    assert [(r.organisation_code, r.deleted, r.revision) for r in rows] == [
        ("svb", True, 2),
        ("uwv", False, 1),
    ]


@pytest.mark.parametrize(
    ("over", "field", "key"),
    [
        ({"birth_year": 1850}, "birth_year", "error.birth_year_range"),
        ({"birth_year": 2999}, "birth_year", "error.birth_year_range"),
        ({"children_coremigrating": 21}, "children_coremigrating", "error.children_range"),
        ({"location_code": "utrecht"}, "location_code", "error.unknown_code"),
        ({"origin_country": "XX"}, "origin_country", "error.unknown_code"),
        ({"topics": ["astrologie"]}, "topics", "error.unknown_code"),
        ({"referrals": [ReferralInput("nasa")]}, "referrals", "error.unknown_code"),
    ],
)
def test_invalid_input_is_refused_with_a_field_and_message_key(desk, over, field, key):
    with pytest.raises(ValidationError) as info:
        create_visit(desk.context(), _walk_in(**over))
    assert (info.value.errors[0].field, info.value.errors[0].key) == (field, key)
    with Session(desk.engine()) as s:
        assert s.exec(select(Visit)).all() == []  # nothing half-written


def test_count_only_visit_stores_nothing_personal(desk):
    engine = desk.engine()
    inp = VisitInput(location_code="eindhoven-stadskantoor", count_only=True, topics=["aow"])
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), inp)
    with Session(engine) as s:
        v = s.exec(select(Visit).where(Visit.uuid == uuid)).one()
    assert v.count_only
    assert all(
        getattr(v, f) is None for f in ("client_name", "birth_year", "notes", "origin_country")
    )
    with pytest.raises(ValidationError):
        create_visit(Context.of(engine, desk.actor, desk.now()), _walk_in(count_only=True))


@pytest.mark.parametrize("name", NAMES)
def test_names_in_any_script_round_trip(desk, name):
    engine = desk.engine()
    uuid = create_visit(
        Context.of(engine, desk.actor, desk.now()), _walk_in(client_name=f"  {name}\x00 ")
    )
    assert load_visit(Context.of(engine, desk.actor, desk.now()), uuid).input.client_name == name
    conn = connect_sqlite(desk.paths.database)
    try:
        assert day_rows(conn, "eindhoven-stadskantoor", date(2026, 3, 10))[0].client_name == name
    finally:
        conn.close()


def test_today_list_and_counts_come_from_amsterdam_days(desk, clock):
    engine = desk.engine()
    late = datetime(2026, 3, 9, 23, 59, tzinfo=AMS)  # yesterday, 22:59 UTC
    early = datetime(2026, 3, 10, 0, 1, tzinfo=AMS)  # today, 23:01 UTC the day before
    create_visit(
        Context.of(engine, desk.actor, desk.now()), _walk_in(started_at=late, referrals=[])
    )
    create_visit(Context.of(engine, desk.actor, desk.now()), _walk_in(started_at=early))
    create_visit(
        Context.of(engine, desk.actor, desk.now()),
        VisitInput(location_code="eindhoven-stadskantoor", count_only=True, topics=["wmo"]),
    )
    conn = connect_sqlite(desk.paths.database)
    try:
        rows = day_rows(conn, "eindhoven-stadskantoor", date(2026, 3, 10))
        counts = day_counts(conn, "eindhoven-stadskantoor", date(2026, 3, 10))
        other = day_rows(conn, "rotterdam", date(2026, 3, 10))
    finally:
        conn.close()
    assert [r.time for r in rows] == ["10:30", "00:01"]  # newest first, local time
    assert rows[0].count_only and rows[0].topics == ("wmo",)
    assert rows[1].referrals == ("svb",)
    # 3 visits, 1 referral and the 2 client records the named visits made: every kind sync
    # moves is counted (sync/tables.py COUNTED_TABLES)
    assert (counts.visits, counts.follow_ups_due, counts.unsynced) == (2, 0, 6)
    assert other == []


def test_follow_ups_overdue_first_and_closing_one(desk, clock):
    engine = desk.engine()
    create_visit(
        Context.of(engine, desk.actor, desk.now()),
        _walk_in(referrals=[ReferralInput("ind", follow_up_on=date(2026, 3, 20))]),
    )
    create_visit(
        Context.of(engine, desk.actor, desk.now()),
        _walk_in(referrals=[ReferralInput("cak", follow_up_on=date(2026, 3, 1))]),
    )
    items = open_follow_ups(Context.of(engine, None, date(2026, 3, 10)))
    assert [(f.organisation_code, f.overdue) for f in items] == [("cak", True), ("ind", False)]
    assert (
        close_referral(engine, items[0].uuid, "done", "Aanvraag ingediend", desk.actor, desk.now())
        == 2
    )
    assert [
        f.organisation_code for f in open_follow_ups(Context.of(engine, None, date(2026, 3, 10)))
    ] == ["ind"]


def test_info_session_is_stored_with_its_topics(desk):
    engine = desk.engine()
    uuid = create_info_session(
        Context.of(engine, desk.actor, desk.now()),
        InfoSessionInput(
            held_on=date(2026, 3, 12),
            attendees=42,
            location_code="rotterdam",
            partner_code="sociaal-attache-tr",
            topics=["aow", "buitenlands-pensioen"],
        ),
    )
    with Session(engine) as s:
        row = s.exec(select(InfoSession).where(InfoSession.uuid == uuid)).one()
    assert (row.attendees, row.partner_code, row.revision) == (42, "sociaal-attache-tr", 1)
    with pytest.raises(ValidationError):
        create_info_session(
            Context.of(engine, desk.actor, desk.now()),
            InfoSessionInput(held_on=date(2026, 3, 12), attendees=-1),
        )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_data_dir_database_and_wal_are_owner_only(desk):
    create_visit(desk.context(), _walk_in())
    home = desk.paths.home
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for path in (
        desk.paths.database,
        desk.paths.config,
        desk.paths.database.with_name("nmi-desk.db-wal"),
    ):
        assert path.exists(), path
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_database_the_office_names_leaves_its_folder_as_it_was(desk, tmp_path):
    """A central SQLite file in a shared folder (or in /tmp): the sync once made that folder
    owner-only for everyone. (The desk's own folder is made private: the test above.)"""
    from nmi_desk.sync import run_sync
    from nmi_desk.sync.target import resolve_target

    create_visit(desk.context(), _walk_in())
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    target = resolve_target(f"sqlite:///{shared / 'central.db'}", "")
    run_sync(desk.engine(), target, desk.now, pull=False)
    assert (shared / "central.db").exists()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755


def test_wal_foreign_keys_and_busy_timeout_are_on(desk):
    conn = connect_sqlite(desk.paths.database)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    finally:
        conn.close()
