"""Sync semantics against a real central database: PostgreSQL (pg_url) and a SQLite file.

Every test builds laptops as a consultant has them (a data dir, a device id, visits written
through the domain functions or the demo generator) and looks at what the central side holds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from nmi_desk.domain.context import Context
from nmi_desk.domain.demo import generate
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit
from nmi_desk.store.connect import connect_sqlite
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import read_status, resolve_target
from nmi_desk.sync.publish import publish_guidance, read_library

GUIDANCE = Path(__file__).resolve().parents[1] / "data" / "guidance"


@pytest.fixture(params=["postgresql", "sqlite"])
def central_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    (tmp_path / "central").mkdir()
    return f"sqlite:///{tmp_path / 'central' / 'central.db'}"


def make_desk(root: Path, clock, device_id: str) -> Desk:
    desk = Desk.open(root, clock=clock)
    desk.settings.consultant = "TS"
    desk.settings.location = "eindhoven-stadskantoor"
    desk.settings.device_id = device_id
    desk.save_settings()
    return desk


def sync(desk: Desk, url: str, **kw):
    return desk.sync(resolve_target(url, ""), **kw)


def walk_in(**over) -> VisitInput:
    values = dict(
        location_code="eindhoven-stadskantoor",
        client_name="Ayşe Testpersoon",
        origin_country="TR",
        outcome="referred",
        topics=["aow", "zorg"],
        referrals=[ReferralInput("svb", reason="AOW meenemen")],
    )
    values.update(over)
    return VisitInput(**values)


def edit(desk: Desk, uuid: str, notes: str, topics: list[str] | None = None) -> int:
    """What the visit form does: load, change the notes (and topics), save."""
    inp = load_visit(desk.context(), uuid).input
    inp.notes = notes
    if topics is not None:
        inp.topics = topics
    return update_visit(desk.context(), uuid, inp)


def snapshot(engine) -> dict:
    """What a database holds of the synced tables, keyed by UUID (comparable across databases)."""
    with engine.connect() as c:
        return {
            "visits": {
                u: (rev, bool(d), notes)
                for u, rev, d, notes in c.execute(
                    text("SELECT uuid, revision, deleted, notes FROM visit")
                )
            },
            "visit_rows": c.execute(text("SELECT count(*) FROM visit")).scalar_one(),
            "topics": set(
                c.execute(
                    text(
                        "SELECT v.uuid, t.topic_code FROM visit_topic t"
                        " JOIN visit v ON v.id = t.visit_id"
                    )
                ).all()
            ),
            "referrals": {
                u: (vu, rev, bool(d), status)
                for u, vu, rev, d, status in c.execute(
                    text(
                        "SELECT r.uuid, v.uuid, r.revision, r.deleted, r.status FROM referral r"
                        " JOIN visit v ON v.id = r.visit_id"
                    )
                )
            },
            "referral_rows": c.execute(text("SELECT count(*) FROM referral")).scalar_one(),
        }


def central_snapshot(url: str) -> dict:
    engine = open_engine(url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def assert_central_equals_local(central: dict, local: dict) -> None:
    assert central["visit_rows"] == len(central["visits"]) == len(local["visits"])
    assert central["visits"] == local["visits"]
    assert central["topics"] == local["topics"]
    assert central["referral_rows"] == len(central["referrals"])
    assert central["referrals"] == local["referrals"]


def central_rows(url: str, sql: str) -> list:
    engine = open_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text(sql)).all()
    finally:
        engine.dispose()


def test_first_push_brings_every_visit_with_topics_and_referrals_once(desk, central_url):
    generate(desk.engine(), 1200, 30, 7, desk.settings.device_id, desk.now())
    report = sync(desk, central_url, batch_size=500)
    assert report.pushed["visit"] == 1200
    local = snapshot(desk.engine())
    assert_central_equals_local(central_snapshot(central_url), local)
    assert read_status(desk.engine()).pending == 0

    again = sync(desk, central_url)  # nothing pending: nothing sent, nothing doubled
    assert sum(again.pushed.values()) == 0
    assert_central_equals_local(central_snapshot(central_url), local)


def test_edit_and_delete_after_sync_reach_the_central_side(desk, clock, central_url):
    engine = desk.engine()
    kept = create_visit(Context.of(engine, desk.actor, desk.now()), walk_in())
    dropped = create_visit(Context.of(engine, desk.actor, desk.now()), walk_in(topics=["verblijf"]))
    sync(desk, central_url)
    clock.advance(minutes=5)
    update_visit(
        Context.of(engine, desk.actor, desk.now()),
        kept,
        walk_in(notes="Tweede gesprek", topics=["aow", "pensioen"], referrals=[]),
    )
    delete_visit(Context.of(engine, desk.actor, desk.now()), dropped)
    with engine.connect() as c:
        pending = c.execute(
            text(
                "SELECT (SELECT count(*) FROM visit WHERE revision > synced_revision)"
                " + (SELECT count(*) FROM referral WHERE revision > synced_revision)"
            )
        ).scalar_one()
    assert pending == 4  # two visits, two referrals (tombstoned)

    sync(desk, central_url)
    central = central_snapshot(central_url)
    assert central["visits"][kept] == (2, False, "Tweede gesprek")
    assert {t for u, t in central["topics"] if u == kept} == {"aow", "pensioen"}
    assert central["visits"][dropped][1] is True  # the tombstone travelled
    assert all(deleted for _, _, deleted, _ in central["referrals"].values())
    assert_central_equals_local(central, snapshot(engine))
    assert read_status(engine).pending == 0


def _copy_laptop(src: Desk, dst_root: Path, clock, device_id: str) -> Desk:
    """A second laptop holding the same synced records (restored from the first one's backup)."""
    src.close()
    dst = make_desk(dst_root, clock, device_id)
    a = connect_sqlite(src.paths.database)
    b = connect_sqlite(dst.paths.database)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()
    return dst


def test_two_device_conflict_higher_revision_wins_and_the_loser_is_logged(
    tmp_path, clock, central_url
):
    a = make_desk(tmp_path / "a", clock, "device-a")
    uuid = create_visit(a.context(), walk_in())
    sync(a, central_url)
    b = _copy_laptop(a, tmp_path / "b", clock, "device-b")

    clock.advance(minutes=1)
    edit(b, uuid, "B eerst")
    clock.advance(minutes=1)
    edit(b, uuid, "B tweede keer")  # rev 3
    clock.advance(minutes=1)
    edit(a, uuid, "A later, maar rev 2")

    assert sync(b, central_url).conflicts == 0  # a plain edit of what b had synced
    report = sync(a, central_url)  # a's rev 2 meets b's rev 3: a loses, though later
    assert report.conflicts == 1
    assert central_snapshot(central_url)["visits"][uuid] == (3, False, "B tweede keer")
    logged = central_rows(
        central_url,
        "SELECT record_uuid, winner_revision, loser_revision, loser_device, loser_payload"
        " FROM sync_conflict WHERE table_name = 'visit'",
    )
    assert [(r[0], r[1], r[2], r[3]) for r in logged] == [(uuid, 3, 2, "device-a")]
    assert json.loads(logged[0][4])["notes"] == "A later, maar rev 2"
    assert read_status(a.engine()).conflicts >= 1  # the laptop keeps its own copy of the log

    sync(a, central_url)  # re-runs on both laptops log nothing twice
    sync(b, central_url)
    assert len(central_rows(central_url, "SELECT id FROM sync_conflict")) == 1
    a.close()
    b.close()


@pytest.mark.parametrize("winner_pushes_last", [True, False])
def test_equal_revisions_later_update_wins_whoever_pushes_last(
    tmp_path, clock, central_url, winner_pushes_last
):
    a = make_desk(tmp_path / "a", clock, "device-a")
    uuid = create_visit(a.context(), walk_in())
    sync(a, central_url)
    b = _copy_laptop(a, tmp_path / "b", clock, "device-b")
    clock.advance(minutes=1)
    edit(a, uuid, "A om 10:31", ["aow"])
    clock.advance(minutes=1)
    edit(b, uuid, "B om 10:32", ["verblijf"])

    order = [a, b] if winner_pushes_last else [b, a]
    reports = [sync(d, central_url) for d in order]
    central = central_snapshot(central_url)
    assert central["visits"][uuid] == (2, False, "B om 10:32")
    assert {t for u, t in central["topics"] if u == uuid} == {"verblijf"}  # topics follow it
    assert sum(r.conflicts for r in reports) == 1
    logged = central_rows(
        central_url,
        "SELECT loser_device, loser_payload FROM sync_conflict WHERE table_name='visit'",
    )
    assert [(d, json.loads(p)["notes"]) for d, p in logged] == [("device-a", "A om 10:31")]
    a.close()
    b.close()


def test_same_time_same_revision_the_greater_device_id_wins(tmp_path, clock, central_url):
    a = make_desk(tmp_path / "a", clock, "device-a")
    uuid = create_visit(a.context(), walk_in())
    sync(a, central_url)
    b = _copy_laptop(a, tmp_path / "b", clock, "device-b")
    clock.advance(minutes=1)
    edit(b, uuid, "van b")
    edit(a, uuid, "van a")
    sync(b, central_url)
    sync(a, central_url)
    assert central_snapshot(central_url)["visits"][uuid][2] == "van b"
    assert central_rows(central_url, "SELECT loser_device FROM sync_conflict") == [("device-a",)]
    a.close()
    b.close()


def test_a_refused_visit_is_quarantined_and_the_rest_goes_through(desk, clock, pg_url):
    generate(desk.engine(), 40, 5, 3, desk.settings.device_id, desk.now())
    # A value the laptop's SQLite holds but the central column (VARCHAR(2)) refuses.
    with desk.engine().begin() as c:
        bad = c.execute(text("SELECT uuid FROM visit ORDER BY id LIMIT 1 OFFSET 17")).scalar_one()
        c.execute(text("UPDATE visit SET origin_country = 'TRX' WHERE uuid = :u"), {"u": bad})
    report = sync(desk, pg_url, batch_size=16)
    assert report.quarantined == 1 + sum(  # the visit and its referrals: one unit
        1 for r in snapshot(desk.engine())["referrals"].values() if r[0] == bad
    )
    central = central_snapshot(pg_url)
    assert bad not in central["visits"] and len(central["visits"]) == 39
    with desk.engine().connect() as c:
        reasons = c.execute(
            text("SELECT reason FROM sync_quarantine WHERE record_uuid = :u"), {"u": bad}
        ).all()
        pending = c.execute(
            text("SELECT uuid FROM visit WHERE revision > synced_revision")
        ).scalars()
        assert list(pending) == [bad]  # kept, still pending, nothing lost
    assert "too long" in reasons[0][0]

    # Corrected on the laptop, it goes through on the next sync.
    clock.advance(minutes=1)
    with desk.engine().begin() as c:
        c.execute(
            text("UPDATE visit SET origin_country = 'TR', revision = revision + 1 WHERE uuid = :u"),
            {"u": bad},
        )
    assert sync(desk, pg_url).quarantined == 0
    assert_central_equals_local(central_snapshot(pg_url), snapshot(desk.engine()))


def test_pull_brings_an_updated_guidance_article_and_a_new_topic(desk, tmp_path, central_url):
    central = open_engine(central_url)
    try:
        first = publish_guidance(central, read_library(GUIDANCE), desk.now())
        assert first.published and first.unchanged == 0
        sync(desk, central_url)
        with desk.engine().connect() as c:
            count = c.execute(text("SELECT count(*) FROM guidance_article")).scalar_one()
        assert count == len(first.published)

        # The office reviews one article (revision 2) and adds a topic centrally.
        library = tmp_path / "library"
        shutil.copytree(GUIDANCE, library)
        article = library / "aow-buitenland.md"
        body = article.read_text(encoding="utf-8")
        assert "\nrevision = 1\n" in body
        article.write_text(
            body.replace("\nrevision = 1\n", "\nrevision = 2\n") + "\nHerzien door het NMI.\n",
            encoding="utf-8",
        )
        second = publish_guidance(central, read_library(library), desk.now())
        assert second.published == ["aow-buitenland"]
        again = publish_guidance(central, read_library(GUIDANCE), desk.now())  # an old checkout
        assert again.published == []
        with central.begin() as c:
            c.execute(
                text(
                    "INSERT INTO topic (code, label_nl, label_en, revision, parent, synonyms)"
                    " VALUES ('emigratie-huisdieren', 'Huisdieren meenemen', 'Taking pets',"
                    " 1, NULL, 'hond|kat')"
                )
            )
    finally:
        central.dispose()

    report = sync(desk, central_url)
    assert report.pulled == {"topic": 1, "guidance_article": 1}
    with desk.engine().connect() as c:
        rev, content = c.execute(
            text("SELECT revision, content FROM guidance_article WHERE slug = 'aow-buitenland'")
        ).one()
        topic = c.execute(text("SELECT label_nl FROM topic WHERE code = 'emigratie-huisdieren'"))
        assert topic.scalar_one() == "Huisdieren meenemen"
    assert rev == 2 and content.endswith("Herzien door het NMI.\n")
    assert sync(desk, central_url).pulled == {}  # the cursor moved: nothing fetched twice
    # The pulled topic is in use at once: the visit form's validation accepts it, and it
    # still is after a restart (the desk reads its reference rows when it opens).
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.reference.files import shipped_reference

    assert "emigratie-huisdieren" in desk.reference.topic_codes()
    assert "emigratie-huisdieren" not in shipped_reference().topic_codes()
    desk.close()
    desk = Desk(paths=desk.paths, settings=desk.settings, clock=desk.clock)  # a restart
    assert "emigratie-huisdieren" not in desk.reference.topic_codes()  # not open yet
    uuid = create_visit(
        desk.context(),
        VisitInput(location_code="eindhoven-stadskantoor", topics=["emigratie-huisdieren"]),
    )
    assert load_visit(desk.context(), uuid).input.topics == ["emigratie-huisdieren"]
