"""Sync: push this laptop's records to the central database, pull what was published there.

Semantics in docs/sync.md. The CLI (cli_sync.py) and the TUI call `run_sync` alike; it
takes engines and plain values, never Textual. Modules:
  tables.py      which tables sync, as units (a visit with its topics and referrals)
  push.py        batched, idempotent upsert by UUID; conflict log; quarantine
  pull.py        reference data and guidance published centrally
  publish.py     a reviewed guidance library put centrally
  target.py      target URL and credentials (never stored with the password)
  state.py       last success / last error / pending count in the local app_meta
  crashpoints.py named kill points for the crash tests
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from nmi_desk.errors import UserError
from nmi_desk.store.errors import first_line as _one_line
from nmi_desk.sync.state import SyncStatus, pending_count, read_status, record_outcome
from nmi_desk.sync.target import Target, open_central, resolve_target

__all__ = [
    "SyncReport",
    "SyncStatus",
    "Target",
    "pending_count",
    "read_status",
    "resolve_target",
    "run_sync",
]


@dataclass
class SyncReport:
    pushed: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    quarantined: int = 0
    pulled: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        pushed = ", ".join(f"{n:,} {t}" for t, n in self.pushed.items() if n) or "nothing"
        pulled = ", ".join(f"{n:,} {t}" for t, n in self.pulled.items() if n) or "nothing new"
        return (
            f"pushed {pushed}; {self.conflicts} conflict(s) logged, "
            f"{self.quarantined} record(s) quarantined; pulled {pulled} ({self.seconds:.1f} s)"
        )


REFERENCE_TABLES = ("topic", "organisation", "location", "country")


def run_sync(
    local,
    target: Target,
    now: Callable[[], datetime],
    *,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pull: bool = True,
) -> SyncReport:
    """Push pending records, then pull published updates. Raises UserError with one line.

    Whatever happens, the outcome (success time or error line) is written to app_meta, and no
    record is lost: pending records stay pending until the central side committed them.
    """
    from sqlalchemy.exc import DBAPIError

    from nmi_desk.sync.pull import pull as pull_updates
    from nmi_desk.sync.push import BATCH_SIZE, push

    if local.dialect.name != "sqlite":
        raise UserError("sync runs from the laptop's SQLite database")
    started = time.perf_counter()
    attempt = now().replace(tzinfo=None).isoformat(timespec="seconds")
    report = SyncReport()
    try:
        central = open_central(target)
        try:
            result = push(local, central, now(), batch_size or BATCH_SIZE, progress)
            report.pushed = dict(result.pushed)
            report.conflicts = len(result.conflicts)
            report.quarantined = len(result.quarantined)
            if pull:
                report.pulled = pull_updates(local, central)
                if any(report.pulled.get(t) for t in REFERENCE_TABLES):
                    from nmi_desk.reference_db import activate_from_database

                    activate_from_database(local)  # a new topic can be tagged at once
        finally:
            central.dispose()
    except UserError as exc:
        record_outcome(local, attempt, str(exc))
        raise
    except DBAPIError as exc:
        message = (
            f"sync with {target.shown} stopped: {_one_line(exc)}"
            " (nothing lost: pending records stay pending; run sync again)"
        )
        record_outcome(local, attempt, message)
        raise UserError(message) from None
    record_outcome(local, attempt, None)
    report.seconds = time.perf_counter() - started
    return report
