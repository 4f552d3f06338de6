"""Many counter laptops syncing to one central database at the same moment, as processes.

Used by tests/test_sync_many.py (20+ laptops) and benchmarks/sync_many.py (50). Each laptop is
its own data dir; `nmi-desk demo` fills it (its own seed, so its own records), then every
laptop runs `nmi-desk sync` at once. Two of them share records: the second is a copy of the
first (another device id), and both edit the same visit, the copy once more, so the conflict
rule has something to decide while everything else goes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

TABLES = ("visit", "referral", "info_session", "audit_event")


@dataclass
class Fleet:
    homes: list[Path]
    contested: str  # the visit both laptops of the pair edited
    winner: tuple[str, int]  # device id, revision
    loser: tuple[str, int]


def _run(home: Path, *args: str, timeout: float = 600) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _wait(procs: list[subprocess.Popen], what: str) -> None:
    failed = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            failed.append(f"{what}: exit {proc.returncode}: {err.strip()[-500:]}")
    assert not failed, "\n".join(failed)


def _edit(home: Path, uuid: str, notes: str, times: int) -> tuple[str, int]:
    """What the visit form does, `times` over; returns the device id and the new revision."""
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.visits import load_visit, update_visit

    desk = Desk.open(home)
    desk.settings.consultant = desk.settings.consultant or "ML"
    try:
        for i in range(times):
            inp = load_visit(desk.context(), uuid).input
            inp.notes = f"{notes} {i}"
            revision = update_visit(desk.context(), uuid, inp)
        return desk.settings.device_id, revision
    finally:
        desk.close()


def prepare(root: Path, laptops: int, visits: int) -> Fleet:
    """Data dirs with demo records, the first two sharing theirs; nothing synced yet."""
    import tomllib
    import uuid

    import tomli_w

    homes = [root / f"laptop-{i:02d}" for i in range(laptops)]
    # The pair's first laptop before the others: the copy is taken from it.
    _wait([_run(homes[0], "demo", "--visits", str(visits), "--seed", "100")], "demo")
    shutil.copytree(homes[0], homes[1])
    config = homes[1] / "config.toml"
    settings = tomllib.loads(config.read_text())
    settings["device_id"] = uuid.uuid4().hex  # another laptop, same records
    config.write_text(tomli_w.dumps(settings))
    demos = [
        _run(home, "demo", "--visits", str(visits), "--seed", str(100 + i))
        for i, home in enumerate(homes)
        if i >= 2
    ]
    _wait(demos, "demo")

    from nmi_desk.domain.desk import Desk

    desk = Desk.open(homes[0])
    with desk.engine().connect() as c:
        contested = c.execute(
            text("SELECT uuid FROM visit WHERE count_only = 0 ORDER BY id LIMIT 1")
        ).scalar_one()
    desk.close()
    loser = _edit(homes[0], contested, "Eerste laptop", 1)
    winner = _edit(homes[1], contested, "Tweede laptop", 2)  # one revision more: it wins
    return Fleet(homes, contested, winner, loser)


def sync_all(fleet: Fleet, url: str) -> float:
    """Every laptop's `nmi-desk sync` started at once; the wall time until the last is done."""
    started = time.perf_counter()
    _wait([_run(home, "sync", "--target", url) for home in fleet.homes], "sync")
    return time.perf_counter() - started


def held(fleet: Fleet) -> dict[str, set]:
    """The union of what the laptops hold, per table (the pair shares its records)."""
    from nmi_desk.domain.desk import Desk

    out: dict[str, set] = {t: set() for t in (*TABLES, "visit_topic")}
    for home in fleet.homes:
        desk = Desk.open(home)
        with desk.engine().connect() as c:
            for t in TABLES:
                out[t] |= {r[0] for r in c.execute(text(f"SELECT uuid FROM {t}"))}
            out["visit_topic"] |= set(
                c.execute(
                    text(
                        "SELECT v.uuid, t.topic_code FROM visit_topic t"
                        " JOIN visit v ON v.id = t.visit_id"
                    )
                ).all()
            )
        desk.close()
    return out


def check_central(fleet: Fleet, url: str) -> None:
    """Per table: count = distinct uuids = what the laptops hold; the conflict rule held."""
    from nmi_desk.store.engine import open_engine

    expected = held(fleet)
    engine = open_engine(url)
    try:
        with engine.connect() as c:
            for t in TABLES:
                count, distinct = c.execute(
                    text(f"SELECT count(*), count(DISTINCT uuid) FROM {t}")
                ).one()
                uuids = {r[0] for r in c.execute(text(f"SELECT uuid FROM {t}"))}
                assert count == distinct == len(expected[t]), (t, count, distinct)
                assert uuids == expected[t], t
            topics = set(
                c.execute(
                    text(
                        "SELECT v.uuid, t.topic_code FROM visit_topic t"
                        " JOIN visit v ON v.id = t.visit_id"
                    )
                ).all()
            )
            assert topics == expected["visit_topic"]
            revision, device, notes = c.execute(
                text("SELECT revision, device_id, notes FROM visit WHERE uuid = :u"),
                {"u": fleet.contested},
            ).one()
            losers = c.execute(
                text(
                    "SELECT loser_revision, loser_device FROM sync_conflict"
                    " WHERE record_uuid = :u AND table_name = 'visit'"
                ),
                {"u": fleet.contested},
            ).all()
    finally:
        engine.dispose()
    assert fleet.winner[1] == fleet.loser[1] + 1
    assert (device, revision, notes) == (*fleet.winner, "Tweede laptop 1")
    assert losers == [(fleet.loser[1], fleet.loser[0])]
