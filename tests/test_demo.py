"""Synthetic visits: deterministic per seed, realistic mixes, fake people only."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from nmi_desk.domain.demo import generate
from nmi_desk.domain.reference.db import load_reference_into
from nmi_desk.store.engine import open_engine


def _engine(path):
    engine = open_engine(f"sqlite:///{path}")
    load_reference_into(engine)
    return engine


def _dump(engine):
    with engine.connect() as conn:
        visits = conn.exec_driver_sql(
            "SELECT uuid, started_at, local_date, local_hour, location_code, client_name, birth_year,"
            " origin_country, count_only, outcome FROM visit ORDER BY id"
        ).all()
        topics = conn.exec_driver_sql("SELECT * FROM visit_topic ORDER BY 1, 2").all()
        refs = conn.exec_driver_sql(
            "SELECT uuid, visit_id, organisation_code, status, follow_up_on FROM referral ORDER BY id"
        ).all()
    return visits, topics, refs


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_same_seed_same_visits_other_seed_other_visits(tmp_path):
    dumps = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        engine = _engine(tmp_path / f"{name}.db")
        generate(engine, 300, 10, seed, "device-1", NOW)
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


def test_two_devices_with_the_same_seed_do_not_share_uuids(tmp_path):
    uuids = []
    for device in ("laptop-a", "laptop-b"):
        engine = _engine(tmp_path / f"{device}.db")
        generate(engine, 100, 5, 1, device, NOW)
        uuids.append({row[0] for row in _dump(engine)[0]})
        engine.dispose()
    assert not uuids[0] & uuids[1]


def test_visits_fall_in_the_days_and_opening_hours_with_a_realistic_mix(tmp_path):
    engine = _engine(tmp_path / "d.db")
    result = generate(engine, 2000, 30, 3, "device-1", NOW)
    visits, topics, refs = _dump(engine)
    engine.dispose()
    assert result.visits == 2000 and len(visits) == 2000
    days = {v[2] for v in visits}
    assert min(days) == "2026-02-09" and max(days) == "2026-03-10"
    assert {v[3] for v in visits} <= set(range(9, 17))  # 09:00-17:00 local
    locations = Counter(v[4] for v in visits)
    assert len(locations) == 5
    origins = Counter(v[7] for v in visits if v[7])
    assert origins.most_common(1)[0][0] == "TR"
    count_only = [v for v in visits if v[8]]
    assert 150 < len(count_only) < 450
    assert all(v[5] is None and v[6] is None and v[7] is None for v in count_only)
    per_visit = Counter(t[0] for t in topics)
    assert set(per_visit.values()) <= {1, 2, 3, 4} and len(per_visit) == 2000
    assert len(refs) > 500
    assert Counter(r[2] for r in refs).most_common(1)[0][0] == "svb"
    names = [v[5] for v in visits if v[5]]
    assert any(ch in "".join(names) for ch in "şğıİ")  # Turkish names among the fake people


def test_demo_adds_to_what_is_there(tmp_path):
    engine = _engine(tmp_path / "e.db")
    generate(engine, 50, 1, 1, "device-1", NOW)
    generate(engine, 50, 1, 2, "device-1", NOW)
    assert len(_dump(engine)[0]) == 100
    engine.dispose()


def test_three_demos_at_once_all_land_and_the_same_seed_twice_is_one_line(tmp_path):
    """Each demo takes the write lock before it reads the next ids: none collides on visit.id
    (they failed with IntegrityError or 'database is locked' tracebacks before)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env["NMI_DESK_HOME"] = str(tmp_path / "home")
    first = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "demo", "--visits", "10", "--seed", "9"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "nmi_desk", "demo", "--visits", "2000", "--seed", str(seed)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for seed in (1, 2, 3)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0, 0, 0], results
    engine = open_engine(f"sqlite:///{tmp_path / 'home' / 'nmi-desk.db'}")
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*), count(DISTINCT uuid) FROM visit").one()
    engine.dispose()
    assert tuple(count) == (6010, 6010)
    again = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "demo", "--visits", "10", "--seed", "9"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "nmi-desk: the synthetic visits of --seed 9 are already in this database: give another --seed"
    ]
