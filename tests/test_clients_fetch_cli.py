"""`nmi-desk clients fetch UUID`: a central client with its history onto this laptop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nmi_desk.domain.clients.index import search
from nmi_desk.domain.clients.read import history
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.sync import resolve_target, run_sync


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_fetch_brings_a_central_client_with_history(tmp_path, clock, pg_url):
    a = Desk.open(tmp_path / "a", clock=clock)
    a.settings.consultant, a.settings.location = "TS", "eindhoven-stadskantoor"
    a.save_settings()
    try:
        uuid = None
        for notes in ("eerste", "tweede"):
            create_visit(a.context(), VisitInput(
                location_code="eindhoven-stadskantoor", client_name="Ferdinand Oosterkamp-Testpersoon",
                topics=["aow"], referrals=[ReferralInput("svb", reason="AOW")], notes=notes,
                client_uuid=uuid))  # fmt: skip
            uuid = search(a.context(), "Oosterkamp")[0].uuid
        run_sync(a.engine(), resolve_target(pg_url, ""), a.now)
    finally:
        a.close()

    home = tmp_path / "b"
    proc = run(home, "clients", "fetch", uuid, "--target", pg_url)
    assert proc.returncode == 0, proc.stderr
    assert "1 client, 2 visits" in proc.stderr
    b = Desk.open(home, clock=clock)
    try:
        got = history(b.context(), uuid)
        assert got.client.name == "Ferdinand Oosterkamp-Testpersoon"
        assert sorted(v.notes for v in got.visits) == ["eerste", "tweede"]
        assert got.visits[0].referrals[0].organisation_code == "svb"
    finally:
        b.close()

    missing = run(
        home, "clients", "fetch", "00000000-0000-4000-8000-000000000000", "--target", pg_url
    )
    assert missing.returncode == 1
    assert "00000000-0000-4000-8000-000000000000" in missing.stderr
    assert "Traceback" not in missing.stderr
