"""The edges of the file system: a FIFO where the database or the config should be (refused
without blocking), reads on an empty folder (nothing created), an empty config.toml (one
device id across runs, kept in the database too). Synthetic names only."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from nmi_desk.core.errors import UserError
from nmi_desk.domain.desk import DEVICE_KEY, Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.file_state import DatabaseProblem, inspect

posix = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")


def _cli(home, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env["NMI_DESK_HOME"] = str(home)
    env["NMI_DESK_CONSULTANT"] = "TS"
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@posix
def test_a_fifo_at_the_database_path_is_refused_within_a_second(isolated_home):
    isolated_home.mkdir()
    os.mkfifo(isolated_home / "nmi-desk.db")
    started = time.monotonic()
    found = inspect(isolated_home / "nmi-desk.db")
    desk = Desk.open(isolated_home)
    with pytest.raises(DatabaseProblem) as refused:
        desk.check_database()
    assert time.monotonic() - started < 1
    assert found.state == "unreadable" and "pipe" in str(refused.value)


@posix
@pytest.mark.parametrize("command", [["doctor"], ["clients", "search", "abc"]])
def test_commands_on_a_fifo_say_so_and_do_not_hang(tmp_path, command):
    home = tmp_path / "home"
    home.mkdir()
    os.mkfifo(home / "nmi-desk.db")
    proc = _cli(home, *command, timeout=30)  # a hang would be cut here and fail the test
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "pipe" in out and "Traceback" not in out


@posix
def test_a_fifo_as_config_is_refused_without_blocking(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    os.mkfifo(home / "config.toml")
    proc = _cli(home, "clients", "search", "abc", timeout=30)
    assert proc.returncode == 1 and "pipe" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["clients", "search", "Nobody Testpersoon"],
        ["clients", "show", "0" * 32],
        ["guidance", "search", "aow"],
    ],  # fmt: skip
)
def test_a_read_on_an_empty_folder_creates_nothing(tmp_path, command):
    home = tmp_path / "home"
    home.mkdir()
    proc = _cli(home, *command)
    assert "Traceback" not in proc.stderr
    assert list(home.iterdir()) == [], proc.stderr


@pytest.mark.parametrize("content", ["", 'device_id = ""\n'], ids=["empty", "blank-id"])
def test_an_empty_config_keeps_one_device_id_across_runs(isolated_home, content):
    first = Desk.open(isolated_home)
    first.settings.consultant, first.settings.location = "TS", "roermond"
    first.save_settings()
    create_visit(first.context(), VisitInput(location_code="roermond", topics=["aow"]))
    device = first.settings.device_id
    first.close()
    ids = set()
    for _run in range(2):
        (isolated_home / "config.toml").write_text(content, encoding="utf-8")
        again = Desk.open(isolated_home)
        again.settings.consultant = "TS"
        create_visit(again.context(), VisitInput(location_code="roermond", topics=["aow"]))
        ids.add(again.settings.device_id)
        again.close()
        assert f'device_id = "{device}"' in (isolated_home / "config.toml").read_text()
    with Desk.open(isolated_home).engine().connect() as conn:
        stored = conn.execute(
            text("SELECT value FROM app_meta WHERE key = :k"), {"k": DEVICE_KEY}
        ).scalar_one()
        visits = set(conn.execute(text("SELECT device_id FROM visit")).scalars())
    assert ids == {device} and stored == device and visits == {device}


def test_an_empty_config_with_an_encrypted_database_takes_the_id_once_unlocked(isolated_home):
    first = Desk.open(isolated_home)
    first.settings.consultant = "TS"
    first.set_passphrase("een lange synthetische wachtzin")
    first.engine()
    device = first.settings.device_id
    first.close()
    (isolated_home / "config.toml").write_bytes(b"")
    again = Desk.open(isolated_home)
    again.unlock("een lange synthetische wachtzin")
    again.engine()
    assert again.settings.device_id == device
    assert f'device_id = "{device}"' in (isolated_home / "config.toml").read_text()
    again.close()


def test_a_read_only_open_writes_no_config(isolated_home):
    Desk.open(isolated_home, create=False)
    assert not isolated_home.exists()


def test_an_unknown_config_key_is_still_refused(isolated_home):
    isolated_home.mkdir()
    (isolated_home / "config.toml").write_text('colour = "red"\n', encoding="utf-8")
    with pytest.raises(UserError):
        Desk.open(isolated_home)
