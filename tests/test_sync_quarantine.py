"""Field limits and quarantine (D4): a name the central side would refuse is refused at entry;
a record it refused anyway (written by an older version) is listed by `sync --status` and
`doctor` with the reason, and leaves quarantine at the next sync once it is corrected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from nmi_desk.core.validation import ValidationError
from nmi_desk.domain.clients.base import ClientInput
from nmi_desk.domain.clients.writes import correct_client
from nmi_desk.domain.demo import generate
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit, load_visit, update_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.store.limits import NAME_MAX
from nmi_desk.sync import resolve_target

LONG = "Testpersoon " + "van der " * 40  # synthetic, 332 characters


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_name_longer_than_the_central_column_is_refused_at_entry(desk):
    assert len(LONG) > NAME_MAX
    with pytest.raises(ValidationError) as refused:
        create_visit(desk.context(), VisitInput(location_code="roermond", client_name=LONG))
    assert [(e.field, e.key, e.params) for e in refused.value.errors] == [
        ("client_name", "error.too_long", {"max": NAME_MAX})
    ]
    uuid = create_visit(
        desk.context(), VisitInput(location_code="roermond", client_name="Ida Test")
    )
    view = load_visit(desk.context(), uuid)
    with pytest.raises(ValidationError):
        correct_client(desk.context(), view.input.client_uuid, ClientInput(name=LONG))


def test_a_refused_record_is_listed_and_leaves_quarantine_once_corrected(desk, pg_url):
    uuid = create_visit(
        desk.context(), VisitInput(location_code="roermond", client_name="Ida Testpersoon")
    )
    # As an older nmi-desk (without the check at entry) could have stored it:
    with desk.engine().begin() as conn:
        conn.execute(
            text("UPDATE visit SET client_name = :n, revision = revision + 1 WHERE uuid = :u"),
            {"n": LONG, "u": uuid},
        )
    report = desk.sync(resolve_target(pg_url, ""))
    assert report.quarantined == 1
    home = desk.paths.home
    status = _run(home, "sync", "--status")
    assert "quarantine: 1 record(s) refused by the central side" in status.stdout, status.stderr
    assert f"visit {uuid} (revision" in status.stdout
    doctor = _run(home, "doctor")
    assert "warn  quarantine: 1 record(s) refused by the central side, e.g. visit" in doctor.stdout
    # The consultant corrects the name; the next sync takes it and the quarantine is empty.
    view = load_visit(desk.context(), uuid)
    view.input.client_name = "Ida Testpersoon"
    update_visit(desk.context(), uuid, view.input)
    assert desk.sync(resolve_target(pg_url, "")).quarantined == 0
    assert "quarantine" not in _run(home, "sync", "--status").stdout
    with desk.engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sync_quarantine")).scalar_one() == 0


def test_a_first_push_refused_late_leaves_no_visit_marked_that_did_not_arrive(desk, pg_url):
    """A big first push writes its visits' synced marks on the laptop while its central
    transaction still runs (sync/push.py, early marks). A referral the central side refuses
    at the end rolls that transaction back: the marks go with it, the per-batch path then
    takes every record, and only the refused one stays behind, in quarantine."""
    generate(desk.engine(), 700, 20, 4, desk.settings.device_id, desk.now())
    with desk.engine().begin() as conn:  # as an older nmi-desk could have stored it
        bad = conn.exec_driver_sql(
            "SELECT v.uuid FROM referral r JOIN visit v ON v.id = r.visit_id ORDER BY r.id DESC"
        ).first()[0]
        conn.exec_driver_sql(
            "UPDATE referral SET status = 'waiting for the letter' WHERE visit_id ="
            " (SELECT id FROM visit WHERE uuid = ?)",
            (bad,),
        )
    report = desk.sync(resolve_target(pg_url, ""), batch_size=200)
    assert report.quarantined >= 1
    with desk.engine().connect() as conn:
        pending = {
            r[0]
            for r in conn.exec_driver_sql("SELECT uuid FROM visit WHERE synced_revision < revision")
        }
        laptop = {r[0] for r in conn.exec_driver_sql("SELECT uuid FROM visit")}
    central = open_engine(pg_url)
    try:
        with central.connect() as conn:
            there = {r[0] for r in conn.exec_driver_sql("SELECT uuid FROM visit")}
    finally:
        central.dispose()
    assert pending == {bad}
    assert there == laptop - {bad}
