"""Shared fixtures. Every test runs on its own tmp data dir: the developer's own config and
data are never touched."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from nmi_desk.core.clock import AMS

PG_ENV = "NMI_DESK_TEST_PG_URL"


@dataclass
class FixedClock:
    """A clock tests can move: `clock()` returns the current aware UTC time."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment = self.moment + timedelta(**delta)


@pytest.fixture(autouse=True)
def no_patch_outlives_its_test(monkeypatch):
    """A function of nmi_desk replaced by a test and not put back breaks every later test in
    that process (a broken `load_visit` once did, and looked like a flaky form snapshot): fail
    the test that left it. monkeypatch's own changes are undone first (undo is idempotent)."""
    yield
    monkeypatch.undo()
    import sys
    from pathlib import Path

    tests = str(Path(__file__).parent)
    leaked = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("nmi_desk") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            where = getattr(getattr(value, "__code__", None), "co_filename", "")
            if where.startswith(tests) or where == "<string>":  # a test's or an exec'd script's
                leaked.append(f"{name}.{attr} ({where})")
    assert not leaked, f"left patched after the test: {leaked}"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "nmi-home"
    monkeypatch.setenv("NMI_DESK_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("NMI_DESK_SYNC_URL", raising=False)
    # The command line on a laptop nobody set up (a script): who records the export or purge.
    # test_audit checks a desk without one refuses to write.
    monkeypatch.setenv("NMI_DESK_CONSULTANT", "TS")
    return home


@pytest.fixture
def clock():
    # A Tuesday in March, 10:30 in Amsterdam.
    return FixedClock(datetime(2026, 3, 10, 10, 30, tzinfo=AMS).astimezone(UTC))


@pytest.fixture
def desk(isolated_home, clock):
    """A set-up desk on a tmp database: consultant TS at the Eindhoven Stadskantoor."""
    from nmi_desk.domain.desk import Desk

    d = Desk.open(isolated_home, clock=clock)
    d.settings.consultant = "TS"
    d.settings.location = "eindhoven-stadskantoor"
    d.save_settings()
    yield d
    d.close()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema for one test, as a SQLAlchemy URL.

    Skips with a reason when NMI_DESK_TEST_PG_URL is unset (a laptop without PostgreSQL);
    when it is set (as .ci/run does), an unreachable server fails the test instead.
    """
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set: no PostgreSQL to test against")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    query = dict(url.query)
    query["options"] = f"-csearch_path={schema}"
    yield url.set(query=query).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def can_run_as_nobody(folder) -> bool:
    """Whether a process can run as uid 65534 and read a folder it owns (root only; some
    sandboxes refuse it). Used by the read-only folder tests, which need a real non-root user."""
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    os.chown(folder, 65534, 65534)
    probe = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-c", f"import os; os.listdir({str(folder)!r})"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return probe.returncode == 0
