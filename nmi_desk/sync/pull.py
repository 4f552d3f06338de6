"""Pull: reference data and guidance articles published centrally, applied in one local
transaction.

The cursor is the revision each row already has on the laptop: the central side is asked for
its (key, revision) pairs, and only rows with a higher revision (or new keys) are fetched. The
reference tables and the guidance library are a few hundred rows, so the key list is small;
a central row never replaces a local one with an equal or higher revision (a newer shipped
file wins, and the shipped-file loader in reference_db.py respects pulled revisions).
"""

from __future__ import annotations

from dataclasses import dataclass

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import text

from nmi_desk.sync.crashpoints import crash_point


@dataclass(frozen=True)
class PulledTable:
    table: str
    key: str


PULLED = (
    PulledTable("topic", "code"),
    PulledTable("organisation", "code"),
    PulledTable("location", "code"),
    PulledTable("country", "code"),
    PulledTable("guidance_article", "slug"),
)


def _table(name: str):
    # The ORM and its model classes only when newer rows come in (~0.25 s of every sync).
    from nmi_desk.store.models import SQLModel

    return SQLModel.metadata.tables[name]


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def pull(local, central) -> dict[str, int]:
    """Fetch newer central rows; returns how many rows per table changed locally."""
    from sqlalchemy import select

    fetched: dict[str, list[dict]] = {}
    with local.connect() as lconn:
        mine = {
            t.table: dict(lconn.execute(text(f"SELECT {t.key}, revision FROM {t.table}")).all())
            for t in PULLED
        }
    with central.begin() as cconn:  # one transaction: SET LOCAL is all a pooler may see
        if cconn.dialect.name == "postgresql":
            cconn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # timestamps are naive UTC
        for t in PULLED:
            theirs = cconn.execute(text(f"SELECT {t.key}, revision FROM {t.table}")).all()
            newer = [k for k, rev in theirs if rev > mine[t.table].get(k, 0)]
            if newer:
                tbl = _table(t.table)
                rows = cconn.execute(select(tbl).where(tbl.c[t.key].in_(newer))).mappings()
                fetched[t.table] = [_naive(dict(r)) for r in rows]
    changed: dict[str, int] = {}
    if not fetched:
        return changed
    insert = _insert(local.dialect.name)
    with local.begin() as lconn:
        for t in PULLED:
            rows = fetched.get(t.table)
            if not rows:
                continue
            tbl = _table(t.table)
            stmt = insert(tbl)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.key],
                set_={c.name: stmt.excluded[c.name] for c in tbl.columns if c.name != t.key},
                where=tbl.c.revision < stmt.excluded.revision,
            )
            lconn.execute(stmt, rows)
            changed[t.table] = len(rows)
        crash_point("during-pull")
    return changed


def _naive(row: dict) -> dict:
    for k, v in row.items():
        if getattr(v, "tzinfo", None) is not None:
            row[k] = v.replace(tzinfo=None)
    return row
