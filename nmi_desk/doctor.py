"""`nmi-desk doctor`: integrity and configuration checks, as data (the CLI prints them)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from nmi_desk.desk import Desk


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # shown, but not a failure


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def run_checks(desk: Desk) -> list[Check]:
    from sqlalchemy import text

    from nmi_desk.refdata import reference
    from nmi_desk.store.connect import sqlite_path_from_url
    from nmi_desk.store.migrations import LATEST, current_version

    checks: list[Check] = [
        Check("data dir", True, str(desk.paths.home)),
        Check("config", desk.paths.config.exists(), str(desk.paths.config)),
        Check(
            "consultant and location",
            desk.settings.is_set_up,
            f"{desk.settings.consultant or '-'} at {desk.settings.location or '-'}"
            + ("" if desk.settings.is_set_up else " (start nmi-desk once to set them)"),
            warning=not desk.settings.is_set_up,
        ),
    ]
    if desk.settings.location and desk.settings.location not in reference().location_codes():
        checks.append(Check("location code", False, f"unknown location {desk.settings.location!r}"))
    engine = desk.engine()
    version = current_version(engine)
    checks.append(Check("schema version", version == LATEST, f"{version} (latest {LATEST})"))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA integrity_check")).scalar_one()
            checks.append(Check("integrity", result == "ok", result))
            fk = conn.execute(text("PRAGMA foreign_key_check")).all()
            checks.append(Check("foreign keys", not fk, f"{len(fk)} broken references"))
            journal = conn.execute(text("PRAGMA journal_mode")).scalar_one()
            checks.append(Check("journal mode", journal == "wal", journal))
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE deleted = FALSE")).scalar_one()  # noqa: S608
            for t in ("visit", "referral", "info_session")
        }
        unsynced = sum(
            conn.execute(
                text(f"SELECT count(*) FROM {t} WHERE revision > synced_revision")
            ).scalar_one()  # noqa: S608
            for t in counts
        )
        topics = conn.execute(text("SELECT count(*) FROM topic")).scalar_one()
    checks.append(Check("records", True, ", ".join(f"{n} {t}" for t, n in counts.items())))
    checks.append(Check("not yet synced", True, f"{unsynced} records"))
    checks.append(Check("reference data", topics > 0, f"{topics} topics loaded"))
    path = sqlite_path_from_url(desk.url)
    if path is not None and sys.platform != "win32":
        for candidate in (desk.paths.home, path, Path(f"{path}-wal"), desk.paths.config):
            if candidate.exists():
                private = not (candidate.stat().st_mode & 0o077)
                checks.append(Check(f"permissions {candidate.name}", private, _mode(candidate)))
    if path is not None:
        checks += data_protection_checks(desk, engine, path)
    return checks


def data_protection_checks(desk: Desk, engine, path: Path) -> list[Check]:
    """Encryption at rest, leftovers, retention (nmi_desk.security, nmi_desk.retention)."""
    from nmi_desk import retention

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
    plain = [p.name for p in path.parent.glob(f"{path.name}*") if p != path and p.is_file()]
    plain = [n for n in plain if n.endswith(".bak") or n.endswith("-tmp")]
    if plain:
        out.append(Check("leftover copies", False, ", ".join(sorted(plain)), warning=True))
    from nmi_desk.letter.legacy import stray_notes

    notes = stray_notes(desk.paths.home)
    if notes:
        out.append(
            Check(
                "old client notes",
                False,
                f"{len(notes)} Markdown notes from an older version in {notes[0].parent}, "
                "unencrypted (run nmi-desk purge)",
                warning=True,
            )
        )
    days = desk.settings.retention_days
    ret = retention.state(engine, desk.now(), days)
    out.append(
        Check(
            "retention",
            ret.due == 0,
            f"{days} days; {ret.purged} visits purged, {ret.due} due"
            + (" (run nmi-desk purge)" if ret.due else ""),
            warning=ret.due > 0,
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
