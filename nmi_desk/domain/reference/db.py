"""Load the shipped reference data into the database, idempotently.

Runs on every start (off the first paint): a content hash in app_meta skips the work when
nothing changed. A row pulled from the central side with a higher revision is not overwritten
by an older shipped file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from sqlalchemy import text

from nmi_desk.core.paths import shipped_data_dir
from nmi_desk.domain.reference.files import (
    KINDS,
    Entry,
    Reference,
    load_reference,
    shipped_reference,
)

HASH_KEY = "refdata_hash"
# Fields of a shipped topic that a centrally published revision of it keeps (not in the table).
KEPT_FROM_SHIPPED = ("closed_to_new",)


def _hash() -> str:
    root = shipped_data_dir()
    digest = hashlib.sha256()
    for name in sorted(KINDS.values()):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def _rows(ref: Reference):
    from nmi_desk.store.models import Country, Location, Organisation, Topic

    for t in ref.topics:
        yield (
            Topic,
            dict(
                code=t.code,
                label_nl=t.nl,
                label_en=t.en,
                parent=t.parent,
                synonyms="|".join(t.synonyms),
                revision=int(t.extra.get("revision", 1)),
            ),
        )
    for o in ref.organisations:
        yield (
            Organisation,
            dict(
                code=o.code,
                label_nl=o.nl,
                label_en=o.en,
                handles=o.handles,
                revision=int(o.extra.get("revision", 1)),
            ),
        )
    for loc in ref.locations:
        yield (
            Location,
            dict(
                code=loc.code,
                label_nl=loc.nl,
                label_en=loc.en,
                opens=loc.opens,
                closes=loc.closes,
                revision=int(loc.extra.get("revision", 1)),
            ),
        )
    for c in ref.countries:
        yield (
            Country,
            dict(
                code=c.code, label_nl=c.nl, label_en=c.en, revision=int(c.extra.get("revision", 1))
            ),
        )


def load_reference_into(engine, force: bool = False) -> int:
    """Insert or update reference rows from data/; returns how many rows changed."""

    digest = _hash()
    if not force:
        # Every start of every command comes here: an unchanged file set is told by one
        # read, without the ORM and the model classes the load below needs (~0.25 s).
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT value FROM app_meta WHERE key = :k"), {"k": HASH_KEY}
            ).scalar()
        if stored == digest:
            return 0
    from nmi_desk.store.models import AppMeta  # imports the ORM whole first (store/orm.py)

    # isort: split

    from sqlmodel import Session

    changed = 0
    with Session(engine) as session:
        meta = session.get(AppMeta, HASH_KEY)
        if meta is not None and meta.value == digest and not force:
            return 0
        for model, values in _rows(load_reference()):
            row = session.get(model, values["code"])
            if row is None:
                session.add(model(**values))
                changed += 1
                continue
            if row.revision > values["revision"]:
                continue  # newer row published centrally
            if any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                changed += 1
        if meta is None:
            session.add(AppMeta(key=HASH_KEY, value=digest))
        else:
            meta.value = digest
        session.commit()
    return changed


def _merge(shipped: Sequence, rows: dict, make) -> tuple:
    """Shipped order kept (parents before their sub-topics); a row with a higher revision
    replaces the shipped entry; codes only the central side knows follow their parent (or
    come last)."""
    out = [make(rows.pop(e.code)) if e.code in rows else e for e in shipped]
    for row in rows.values():
        entry = make(row)
        parent = getattr(row, "parent", None)
        at = len(out)
        if parent:
            idx = [i for i, e in enumerate(out) if e.code == parent or e.parent == parent]
            at = idx[-1] + 1 if idx else at
        out.insert(at, entry)
    return tuple(out)


def reference_from_database(engine):
    """The shipped reference data with the rows pulled from the central side merged in."""

    shipped = shipped_reference()

    def newer(table, kind):
        # Core rows (attributes by column name, as the models had): no model classes to build.
        revisions = {e.code: int(e.extra.get("revision", 1)) for e in getattr(shipped, kind)}
        with engine.connect() as conn:
            return {
                r.code: r
                for r in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - our names
                if r.revision > revisions.get(r.code, 0)
            }

    def entry(row, **extra):
        return Entry(code=row.code, nl=row.label_nl, en=row.label_en, **extra)

    shipped_topics = shipped.by_code("topics")

    def topic(row):
        # The topic table has no column for a route closed to new applications: a centrally
        # revised label or synonym keeps what the shipped file says about that.
        known = shipped_topics.get(row.code)
        kept = {k: v for k, v in known.extra.items() if k in KEPT_FROM_SHIPPED} if known else {}
        return entry(
            row,
            parent=row.parent,
            synonyms=tuple(filter(None, row.synonyms.split("|"))),
            extra=kept,
        )

    return replace(
        shipped,
        topics=_merge(shipped.topics, newer("topic", "topics"), topic),
        organisations=_merge(
            shipped.organisations,
            newer("organisation", "organisations"),
            lambda r: entry(r, handles=r.handles),
        ),
        locations=_merge(
            shipped.locations,
            newer("location", "locations"),
            lambda r: entry(r, opens=r.opens, closes=r.closes),
        ),
        countries=_merge(shipped.countries, newer("country", "countries"), entry),
    )
