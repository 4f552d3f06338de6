"""Today's list at this location, read through the standard library, and a prefetch of it.

The counter app's first screen needs only today's rows and counts. `read_today` reads them
with sqlite3: neither the ORM nor the rest of the domain (nmi_desk.domain.visits) is on the start
path. `TodayPrefetch` runs that read in a thread started
before the UI framework is imported, so the query overlaps the imports instead of following
them (docs/performance.md, Start-up). The first Today screen takes the result once; every
later refresh reads afresh.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime

from nmi_desk.core.clock import local
from nmi_desk.core.errors import UserError
from nmi_desk.domain import follow_up_rule
from nmi_desk.sync.tables import COUNTED_TABLES


@dataclass(frozen=True)
class DayRow:
    uuid: str
    time: str  # HH:MM, Europe/Amsterdam
    client_name: str | None
    count_only: bool
    topics: tuple[str, ...]
    referrals: tuple[str, ...]
    outcome: str | None
    revision: int


@dataclass(frozen=True)
class DayCounts:
    visits: int
    follow_ups_due: int
    unsynced: int
    follow_ups_overdue: int = 0


_DAY_SQL = """
SELECT v.uuid, v.started_at, v.client_name, v.count_only, v.outcome, v.revision,
       (SELECT group_concat(topic_code, '|') FROM visit_topic t WHERE t.visit_id = v.id),
       (SELECT group_concat(organisation_code, '|') FROM referral r
         WHERE r.visit_id = v.id AND r.deleted = 0)
FROM visit v
WHERE v.local_date = ? AND v.location_code = ? AND v.deleted = 0
ORDER BY v.started_at DESC
"""


def _parse_ts(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def day_rows(conn: sqlite3.Connection, location_code: str, day: date) -> list[DayRow]:
    """The visits of one Amsterdam day at one location, newest first."""
    out = []
    for uuid, started, name, count_only, outcome, revision, topics, refs in conn.execute(
        _DAY_SQL, (day.isoformat(), location_code)
    ):
        out.append(
            DayRow(
                uuid=uuid,
                time=local(_parse_ts(started)).strftime("%H:%M"),
                client_name=name,
                count_only=bool(count_only),
                topics=tuple(sorted(topics.split("|"))) if topics else (),
                referrals=tuple(refs.split("|")) if refs else (),
                outcome=outcome,
                revision=revision,
            )
        )
    return out


def day_counts(conn: sqlite3.Connection, location_code: str, day: date) -> DayCounts:
    visits = conn.execute(
        "SELECT count(*) FROM visit WHERE local_date = ? AND location_code = ? AND deleted = 0",
        (day.isoformat(), location_code),
    ).fetchone()[0]
    follow_ups = follow_up_rule.counts_from_row(
        conn.execute(follow_up_rule.COUNTS_SQL, follow_up_rule.today_param(day)).fetchone()
    )
    unsynced = 0
    for table in COUNTED_TABLES:
        unsynced += conn.execute(
            f"SELECT count(*) FROM {table} WHERE revision > synced_revision"  # noqa: S608
        ).fetchone()[0]
    return DayCounts(visits, follow_ups.due, unsynced, follow_ups.overdue)


@dataclass(frozen=True)
class TodayView:
    rows: list[DayRow]
    counts: DayCounts


def read_today(desk) -> TodayView | None:
    """Today's rows (newest first) and counts; None when there is no readable database yet
    (first run, or a schema the fast path cannot read: the engine migrates it, then Today
    reads again)."""
    from nmi_desk.core.db_errors import explain_database_error
    from nmi_desk.store.connect import connect_sqlite, database_errors, sqlite_path_from_url

    path = sqlite_path_from_url(desk.url)
    if path is None or not path.exists():
        return None
    conn = connect_sqlite(path, key=desk.key)
    try:
        day = desk.today()
        location = desk.settings.location
        return TodayView(day_rows(conn, location, day), day_counts(conn, location, day))
    except database_errors() as exc:
        # Damage, a full disk or a read-only file is said at once; anything else (a schema the
        # fast path cannot read yet) waits for the engine to migrate it.
        explained = explain_database_error(exc, path)
        if explained:
            raise UserError(explained) from exc
        return None
    finally:
        conn.close()


def can_prefetch(desk) -> bool:
    """Only when Today is the first screen with something to read: set up, a database file,
    and no passphrase screen first (the same rule as the app's first screen)."""
    if not desk.settings.is_set_up or desk.database_path is None:
        return False
    return desk.encryption_state() != "missing" and not desk.passphrase_first()


class TodayPrefetch:
    """`read_today` in a daemon thread; `result()` waits for it and hands it over once."""

    def __init__(self, desk) -> None:
        self._desk = desk
        self._view: TodayView | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="today-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._view = read_today(self._desk)
        except UserError:
            self._view = None  # the regular read says what is wrong, in the app
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, not lost
            self._error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def take(self) -> TodayView | None:
        """The prefetched view, the first time only (None after that, or if nothing was read).

        Blocks until the read has ended; call it from a worker unless `done()`."""
        self._done.wait()
        if self._taken:
            return None
        self._taken = True
        if self._error is not None:
            raise self._error
        return self._view
