"""Every copy of a client's personal data (nmi_desk.domain.copies): erasure and retention go
over all of them. The proof is a grep of every file under the data folder and the folder the
consultant chose for inzage documents: after `clients erase` or `purge`, the name is nowhere.
Synthetic names only."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from nmi_desk.cli.app import main
from nmi_desk.domain import retention
from nmi_desk.domain.copies import COPIES, rescued_copies
from nmi_desk.domain.doctor import run_checks
from nmi_desk.domain.drafts import save_draft
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.letter.service import write_letter_file

NAME = "Wiebrand Kwispelstaart-Testpersoon"
NOTE = "Synthetische notitie XQZZV over de AOW"


def _cli(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out + out.err


def _hits(*folders) -> list[str]:
    """Files under the folders whose bytes hold the name or the note (any case)."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                data = path.read_bytes().lower()
                if any(s.lower().encode() in data for s in (NAME, NOTE, "kwispelstaart")):
                    found.append(str(path))
    return found


def _client_with_everything(desk, capsys, chosen):
    """A visit, its inzage in the chosen folder (md and json), an old inzage in the data
    folder, an unlinked draft naming the client, a letter, a migration backup."""
    visit = create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            client_name=NAME,
            birth_year=1951,
            notes=NOTE,
            topics=["aow"],
            referrals=[ReferralInput("svb", reason="AOW buitenland")],
        ),
    )
    with desk.engine().connect() as conn:
        client = conn.execute(
            text("SELECT client_uuid FROM visit WHERE uuid = :u"), {"u": visit}
        ).scalar_one()
    chosen.mkdir()
    for name in ("inzage.md", "inzage.json"):
        code, out = _cli(capsys, "clients", "export", client, "--output", str(chosen / name))
        assert code == 0, out
    old = desk.paths.home / "inzage"  # where an earlier version wrote them
    old.mkdir()
    shutil.copy(chosen / "inzage.md", old / f"inzage-2026-01-01-{client[:8]}.md")
    # a new walk-in typed but never saved: not linked to the client, only the name says who
    save_draft(desk.context(), "visit", {"client_name": NAME.upper(), "notes": NOTE})
    write_letter_file(desk.context(), visit, str(desk.paths.home / "brief.pdf"), "nl")
    db = desk.database_path
    desk.close()
    shutil.copy(db, db.with_name(f"{db.name}.v170.bak"))
    assert _hits(desk.paths.home, chosen)
    return client, visit


def test_erase_leaves_no_copy_of_the_name_in_the_data_folder_or_the_inzage_folder(
    desk, capsys, tmp_path
):
    chosen = tmp_path / "chosen"
    client, _visit = _client_with_everything(desk, capsys, chosen)
    code, out = _cli(capsys, "clients", "erase", client, "--yes")
    assert code == 0, out
    assert "also removed: 1 drafts" in out
    assert _hits(desk.paths.home, chosen) == []
    assert not (desk.paths.home / "brief.pdf").exists()
    code, out = _cli(capsys, "doctor")
    assert "copies that should be gone" not in out and "inzage documents in" not in out, out


def test_purge_removes_an_old_draft_and_old_documents_with_the_synced_visit(
    desk, clock, capsys, tmp_path
):
    clock.moment = datetime.now(UTC) - timedelta(days=800)  # two years ago
    chosen = tmp_path / "chosen"
    _client, visit = _client_with_everything(desk, capsys, chosen)
    engine = desk.engine()
    with engine.begin() as conn:  # synced (the central side has it) 40 days ago
        for table in ("visit", "client", "referral"):
            conn.execute(text(f"UPDATE {table} SET synced_revision = revision"))  # noqa: S608
        conn.execute(text("UPDATE visit SET synced_at = datetime('now', '-40 days')"))
    desk.close()
    long_ago = (datetime.now(UTC) - timedelta(days=800)).timestamp()
    for path in (desk.paths.home / "inzage").iterdir():
        os.utime(path, (long_ago, long_ago))
    code, out = _cli(capsys, "doctor")
    assert "old drafts" in out and "copies that should be gone" in out, out
    code, out = _cli(capsys, "purge", "--days", "30")
    assert code == 0, out
    assert "drafts: 1" in out and "inzage documents and letters: 4" in out, out
    assert _hits(desk.paths.home, chosen) == []
    code, out = _cli(capsys, "doctor")
    assert "old drafts" not in out and "copies that should be gone" not in out, out


def test_a_young_draft_stays_through_purge(desk, clock):
    save_draft(desk.context(), "visit", {"client_name": NAME})
    report = retention.purge(desk.context(), 30)
    assert report.drafts == 0
    with desk.engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM draft")).scalar_one() == 1


def test_every_kind_of_copy_is_named_once():
    names = [c.name for c in COPIES]
    assert len(names) == len(set(names))
    for wanted in ("database", "write-ahead log", "drafts", "inzage documents", "letters",
                   "backups", "conflict logs", "quarantine"):  # fmt: skip
        assert wanted in names


def test_doctor_names_a_rescued_copy(desk):
    desk.engine()
    db = desk.database_path
    rescued = db.with_name(f"{db.name}.rescued-20261207-101500")
    shutil.copy(db, rescued)
    assert rescued_copies(db) == [rescued]
    checks = {c.name: c for c in run_checks(desk)}
    assert checks["rescued copies"].warning and rescued.name in checks["rescued copies"].detail
    assert "leftover copies" not in checks
