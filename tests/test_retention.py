"""Retention: personal fields of visits synced more than N days ago are purged locally; the
statistics stay the same; `purge --dry-run` only tells; unsynced or recently synced data stays."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from nmi_desk import audit, retention
from nmi_desk.stats import compute_stats
from nmi_desk.validation import ValidationError
from nmi_desk.visits import ReferralInput, VisitInput, create_visit, load_visit, update_visit

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
    old = create_visit(engine, _visit(), desk.actor, desk.now())
    pending = create_visit(engine, _visit(name="Pending Testpersoon"), desk.actor, desk.now())
    count_only = create_visit(
        engine,
        VisitInput(location_code="eindhoven-stadskantoor", count_only=True, topics=["aow"]),
        desk.actor,
        desk.now(),
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
    report = retention.purge(engine, desk.now(), 30, desk.actor)
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
        update_visit(engine, old, _visit(name=None), desk.actor, desk.now())
    assert load_visit(engine, old, desk.actor, desk.now()).input.client_name is None


def test_recently_synced_or_edited_after_sync_is_kept(desk, clock):
    engine = desk.engine()
    recent = create_visit(engine, _visit(), desk.actor, desk.now())
    edited = create_visit(engine, _visit(name="Edited Testpersoon"), desk.actor, desk.now())
    _mark_synced(engine, [recent, edited])
    update_visit(engine, edited, _visit(name="Edited Testpersoon"), desk.actor, desk.now())
    clock.moment = datetime.now(UTC) + timedelta(days=29)
    assert retention.purge(engine, desk.now(), 30, desk.actor).visits == 0
    clock.moment = datetime.now(UTC) + timedelta(days=31)
    report = retention.purge(engine, desk.now(), 30, desk.actor)
    assert report.visits == 1  # the edit after sync is not on the central side yet
    assert _row(engine, edited)[0] == "Edited Testpersoon"
    state = retention.state(engine, desk.now(), 30)
    # The edit never reached the central side: older than the period and still unsynced.
    assert (state.due, state.purged, state.unsynced_personal_older) == (0, 1, 1)


def test_dry_run_changes_nothing(desk, synced_and_pending):
    engine, old, _ = synced_and_pending
    report = retention.purge(engine, desk.now(), 30, desk.actor, dry_run=True)
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
