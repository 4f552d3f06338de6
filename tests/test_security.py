"""Encryption at rest: no name or note is readable in any file of the data dir; a wrong
passphrase shows and changes nothing and slows the next try; a plain database converts without
loss and keeps nothing plain behind; change-passphrase re-keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from nmi_desk.core.errors import UserError
from nmi_desk.domain import security
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.drafts import save_draft
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.connect import connect_sqlite

PASS = "lange zin voor de balie 42"
NAMES = ["Wobbeltje Quastmeijer-Testpersoon", "Yıldırım Zümrütoğlu-Testpersoon"]
NOTES = ["Synthetische notitie kwetsbaar-9931", "Synthetische verwijsreden schuld-5572"]


def _register(desk, name, note):
    return create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            client_name=name,
            birth_year=1960,
            notes=note,
            topics=["aow"],
            referrals=[ReferralInput("svb", reason=note, note=name)],
        ),
    )


def _all_bytes(home) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def _needles():
    out = []
    for text_ in NAMES + NOTES:
        for part in (text_, text_.split()[0], text_.split("-")[-1]):
            out += [part.encode("utf-8"), part.encode("utf-16-le")]
    return out


def test_no_name_or_note_readable_in_any_file(desk):
    desk.set_passphrase(PASS)
    for name, note in zip(NAMES, NOTES, strict=True):
        _register(desk, name, note)
    save_draft(desk.context(), "visit", {"client_name": NAMES[0], "notes": NOTES[0]})
    files = _all_bytes(desk.paths.home)  # read while the engine is open: the WAL is there too
    assert "nmi-desk.db" in files and "nmi-desk.db-wal" in files
    assert len(files["nmi-desk.db-wal"]) > 0
    for name, data in files.items():
        assert not data.startswith(security.PLAIN_HEADER), name
        for needle in _needles():
            assert needle not in data, (name, needle)
    # ... yet everything is there for whoever has the passphrase.
    with desk.engine().connect() as conn:
        names = conn.execute(text("SELECT client_name FROM visit ORDER BY id")).scalars().all()
        draft = conn.execute(text("SELECT payload FROM draft")).scalar_one()
    assert names == NAMES and NOTES[0] in draft
    desk.close()
    for name, data in _all_bytes(desk.paths.home).items():
        for needle in _needles():
            assert needle not in data, (name, needle)


def test_the_same_test_finds_names_in_a_plain_database(desk):
    """The check above can fail: on a plain database it does find the name."""
    _register(desk, NAMES[0], NOTES[0])
    desk.close()
    blob = b"".join(_all_bytes(desk.paths.home).values())
    assert NAMES[0].encode() in blob


def test_wrong_passphrase_shows_and_changes_nothing_and_slows_down(desk, isolated_home, clock):
    desk.set_passphrase(PASS)
    _register(desk, NAMES[0], NOTES[0])
    desk.close()
    before = _all_bytes(isolated_home)["nmi-desk.db"]

    waits: list[float] = []
    again = Desk.open(isolated_home, clock=clock)
    again.sleep = waits.append  # injectable: no real sleeping in tests
    again.wall = lambda: 1000.0  # each try right after the one before
    assert again.locked
    with pytest.raises(UserError, match="encrypted"):
        again.engine()
    for _ in range(4):
        with pytest.raises(security.WrongPassphrase, match="wrong passphrase"):
            again.unlock("dit is niet de goede zin")
    assert waits == [1.0, 2.0, 4.0]  # the first try is free, then each waits twice as long
    assert again.locked
    assert _all_bytes(isolated_home)["nmi-desk.db"] == before
    again.unlock(PASS)
    assert waits == [1.0, 2.0, 4.0, 8.0]
    with again.engine().connect() as conn:
        assert conn.execute(text("SELECT client_name FROM visit")).scalar_one() == NAMES[0]
    again.close()
    # After a success the delay starts over.
    assert security.delay_after(security.failures(again.database_path)) == 0


def test_plain_database_is_converted_without_loss_and_nothing_plain_is_left(desk):
    uuids = [_register(desk, n, t) for n, t in zip(NAMES, NOTES, strict=True)]
    with desk.engine().connect() as conn:
        before = conn.execute(text("SELECT * FROM visit ORDER BY id")).all()
        audit_rows = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    path = desk.database_path
    old_backup = path.with_name(f"{path.name}.v1.bak")
    old_backup.write_bytes(path.read_bytes())  # a plain migration backup from earlier
    desk.set_passphrase(PASS)
    assert desk.encryption_state() == "encrypted"
    leftovers = sorted(p.name for p in path.parent.iterdir())
    assert not any(".bak" in n or "tmp" in n for n in leftovers), leftovers
    with desk.engine().connect() as conn:
        after = conn.execute(text("SELECT * FROM visit ORDER BY id")).all()
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == audit_rows
        version = conn.execute(text("SELECT max(version) FROM schema_migrations")).scalar_one()
    assert after == before and [r.uuid for r in after] == uuids
    assert version >= 71


def test_change_passphrase_re_keys_the_database(desk, isolated_home, clock):
    desk.set_passphrase(PASS)
    _register(desk, NAMES[0], NOTES[0])
    salt = security.read_salt(desk.database_path)
    desk.set_passphrase("een nieuwe lange zin")
    assert security.read_salt(desk.database_path) != salt  # a fresh salt with the new key
    desk.close()
    again = Desk.open(isolated_home, clock=clock)
    again.sleep = lambda s: None
    with pytest.raises(security.WrongPassphrase):
        again.unlock(PASS)
    again.unlock("een nieuwe lange zin")
    with again.engine().connect() as conn:
        assert conn.execute(text("SELECT client_name FROM visit")).scalar_one() == NAMES[0]
    again.close()


def test_short_passphrase_is_refused(desk):
    with pytest.raises(UserError, match="at least 10"):
        desk.set_passphrase("kort")
    assert desk.encryption_state() != "encrypted"


def test_plain_desk_keeps_working_through_the_standard_library(desk):
    import sqlite3

    _register(desk, NAMES[0], NOTES[0])
    conn = connect_sqlite(desk.database_path)
    assert isinstance(conn, sqlite3.Connection)
    conn.close()


def _cli(home, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", "--data-dir", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_cli_change_passphrase_and_unlock_from_environment(tmp_path):
    home = tmp_path / "cli-home"
    assert _cli(home, "demo", "--visits", "20").returncode == 0
    made = _cli(home, "change-passphrase", env_extra={"NMI_DESK_NEW_PASSPHRASE": PASS})
    assert made.returncode == 0, made.stderr
    assert "encrypted" in made.stderr
    locked = _cli(home, "doctor")  # without a passphrase: what can be checked, and what not
    assert locked.returncode == 0, locked.stdout
    assert "ok    database file: encrypted" in locked.stdout
    assert "skip  integrity, records, retention: not checked: no passphrase given" in locked.stdout
    wrong = _cli(home, "doctor", env_extra={"NMI_DESK_PASSPHRASE": "niet de goede zin"})
    assert wrong.returncode == 1
    assert "FAIL  passphrase: wrong passphrase" in wrong.stdout
    assert "Traceback" not in wrong.stderr
    ok = _cli(home, "doctor", env_extra={"NMI_DESK_PASSPHRASE": PASS})
    assert "encryption: SQLCipher" in ok.stdout, ok.stdout + ok.stderr
    assert "20 visit" in ok.stdout
