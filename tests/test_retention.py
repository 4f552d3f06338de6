"""Retention: personal fields of visits synced more than N days ago are purged locally; the
statistics stay the same; `purge --dry-run` only tells; unsynced or recently synced data stays."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from nmi_desk.core.validation import ValidationError
from nmi_desk.domain import audit, retention
from nmi_desk.domain.context import Context
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.stats.compute import compute_stats
from nmi_desk.domain.visits import create_visit, load_visit, update_visit

NAME = "Quirinus Ballemans-Testpersoon"
NOTE = "Synthetische notitie: schulden bij 4 instanties"


def _visit(name=NAME, **over) -> VisitInput:
    values = dict(
        location_code="eindhoven-stadskantoor",
        client_name=name,
        birth_year=1955,
        origin_country="TR",
        destination_country="TR",
        language="tr",
        partner_coremigrating=True,
        children_coremigrating=2,
        outcome="referred",
        came_via="gemeente-sociaal-loket",
        notes=NOTE,
        topics=["aow", "schulden"],
        referrals=[ReferralInput("svb", reason="AOW naar Turkije", note="belt terug")],
    )
    values.update(over)
    return VisitInput(**values)


def _mark_synced(engine, uuids):
    """What the sync does once the central side committed: synced_revision = revision."""
    with engine.begin() as conn:
        for uuid in uuids:
            conn.execute(
                text("UPDATE visit SET synced_revision = revision WHERE uuid = :u"), {"u": uuid}
            )
            conn.execute(
                text(
                    "UPDATE referral SET synced_revision = revision "
                    "WHERE visit_id = (SELECT id FROM visit WHERE uuid = :u)"
                ),
                {"u": uuid},
            )
            conn.execute(  # the visit's client record travels in the same sync
                text(
                    "UPDATE client SET synced_revision = revision "
                    "WHERE uuid = (SELECT client_uuid FROM visit WHERE uuid = :u)"
                ),
                {"u": uuid},
            )


def _row(engine, uuid):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT client_name, birth_year, notes, language, origin_country, outcome, "
                "purged_at, (SELECT reason || note FROM referral r WHERE r.visit_id = v.id) "
                "FROM visit v WHERE uuid = :u"
            ),
            {"u": uuid},
        ).one()


@pytest.fixture
def synced_and_pending(desk, clock):
    engine = desk.engine()
    old = create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    pending = create_visit(
        Context.of(engine, desk.actor, desk.now()), _visit(name="Pending Testpersoon")
    )
    count_only = create_visit(
        Context.of(engine, desk.actor, desk.now()),
        VisitInput(location_code="eindhoven-stadskantoor", count_only=True, topics=["aow"]),
    )
    _mark_synced(engine, [old, count_only])  # synced "now" (the trigger stamps synced_at)
    # The consultant's clock moves on past the retention period.
    clock.moment = datetime.now(UTC) + timedelta(days=31)
    return engine, old, pending


def test_purge_removes_personal_fields_of_synced_visits_and_keeps_statistics(
    desk, synced_and_pending
):
    engine, old, pending = synced_and_pending
    before = compute_stats(engine, date(2026, 3, 1), date(2026, 3, 31))
    report = retention.purge(Context.of(engine, desk.actor, desk.now()), 30)
    assert (report.visits, report.done) == (1, True)  # the count-only visit had nothing to purge
    assert report.fields["client_name"] == 1 and report.fields["referral.reason"] == 1
    purged = _row(engine, old)
    assert purged[:4] == (None, None, None, None)  # name, birth year, notes, language
    assert purged[4:6] == ("TR", "referred")  # statistics dimensions stay
    assert purged[6] is not None and purged[7] is None  # referral free text gone too
    assert _row(engine, pending)[0] == "Pending Testpersoon"  # not synced: kept
    assert compute_stats(engine, date(2026, 3, 1), date(2026, 3, 31)) == before
    assert [e.action for e in audit.events(engine, old)][-1] == "purge"
    # A purged visit cannot be saved again: that would blank the central copy.
    with pytest.raises(ValidationError):
        update_visit(Context.of(engine, desk.actor, desk.now()), old, _visit(name=None))
    assert load_visit(Context.of(engine, desk.actor, desk.now()), old).input.client_name is None


def test_recently_synced_or_edited_after_sync_is_kept(desk, clock):
    engine = desk.engine()
    recent = create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    edited = create_visit(
        Context.of(engine, desk.actor, desk.now()), _visit(name="Edited Testpersoon")
    )
    _mark_synced(engine, [recent, edited])
    update_visit(
        Context.of(engine, desk.actor, desk.now()), edited, _visit(name="Edited Testpersoon")
    )
    clock.moment = datetime.now(UTC) + timedelta(days=29)
    assert retention.purge(Context.of(engine, desk.actor, desk.now()), 30).visits == 0
    clock.moment = datetime.now(UTC) + timedelta(days=31)
    report = retention.purge(Context.of(engine, desk.actor, desk.now()), 30)
    assert report.visits == 1  # the edit after sync is not on the central side yet
    assert _row(engine, edited)[0] == "Edited Testpersoon"
    state = retention.state(engine, desk.now(), 30)
    # The edit never reached the central side: older than the period and still unsynced.
    assert (state.due, state.purged, state.unsynced_personal_older) == (0, 1, 1)


def test_dry_run_changes_nothing(desk, synced_and_pending):
    engine, old, _ = synced_and_pending
    report = retention.purge(Context.of(engine, desk.actor, desk.now()), 30, dry_run=True)
    assert (report.visits, report.done) == (1, False)
    assert report.days == ["2026-03-10"]
    assert _row(engine, old)[0] == NAME
    assert "purge" not in [e.action for e in audit.events(engine, old)]


def test_purge_command_dry_run_then_purge(desk, synced_and_pending, isolated_home):
    # The CLI runs on the real clock: let the central side have committed them 40 days ago.
    with desk.engine().begin() as conn:
        conn.execute(
            text(
                "UPDATE visit SET synced_at = datetime('now', '-40 days') "
                "WHERE synced_at IS NOT NULL"
            )
        )
    desk.close()

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "nmi_desk", "--data-dir", str(isolated_home), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    dry = run("purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would purge the personal fields of 1 visit" in dry.stdout
    assert "(30 days)" in dry.stdout and "client_name: 1" in dry.stdout
    assert NAME not in dry.stdout
    assert _row(desk.engine(), synced_and_pending[1])[0] == NAME
    desk.close()
    done = run("purge")
    assert done.returncode == 0, done.stderr
    assert "purged the personal fields of 1 visit" in done.stdout
    assert _row(desk.engine(), synced_and_pending[1])[0] is None


def _raw_bytes(folder) -> bytes:
    """Every file in the data dir, as the bytes on disk (a stolen laptop's view)."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_after_purge_no_copy_in_the_data_folder_holds_a_purged_name_or_note(
    desk, clock, isolated_home
):
    """Database (after purge's secure delete and checkpoint), WAL, migration backups, an
    interrupted re-key, conflict logs, quarantine, drafts and visits synced before the
    retention columns existed: none keeps a purged visit's name or note."""
    import json as _json
    import shutil

    from nmi_desk.domain.drafts import save_draft

    engine = desk.engine()
    names = ["Oswinda Pruimboom-Testpersoon", "Lodewijk Zwartkop-Testpersoon"]
    notes = ["Notitie-XYZZY schuld bij energie", "Notitie-PLUGH belt dinsdag"]
    uuids = [
        create_visit(Context.of(engine, desk.actor, desk.now()), _visit(name=n, notes=t))
        for n, t in zip(names, notes, strict=True)
    ]
    _mark_synced(engine, uuids)
    with engine.begin() as conn:
        # The second was synced before migration 71 (no synced_at): migration 120 must see it.
        conn.execute(text("UPDATE visit SET synced_at = NULL WHERE uuid = :u"), {"u": uuids[1]})
        conn.execute(text("DELETE FROM schema_migrations WHERE version = 120"))
        # A conflict loser with the first visit's older text, logged by a sync.
        payload = _json.dumps(
            {
                "uuid": uuids[0],
                "client_name": names[0] + " (oud)",
                "notes": notes[0] + " oud",
                "outcome": "referred",
            }
        )
        conn.execute(
            text(
                "INSERT INTO sync_conflict (table_name, record_uuid, winner_revision, "
                "loser_revision, loser_device, loser_payload, logged_at) "
                "VALUES ('visit', :u, 2, 1, 'other-laptop', :p, :t)"
            ),
            {"u": uuids[0], "p": payload, "t": "2026-03-10 10:00:00.000000"},
        )
        conn.execute(
            text(
                "INSERT INTO sync_quarantine (table_name, record_uuid, revision, reason, logged_at) "
                "VALUES ('visit', :u, 1, :r, '2026-03-10 10:00:00.000000')"
            ),
            {"u": uuids[1], "r": f"refused: {names[1]}"},
        )
    save_draft(
        Context.of(engine, None, desk.now()),
        f"visit:{uuids[0]}",
        {"client_name": names[0], "notes": notes[0]},
    )
    desk.close()
    db = desk.database_path
    # Whole older copies beside the database, as an upgrade and a failed re-key leave them.
    shutil.copy(db, db.with_name(f"{db.name}.v70.bak"))
    shutil.copy(db, db.with_name(f"{db.name}.rekey-tmp"))
    assert all(n.encode() in _raw_bytes(isolated_home) for n in names)

    # The central side committed them 40 days ago; purge runs as a consultant would run it.
    again = Desk.open(isolated_home, clock=clock)
    with again.engine().begin() as conn:  # opening applies 120 again: synced_at from updated_at
        stamped = conn.execute(
            text("SELECT synced_at IS NOT NULL FROM visit WHERE uuid = :u"), {"u": uuids[1]}
        ).scalar_one()
        conn.execute(text("UPDATE visit SET synced_at = datetime('now', '-40 days')"))
    assert stamped
    again.close()
    done = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "--data-dir", str(isolated_home), "purge"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "purged the personal fields of 2 visits" in done.stdout
    assert "conflict log entries: 1" in done.stdout
    assert "quarantine entries: 1" in done.stdout and "drafts: 1" in done.stdout
    assert "older copies of the database: nmi-desk.db.rekey-tmp, nmi-desk.db.v70.bak" in done.stdout
    blob = _raw_bytes(isolated_home)
    for secret in [*names, *notes, "Notitie-XYZZY", "Pruimboom", "Zwartkop"]:
        assert secret.encode() not in blob, secret
    # What the statistics and the audit need stays.
    check = Desk.open(isolated_home, clock=clock)
    with check.engine().connect() as conn:
        kept = conn.execute(text("SELECT loser_payload FROM sync_conflict")).scalar_one()
    check.close()
    assert _json.loads(kept)["outcome"] == "referred" and _json.loads(kept)["client_name"] is None
