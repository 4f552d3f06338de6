"""Today's list at this location, read through the standard library, and a prefetch of it.

The counter app's first screen needs only today's rows and counts. `read_today` reads them
with sqlite3 (no ORM on the start path). `TodayPrefetch` runs that read in a thread started
before the UI framework is imported, so the query overlaps the imports instead of following
them (docs/performance.md, Start-up). The first Today screen takes the result once; every
later refresh reads afresh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from nmi_desk.errors import UserError
from nmi_desk.visits import DayCounts, DayRow


@dataclass(frozen=True)
class TodayView:
    rows: list[DayRow]
    counts: DayCounts


def read_today(desk) -> TodayView | None:
    """Today's rows (newest first) and counts; None when there is no readable database yet
    (first run, or a schema the fast path cannot read: the engine migrates it, then Today
    reads again)."""
    from nmi_desk.store.connect import connect_sqlite, database_errors, sqlite_path_from_url
    from nmi_desk.visits import day_counts, day_rows

    path = sqlite_path_from_url(desk.url)
    if path is None or not path.exists():
        return None
    conn = connect_sqlite(path)
    try:
        day = desk.today()
        location = desk.settings.location
        return TodayView(day_rows(conn, location, day), day_counts(conn, location, day))
    except database_errors():
        return None
    finally:
        conn.close()


def can_prefetch(desk, require_encryption: bool) -> bool:
    """Only when Today is the first screen: set up, and no passphrase screen comes first."""
    if not desk.settings.is_set_up or desk.database_path is None:
        return False
    state = desk.encryption_state()
    if state == "missing":
        return False
    if require_encryption and state == "plain":
        return False  # the app asks for a passphrase and converts the file first
    return not desk.locked


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
