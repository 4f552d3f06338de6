"""The fold of a big push's counts, and their counting beside the push.

A push of more than one batch of visits counts nothing while it runs: its visits are marked
uncounted, and the fold counts them into visit_daily once it has committed
(store/daily_counts.py, "fold"). Counting 100,000 visits from their rows took ~1.5 s of the
fold, all of it after the push's commit. The fast lane therefore hands the rows it sends a
second time, to a connection of its own that counts them while the push's transaction is
still inserting (`Precount`); the fold then adds those counts instead of counting the rows
again, when the rows are provably what was counted:
  - the lane wrote every row it staged (none skipped as already there, none held back for an
    erased client): it drops the precount otherwise;
  - its marker is still uncounted (another push's fold counts every uncounted visit from its
    rows, this push's too when it runs first);
  - no push transaction committed after it touched a visit or a referral of its own
    (daily_counts.PRECOUNT_HOLDS checks both, with the fold's lock held alone).
Any other case, or a precount that failed, is folded from the rows as before. Figures:
docs/performance.md, Sync.
"""

from __future__ import annotations

from collections.abc import Callable

import nmi_desk.store.sql_core  # noqa: F401  # Core whole, one thread at a time (store/sql_core.py)

# isort: split

from nmi_desk.store import daily_counts
from nmi_desk.sync.beside import Beside
from nmi_desk.sync.retry import retrying

# (visits: (uuid, *VISIT_COUNTED)), (links: (visit uuid, topic_code)),
# (referrals: (visit uuid, organisation_code, deleted))
Rows = tuple[list[tuple], list[tuple], list[tuple]]


def _copy(cur, table: str, rows) -> None:
    with cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _count(central, rows: Rows) -> bytes:
    """The counts of `rows` made on a connection of their own, as COPY text."""
    visits, links, referrals = rows
    with central.begin() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")  # see daily_counts.fold_begin
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # as the lane's rows are sent
        for sql in daily_counts.precount_tables():
            conn.exec_driver_sql(sql)
        cur = conn.connection.driver_connection.cursor()
        _copy(cur, daily_counts.PRECOUNT_VISITS, visits)
        _copy(cur, daily_counts.PRECOUNT_TOPICS, links)
        _copy(cur, daily_counts.PRECOUNT_REFERRALS, referrals)
        # Without statistics the planner took the copies for small tables: 2.1-2.8 s for the
        # counts of 100,000 visits, against 0.25 s of ANALYZE and 1.1 s with them.
        for table in daily_counts.PRECOUNT_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")
        # In visit_daily's key order (its keys compare byte by byte), as the fold inserts
        # them: sorted here, off the fold's path (its insert 0.41-0.60 s against 0.65-0.80 s).
        order = ", ".join(
            f'c.{k} COLLATE "C"' for k in ("local_date", "location_code", "dimension", "key")
        )
        counted = f"SELECT * FROM ({daily_counts.precount_sql()}) c ORDER BY {order}"
        with cur.copy(f"COPY ({counted}) TO STDOUT") as copy:
            return b"".join(bytes(block) for block in copy)


class Precount:
    """The counts of the visits a lane transaction (marker `tx`) sends, made in a thread and
    on a connection of their own while that transaction runs. `rows` blocks until the lane
    has read them from the laptop."""

    def __init__(self, central, tx: int, rows: Callable[[], Rows]) -> None:
        self.tx = tx
        self._step = Beside(lambda: _count(central, rows()), "sync-precount")

    def counts(self) -> bytes | None:
        """The counts, or None when counting failed (the fold counts the rows instead)."""
        return self._step.wait(quiet=True)

    def drop(self) -> None:
        """Not used after all (the lane failed, or did not write all it staged): joined."""
        self._step.wait(quiet=True)


def fold_counts(central, leftovers: bool = False, precount: Precount | None = None) -> None:
    """Uncounted visits (and deferred deltas) into visit_daily, in one central transaction
    (any laptop's: a push killed before its fold left them there, still counted by the
    readers). `leftovers`: a push that left nothing uncounted itself looks first, and folds
    only if there is anything. `precount`: the counts of one committed lane transaction's
    visits, used if they still hold (module docstring)."""
    counts = precount.counts() if precount is not None else None

    own = {"own": precount.tx if precount is not None else 0}

    def fold():
        with central.begin() as conn:
            if leftovers and not conn.exec_driver_sql(daily_counts.ANY_LEFT).scalar():
                return
            conn.exec_driver_sql("SET LOCAL jit = off")
            if counts is not None:  # copied in before the lock: others wait less for it
                conn.exec_driver_sql(daily_counts.precounted_table())
                cur = conn.connection.driver_connection.cursor()
                with cur.copy(f"COPY {daily_counts.FOLDED} FROM STDIN") as copy:
                    copy.write(counts)
            for sql in daily_counts.fold_begin():
                conn.exec_driver_sql(sql)
            holds = counts is not None and bool(
                conn.exec_driver_sql(daily_counts.PRECOUNT_HOLDS, own).scalar()
            )
            if counts is not None and not holds:
                conn.exec_driver_sql(f"DROP TABLE {daily_counts.FOLDED}")
            for sql in daily_counts.fold_counts_sql(precounted=holds):
                conn.exec_driver_sql(sql, own if holds else None)
            for sql in daily_counts.fold_end():
                conn.exec_driver_sql(sql)

    retrying(fold)
