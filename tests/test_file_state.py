"""The database file's state told apart exactly, and 'wrong passphrase' only when it is."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from nmi_desk.domain import security
from nmi_desk.domain.desk import Desk
from nmi_desk.store.file_state import (
    DatabaseProblem,
    WrongPassphrase,
    check_usable,
    file_state,
    inspect,
)

PASS = "balie-wachtzin-synthetisch"


@pytest.fixture
def plain_db(desk) -> Path:
    desk.engine()
    desk.close()
    return desk.database_path


@pytest.fixture
def encrypted(desk, isolated_home, clock) -> Path:
    desk.engine()
    desk.set_passphrase(PASS)
    desk.close()
    return desk.database_path


def test_missing_is_the_only_first_start(tmp_path):
    assert file_state(tmp_path / "nmi-desk.db") == "missing"
    assert check_usable(tmp_path / "nmi-desk.db") == "missing"


def test_a_new_database_is_never_seen_empty(tmp_path, monkeypatch):
    """Another reader (the guidance screen during a first start, a second nmi-desk) looking
    while the store creates the file sees it missing or whole, never 0 bytes (which means
    damage): the first time the store touches the final file it is already whole."""
    import nmi_desk.store.connect as connect

    seen = []
    real = connect.private_file

    def watching(path):
        seen.append(file_state(path))
        real(path)

    monkeypatch.setattr(connect, "private_file", watching)
    connect.connect_sqlite(tmp_path / "nmi-desk.db").close()
    assert seen and "empty" not in seen and "missing" not in seen, seen
    assert file_state(tmp_path / "nmi-desk.db") == "plain"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nmi-desk.db"]  # no leftovers


def test_a_schema_entry_that_is_not_text_is_damage_not_a_crash(tmp_path, capsys):
    """A damaged schema entry makes SQLite quote bytes that are not UTF-8 in its message,
    and Python's driver raises UnicodeDecodeError instead of a DatabaseError: doctor crashed
    on it (the fault matrix's random bytes landed there once)."""
    import sqlite3

    from nmi_desk.core.errors import UserError
    from nmi_desk.store.connect import connect_sqlite

    db = tmp_path / "nmi-desk.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE tbl_QQQQQQ(a)")
    conn.commit()
    conn.close()
    data = db.read_bytes().replace(b"tbl_QQQQQQ(a)", b"tbl_QQQQQQ(\xb4\xb4")
    db.write_bytes(data.replace(b"tbl_QQQQQQ", b"tbl_\xb4\xb4QQQQ"))
    with pytest.raises(UserError, match="is damaged"):
        connect_sqlite(db)
    done = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "--data-dir", str(tmp_path), "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "FAIL  integrity: the database" in done.stdout and "is damaged" in done.stdout


def test_an_empty_file_is_not_a_fresh_install(desk, plain_db):
    plain_db.write_bytes(b"")
    assert file_state(plain_db) == "empty"
    with pytest.raises(DatabaseProblem, match="is empty .0 bytes.*restore it from the backup"):
        Desk.open(desk.paths.home).engine()
    assert plain_db.read_bytes() == b""  # nothing created in its place
    assert not Path(f"{plain_db}-wal").exists()


@pytest.mark.parametrize(
    ("cut", "reason"),
    [(50, "shorter than an SQLite header"), (4096 + 7, "cut off in the middle of a page")],
)
def test_a_cut_off_plain_file_is_damaged(plain_db, cut, reason):
    plain_db.write_bytes(plain_db.read_bytes()[:cut])
    found = inspect(plain_db)
    assert found.state == "damaged" and reason in found.reason


@pytest.mark.parametrize(
    ("cut", "reason"),
    [(100, "shorter than one encrypted page"), (-1000, "cut off in the middle of a page")],
)
def test_a_cut_off_encrypted_file_is_damaged(encrypted, cut, reason):
    encrypted.write_bytes(encrypted.read_bytes()[:cut])
    found = inspect(encrypted)
    assert found.state == "damaged" and reason in found.reason


def test_states_of_whole_files(plain_db, encrypted):
    assert file_state(encrypted) == "encrypted"


def test_plain_state(plain_db):
    assert file_state(plain_db) == "plain"


def test_a_folder_in_place_of_the_file_is_unreadable(tmp_path):
    (tmp_path / "nmi-desk.db").mkdir()
    found = inspect(tmp_path / "nmi-desk.db")
    assert found.state == "unreadable" and "is a folder" in found.reason


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unwritable_file_is_unreadable_not_a_wrong_passphrase(encrypted):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere (the fault matrix runs this case as another user)")
    os.chmod(encrypted, 0o400)
    try:
        assert inspect(encrypted).state == "unreadable"
        with pytest.raises(DatabaseProblem, match="cannot be used"):
            security.unlock(encrypted, PASS, sleep=lambda s: None)
    finally:
        os.chmod(encrypted, 0o600)


def test_changed_salt_with_the_right_passphrase_is_damage_not_a_wrong_passphrase(encrypted):
    data = bytearray(encrypted.read_bytes())
    data[0:16] = bytes(16)  # the salt overwritten
    encrypted.write_bytes(bytes(data))
    with pytest.raises(
        DatabaseProblem,
        match="damaged .its first bytes .the salt. have changed.; the passphrase is right",
    ):
        security.unlock(encrypted, PASS, sleep=lambda s: None)
    assert security.failures(encrypted) == 0  # no wrong try counted, no growing wait
    with pytest.raises(WrongPassphrase):
        security.unlock(encrypted, "niet de goede wachtzin", sleep=lambda s: None)
    assert security.failures(encrypted) == 1


