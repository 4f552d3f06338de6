"""Guidance for a desk: the library (shipped + central) and its index in a plain cache file.

`open_guidance(desk)` is what the CLI and the TUI call. Guidance holds no personal data, so
its index is not in the desk's (encrypted) database but in a plain SQLite file beside it
(`Paths.guidance_index`), and search and reading work before the passphrase is given:

- the shipped library is read from data/guidance;
- articles published centrally arrive by sync in the database's `guidance_article` table.
  Whenever the database can be read (plain, or unlocked by this process) those rows are copied
  into the index file's `guidance_central` table; while it is locked the copy from last time
  is used, so a central correction is still found;
- the index is rebuilt when any of that changes (content hash), and a damaged index file is
  simply built again: it is a cache.

Every file is opened through store.connect.connect_sqlite, like every database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.core.config import GUIDANCE_INDEX_NAME
from nmi_desk.core.errors import UserError
from nmi_desk.core.paths import shipped_data_dir
from nmi_desk.domain.reference.files import Reference, shipped_reference
from nmi_desk.guidance.index import GuidanceIndex, Hit, ensure_index, reference_digest
from nmi_desk.guidance.library import Article, Library, Override, load_library
from nmi_desk.store.connect import connect_sqlite, database_errors, sqlite_path_from_url
from nmi_desk.store.file_state import DatabaseLocked

CENTRAL = "guidance_central"  # the central rows as last read from the desk's database


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


def _stored_central(conn: sqlite3.Connection) -> list[Override]:
    rows = conn.execute(f"SELECT slug, revision, content FROM {CENTRAL}").fetchall()
    return [Override(slug, int(revision), content) for slug, revision, content in rows]


def _keep_central(conn: sqlite3.Connection, overrides: list[Override]) -> None:
    """Store the central rows just read from the database, if they differ from the copy."""
    key = sorted((o.slug, o.revision, o.content) for o in overrides)
    if sorted((o.slug, o.revision, o.content) for o in _stored_central(conn)) == key:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DELETE FROM {CENTRAL}")
        conn.executemany(f"INSERT INTO {CENTRAL} (slug, revision, content) VALUES (?, ?, ?)", key)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _open_index_file(index_path: Path) -> sqlite3.Connection:

    conn = connect_sqlite(index_path, key=None)
    conn.isolation_level = None  # explicit transactions (ensure_index uses BEGIN IMMEDIATE)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {CENTRAL} "
        "(slug TEXT PRIMARY KEY, revision INTEGER NOT NULL, content TEXT NOT NULL)"
    )
    return conn


def open_guidance_index(
    index_path: Path,
    guidance_dir: Path | None = None,
    ref: Reference | None = None,
    overrides: Iterable[Override] | None = None,
) -> Guidance:
    """Guidance on the plain index file at `index_path`, created or rebuilt as needed.

    `overrides`: the central rows just read from the desk's database; None when it cannot be
    read now (locked), and then the rows stored with the index last time are used."""

    ref = ref or shipped_reference()
    try:
        return _open_index(index_path, guidance_dir, ref, overrides)
    except (UserError, *database_errors()):
        # Not a database, or a damaged one: it is only a cache, so start it again. The
        # central rows it held come back on the next open with the database readable.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index_path}{suffix}").unlink(missing_ok=True)
    try:
        return _open_index(index_path, guidance_dir, ref, overrides)
    except database_errors() as exc:
        raise UserError.of("errors.guidance.index", path=index_path, reason=str(exc)) from exc


def _open_index(index_path, guidance_dir, ref, overrides) -> Guidance:
    conn = _open_index_file(index_path)
    try:
        if overrides is not None:
            _keep_central(conn, list(overrides))
        library = load_library(
            guidance_dir or shipped_data_dir() / "guidance",
            _stored_central(conn),
            extra_digest=reference_digest(shipped_data_dir()),
        )
        rebuilt = ensure_index(conn, library, ref)
        index = GuidanceIndex(conn, library, ref)
    except BaseException:
        conn.close()
        raise
    return Guidance(conn=conn, library=library, index=index, ref=ref, rebuilt=rebuilt)


def central_rows(db_path: Path, key=None) -> list[Override] | None:
    """The articles published centrally, from the desk's SQLite database; [] when there is no
    database or no table yet, None when it is encrypted and `key` (the desk's, once unlocked)
    is None."""

    if not db_path.exists():
        return []
    try:
        conn = connect_sqlite(db_path, readonly=True, key=key)
    except DatabaseLocked:
        return None
    try:
        return read_overrides(conn)
    except database_errors() as exc:
        if "no such table" in str(exc):
            return []  # never migrated: nothing was pulled yet
        raise UserError.of("errors.guidance.published", reason=str(exc)) from exc
    finally:
        conn.close()


def open_guidance_at(
    db_path: Path,
    guidance_dir: Path | None = None,
    ref: Reference | None = None,
    index_path: Path | None = None,
) -> Guidance:
    """Guidance with the central rows of the SQLite database at `db_path`; the index file
    defaults to the one beside it."""

    index_path = index_path or Path(db_path).with_name(GUIDANCE_INDEX_NAME)
    return open_guidance_index(index_path, guidance_dir, ref, central_rows(Path(db_path)))


_open_lock = threading.Lock()


def open_guidance(desk) -> Guidance:
    """Guidance for this desk; needs no passphrase and creates no database."""

    path = sqlite_path_from_url(desk.url)
    with _open_lock:
        # A PostgreSQL desk database: only the shipped library and the last central copy.
        overrides = central_rows(path, desk.key) if path is not None else None
        return open_guidance_index(desk.paths.guidance_index, desk.guidance_dir, None, overrides)
