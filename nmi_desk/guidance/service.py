"""Guidance for a desk: the library (shipped + central) and its index in the local database.

`open_guidance(desk)` is what the CLI and the TUI call. It reads central overrides from the
`guidance_article` table, builds the index when the library changed, and returns a
`Guidance` ready to search. Opened through store.connect.connect_sqlite like every database.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.errors import UserError
from nmi_desk.guidance.index import GuidanceIndex, Hit, ensure_index, reference_digest
from nmi_desk.guidance.library import Article, Library, Override, load_library
from nmi_desk.paths import shipped_data_dir
from nmi_desk.refdata import Reference, reference


def read_overrides(conn: sqlite3.Connection) -> list[Override]:
    rows = conn.execute("SELECT slug, revision, content FROM guidance_article").fetchall()
    return [Override(slug, int(revision), content) for slug, revision, content in rows]


@dataclass
class Guidance:
    """The library and its search index, on one connection."""

    conn: sqlite3.Connection
    library: Library
    index: GuidanceIndex
    ref: Reference
    rebuilt: bool  # whether opening (re)built the index

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        return self.index.search(query, limit)

    def by_topic(self, topic: str) -> list[Hit]:
        """The articles of a topic and of its sub-topics; the topic's own first."""
        children = {t.code for t in self.ref.topics if t.parent == topic}
        own = self.index.by_topic(topic)
        seen = {h.slug for h in own}
        for child in sorted(children):
            for hit in self.index.by_topic(child):
                if hit.slug not in seen:
                    own.append(hit)
                    seen.add(hit.slug)
        return own

    def browse(self) -> list[Hit]:
        return self.index.all()

    def article(self, slug: str) -> Article | None:
        return self.library.get(slug)

    def close(self) -> None:
        self.index.close()


def open_guidance_at(
    db_path: Path,
    guidance_dir: Path | None = None,
    ref: Reference | None = None,
) -> Guidance:
    """Guidance on a migrated SQLite database file (the guidance_article table must exist)."""
    from nmi_desk.store.connect import connect_sqlite

    ref = ref or reference()
    conn = connect_sqlite(db_path)
    conn.isolation_level = None  # explicit transactions (ensure_index uses BEGIN IMMEDIATE)
    try:
        library = load_library(
            guidance_dir or shipped_data_dir() / "guidance",
            read_overrides(conn),
            extra_digest=reference_digest(shipped_data_dir()),
        )
        rebuilt = ensure_index(conn, library, ref)
        index = GuidanceIndex(conn, library, ref)
    except BaseException:
        conn.close()
        raise
    return Guidance(conn=conn, library=library, index=index, ref=ref, rebuilt=rebuilt)


_open_lock = threading.Lock()


def open_guidance(desk) -> Guidance:
    """Guidance on the desk's local database, migrating it first when it is new or old."""
    from nmi_desk.store.connect import database_errors, sqlite_path_from_url

    path = sqlite_path_from_url(desk.url)
    if path is None:
        raise UserError("guidance search works on the local SQLite database, not on " + desk.url)
    with _open_lock:
        if not path.exists():
            desk.engine()  # creates and migrates the database
        try:
            return open_guidance_at(path, desk.guidance_dir)
        except database_errors() as exc:
            if "no such table" not in str(exc):
                raise UserError(f"guidance index: {exc}") from exc
        desk.engine()  # an unmigrated database: migrate, then try once more
        try:
            return open_guidance_at(path, desk.guidance_dir)
        except database_errors() as exc:
            raise UserError(f"guidance index: {exc}") from exc
