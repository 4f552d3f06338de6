"""Central per-day counts of a push, checked against an independent count of the rows
(tests/stats_oracle.py):
- a push of at most a batch of new visits (the fast lane, sync/fast_lane.py) counts their
  topic links and referrals set-based (daily_counts.new_links_sql), not through the insert
  triggers;
- a push of more new visits than that, and a push of several batches of edited visits (the
  per-batch path), count nothing while they run and fold their visits from their rows at the
  end (daily_counts: visit_daily_uncounted; sync/fold.py); until then, and when a later push
  changes one of those visits first, the readers' figures are exact all the same;
- edits of rows that were there go through the triggers.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text

from nmi_desk.domain.demo import generate
from nmi_desk.domain.stats.compute import compute_stats
from nmi_desk.domain.visits import create_visit, delete_visit, load_visit, update_visit
from nmi_desk.store import daily_counts
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import fold as fold_module
from nmi_desk.sync import push as push_module
from nmi_desk.sync.fold import fold_counts
from tests.stats_oracle import per_day, read_rows
from tests.test_sync import edit, make_desk, sync, walk_in


def _central_counts(engine) -> dict:
    """What readers count: visit_daily, deferred deltas, uncounted visits from their rows."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT local_date, location_code, dimension, key, sum(n) FROM"
                f" {daily_counts.counts_source(True, True)} GROUP BY 1, 2, 3, 4"
                " HAVING sum(n) <> 0"
            )
        ).all()
    return {tuple(r[:4]): r[4] for r in rows}


