"""Sync: push this laptop's records to the central database, pull what was published there.

Semantics in docs/sync.md. The CLI (cli_sync.py) and the TUI call `run_sync` alike; it
takes engines and plain values, never Textual. Modules:
  tables.py      which tables sync, as units (a visit with its topics and referrals)
  push.py        batched, idempotent upsert by UUID; conflict log; quarantine
  fast_lane.py   records the central side has never seen, one insert per table
  marks_writer.py  the push's thread that writes the synced marks on the laptop
  beside.py      a step in a thread of its own (the fold, the lane's second transaction)
  fold.py        a big push's per-day counts: counted beside it, folded after its commit
  changes.py     the central change sequence: positions, holders, what changed since
  clients_pull.py  held clients' changes (and fetched clients) onto the laptop
  erasure.py     an erasure or merge dominates every later push
  pull.py        reference data and guidance published centrally
  publish.py     a reviewed guidance library put centrally
  target.py      target URL and credentials (never stored with the password)
  state.py       per central target: what was pushed (marks), last success / error, pending
  crashpoints.py named kill points for the crash tests
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from nmi_desk.core.errors import UserError
from nmi_desk.core.i18n import Text
from nmi_desk.store.errors import first_line as _one_line
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


def __getattr__(name: str):
    # state.py needs SQLAlchemy; nmi_desk.domain.stats.today imports sync.tables on the start-up path, and
    # importing the package must not pull SQLAlchemy in there.
    if name in ("SyncStatus", "pending_count", "read_status"):
        from nmi_desk.sync import state

        return getattr(state, name)
    raise AttributeError(name)


@dataclass
class SyncReport:
    pushed: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    quarantined: int = 0
    pulled: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    switched: bool = False  # this run made another central database the active target
    erased: int = 0  # clients the central side holds erased, blanked here by this run

    @property
    def reference_changed(self) -> bool:
        """Reference rows came in: the desk reloads its reference (desk.refresh_reference),
        so a newly published topic can be tagged at once."""
        return any(self.pulled.get(t) for t in REFERENCE_TABLES)

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
    previous_url: str | None = None,
) -> SyncReport:
    """Push pending records, then pull published updates. Raises UserError with one line.

    The central database's own id picks the per-target state (sync.state.activate): a target
    this laptop never synced with gets everything. `previous_url` is the target the laptop was
    set to before this run (default: this one); marks made before per-target state belong to
    it. Asking before a switch is the caller's part (the CLI's prompt, the TUI's dialog).

    Whatever happens, the outcome (success time or error line) is written to app_meta and the
    target's row, and no record is lost: pending records stay pending until the central side
    committed them.
    """
    from sqlalchemy.exc import DBAPIError

    from nmi_desk.sync.pull import pull as pull_updates
    from nmi_desk.sync.push import BATCH_SIZE, push
    from nmi_desk.sync.state import activate, database_id, laptop_id, record_outcome

    if local.dialect.name != "sqlite":
        raise UserError.of("errors.sync.local_sqlite_only")
    started = time.perf_counter()
    attempt = now().replace(tzinfo=None).isoformat(timespec="seconds")
    report = SyncReport()
    target_id = None
    try:
        target.check_not_local(local)
        central = open_central(target)
        try:
            target_id = database_id(central)
            report.switched = activate(
                local,
                target_id,
                target.saved,
                target.saved if previous_url is None else previous_url,
                attempt,
            )
            holder = laptop_id(local)
            result = push(
                local, central, now(), batch_size or BATCH_SIZE, progress, target_id, holder
            )
            report.pushed = dict(result.pushed)
            report.conflicts = len(result.conflicts)
            report.quarantined = len(result.quarantined)
            try:  # a big push's fold runs on meanwhile (sync/fold.py)
                if result.erased or result.erased_visits:
                    from nmi_desk.sync.clients_pull import apply_erasures

                    report.erased = apply_erasures(
                        local, result.erased, result.erased_visits, now()
                    )
                if pull:
                    report.pulled = pull_updates(local, central)
                    from nmi_desk.sync.clients_pull import pull_clients

                    report.pulled.update(
                        pull_clients(
                            local,
                            central,
                            now(),
                            target_id=target_id,
                            own_tx=result.lane_tx,
                            held=result.held,
                        )
                    )
            except BaseException:
                result.wait_fold(quiet=True)  # the error on its way is the one to report
                raise
            result.wait_fold()
        finally:
            central.dispose()
    except UserError as exc:
        record_outcome(local, attempt, exc.text, target_id)
        raise
    except DBAPIError as exc:
        message = Text(
            "errors.sync.stopped", target=target.shown, reason=target.scrub(_one_line(exc))
        )
        record_outcome(local, attempt, message, target_id)
        raise UserError(message) from None
    record_outcome(local, attempt, None, target_id, pulled=pull)
    report.seconds = time.perf_counter() - started
    return report
