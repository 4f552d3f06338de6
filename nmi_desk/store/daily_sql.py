"""SQL the per-day count modules share: the summary table, the rule's counted columns, the
dimension codes of the link counts (store.daily_counts, store.daily_triggers_sqlite)."""

from __future__ import annotations

from nmi_desk.store.dimensions import (
    REFERRAL,
    TOPIC,
    TOPIC_GROUP,
    VISIT_DIMENSIONS,
    of,
    topic_group_sql,
)

TABLE = "visit_daily"
TOPIC_CODE = of(TOPIC).code
GROUP_CODE = of(TOPIC_GROUP).code
REFERRAL_CODE = of(REFERRAL).code

# The visit columns whose change moves counts (never the sync bookkeeping).
VISIT_COUNTED = ("deleted", "local_date", "location_code") + tuple(
    d.column for d in VISIT_DIMENSIONS if d.column != "location_code"
)
REFERRAL_COUNTED = ("deleted", "organisation_code", "visit_id")

INSERT_COUNTS = f"INSERT INTO {TABLE} (local_date, location_code, dimension, key, n) "
UPSERT_COUNTS = (
    " ON CONFLICT (local_date, location_code, dimension, key) DO UPDATE SET n = n + excluded.n"
)


def group_of(alias: str, joined: str) -> str:
    """The topic group of link alias.topic_code, with `topic` joined as `joined`."""
    return topic_group_sql(f"{alias}.topic_code", f"{joined}.parent")
