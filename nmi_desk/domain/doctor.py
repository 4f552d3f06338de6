"""`nmi-desk doctor`: integrity and configuration checks, as data (the CLI prints them).

Doctor reports, it does not repair: damage is a FAIL line (the CLI exits non-zero), never a
traceback. What needs no passphrase is always checked (the file's state, its write-ahead log,
permissions, leftover copies, configuration); what needs the open database (integrity, records,
retention) is checked when the database is plain or unlocked, and otherwise named as skipped.
A damaged file is never migrated or written: its checks run on a plain connection first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.core.db_errors import explain_database_error
from nmi_desk.core.errors import UserError, one_line
from nmi_desk.domain import retention
from nmi_desk.domain.copies import data_folder_inzage, rescued_copies
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.security import expects_encryption
from nmi_desk.letter.legacy import stray_notes
from nmi_desk.store.connect import connect_sqlite, database_errors
from nmi_desk.store.file_state import inspect
from nmi_desk.store.migrations import LATEST, applied_versions, check_applied
from nmi_desk.sync.state import quarantined_records
from nmi_desk.sync.tables import COUNTED_TABLES

WAL_MAGIC = (0x377F0682, 0x377F0683)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # shown, but not a failure
    skipped: bool = False  # could not be checked (said why); not a failure

    @property
    def mark(self) -> str:
        if self.skipped:
            return "skip"
        return "ok  " if self.ok else ("warn" if self.warning else "FAIL")

    @property
    def failed(self) -> bool:
        return not (self.ok or self.warning or self.skipped)


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def run_checks(
    desk: Desk,
    passphrase: Callable[[], str | None] | None = None,
    config_error: str | None = None,
) -> list[Check]:
    """Every check. `passphrase()` gives the passphrase when one can be had (None: skip what
    needs it); `config_error` is the line config.toml failed with (the desk then runs on
    defaults, so the rest is still checked)."""
    checks = [Check("data dir", True, str(desk.paths.home))]
    checks += config_checks(desk, config_error)
    path = desk.database_path
    if path is None:  # a central database given by URL: what the engine can say
        return checks + database_checks(desk)
    files = file_checks(desk, path)
    checks += files

    state = inspect(path).state
    if state == "missing":
        return checks
    if state not in ("plain", "encrypted"):
        return checks + [_skipped("integrity, records, retention", "the file cannot be used")]
    if any(c.name == "write-ahead log" and c.failed and "not this" in c.detail for c in files):
        # Opening would replay that log into the database: leave both as they are.
        return checks + [_skipped("integrity, records, retention", "the log is not this file's")]
    if state == "encrypted" and desk.locked:
        given = passphrase() if passphrase is not None else None
        if not given:
            return checks + [
                _skipped(
                    "integrity, records, retention",
                    "no passphrase given (run in a terminal, or set NMI_DESK_PASSPHRASE)",
                )
            ]
        try:
            desk.unlock(given)
        except UserError as exc:
            return checks + [
                Check("passphrase", False, str(exc)),
                _skipped("integrity, records, retention", "the database could not be opened"),
            ]
    pages = page_checks(path, desk.key)
    checks += pages
    if any(c.failed for c in pages):
        return checks + [_skipped("records, retention", "the database is damaged")]
    return checks + database_checks(desk)


def _skipped(what: str, why: str) -> Check:
    return Check(what, False, f"not checked: {why}", skipped=True)


def config_checks(desk: Desk, config_error: str | None) -> list[Check]:

    if config_error:
        return [Check("config", False, config_error)]
    exists = desk.paths.config.exists()
    checks = [
        Check(
            "config",
            exists,
            str(desk.paths.config) + ("" if exists else " (not created yet: start nmi-desk once)"),
            warning=not exists,
        ),
        Check(
            "consultant and location",
            desk.settings.is_set_up,
            f"{desk.settings.consultant or '-'} at {desk.settings.location or '-'}"
            + ("" if desk.settings.is_set_up else " (start nmi-desk once to set them)"),
            warning=not desk.settings.is_set_up,
        ),
    ]
    if desk.settings.location and desk.settings.location not in desk.reference.location_codes():
        checks.append(Check("location code", False, f"unknown location {desk.settings.location!r}"))
    return checks


def file_checks(desk: Desk, path: Path) -> list[Check]:
    """What the files say without opening the database: state, WAL, permissions, copies."""

    found = inspect(path)
    problem = found.problem(path)
    if found.state == "missing":
        out = [Check("database file", True, f"not created yet ({path}): the first start makes it")]
    elif problem is not None:
        out = [Check("database file", False, str(problem))]
    elif found.state == "plain" and _expects_encryption(path):
        out = [
            Check(
                "database file",
                False,
                f"{path} is not encrypted, but this laptop's database was: the file was "
                "replaced; restore the encrypted one from the backup",
            )
        ]
    else:
        out = [Check("database file", True, f"{found.state} ({path})")]
    if found.state in ("plain", "encrypted", "damaged"):
        out += wal_checks(path, found.state)
    if sys.platform != "win32":
        for candidate in (desk.paths.home, path, Path(f"{path}-wal"), desk.paths.config):
            try:
                private = not (candidate.stat().st_mode & 0o077)
            except OSError:
                continue
            out.append(Check(f"permissions {candidate.name}", private, _mode(candidate)))
    try:
        names = [p.name for p in path.parent.glob(f"{path.name}*") if p != path and p.is_file()]
    except OSError:
        names = []
    copies = sorted(
        n for n in names if (n.endswith(".bak") or n.endswith("-tmp")) and ".rescued-" not in n
    )
    if copies:
        out.append(
            Check(
                "leftover copies",
                False,
                ", ".join(copies) + " (nmi-desk purge removes them)",
                warning=True,
            )
        )
    rescued = rescued_copies(path)
    if rescued:
        out.append(
            Check(
                "rescued copies",
                False,
                ", ".join(p.name for p in rescued) + ": saved when the database file was "
                "replaced or removed while nmi-desk ran; they hold records that may be missing "
                "now: ask support to bring them back, then remove the copies",
                warning=True,
            )
        )
    inzage = data_folder_inzage(desk.paths.home)
    if inzage:
        out.append(
            Check(
                "inzage documents in the data folder",
                False,
                f"{len(inzage)} in {inzage[0].parent}: erasure and purge remove them; hand "
                "them over and delete them",
                warning=True,
            )
        )
    out += stray_note_checks(desk)
    return out


def stray_note_checks(desk: Desk) -> list[Check]:
    """Markdown client notes older versions left in the data folder (unencrypted)."""

    notes = stray_notes(desk.paths.home)
    if not notes:
        return []
    return [
        Check(
            "old client notes",
            False,
            f"{len(notes)} Markdown notes from an older version in {notes[0].parent}, "
            "unencrypted (run nmi-desk purge)",
            warning=True,
        )
    ]


def _expects_encryption(path: Path) -> bool:

    return expects_encryption(path)


def _page_size(path: Path, state: str) -> int:
    if state != "plain":
        return 4096
    with open(path, "rb") as handle:
        raw = int.from_bytes(handle.read(18)[16:18], "big")
    return 65536 if raw == 1 else raw


def wal_checks(path: Path, state: str) -> list[Check]:
    """The write-ahead log beside the database: a -shm index without its -wal means the log was
    deleted while nmi-desk ran (commits since the last checkpoint are gone); a -wal that is not
    an SQLite log for this page size belongs to another file."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    try:
        if not wal.exists():
            if shm.exists() and shm.stat().st_size:
                return [
                    Check(
                        "write-ahead log",
                        False,
                        f"{wal.name} is missing but {shm.name} is there: the log was removed "
                        "while nmi-desk ran, and recent records may be lost; restore from the "
                        "backup if records are missing",
                    )
                ]
            return [Check("write-ahead log", True, "none (everything is in the database file)")]
        with open(wal, "rb") as handle:
            head = handle.read(32)
    except OSError as exc:
        return [Check("write-ahead log", False, f"{wal.name} cannot be read: {exc.strerror}")]
    if not head:
        return [Check("write-ahead log", True, "empty")]
    magic = int.from_bytes(head[0:4], "big")
    page = int.from_bytes(head[8:12], "big") if len(head) >= 12 else 0
    try:
        expected = _page_size(path, state)
    except OSError:
        expected = page
    if len(head) < 32 or magic not in WAL_MAGIC or page != expected:
        return [
            Check(
                "write-ahead log",
                False,
                f"{wal.name} is not this database's log (foreign or damaged): move it away only "
                "after a backup, then run nmi-desk doctor again",
            )
        ]
    return [Check("write-ahead log", True, f"{wal.stat().st_size} bytes")]


