"""The tests' independent count of the statistics: Python over the raw rows, no SQL aggregates.

Which dimensions exist and what each counts comes from the registry (store.dimensions), so a
new dimension is checked as soon as it is declared; how each kind is counted (a visit column,
topic links, topic groups, live referrals) is written here again in Python, apart from the SQL
it checks. The Amsterdam day and hour are worked out from the stored UTC start time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import text

from nmi_desk.core.clock import AMS
from nmi_desk.store.dimensions import (
    DIMENSIONS,
    REFERRAL,
    TOPIC,
    TOPIC_GROUP,
    VISIT,
    shipped_topic_parents,
    topic_group_of,
)


def read_rows(source) -> dict:
    """Every visit, topic link, referral and topic parent of a database (an engine, or the
    path of a plain SQLite file)."""
    if not hasattr(source, "connect"):
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{source}")
        try:
            return read_rows(engine)
        finally:
            engine.dispose()
    engine = source
    cols = sorted({d.column for d in DIMENSIONS if d.counts == VISIT})
    with engine.connect() as conn:
        visits = [
            dict(r._mapping)
            for r in conn.execute(
                text(f"SELECT id, started_at, deleted, {', '.join(cols)} FROM visit")
            )
        ]
        links = [
            tuple(r) for r in conn.execute(text("SELECT visit_id, topic_code FROM visit_topic"))
        ]
        referrals = [
            tuple(r)
            for r in conn.execute(text("SELECT visit_id, organisation_code, deleted FROM referral"))
        ]
        parents = dict(shipped_topic_parents())
        for code, parent in conn.execute(text("SELECT code, parent FROM topic")):
            if parent:
                parents[code] = parent
    return {"visits": visits, "links": links, "referrals": referrals, "parents": parents}


def _moment(started) -> datetime:
    if isinstance(started, str):
        started = datetime.fromisoformat(started)
    return started.replace(tzinfo=UTC).astimezone(AMS)


def per_day(rows: dict) -> Counter:
    """Counts per (Amsterdam day, location, dimension, key): what visit_daily must hold."""
    out: Counter = Counter()
    live = {}
    for v in rows["visits"]:
        if v["deleted"]:
            continue
        moment = _moment(v["started_at"])
        values = dict(v, local_hour=moment.hour)
        where = (moment.date().isoformat(), v["location_code"])
        live[v["id"]] = where
        for d in DIMENSIONS:
            if d.counts == VISIT:
                out[(*where, d.code, d.key_of(values[d.column]))] += 1
    groups: dict[int, set[str]] = {}
    for d in DIMENSIONS:
        if d.counts == TOPIC:
            for vid, code in rows["links"]:
                if vid in live:
                    out[(*live[vid], d.code, code)] += 1
                    groups.setdefault(vid, set()).add(topic_group_of(code, rows["parents"]))
        elif d.counts == REFERRAL:
            for vid, org, deleted in rows["referrals"]:
                if vid in live and not deleted:
                    out[(*live[vid], d.code, org)] += 1
    group_code = next(d.code for d in DIMENSIONS if d.counts == TOPIC_GROUP)
    for vid, names in groups.items():
        for name in names:  # once per visit and group, however many of its topics it has
            out[(*live[vid], group_code, name)] += 1
    return out


def figures(rows: dict, first: date, last: date, location: str | None = None) -> dict:
    """The export's figures for a period: {"visits": N, dimension: {key: count}}."""
    out: dict = {d.code: Counter() for d in DIMENSIONS}
    for (day, loc, code, key), n in per_day(rows).items():
        if first.isoformat() <= day <= last.isoformat() and location in (None, loc):
            out[code][key] += n
    result = {code: dict(sorted(c.items())) for code, c in out.items()}
    result["visits"] = sum(out["by_location"].values())
    return result
