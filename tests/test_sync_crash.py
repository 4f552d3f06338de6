"""kill -9 of a real `nmi-desk sync` process at named points, and two laptops syncing at once.

Each run is a subprocess; NMI_DESK_SYNC_CRASH_AT makes it SIGKILL itself at the named point
(nmi_desk/sync/crashpoints.py). After the kill the laptop keeps working (edits, a delete), then a
plain re-run must leave every record centrally exactly once, at its latest revision.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from test_sync import (
    GUIDANCE,
    assert_central_equals_local,
    central_snapshot,
    edit,
    make_desk,
    snapshot,
)

from nmi_desk.domain.demo import generate
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.stats.compute import compute_stats
from nmi_desk.domain.visits import delete_visit
from nmi_desk.store.engine import open_engine
from nmi_desk.sync.crashpoints import CRASH_ENV
from nmi_desk.sync.publish import publish_guidance, read_library
from tests.stats_oracle import per_day, read_rows

pytestmark = pytest.mark.slow


def run_sync(home: Path, url: str, crash: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env["NMI_DESK_HOME"] = str(home)
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.Popen(
        [sys.executable, "-m", "nmi_desk", "sync", "--target", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


# A first push takes the fast lane (sync/fast_lane.py): two central transactions, the new
# visits (@1), then the clients (@2); after-stage is passed once per record kind. Edited
# records take the per-batch path: 2,600 of them are two batches, the points @2 in the second.
POINTS = [
    ("first push", "after-read"),
    ("first push", "after-stage@2"),  # the clients staged, the visits committed before
    ("first push", "before-central-commit"),
    ("first push", "before-central-commit@2"),  # the clients' transaction
    ("first push", "after-central-commit"),  # central committed, the laptop not yet told
    ("first push", "after-local-mark"),
    ("first push", "before-fold"),  # committed, the per-day counts not yet in visit_daily
    ("first push", "during-pull"),
    ("edits", "after-read@2"),
    ("edits", "after-stage@2"),
    ("edits", "before-central-commit@2"),
    ("edits", "after-central-commit@2"),
    ("edits", "after-local-mark@1"),
    ("edits", "before-fold"),  # every batch committed, their counts not yet folded
]


def assert_central_counts_exact(url: str) -> None:
    """The statistics a central export gives equal the rows' (visit_daily plus any deferred
    deltas of a push killed before its fold)."""
    engine = open_engine(url)
    try:
        first, last = date(2000, 1, 1), date(2100, 1, 1)
        assert compute_stats(engine, first, last) == compute_stats(
            engine, first, last, from_rows=True
        )
    finally:
        engine.dispose()


@pytest.mark.parametrize(("push", "point"), POINTS)
def test_kill_9_then_rerun_leaves_every_record_once_at_its_latest_revision(
    tmp_path, clock, pg_url, push, point
):
    desk = make_desk(tmp_path / "laptop", clock, "device-kill")
    generate(desk.engine(), 2600, 20, 11, desk.settings.device_id, desk.now())  # 2 batches
    with desk.engine().connect() as c:
        # Visits with client details (a count-only visit takes no notes), first batch to last.
        uuids = [
            r[0]
            for r in c.exec_driver_sql("SELECT uuid FROM visit WHERE count_only = 0 ORDER BY id")
        ]
    desk.close()
    if push == "edits":  # every visit central already, then edited on the laptop
        code, output = finish(run_sync(desk.paths.home, pg_url))
        assert code == 0, output
        with desk.engine().begin() as c:
            c.exec_driver_sql(
                "UPDATE visit SET revision = revision + 1, notes = 'Bijgewerkt',"
                " updated_at = '2026-03-10 09:31:00.000000' WHERE count_only = 0"
            )
            c.exec_driver_sql(
                "UPDATE visit SET revision = revision + 1, channel = 'phone',"
                " updated_at = '2026-03-10 09:31:00.000000' WHERE count_only = 1"
            )
        desk.close()
    central = open_engine(pg_url)  # something to pull: the reviewed guidance library
    published = publish_guidance(central, read_library(GUIDANCE), desk.now()).published
    central.dispose()

    code, output = finish(run_sync(desk.paths.home, pg_url, crash=point))
    assert code == -signal.SIGKILL, output  # it really died at that point
    assert_central_counts_exact(pg_url)  # what was committed is counted, once

    # The consultant carries on: edits of records on either side of the crash, and a delete.
    clock.advance(minutes=3)
    for uuid in (uuids[0], uuids[1500], uuids[-1]):
        edit(desk, uuid, "Na de onderbreking")
    delete_visit(desk.context(), uuids[10])
    desk.close()

    code, output = finish(run_sync(desk.paths.home, pg_url))
    assert code == 0, output
    local = snapshot(desk.engine())
    central = central_snapshot(pg_url)
    assert_central_equals_local(central, local)  # once each, same revision, same topics
    assert central["visits"][uuids[1500]] == local["visits"][uuids[1500]]
    assert central["visits"][uuids[1500]][1:] == (False, "Na de onderbreking")
    assert central["visits"][uuids[10]][1] is True
    with desk.engine().connect() as c:
        assert (
            c.exec_driver_sql(
                "SELECT count(*) FROM visit WHERE revision > synced_revision"
            ).scalar_one()
            == 0
        )
        pulled = c.exec_driver_sql("SELECT slug FROM guidance_article").scalars().all()
    assert sorted(pulled) == sorted(published)
    desk.close()
    central = open_engine(pg_url)
    try:  # the re-run folded every deferred count, the killed run's too
        with central.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM visit_daily_deferred").scalar() == 0
            rows = c.exec_driver_sql(
                "SELECT local_date, location_code, dimension, key, n FROM visit_daily WHERE n <> 0"
            ).all()
        assert {tuple(r[:4]): r[4] for r in rows} == per_day(read_rows(central))
    finally:
        central.dispose()


def test_kill_9_between_central_commit_and_local_mark_on_a_sqlite_target(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'central.db'}"
    desk = make_desk(tmp_path / "laptop", clock, "device-usb")
    generate(desk.engine(), 1500, 10, 5, desk.settings.device_id, desk.now())
    desk.close()
    code, output = finish(run_sync(desk.paths.home, url, crash="after-central-commit@1"))
    assert code == -signal.SIGKILL, output
    code, output = finish(run_sync(desk.paths.home, url))
    assert code == 0, output
    assert_central_equals_local(central_snapshot(url), snapshot(desk.engine()))
    desk.close()


def test_two_laptops_syncing_at_once_give_the_sum_without_duplicates(tmp_path, clock, pg_url):
    homes = []
    for name, seed in (("eindhoven", 1), ("roermond", 2)):
        home = tmp_path / name
        proc = subprocess.run(
            [sys.executable, "-m", "nmi_desk", "demo", "--visits", "2000", "--seed", str(seed)],
            env={**os.environ, "NMI_DESK_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        homes.append(home)

    procs = [run_sync(home, pg_url) for home in homes]  # both at the same time
    for proc in procs:
        code, output = finish(proc)
        assert code == 0, output

    locals_ = []
    for home in homes:
        d = Desk.open(home, clock=clock)
        locals_.append(snapshot(d.engine()))
        d.close()
    central = central_snapshot(pg_url)
    both = {key: {**locals_[0][key], **locals_[1][key]} for key in ("visits", "referrals")}
    assert len(both["visits"]) == 4000  # different devices: no shared UUIDs
    assert central["visit_rows"] == 4000 and central["visits"] == both["visits"]
    assert central["referrals"] == both["referrals"]
    assert central["topics"] == locals_[0]["topics"] | locals_[1]["topics"]