def page_checks(path: Path, key=None) -> list[Check]:
    """Integrity of every page, on one connection that writes nothing (no migration)."""

    out: list[Check] = []
    try:
        conn = connect_sqlite(path, key=key)
    except UserError as exc:
        return [Check("integrity", False, str(exc))]
    try:
        rows: list[str] = []
        if key is not None:  # SQLCipher checks every page's HMAC
            rows += [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
        rows += [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        problems = [r for r in rows if r != "ok"]
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            out.append(
                Check(
                    "integrity",
                    False,
                    f"{problems[0]}{more}: restore from the backup; the file was not changed",
                )
            )
        else:
            out.append(Check("integrity", True, "ok"))
    except (*database_errors(), OSError, UnicodeDecodeError) as exc:  # type: ignore[misc]  # the *
        line = explain_database_error(exc, path) or f"unreadable pages ({exc})"
        out.append(Check("integrity", False, line))
    finally:
        conn.close()
    return out


def database_checks(desk: Desk) -> list[Check]:
    """Schema, records and data protection through the engine (which migrates if needed)."""
    from sqlalchemy import text

    checks: list[Check] = []
    try:
        engine = desk.engine()
        with engine.connect() as conn:
            applied = applied_versions(conn)
        steps = check_applied(applied)
        if steps.ok:
            detail = f"{LATEST} (all {len(applied)} steps applied)"
        else:
            detail = ", ".join(
                part
                for part in (
                    f"steps missing: {', '.join(map(str, steps.missing))}" if steps.missing else "",
                    f"steps unknown here: {', '.join(map(str, steps.unknown))}"
                    if steps.unknown
                    else "",
                )
                if part
            )
        checks.append(Check("schema version", steps.ok, detail))
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                fk = conn.execute(text("PRAGMA foreign_key_check")).all()
                checks.append(Check("foreign keys", not fk, f"{len(fk)} broken references"))
                journal = conn.execute(text("PRAGMA journal_mode")).scalar_one()
                checks.append(Check("journal mode", journal == "wal", journal))
            counts = {
                t: conn.execute(
                    text(f"SELECT count(*) FROM {t} WHERE deleted = FALSE")
                ).scalar_one()  # noqa: S608
                for t in ("visit", "referral", "info_session")
            }
            unsynced = sum(
                conn.execute(
                    text(f"SELECT count(*) FROM {t} WHERE revision > synced_revision")
                ).scalar_one()  # noqa: S608
                for t in COUNTED_TABLES  # what the push moves, as sync --status counts it
            )
            topics = conn.execute(text("SELECT count(*) FROM topic")).scalar_one()
        checks.append(Check("records", True, ", ".join(f"{n} {t}" for t, n in counts.items())))
        checks.append(Check("not yet synced", True, f"{unsynced} records"))
        refused = quarantined_records(engine)
        if refused:
            first = refused[0]
            checks.append(
                Check(
                    "quarantine",
                    False,
                    f"{len(refused)} record(s) refused by the central side, e.g. {first.table} "
                    f"{first.uuid}: {first.reason} (nmi-desk sync --status lists them; "
                    "correct them and they go at the next sync)",
                    warning=True,
                )
            )
        checks.append(Check("reference data", topics > 0, f"{topics} topics loaded"))
        path = desk.database_path
        if path is not None:
            checks += data_protection_checks(desk, engine, path)
    except UserError as exc:
        checks.append(Check("database", False, str(exc)))
    except Exception as exc:  # damage met while reading: a FAIL line, not a traceback
        checks.append(Check("database", False, one_line(exc)))
    return checks


def data_protection_checks(desk: Desk, engine, path: Path) -> list[Check]:
    """Encryption at rest, retention (nmi_desk.domain.security, nmi_desk.domain.retention)."""

    out: list[Check] = []
    state = desk.encryption_state()
    if state == "encrypted":
        with engine.connect() as conn:
            version = conn.exec_driver_sql("PRAGMA cipher_version").scalar()
        out.append(Check("encryption", True, f"SQLCipher {version}, scrypt key from passphrase"))
    else:
        out.append(
            Check(
                "encryption",
                False,
                "the database is NOT encrypted: run nmi-desk change-passphrase",
                warning=True,
            )
        )
    days = desk.settings.retention_days
    ret = retention.state(engine, desk.now(), days, data_dir=desk.paths.home)
    out.append(
        Check(
            "retention",
            not (ret.due or ret.conflicts_due),
            f"{days} days; {ret.purged} visits purged, {ret.due} due"
            + (f", {ret.conflicts_due} conflict copies due" if ret.conflicts_due else "")
            + (" (run nmi-desk purge)" if ret.due or ret.conflicts_due else ""),
            warning=ret.due > 0 or ret.conflicts_due > 0,
        )
    )
    if ret.drafts_due:
        out.append(
            Check(
                "old drafts",
                False,
                f"{ret.drafts_due} unsaved drafts older than {days} days (run nmi-desk purge)",
                warning=True,
            )
        )
    if ret.files_due:
        shown = ", ".join(ret.files_due[:3]) + (" ..." if len(ret.files_due) > 3 else "")
        out.append(
            Check(
                "copies that should be gone",
                False,
                f"{len(ret.files_due)} inzage documents or letters of erased clients or older "
                f"than {days} days: {shown} (run nmi-desk purge)",
                warning=True,
            )
        )
    out.append(
        Check(
            "unsynced personal data",
            ret.unsynced_personal_older == 0,
            f"{ret.unsynced_personal_older} visits older than {days} days not yet synced"
            + (" (run nmi-desk sync)" if ret.unsynced_personal_older else ""),
            warning=ret.unsynced_personal_older > 0,
        )
    )
    return out
