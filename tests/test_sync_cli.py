"""`nmi-desk sync` as a user runs it: one line on failure, nothing lost, no password saved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from nmi_desk.domain.desk import Desk


def run(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _pending(home: Path) -> int:
    desk = Desk.open(home)
    try:
        with desk.engine().connect() as c:
            return c.execute(
                text("SELECT count(*) FROM visit WHERE revision > synced_revision")
            ).scalar_one()
    finally:
        desk.close()


def test_unreachable_server_is_one_line_and_loses_nothing(isolated_home):
    assert run(isolated_home, "demo", "--visits", "30").returncode == 0
    proc = run(isolated_home, "sync", "--target", "postgresql+psycopg://nmi@127.0.0.1:1/central")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nmi-desk: cannot reach sync target"), (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert _pending(isolated_home) == 30
    desk = Desk.open(isolated_home)
    with desk.engine().connect() as c:
        error = c.execute(text("SELECT value FROM app_meta WHERE key = 'sync.last_error'"))
        assert "cannot reach sync target" in error.scalar_one()
    desk.close()


def test_no_target_and_a_wrong_scheme_are_one_line(isolated_home):
    proc = run(isolated_home, "sync")
    assert proc.returncode == 1 and proc.stderr.startswith("nmi-desk: no sync target"), proc.stderr
    proc = run(isolated_home, "sync", "--target", "mysql://x@host/db")
    assert proc.returncode == 1 and "not supported" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_password_never_lands_in_the_config_file(isolated_home, pg_url):
    from sqlalchemy.engine import make_url

    with_secret = make_url(pg_url).set(password="Geheim-123").render_as_string(hide_password=False)
    assert run(isolated_home, "demo", "--visits", "5").returncode == 0
    proc = run(isolated_home, "sync", "--target", with_secret)  # trust auth ignores it
    assert proc.returncode == 0, proc.stderr
    assert "Geheim-123" not in proc.stdout + proc.stderr
    config = (isolated_home / "config.toml").read_text(encoding="utf-8")
    assert "Geheim-123" not in config and "sync_target" in config
    # The saved target is used next time; NMI_DESK_SYNC_URL overrides it.
    assert run(isolated_home, "sync").returncode == 0
    proc = run(isolated_home, "sync", env={"NMI_DESK_SYNC_URL": "sqlite:////nonexistent/x.db"})
    assert proc.returncode == 1 and "/nonexistent" in proc.stderr


def test_publish_guidance_reports_new_and_unchanged(isolated_home, tmp_path):
    library = Path(__file__).resolve().parents[1] / "data" / "guidance"
    target = f"sqlite:///{tmp_path / 'central.db'}"
    first = run(isolated_home, "publish-guidance", str(library), "--target", target)
    assert first.returncode == 0, first.stderr
    count = len(list(library.glob("*.md")))
    assert f"published {count} article(s)" in first.stdout
    again = run(isolated_home, "publish-guidance", str(library), "--target", target)
    assert "published 0 article(s)" in again.stdout and f"{count} already there" in again.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.md").write_text("+++\nslug = 'x'\n+++\nbody\n", encoding="utf-8")
    proc = run(isolated_home, "publish-guidance", str(bad), "--target", target)
    assert proc.returncode == 1 and "revision" in proc.stderr


def test_publish_guidance_refuses_a_library_that_fails_the_check(isolated_home, tmp_path):
    """Only a reviewed library goes out: an unknown topic code or a plain-http source stops it."""
    library = tmp_path / "lib"
    library.mkdir()
    broken = Path(__file__).resolve().parent / "fixtures" / "guidance_broken"
    for name in ("good-article.md", "unknown-codes.md"):
        (library / name).write_text((broken / name).read_text(encoding="utf-8"), encoding="utf-8")
    target = f"sqlite:///{tmp_path / 'central.db'}"
    proc = run(isolated_home, "publish-guidance", str(library), "--target", target)
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert line.startswith("nmi-desk: unknown-codes.md: ") and "\n" not in line
    assert not (tmp_path / "central.db").exists()  # refused before the target was touched


def test_the_everyday_sync_builds_no_model_classes(desk, tmp_path):
    """`nmi-desk sync` of a few new visits runs on SQL alone: the ORM and its model classes
    cost every such sync ~0.25 s of a process that must finish in under a second (issue 19).
    A module on that path that imports them again (at its top, or a helper reaching for
    store/models.py) fails here; so does the pull reading whole the client rows of this
    laptop's own push, which come back as changes."""
    from dataclasses import replace

    from nmi_desk.domain.inputs import ReferralInput, VisitInput
    from nmi_desk.domain.visits import create_visit

    target = f"sqlite:///{tmp_path / 'central.db'}"
    visit = VisitInput(
        location_code="eindhoven-stadskantoor",
        topics=["aow"],
        referrals=[ReferralInput("svb", reason="Test")],
    )
    create_visit(desk.context(), visit)
    first = run(desk.paths.home, "sync", "--target", target, "--yes")  # everything, held clients
    assert first.returncode == 0, first.stderr
    create_visit(desk.context(), replace(visit, client_name="Ottilie Testpersoon"))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "nmi_desk", "sync", "--target", target],
        env={**os.environ, "NMI_DESK_HOME": str(desk.paths.home)},
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pushed 1 client, 1 visit, 1 referral" in proc.stdout
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "nmi_desk.sync.push" in loaded  # what the check below reads is the sync's imports
    heavy = {"sqlalchemy.orm", "sqlmodel", "nmi_desk.store.orm", "nmi_desk.store.models"}
    assert loaded & heavy == set()