def _folded(engine) -> dict:
    """visit_daily alone; nothing may be left uncounted or deferred."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visit_daily_uncounted")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM visit_daily_deferred")).scalar() == 0
        rows = conn.execute(
            text(
                "SELECT local_date, location_code, dimension, key, n FROM visit_daily WHERE n <> 0"
            )
        ).all()
        months = conn.execute(
            text("SELECT month, location_code, dimension, key, n FROM visit_monthly WHERE n <> 0")
        ).all()
    by_month: Counter = Counter()
    for day, location, dimension, key, n in rows:
        by_month[day[:7], location, dimension, key] += n
    assert {tuple(r[:4]): r[4] for r in months} == dict(+by_month)  # kept with visit_daily
    return {tuple(r[:4]): r[4] for r in rows}


def _uncounted(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM visit_daily_uncounted")).scalar_one()


def _export_exact(engine) -> None:
    first, last = date(2000, 1, 1), date(2100, 1, 1)
    assert compute_stats(engine, first, last) == compute_stats(engine, first, last, from_rows=True)


def _set_based_calls(monkeypatch) -> list:
    calls: list = []
    inner = daily_counts.new_links_sql

    def counted():
        calls.append(1)
        return inner()

    monkeypatch.setattr(daily_counts, "new_links_sql", counted)
    return calls


def test_pushes_of_one_batch_and_of_many_count_exactly(tmp_path, clock, pg_url, monkeypatch):
    calls = _set_based_calls(monkeypatch)
    desk = make_desk(tmp_path / "laptop", clock, "device-set")
    generate(desk.engine(), 1500, 30, 5, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    try:
        sync(desk, pg_url, batch_size=400)
        assert calls == []  # several batches: counted once, by the fold at the end
        oracle = per_day(read_rows(central))
        assert {k[2] for k in oracle} >= {"by_topic", "by_topic_group", "by_referral"}
        assert _folded(central) == oracle

        # New visits, one batch: their links counted set-based in their own transaction.
        for _ in range(3):
            create_visit(desk.context(), walk_in())
        sync(desk, pg_url, batch_size=400)
        assert len(calls) == 1
        assert _folded(central) == per_day(read_rows(central))

        # Edits (topics changed, a referral's visit edited): existing rows, the triggers count.
        with desk.engine().connect() as conn:
            uuids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT uuid FROM visit WHERE count_only = 0 ORDER BY id LIMIT 5"
                )
            ]
        for uuid in uuids:
            edit(desk, uuid, "Later aangevuld", topics=["zorg", "aow"])
        sync(desk, pg_url)
        assert len(calls) == 1  # a batch with rows that were there: the triggers
        assert _folded(central) == per_day(read_rows(central))
    finally:
        central.dispose()
        desk.close()


def test_visits_not_yet_folded_are_counted_and_may_change_first(
    tmp_path, clock, pg_url, monkeypatch
):
    """A push killed before its fold (the fold left out here) leaves its visits uncounted in
    visit_daily: the export counts them from their rows. A later push edits some of them
    (notes only, topics, a tombstone) before any fold: still exact; the fold then counts
    the rest, each visit once."""
    desk = make_desk(tmp_path / "laptop", clock, "device-unfolded")
    generate(desk.engine(), 1200, 30, 6, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    fold = push_module.fold_counts
    try:
        monkeypatch.setattr(push_module, "fold_counts", lambda *a, **kw: None)
        sync(desk, pg_url, batch_size=300)
        assert _uncounted(central) == 1  # the fast lane's one transaction
        with central.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM visit_daily")).scalar() == 0
        oracle = per_day(read_rows(central))
        assert _central_counts(central) == oracle
        _export_exact(central)

        with desk.engine().connect() as conn:
            uuids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT uuid FROM visit WHERE count_only = 0 ORDER BY id LIMIT 3"
                )
            ]
        edit(desk, uuids[0], "Alleen de notitie")  # no counted column changes
        edit(desk, uuids[1], "Ander onderwerp", topics=["schulden"])
        delete_visit(desk.context(), uuids[2])
        sync(desk, pg_url)  # one batch: counted by the triggers, still no fold
        assert _central_counts(central) == per_day(read_rows(central))
        _export_exact(central)

        monkeypatch.setattr(push_module, "fold_counts", fold)
        create_visit(desk.context(), walk_in())
        sync(desk, pg_url)  # an everyday push folds what was left
        assert _folded(central) == per_day(read_rows(central))
        _export_exact(central)
    finally:
        central.dispose()
        desk.close()


def test_several_batches_of_edited_visits_are_counted_by_the_fold(
    tmp_path, clock, pg_url, monkeypatch
):
    """Visits the central side has already take the per-batch path: more than a batch of them
    edited (topics changed) count nothing while the push runs, and the fold at its end counts
    them, each once."""
    calls = _set_based_calls(monkeypatch)
    desk = make_desk(tmp_path / "laptop", clock, "device-edits")
    generate(desk.engine(), 400, 30, 4, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    fold = push_module.fold_counts
    try:
        sync(desk, pg_url)
        with desk.engine().connect() as conn:
            uuids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT uuid FROM visit WHERE count_only = 0 ORDER BY id LIMIT 130"
                )
            ]
        for i, uuid in enumerate(uuids):
            edit(desk, uuid, "Bijgewerkt", topics=["schulden"] if i % 2 else ["zorg", "aow"])
        monkeypatch.setattr(push_module, "fold_counts", lambda *a, **kw: None)
        calls.clear()
        sync(desk, pg_url, batch_size=50)
        assert calls == []  # nothing new: no fast lane counting
        assert _uncounted(central) == 3  # one marker per batch of edited visits
        assert _central_counts(central) == per_day(read_rows(central))
        _export_exact(central)

        monkeypatch.setattr(push_module, "fold_counts", fold)
        push_module.fold_counts(central)
        assert _folded(central) == per_day(read_rows(central))
    finally:
        central.dispose()
        desk.close()


def _precounted(monkeypatch) -> list[bool]:
    """How each fold made its counts: True from the fast lane's precount (sync/fold.py),
    False from the rows."""
    used: list[bool] = []
    inner = daily_counts.fold_counts_sql

    def spy(precounted: bool = False) -> list[str]:
        used.append(precounted)
        return inner(precounted)

    monkeypatch.setattr(daily_counts, "fold_counts_sql", spy)
    return used


def _folds_held(monkeypatch) -> list:
    """The pushes' folds left out: the counts made beside each push, in order (sync/fold.py),
    for the test to fold when it chooses."""
    held: list = []
    monkeypatch.setattr(
        push_module, "fold_counts", lambda *a, precount=None, **kw: held.append(precount)
    )
    return held


def _drop(held: list) -> None:
    for precount in held:
        if precount is not None:
            precount.drop()


def _first_visits(desk, n: int) -> list[str]:
    with desk.engine().connect() as conn:
        return [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT uuid FROM visit WHERE count_only = 0 AND EXISTS (SELECT 1 FROM referral"
                f" x WHERE x.visit_id = visit.id) ORDER BY id LIMIT {n}"
            )
        ]


def test_a_first_push_counted_beside_its_transaction_is_exact(tmp_path, clock, pg_url, monkeypatch):
    """A big push's visits are counted on a connection of their own while its transaction
    runs, and the fold adds those counts: the same figures as the rows give, tombstoned
    visits and referrals left out."""
    used = _precounted(monkeypatch)
    desk = make_desk(tmp_path / "laptop", clock, "device-precount")
    generate(desk.engine(), 1200, 30, 5, desk.settings.device_id, desk.now())
    uuids = _first_visits(desk, 6)
    for uuid in uuids[:3]:
        delete_visit(desk.context(), uuid)
    for uuid in uuids[3:]:  # a referral dropped from the form: a tombstone
        inp = load_visit(desk.context(), uuid).input
        inp.referrals = []
        update_visit(desk.context(), uuid, inp)
    central = open_engine(pg_url)
    try:
        sync(desk, pg_url, batch_size=300)
        assert used == [True]
        with central.connect() as conn:
            tombstones = conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM visit WHERE deleted),"
                " (SELECT count(*) FROM referral WHERE deleted)"
            ).one()
        assert tombstones[0] == 3 and tombstones[1] >= 6
        assert _folded(central) == per_day(read_rows(central))
        _export_exact(central)
    finally:
        central.dispose()
        desk.close()


def test_a_precount_is_not_used_once_a_later_push_touched_its_visits(
    tmp_path, clock, pg_url, monkeypatch
):
    """Between a big push's commit and its fold another push edits some of its visits (the
    triggers count the new versions): the fold counts that push's visits from their rows,
    not from the copy made before the edits."""
    desk = make_desk(tmp_path / "laptop", clock, "device-stale")
    generate(desk.engine(), 1000, 30, 5, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    held = _folds_held(monkeypatch)
    try:
        sync(desk, pg_url, batch_size=300)
        assert held[0] is not None
        uuids = _first_visits(desk, 2)
        edit(desk, uuids[0], "Ander onderwerp", topics=["schulden"])
        delete_visit(desk.context(), uuids[1])
        sync(desk, pg_url)  # one batch: counted by the triggers
        monkeypatch.undo()
        used = _precounted(monkeypatch)
        fold_counts(central, precount=held[0])
        assert used == [False]
        assert _folded(central) == per_day(read_rows(central))
    finally:
        _drop(held)
        central.dispose()
        desk.close()


def test_visits_the_central_side_had_already_are_not_counted_twice(
    tmp_path, clock, pg_url, monkeypatch
):
    """A push killed after its commit, before the laptop marked its visits synced, sends them
    again with new ones: the lane skips those it finds there and the fold counts from the
    rows; and a precount that failed leaves the fold to the rows too."""
    used = _precounted(monkeypatch)
    desk = make_desk(tmp_path / "laptop", clock, "device-again")
    generate(desk.engine(), 300, 30, 5, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    try:
        sync(desk, pg_url, batch_size=100)
        assert used == [True]
        with desk.engine().begin() as conn:  # the marks a kill after the commit lost
            conn.exec_driver_sql(
                "UPDATE visit SET synced_revision = 0 WHERE id IN"
                " (SELECT id FROM visit ORDER BY id LIMIT 20)"
            )
        for _ in range(120):
            create_visit(desk.context(), walk_in())
        sync(desk, pg_url, batch_size=100)
        assert used == [True, False]
        assert _folded(central) == per_day(read_rows(central))

        def fails(*args):
            raise RuntimeError("the counting connection went away")

        monkeypatch.setattr(fold_module, "_count", fails)
        for _ in range(120):
            create_visit(desk.context(), walk_in())
        sync(desk, pg_url, batch_size=100)
        assert used == [True, False, False]
        assert _folded(central) == per_day(read_rows(central))
        _export_exact(central)
    finally:
        central.dispose()
        desk.close()


def test_a_precount_is_not_used_once_another_fold_counted_its_visits(
    tmp_path, clock, pg_url, monkeypatch
):
    """Two big pushes commit, then fold in the order they committed: the earlier one's fold
    counts the later one's visits from their rows too (their marker is uncounted), and no
    later push touched the later one's visits, so only its marker, gone, tells its fold not
    to add its own counts as well."""
    desk = make_desk(tmp_path / "laptop", clock, "device-two-folds")
    generate(desk.engine(), 600, 30, 5, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    held = _folds_held(monkeypatch)
    try:
        sync(desk, pg_url, batch_size=200)
        for _ in range(250):
            create_visit(desk.context(), walk_in())
        sync(desk, pg_url, batch_size=100)
        assert None not in held and len(held) == 2
        assert _uncounted(central) == 2
        monkeypatch.undo()
        fold_counts(central, precount=held[0])  # a later push committed: from the rows
        fold_counts(central, precount=held[1])  # its visits were counted just now
        assert _folded(central) == per_day(read_rows(central))
    finally:
        _drop(held)
        central.dispose()
        desk.close()
