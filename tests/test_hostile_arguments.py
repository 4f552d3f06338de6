"""Hostile arguments to every CLI option, as real processes: never a traceback; a refusal is
one line on stderr with a non-zero exit; what is fine (a relative data dir) just works.

Network: only loopback addresses, on ports where nothing listens (1), so nothing is sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

OK, NO = "ok", "refused"
LONG = "x" * 300
NOBODY_PORT = 1  # nothing listens on port 1 of loopback

CASES: list[tuple[str, list[str], str, str]] = [
    # (id, args, expected, a piece of the one line when refused)
    # ---- root options ----
    ("relative data dir", ["--data-dir", "home", "export", "--output", "-"], OK, ""),
    ("relative data dir via env", ["--data-dir", "./home/../home", "purge", "--dry-run"], OK, ""),
    ("relative data dir doctor", ["--data-dir", "rel/dir2", "doctor"], OK, ""),
    ("data dir is a file", ["--data-dir", "afile", "export"], NO, "afile"),
    (
        "data dir in /proc",
        ["--data-dir", "/proc/nmi-desk-test", "demo", "--visits", "1"],
        NO,
        "/proc",
    ),
    ("data dir 300 chars", ["--data-dir", LONG, "demo", "--visits", "1"], NO, "too long"),
    ("lang xx on a command", ["--lang", "xx", "doctor"], NO, "--lang"),
    ("lang empty", ["--lang", "", "doctor"], NO, "--lang"),
    # ---- demo ----
    ("demo visits negative", ["demo", "--visits", "-1"], NO, "--visits"),
    ("demo visits huge", ["demo", "--visits", str(10**12)], NO, "--visits"),
    ("demo visits text", ["demo", "--visits", "abc"], NO, "--visits"),
    ("demo visits float", ["demo", "--visits", "1.5"], NO, "--visits"),
    ("demo visits arabic digits", ["demo", "--visits", "١٢"], NO, "--visits"),
    ("demo days zero", ["demo", "--days", "0"], NO, "--days"),
    ("demo days huge", ["demo", "--days", "999999999"], NO, "--days"),
    ("demo seed huge", ["demo", "--visits", "1", "--seed", str(10**30)], OK, ""),
    ("demo location unknown", ["demo", "--location", "XX"], NO, "location"),
    ("demo location escape", ["demo", "--location", "\x1b[31mred"], NO, "location"),
    # ---- export: dates, numbers, formats, outputs, sources ----
    ("export impossible date", ["export", "--from", "2026-02-30"], NO, "--from"),
    ("export week date", ["export", "--from", "2026-W01-1"], NO, "--from"),
    ("export fullwidth date", ["export", "--from", "２０２６-０１-０１"], NO, "--from"),
    # One date parser for every entry point (validation.parse_iso_date): blanks around it go.
    ("export date leading space", ["export", "--from", " 2026-01-01", "--output", "-"], OK, ""),
    ("export year 0", ["export", "--from", "0000-01-01"], NO, "--from"),
    ("export far future", ["export", "--from", "9999-12-31", "--output", "-"], OK, ""),
    (
        "export from after to",
        ["export", "--from", "2026-02-01", "--to", "2026-01-01"],
        NO,
        "before",
    ),
    ("export format xml", ["export", "--format", "xml"], NO, "format"),
    ("export format trailing space", ["export", "--format", "json "], NO, "format"),
    ("export output 300 chars", ["export", "--output", LONG + ".csv"], NO, "too long"),
    ("export output relative", ["export", "--output", "out/stats.csv"], OK, ""),
    ("export output missing folder", ["export", "--output", "nope/stats.csv"], NO, "nope"),
    ("export output a folder", ["export", "--output", "."], NO, "folder"),
    ("export output device", ["export", "--output", "/dev/null"], NO, "not a regular file"),
    ("export output surrogate name", ["export", "--output", "st\udcffats.csv"], OK, ""),
    ("export location unknown", ["export", "--location", "xx"], NO, "location"),
    (
        "export source relative sqlite",
        ["export", "--source", "sqlite:///src.db", "--output", "-"],
        OK,
        "",
    ),
    ("export source memory", ["export", "--source", "sqlite:///:memory:"], NO, "memory"),
    ("export source http", ["export", "--source", "http://127.0.0.1/x"], NO, "http"),
    ("export source garbage", ["export", "--source", "::::"], NO, "URL"),
    (
        "export source ipv6 typo",
        ["export", "--source", "postgresql+psycopg://postgres@[::1:5432/x"],
        NO,
        "URL",
    ),
    (
        "export source port 99999",
        ["export", "--source", "postgresql+psycopg://u@127.0.0.1:99999/x"],
        NO,
        "",
    ),
    ("export source text file", ["export", "--source", "sqlite:///afile"], NO, "afile"),
    # ---- guidance ----
    ("guidance limit zero", ["guidance", "search", "aow", "--limit", "0"], NO, "--limit"),
    ("guidance limit huge", ["guidance", "search", "aow", "--limit", str(10**12)], NO, "--limit"),
    ("guidance query injection", ["guidance", "search", "' OR 1=1 --"], OK, ""),
    ("guidance query fts syntax", ["guidance", "search", 'NEAR( "'], OK, ""),
    ("guidance query rtl emoji", ["guidance", "search", "العودة 📊"], OK, ""),
    (
        "guidance show traversal",
        ["guidance", "show", "../../etc/passwd"],
        NO,
        "no guidance article",
    ),
    ("guidance show long", ["guidance", "show", LONG], NO, "no guidance article"),
    ("guidance check missing dir", ["guidance", "check", "nope"], NO, "nope"),
    ("guidance check a file", ["guidance", "check", "afile"], NO, "afile"),
    ("topics limit zero", ["topics", "search", "aow", "--limit", "0"], NO, "--limit"),
    ("topics lang xx", ["topics", "search", "aow", "--lang", "xx"], NO, "lang"),
    ("topics query control chars", ["topics", "search", "\x1b[2J\x07"], OK, ""),
    # ---- sync / publish-guidance (loopback, nothing listening) ----
    (
        "sync ipv6 typo",
        ["sync", "--target", "postgresql+psycopg://postgres@[::1:5432/x"],
        NO,
        "URL",
    ),
    (
        "sync port 1 v4",
        ["sync", "--target", f"postgresql+psycopg://u@127.0.0.1:{NOBODY_PORT}/x"],
        NO,
        "127.0.0.1",
    ),
    (
        "sync port 1 v6",
        ["sync", "--target", f"postgresql+psycopg://u@[::1]:{NOBODY_PORT}/x"],
        NO,
        "::1",
    ),
    (
        "sync query params",
        [
            "sync",
            "--target",
            f"postgresql+psycopg://u@127.0.0.1:{NOBODY_PORT}/x?connect_timeout=abc&a=%ZZ",
        ],
        NO,
        "",
    ),
    ("sync mysql", ["sync", "--target", "mysql://u@127.0.0.1/x"], NO, "mysql"),
    ("sync empty", ["sync", "--target", ""], NO, ""),
    ("publish bad folder", ["publish-guidance", "nope"], NO, "nope"),
    # ---- purge ----
    ("purge days huge", ["purge", "--days", "999999999"], NO, "--days"),
    ("purge days huger", ["purge", "--days", str(10**12)], NO, "--days"),
    ("purge days negative", ["purge", "--days", "-5"], NO, "--days"),
    ("purge days text", ["purge", "--days", "thirty"], NO, "--days"),
    ("purge dry run", ["purge", "--dry-run", "--days", "0"], OK, ""),
    # ---- unknowns ----
    # ---- names with invisible characters, escape codes and bidi controls ----
    ("clients search zero-width", ["clients", "search", "Zero\u200bWidth"], OK, ""),
    ("clients search bidi override", ["clients", "search", "\u202eabc\u202c"], OK, ""),
    ("clients search only invisible", ["clients", "search", "\u200b\u200d\ufeff"], OK, ""),
    ("clients search escape codes", ["clients", "search", "\x1b[31mred\x1b[0m"], OK, ""),
    ("clients show bidi uuid", ["clients", "show", "\u202e" + "0" * 32], NO, "no client"),
    ("unknown command", ["frobnicate"], NO, "frobnicate"),
    ("unknown option", ["export", "--colour"], NO, "--colour"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A data dir with synthetic visits, and a working directory for relative paths."""
    base = tmp_path_factory.mktemp("hostile")
    home = base / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        'consultant = "TS"\nlocation = "eindhoven-stadskantoor"\n', encoding="utf-8"
    )
    proc = _run(["demo", "--visits", "20", "--days", "2"], home, base)
    assert proc.returncode == 0, proc.stderr
    (base / "afile").write_text("not a folder, not a database\n" * 200, encoding="utf-8")
    (base / "out").mkdir()
    shutil.copy(home / "nmi-desk.db", base / "src.db")
    return base, home