def test_damaged_first_page_with_the_right_passphrase_is_damage(encrypted):
    data = bytearray(encrypted.read_bytes())
    data[2000:2100] = bytes(100)  # inside page 1, after the salt: its HMAC fails
    encrypted.write_bytes(bytes(data))
    with pytest.raises(DatabaseProblem, match="first page cannot be decrypted with the right"):
        security.unlock(encrypted, PASS, sleep=lambda s: None)


def test_wrong_passphrase_is_the_same_class_everywhere():
    from nmi_desk.store import connect

    assert security.WrongPassphrase is WrongPassphrase
    assert not hasattr(connect, "WrongPassphrase")


def test_the_store_does_not_import_the_key_derivation_module():
    code = (
        "import sys, nmi_desk.store.connect, nmi_desk.store.file_state, nmi_desk.store.engine;"
        "print('nmi_desk.domain.security' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- the wait after wrong passphrases survives the process ----


def _cli(home: Path, *args: str, passphrase: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env.update(NMI_DESK_HOME=str(home), NMI_DESK_PASSPHRASE=passphrase)
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_each_cli_process_waits_after_earlier_wrong_passphrases(encrypted, isolated_home):
    import re
    import time

    first = _cli(isolated_home, "export", "--output", "-", passphrase="niet de goede zin")
    assert first.returncode == 1 and "wrong passphrase" in first.stderr
    assert "waiting" not in first.stderr  # the first try is free
    assert security.failures(encrypted) == 1  # kept on disk, for the next process
    # Two more wrong tries a moment ago (as a guessing script would make them).
    path = security.state_path(encrypted)
    state = json.loads(path.read_text(encoding="utf-8"))
    state.update(failures=3, last_failure=time.time())
    path.write_text(json.dumps(state), encoding="utf-8")
    again = _cli(isolated_home, "export", "--output", "-", passphrase="ook niet goed hoor")
    assert re.match(r"nmi-desk: waiting [34] s after earlier wrong passphrases", again.stderr)
    assert security.failures(encrypted) == 4
    right = _cli(isolated_home, "export", "--output", "-", passphrase=PASS)
    assert right.returncode == 0, right.stderr
    assert re.match(r"nmi-desk: waiting [5-8] s", right.stderr)  # the right one waits its turn
    assert security.failures(encrypted) == 0  # and the count starts over


def test_wait_is_measured_from_the_last_wrong_try(encrypted):
    with pytest.raises(WrongPassphrase):
        security.unlock(encrypted, "niet de goede zin", sleep=lambda s: None, now=lambda: 1000.0)
    with pytest.raises(WrongPassphrase):
        security.unlock(encrypted, "niet de goede zin", sleep=lambda s: None, now=lambda: 1000.5)
    assert security.wait_before_unlock(encrypted, now=lambda: 1001.0) == pytest.approx(1.5)
    assert security.wait_before_unlock(encrypted, now=lambda: 1010.0) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_folder_with_the_right_passphrase_is_not_a_wrong_passphrase(encrypted):
    """As another user when run as root (root writes anywhere)."""
    base = Path(tempfile.mkdtemp(prefix="nmi-ro-"))
    try:
        os.chmod(base, 0o755)
        home = base / "home"
        shutil.copytree(encrypted.parent, home)
        prefix: list[str] = []
        if os.geteuid() == 0:
            from conftest import can_run_as_nobody

            if not can_run_as_nobody(home):
                pytest.skip("cannot run as another user here (root writes anywhere)")
            for path in [home, *home.rglob("*")]:
                os.chown(path, 65534, 65534)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chmod(home, 0o500)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
        env.update(NMI_DESK_HOME=str(home), NMI_DESK_PASSPHRASE=PASS)
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "nmi_desk", "export", "--output", "-"],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert proc.returncode == 1
        assert "wrong passphrase" not in proc.stderr
        assert "cannot be written (permissions)" in proc.stderr
    finally:
        os.chmod(base / "home", 0o700)
        shutil.rmtree(base, ignore_errors=True)


# ---- doctor: the write-ahead log beside the database ----


def _wal_check(desk):
    from nmi_desk.domain.doctor import run_checks

    checks = {c.name: c for c in run_checks(desk)}
    return checks["write-ahead log"]


def test_doctor_fails_when_the_wal_was_deleted_under_a_running_app(desk, plain_db):
    Path(f"{plain_db}-shm").write_bytes(b"\x01" * 32768)  # the index of a log that is gone
    check = _wal_check(desk)
    assert (
        check.failed and "nmi-desk.db-wal is missing but nmi-desk.db-shm is there" in check.detail
    )


def test_doctor_fails_on_a_foreign_wal_and_changes_nothing(desk, plain_db):
    wal = Path(f"{plain_db}-wal")
    wal.write_bytes(b"not a log of this database" * 10)
    before = plain_db.read_bytes()
    check = _wal_check(desk)
    assert check.failed and "is not this database's log" in check.detail
    assert wal.exists() and plain_db.read_bytes() == before


def test_doctor_accepts_the_database_own_wal(desk, plain_db):
    assert not _wal_check(desk).failed
