"""Every copy of a client's personal data this laptop keeps, known by name in one place.

`COPIES` lists them with what erasure (`clients erase`) and retention (`purge`) do about each
one; docs/security.md ("Every copy") says the same. Erasure (nmi_desk.domain.clients.rights)
and retention (nmi_desk.domain.retention) go over this list, and `doctor` reports any copy it
finds that should be gone (`copies_due`).

Files the app writes outside the database (an inzage document, a letter) are registered in
app_meta as `file:<id>` rows when written (`register_file`): path, kind, client, visit and
when. Such a file is removed when its client is erased and once it is older than the
retention period. Inzage documents that earlier versions wrote into the data folder
(`<data>/inzage/`) are covered too: erasure removes those naming the client (by record id or
by name), retention those older than the period.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import text

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.core.names import search_key


@dataclass(frozen=True)
class Copy:
    name: str
    where: str
    on_erase: str
    on_purge: str


COPIES = (
    Copy("database", "nmi-desk.db", "personal fields blanked, freed pages zeroed, VACUUM",
         "personal fields blanked (secure delete)"),
    Copy("write-ahead log", "nmi-desk.db-wal", "checkpointed and truncated",
         "checkpointed and truncated"),
    Copy("drafts", "draft table", "drafts naming the client (record id or name) removed",
         "drafts older than the period removed"),
    Copy("inzage documents", "where the consultant chose (registered), <data>/inzage/",
         "removed", "removed once older than the period"),
    Copy("letters", "where the consultant chose (registered); temporary letters in the "
         "system's temp folder", "removed", "removed once older than the period"),
    Copy("backups", "nmi-desk.db.v<N>.bak, nmi-desk.db.rekey-tmp", "removed", "removed"),
    Copy("conflict logs", "sync_conflict", "entries of the client removed",
         "personal fields blanked once older than the period"),
    Copy("quarantine", "sync_quarantine", "entries of the client removed",
         "removed once synced or purged"),
    Copy("rescued copies", "nmi-desk.db.rescued-<time>", "kept: they hold other clients' "
         "unsaved work; doctor names them", "kept; doctor names them"),
)  # fmt: skip

FILE_KEY = "file:"
INZAGE_FOLDER = "inzage"
RESCUED = ".rescued-"


@dataclass(frozen=True)
class WrittenFile:
    key: str
    path: Path
    kind: str  # "inzage" or "letter"
    client: str | None
    visit: str | None
    at: str  # naive UTC, "YYYY-MM-DD HH:MM:SS"


def register_file(
    engine, path: str | Path, kind: str, now: datetime, *, client=None, visit=None
) -> None:
    """Remember a file written with a client's personal data (an inzage, a letter)."""
    if str(path) in ("", "-", "stdout"):
        return
    value = json.dumps(
        {
            "path": str(Path(path).absolute()),
            "kind": kind,
            "client": client,
            "visit": visit,
            "at": to_utc_naive(now).strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO app_meta (key, value) VALUES (:k, :v)"),
            {"k": f"{FILE_KEY}{uuidlib.uuid4().hex}", "v": value},
        )


def written_files(conn) -> list[WrittenFile]:
    rows = conn.execute(
        text("SELECT key, value FROM app_meta WHERE key LIKE :p"), {"p": f"{FILE_KEY}%"}
    ).all()
    out = []
    for key, value in rows:
        try:
            data = json.loads(value)
            out.append(
                WrittenFile(key, Path(data["path"]), str(data.get("kind") or ""),
                            data.get("client"), data.get("visit"), str(data.get("at") or ""))
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _unlink(path: Path) -> bool:
    """Remove a file; False when it could not be (it is then still a copy)."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def forget_files(conn, files: list[WrittenFile]) -> tuple[list[str], list[str]]:
    """Remove the files and their register rows; (removed, could not remove)."""
    removed, left = [], []
    for f in files:
        existed = f.path.exists()
        if _unlink(f.path):
            conn.execute(text("DELETE FROM app_meta WHERE key = :k"), {"k": f.key})
            if existed:
                removed.append(str(f.path))
        else:
            left.append(str(f.path))
    return removed, left


def data_folder_inzage(data_dir: Path | None) -> list[Path]:
    """Inzage documents in the data folder (where earlier versions wrote them)."""
    if data_dir is None:
        return []
    folder = data_dir / INZAGE_FOLDER
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return []


def names_client(text_: str, client_uuid: str, names: list[str]) -> bool:
    """Whether a text (a draft's payload, a document) names this client: by record id, or by
    one of its names compared as searched (case, accents and invisible characters aside)."""
    if client_uuid and client_uuid in text_:
        return True
    folded = f" {search_key(text_) or ''} "
    return any(key and f" {key} " in folded for key in (search_key(n) for n in names if n))


def erase_files(conn, data_dir, client_uuid: str, visit_uuids: list[str], names: list[str]):
    """Erasure over the files: the registered ones of the client or its visits, and inzage
    documents in the data folder that name the client. (removed, could not remove)."""
    visits = set(visit_uuids)
    mine = [f for f in written_files(conn) if f.client == client_uuid or f.visit in visits]
    removed, left = forget_files(conn, mine)
    for path in data_folder_inzage(data_dir):
        try:
            content = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if names_client(content, client_uuid, names) or client_uuid[:8] in path.name:
            (removed if _unlink(path) else left).append(str(path))
    return removed, left


def files_due(conn, data_dir, cutoff: datetime) -> tuple[list[WrittenFile], list[Path]]:
    """Registered files written before `cutoff` (naive UTC) and still there, and inzage
    documents in the data folder last changed before it."""
    edge = cutoff.strftime("%Y-%m-%d %H:%M:%S")
    registered = [f for f in written_files(conn) if f.at < edge]
    seen = {f.key for f in registered}
    registered += [f for f in files_of_gone_records(conn) if f.key not in seen]
    stamp = cutoff.timestamp() if cutoff.tzinfo else cutoff.replace(tzinfo=UTC).timestamp()
    folder = []
    for path in data_folder_inzage(data_dir):
        try:
            if path.stat().st_mtime < stamp:
                folder.append(path)
        except OSError:
            continue
    return registered, folder


def purge_files(conn, data_dir, cutoff: datetime, dry_run: bool = False) -> list[str]:
    """Retention over the files: registered files and data-folder inzage documents older than
    the period go. Returns what went (or would go)."""
    registered, folder = files_due(conn, data_dir, cutoff)
    if dry_run:
        return [str(f.path) for f in registered if f.path.exists()] + [str(p) for p in folder]
    removed, _left = forget_files(conn, registered)
    for path in folder:
        if _unlink(path):
            removed.append(str(path))
    return removed


def _gone_records(conn) -> tuple[set[str], set[str]]:
    """Clients erased or purged, visits purged: their documents must go with them."""
    clients = set(
        conn.execute(
            text("SELECT uuid FROM client WHERE erased_at IS NOT NULL OR purged_at IS NOT NULL")
        ).scalars()
    )
    visits = set(conn.execute(text("SELECT uuid FROM visit WHERE purged_at IS NOT NULL")).scalars())
    return clients, visits


def files_of_gone_records(conn) -> list[WrittenFile]:
    clients, visits = _gone_records(conn)
    return [f for f in written_files(conn) if f.client in clients or f.visit in visits]


def erased_files_left(conn) -> list[Path]:
    """Registered files of clients erased or purged since: still there, they should be gone."""
    return [f.path for f in files_of_gone_records(conn) if f.path.exists()]


def rescued_copies(database: Path) -> list[Path]:
    """Copies saved when the database file was replaced or removed under a running app."""
    try:
        return sorted(
            p for p in database.parent.glob(f"{database.name}{RESCUED}*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))
        )  # fmt: skip
    except OSError:
        return []


def older_copies(database: Path) -> list[Path]:
    """Whole copies of the database beside it: migration backups, an interrupted re-key."""
    try:
        return sorted(
            p
            for p in database.parent.glob(f"{database.name}*")
            if p.is_file() and (p.name.endswith(".bak") or ".rekey-tmp" in p.name) and p != database
        )
    except OSError:
        return []


def purge_copies(database: Path, dry_run: bool = False) -> list[str]:
    """Remove the older copies beside the database (they hold every purged field); the names."""
    removed = []
    for copy in older_copies(database):
        if not dry_run:
            try:
                copy.unlink()
            except FileNotFoundError:
                continue
        removed.append(copy.name)
    return removed