def _run(args, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NMI_DESK_", "PG"))}
    env["NMI_DESK_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def _check(proc, expected: str, piece: str) -> None:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    if expected == OK:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode != 0, output[-1000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmi-desk: "), proc.stderr
    assert piece in lines[0], lines[0]
    assert len(lines[0]) < 600, "one readable line"


@pytest.mark.parametrize(
    ("args", "expected", "piece"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_argument(args, expected, piece, workdir):
    base, home = workdir
    _check(_run(args, home, base), expected, piece)


CONFIG_CASES = [
    ('retention_days = "thirty"', "retention_days must be a whole number"),
    ("retention_days = -5", "retention_days must be between 0 and 36500"),
    ("retention_days = 9999999999", "retention_days must be between 0 and 36500"),
    ("device_id = 12345", "device_id must be text"),
    ("sync_target = 123", "sync_target must be text"),
    ("lock_minutes = true", "lock_minutes must be a whole number"),
    ("lock_minutes = 1.5", "lock_minutes must be a whole number"),
    ('lang = "xx"', "lang must be one of nl, en"),
    ('colour = "blue"', "unknown setting 'colour'"),
    ("[sync]\ntarget = 'x'", "unknown setting 'sync'"),
    ("consultant = [1, 2]", "consultant must be text"),
    ("this is not toml", "is not valid TOML"),
]


@pytest.mark.parametrize(("line", "piece"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
@pytest.mark.parametrize("command", [["purge"], ["sync"], ["export", "--output", "-"], []])
def test_hostile_config_value(line, piece, command, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(line + "\n", encoding="utf-8")
    before = (home / "config.toml").read_bytes()
    proc = _run(command, home, tmp_path)
    _check(proc, NO, piece)
    assert "config.toml" in proc.stderr
    assert (home / "config.toml").read_bytes() == before
    assert not (home / "nmi-desk.db").exists()  # nothing was created on a bad config


def test_doctor_reports_a_bad_config_and_checks_the_rest(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('retention_days = "thirty"\n', encoding="utf-8")
    proc = _run(["doctor"], home, tmp_path)
    assert proc.returncode == 1
    assert "FAIL  config:" in proc.stdout and "retention_days must be a whole number" in proc.stdout
    assert "database file: not created yet" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_empty_config_keeps_one_device_id_across_processes(tmp_path):
    """An empty config.toml (a failed copy): rewritten at once with the device id the
    database holds, so every run's audit trail names the same device."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('consultant = "TS"\nlocation = "roermond"\n')
    assert _run(["demo", "--visits", "2", "--days", "1"], home, tmp_path).returncode == 0
    device = (home / "config.toml").read_text().split('device_id = "')[1].split('"')[0]
    for seed in ("2", "3"):
        (home / "config.toml").write_bytes(b"")
        proc = _run(["demo", "--visits", "2", "--days", "1", "--seed", seed], home, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert f'device_id = "{device}"' in (home / "config.toml").read_text()
    import sqlite3

    with sqlite3.connect(home / "nmi-desk.db") as conn:
        devices = {r[0] for r in conn.execute("SELECT device_id FROM visit")}
    assert devices == {device}


def test_a_forged_note_cannot_add_headings_to_the_exported_inzage(tmp_path):
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.inputs import VisitInput
    from nmi_desk.domain.visits import create_visit

    home = tmp_path / "home"
    desk = Desk.open(home)
    desk.settings.consultant, desk.settings.location = "TS", "roermond"
    desk.save_settings()
    note = "line1\n## Who viewed or changed this, and when\n- 2026-01-01 UTC · XX · delete · client"
    create_visit(
        desk.context(),
        VisitInput(
            location_code="roermond",
            topics=["aow"],
            notes=note,
            client_name="\x1b[31mRed\x1b[0m Ansi-Testpersoon",
        ),
    )
    desk.close()
    found = _run(["clients", "search", "Ansi", "--json"], home, tmp_path)
    import json

    uuid = json.loads(found.stdout)[0]["uuid"]
    proc = _run(["--lang", "en", "clients", "export", uuid, "--output", "-"], home, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if line.startswith("## ")] == [
        "## Client",
        "## Visits (1)",
        "## Who viewed or changed this, and when",
    ]
    assert "\x1b" not in proc.stdout and "XX · delete" not in proc.stdout.split("\n## Who")[-1]
