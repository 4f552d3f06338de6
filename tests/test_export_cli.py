"""`nmi-desk export` and `nmi-desk close-day` from the command line: files, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args, home):
    import os

    env = dict(os.environ, NMI_DESK_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def home_with_visits(tmp_path):
    home = tmp_path / "home"
    proc = run("demo", "--visits", "300", "--days", "10", home=home)
    assert proc.returncode == 0, proc.stderr
    return home


def test_export_json_with_suppression(home_with_visits, tmp_path):
    out = tmp_path / "s.json"
    proc = run(
        "export",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--format",
        "json",
        "--output",
        str(out),
        "--suppress-small",
        home=home_with_visits,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["visits"] == 300
    assert isinstance(data["suppressed"], list)
    for item in data["suppressed"]:
        assert data[item["dimension"]][item["key"]] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "is not a date"),
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--output", "/nonexistent-dir/x.csv"], "does not exist"),
        (["--location", "mars"], "unknown location code 'mars'"),
        (["--source", "sqlite:////nonexistent-dir/x.db"], "no database at"),
        (["--source", "postgresql+psycopg://nobody@127.0.0.1:1/none"], "cannot open database"),
        (["--from", "2026-03-10", "--to", "2026-03-01"], "is before"),
    ],
)
def test_export_errors_are_one_line(home_with_visits, args, message):
    proc = run("export", *args, home=home_with_visits)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("nmi-desk: ") and message in lines[0]


def test_export_to_an_unwritable_folder_is_one_line(home_with_visits, tmp_path):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("running as a user who can write anywhere")
    proc = run("export", "--output", str(locked / "x.csv"), home=home_with_visits)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "cannot write" in proc.stderr
