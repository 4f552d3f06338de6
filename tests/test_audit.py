"""The audit trail: every create, edit, view, close, delete and export leaves a row saying who,
what and when; rows carry sync columns, cannot be changed or deleted, and hold no personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from nmi_desk.domain import audit
from nmi_desk.domain.context import Context
from nmi_desk.domain.inputs import InfoSessionInput, ReferralInput, VisitInput
from nmi_desk.domain.referrals import close_referral, open_follow_ups
from nmi_desk.domain.sessions import create_info_session
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit

NAME = "Xandriel Voskuijlen-Testpersoon"
NOTE = "Synthetische notitie over kwetsbare situatie 7781"


def _visit(**over) -> VisitInput:
    values = dict(
        location_code="eindhoven-stadskantoor",
        client_name=NAME,
        birth_year=1958,
        origin_country="MA",
        notes=NOTE,
        topics=["aow"],
        referrals=[ReferralInput("svb", reason="AOW meenemen naar Marokko")],
    )
    values.update(over)
    return VisitInput(**values)


def test_each_domain_action_is_audited_with_who_what_when(desk, clock):
    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    clock.advance(minutes=5)
    load_visit(Context.of(engine, desk.actor, desk.now()), uuid)
    update_visit(Context.of(engine, desk.actor, desk.now()), uuid, _visit(outcome="referred"))
    referral = open_follow_ups(Context.of(engine, None, date(2026, 3, 10)))[0]
    close_referral(engine, referral.uuid, "done", "Aanvraag ingediend", desk.actor, desk.now())
    session_uuid = create_info_session(
        Context.of(engine, desk.actor, desk.now()),
        InfoSessionInput(held_on=date(2026, 3, 12), attendees=30),
    )
    audit.record_export(engine, desk.actor, desk.now(), date(2026, 3, 1), date(2026, 3, 31), "json")
    clock.advance(minutes=5)
    delete_visit(Context.of(engine, desk.actor, desk.now()), uuid)

    trail = [
        (e.action, e.table_name, e.record_uuid, e.consultant, e.at.strftime("%H:%M"))
        for e in audit.events(engine)
    ]
    with engine.connect() as conn:  # a named visit registers its client (nmi_desk.domain.clients)
        client = conn.execute(
            text("SELECT client_uuid FROM visit WHERE uuid = :u"), {"u": uuid}
        ).scalar_one()
    assert trail == [
        ("create", "client", client, "TS", "09:30"),
        ("create", "visit", uuid, "TS", "09:30"),  # stored in UTC: 10:30 Amsterdam
        ("view", "visit", uuid, "TS", "09:35"),
        ("update", "visit", uuid, "TS", "09:35"),
        ("close", "referral", referral.uuid, "TS", "09:35"),
        ("create", "info_session", session_uuid, "TS", "09:35"),
        ("export", "statistics", None, "TS", "09:35"),
        ("delete", "visit", uuid, "TS", "09:40"),
    ]
    last = audit.events(engine)[-1]
    # Sync columns: the rows travel with the records to the central side.
    assert (last.revision, last.synced_revision, last.device_id) == (1, 0, desk.settings.device_id)
    assert len({e.uuid for e in audit.events(engine)}) == 8


def test_a_view_without_who_is_refused_and_shows_nothing(desk):
    from nmi_desk.core.errors import UserError
    from nmi_desk.domain.context import Actor

    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    with pytest.raises(UserError, match="no consultant"):
        load_visit(Context.of(engine, None, desk.now()), uuid)
    with pytest.raises(ValueError, match="required"):
        load_visit(Context.of(engine, Actor("", "dev-1"), desk.now()), uuid)
    assert [e.action for e in audit.events(engine, uuid)] == ["create"]


def test_a_desk_without_a_consultant_cannot_write_but_can_read(desk, monkeypatch):
    """Never "?" in the audit trail: a desk whose consultant is not set refuses to write."""
    from nmi_desk.core.errors import UserError
    from nmi_desk.domain.clients import search

    uuid = create_visit(desk.context(), _visit())
    desk.settings.consultant = ""
    monkeypatch.delenv("NMI_DESK_CONSULTANT")
    with pytest.raises(UserError, match="no consultant is set"):
        desk.actor  # noqa: B018
    with pytest.raises(UserError, match="no consultant is set"):
        create_visit(desk.context(), _visit())
    assert search(desk.context(), "Testpersoon") is not None  # reading needs no actor
    assert [e.action for e in audit.events(desk.engine(), uuid)] == ["create"]


def test_audit_rows_are_append_only(desk):
    engine = desk.engine()
    create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    with pytest.raises((IntegrityError, OperationalError), match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET consultant = 'XX'"))
    with pytest.raises((IntegrityError, OperationalError), match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    # Sync bookkeeping may move: the sync marks a row committed centrally.
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET synced_revision = revision"))
        assert conn.execute(text("SELECT consultant, synced_revision FROM audit_event")).all() == [
            ("TS", 1),  # the client's creation
            ("TS", 1),  # the visit's
        ]


def test_audit_rows_hold_no_personal_data(desk):
    engine = desk.engine()
    uuid = create_visit(Context.of(engine, desk.actor, desk.now()), _visit())
    load_visit(Context.of(engine, desk.actor, desk.now()), uuid)
    update_visit(
        Context.of(engine, desk.actor, desk.now()), uuid, _visit(notes=NOTE + " aangevuld")
    )
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event")).all()
    dump = repr(rows)
    assert len(rows) == 4  # client created, visit created, viewed, updated
    for secret in (NAME, "Xandriel", "7781", "1958", "Marokko"):
        assert secret not in dump


@pytest.mark.pg
def test_audit_trail_is_append_only_on_postgresql(pg_url):
    from nmi_desk.domain.context import Actor
    from nmi_desk.store.engine import open_engine

    engine = open_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        audit.record_now(
            engine, Actor("TS", "dev-1"), "export", "statistics", None, datetime.now(UTC), "x"
        )
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE audit_event SET action = 'view'"))
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET synced_revision = 1"))
            assert conn.execute(text("SELECT action FROM audit_event")).scalar_one() == "export"
    finally:
        engine.dispose()


def test_cli_export_is_audited_without_personal_data(desk, isolated_home):
    import subprocess
    import sys

    create_visit(desk.context(), _visit())
    desk.close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nmi_desk",
            "--data-dir",
            str(isolated_home),
            "export",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--format",
            "json",
            "--output",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    exports = [e for e in audit.events(desk.engine()) if e.action == "export"]
    assert [(e.table_name, e.consultant, e.detail) for e in exports] == [
        ("statistics", "TS", "2026-03-01..2026-03-31 json")
    ]


async def test_a_tui_session_is_audited_with_the_consultant_device_and_desk_clock(
    desk, clock, tmp_path
):
    """Open a visit, edit it, close the day with its export: each is in the trail as TS on
    this laptop at the desk's time."""
    from textual.widgets import Input, TextArea
    from tui_helpers import settle, wait_screen, wait_today, wait_until

    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.day_overview import CloseDayScreen, DayOverviewScreen
    from nmi_desk.tui.screens.today import TodayScreen
    from nmi_desk.tui.screens.visit_form import VisitFormScreen

    uuid = create_visit(desk.context(), _visit())
    clock.advance(minutes=7)  # 10:37 in Amsterdam, 09:37 UTC
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=1)
        await pilot.press("o")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None, "the visit loaded")
        app.screen.query_one("#notes", TextArea).text = "Terugbellen na de aanvraag."
        await pilot.press("ctrl+s")
        await wait_screen(pilot, TodayScreen)
        await pilot.press("d")
        await wait_screen(pilot, DayOverviewScreen)
        await pilot.press("e")
        await wait_screen(pilot, CloseDayScreen)
        app.screen.query_one("#dov-folder", Input).value = str(tmp_path / "export")
        await pilot.press("enter")  # Sluiten en exporteren
        await wait_until(pilot, lambda: (tmp_path / "export").is_dir(), "the export")
        await settle(pilot)
    trail = [
        (e.action, e.table_name, e.record_uuid, e.consultant, e.device_id, e.at.strftime("%H:%M"))
        for e in audit.events(desk.engine())
    ]
    device = desk.settings.device_id
    # Before the session: the visit's (and its client's) creation.
    assert [t[:2] for t in trail if t[0] == "create"] == [("create", "client"), ("create", "visit")]
    assert [t for t in trail if t[0] != "create"] == [
        ("view", "visit", uuid, "TS", device, "09:37"),
        ("update", "visit", uuid, "TS", device, "09:37"),
        ("export", "statistics", None, "TS", device, "09:37"),
        ("export", "statistics", None, "TS", device, "09:37"),
        ("export", "statistics", None, "TS", device, "09:37"),
    ]
    details = [e.detail for e in audit.events(desk.engine()) if e.action == "export"]
    assert details == [f"2026-03-10..2026-03-10 {fmt}" for fmt in ("csv", "json", "xlsx")]
