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
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit, load_visit, update_visit
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
