"""A push batch of new visits counts their topic links and referrals set-based (push.py,
daily_counts.new_links_sql) instead of through the insert triggers: the central per-day counts
must equal an independent count of the rows (tests/stats_oracle.py) after a first push of
several batches, and again after edits that go through the triggers.
"""

from __future__ import annotations

from sqlalchemy import text

from nmi_desk.domain.demo import generate
from nmi_desk.store import daily_counts
from nmi_desk.store.engine import open_engine
from tests.stats_oracle import per_day, read_rows
from tests.test_sync import edit, make_desk, sync


def _central_counts(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT local_date, location_code, dimension, key, sum(n) FROM"
                f" {daily_counts.counts_source(True)} GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0"
            )
        ).all()
    return {tuple(r[:4]): r[4] for r in rows}


def test_a_first_push_counts_new_links_set_based_and_exactly(tmp_path, clock, pg_url, monkeypatch):
    calls = []
    inner = daily_counts.new_links_sql

    def counted():
        calls.append(1)
        return inner()

    monkeypatch.setattr(daily_counts, "new_links_sql", counted)
    desk = make_desk(tmp_path / "laptop", clock, "device-set")
    generate(desk.engine(), 1500, 30, 5, desk.settings.device_id, desk.now())
    central = open_engine(pg_url)
    try:
        sync(desk, pg_url, batch_size=400)
        assert len(calls) >= 4  # every batch of new visits took the set-based count
        oracle = per_day(read_rows(central))
        assert oracle  # topics, groups and referrals among them
        assert {k[2] for k in oracle} >= {"by_topic", "by_referral"}
        assert _central_counts(central) == oracle

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
        before = len(calls)
        sync(desk, pg_url)
        assert len(calls) == before  # a batch with rows that were there: the triggers
        assert _central_counts(central) == per_day(read_rows(central))
    finally:
        central.dispose()
        desk.close()
