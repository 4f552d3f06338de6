"""The command line as a user runs it: real processes, one-line errors, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from nmi_desk.core.clock import AMS


def run(*args: str, home: Path, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One data dir with 50 demo visits today, shared by the read-only tests below."""
    path = tmp_path_factory.mktemp("cli") / "home"
    run("demo", "--visits", "50", "--days", "1", home=path, check=True)
    return path


def today() -> str:
    return datetime.now(AMS).date().isoformat()


def test_demo_then_export_json_reports_the_visits_of_today(home):
    proc = run("export", "--format", "json", "--output", "-", home=home, check=True)
    stats = json.loads(proc.stdout)
    assert stats["visits"] == 50
    assert stats["period"] == {"from": today(), "to": today()}
    assert sum(stats["by_location"].values()) == 50
    assert sum(stats["by_hour"].values()) == 50
    assert all(len(h) == 2 for h in stats["by_hour"])


def test_export_csv_is_the_same_figures_in_long_form(home, tmp_path):
    out = tmp_path / "stats.csv"
    proc = run("export", "--format", "csv", "--output", str(out), home=home, check=True)
    assert "wrote 50 visits" in proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["dimension", "key", "count"]
    assert ["visits", "total", "50"] in rows
    by_location = {k: int(n) for d, k, n in rows[1:] if d == "by_location"}
    assert sum(by_location.values()) == 50


def test_export_holds_no_names(home):
    proc = run("export", "--format", "json", "--output", "-", home=home, check=True)
    db = home / "nmi-desk.db"
    import sqlite3

    names = [
        r[0]
        for r in sqlite3.connect(db).execute(
            "SELECT client_name FROM visit WHERE client_name IS NOT NULL"
        )
    ]
    assert names
    assert not any(name in proc.stdout for name in names)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("export", "--from", "2026-13-01"), "is not a date"),
        (("export", "--from", "gisteren"), "is not a date"),
        (("export", "--format", "pdf"), "unknown format"),
        (("export", "--output", "/nonexistent-dir/x.csv"), "does not exist"),
        (("export", "--location", "utrecht"), "unknown location code"),
        (("export", "--from", "2026-05-02", "--to", "2026-05-01"), "is before"),
        (("export", "--source", "sqlite:////nonexistent-dir/none.db"), "no database at"),
        (("export", "--source", "mysql://x/y"), "unsupported database URL"),
        (("export", "--bogus"), "No such option"),
        (("demo", "--visits", "many"), "Invalid value for '--visits'"),
        (("demo", "--visits", "-5"), "--visits must be"),
        (("--lang", "fr"), "choose nl or en"),
        (("nonsense",), "No such command"),
    ],
)
def test_a_user_mistake_is_one_line_on_stderr_and_a_non_zero_exit(home, args, needle):
    proc = run(*args, home=home)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("nmi-desk: ")
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_output_path_is_one_line(home, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    proc = run("export", "--output", str(locked / "x.csv"), home=home)
    assert proc.returncode == 1 and "cannot write" in proc.stderr


def test_unwritable_output_file_is_one_line(home, tmp_path):
    # a folder where the file should go cannot be written to, even by root
    target = tmp_path / "taken.csv"
    target.mkdir()
    proc = run("export", "--output", str(target), home=home)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"nmi-desk: {target} is a folder: give a file name"]


def test_doctor_reports_schema_integrity_and_private_files(home):
    proc = run("doctor", home=home, check=True)
    out = proc.stdout
    assert "ok    schema version" in out
    assert "ok    integrity: ok" in out
    assert "50 visit" in out
    if sys.platform != "win32":
        assert "ok    permissions nmi-desk.db: 0o600" in out


def test_doctor_fails_on_a_broken_database(tmp_path):
    home = tmp_path / "broken"
    home.mkdir()
    broken = b"SQLite format 3\x00\x10\x00" + b"\x00garbage" * 600  # cut off mid-page
    (home / "nmi-desk.db").write_bytes(broken)
    proc = run("doctor", home=home)
    assert proc.returncode == 1
    assert "FAIL  database file: the database" in proc.stdout
    assert "is damaged (cut off in the middle of a page (4818 bytes))" in proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    assert (home / "nmi-desk.db").read_bytes() == broken


def test_data_dir_option_and_env_are_honoured(tmp_path):
    other = tmp_path / "elsewhere"
    run(
        "--data-dir",
        str(other),
        "demo",
        "--visits",
        "3",
        "--days",
        "1",
        home=tmp_path / "unused",
        check=True,
    )
    assert (other / "nmi-desk.db").exists()
    assert not (tmp_path / "unused" / "nmi-desk.db").exists()
