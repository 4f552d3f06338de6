"""The push's writes to the laptop: the synced marks and the quarantine, and the thread that
makes them (push.push drives it); apart from push.py to keep that module under the house's
800 lines."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nmi_desk.sync.units import Conflict, Unit


class Writer:
    """Writes to the laptop (synced marks, quarantine) in a thread of their own, in order, so
    marking batch N overlaps batch N+1's central transaction. A mark still comes only after
    its batch's central commit; a kill before it leaves the batch pending (pushed again,
    idempotently)."""

    def __init__(self, raw) -> None:
        import queue
        import threading

        self._raw = raw
        self._queue: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sync-mark", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if self.error is None:
                try:
                    job(self._raw)
                except BaseException as exc:  # handed to the pushing thread by close()
                    self.error = exc

    def submit(self, job) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(job)

    def close(self, quiet: bool = False) -> None:
        """Wait for every submitted write; raise the first that failed unless `quiet` (an
        error already on its way is the one to report; the marks made so far still land)."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None and not quiet:
            raise self.error


def sqlite_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's DATETIME text form


def mark_synced(
    raw, units: list[Unit], conflicts: list[Conflict], now: datetime, target_id: str | None = None
) -> None:
    """After the central commit: the pushed revisions are synced, the conflicts logged here too.

    `synced_revision < ?` keeps this idempotent and never lowers a mark; a record edited while
    it was on its way stays pending (its revision is higher than the one pushed).
    """
    records = [
        (table, uuid, revision, unit.local_ids[uuid])
        for unit in units
        for table, uuid, revision in unit.records()
    ]
    mark_records(raw, records, conflicts, now, target_id)


def mark_records(
    raw,
    records: list[tuple[str, str, int, int]],
    conflicts: list[Conflict],
    now: datetime,
    target_id: str | None = None,
    commit: bool = True,
) -> None:
    """mark_synced for (table, uuid, revision, laptop's id) of every record the central side
    committed (the fast lane's records come this way, without units). `commit=False`: the
    caller commits (or rolls back) the laptop's transaction."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for table, _uuid, revision, local_id in records:
        groups[table, revision].append(local_id)
    cur = raw.cursor()
    for (table, revision), ids in groups.items():  # one statement per table and revision
        cur.execute(
            f"UPDATE {table} SET synced_revision = ? WHERE synced_revision < ?"
            " AND id IN (SELECT value FROM json_each(?))",
            (revision, revision, json.dumps(ids)),
        )
    # A record the central side took (corrected since it was refused) leaves quarantine.
    held = cur.execute("SELECT EXISTS (SELECT 1 FROM sync_quarantine)").fetchone()[0]
    accepted = [(t, u, r) for t, u, r, _id in records] if held else []
    if accepted:
        cur.execute(
            "DELETE FROM sync_quarantine WHERE (target_id IS ? OR target_id IS NULL) AND EXISTS"
            " (SELECT 1 FROM json_each(?) a WHERE json_extract(a.value, '$[0]') = table_name"
            " AND json_extract(a.value, '$[1]') = record_uuid"
            " AND json_extract(a.value, '$[2]') >= revision)",
            (target_id, json.dumps(accepted)),
        )
    for c in conflicts:
        seen = cur.execute(
            "SELECT 1 FROM sync_conflict WHERE table_name = ? AND record_uuid = ?"
            " AND loser_revision = ? AND loser_device = ? AND loser_payload = ?",
            (c.table, c.uuid, c.loser_revision, c.loser_device, c.loser_payload),
        ).fetchone()
        if seen is None:
            cur.execute(
                "INSERT INTO sync_conflict (table_name, record_uuid, winner_revision,"
                " loser_revision, loser_device, loser_payload, logged_at, target_id)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    c.table,
                    c.uuid,
                    c.winner_revision,
                    c.loser_revision,
                    c.loser_device,
                    c.loser_payload,
                    sqlite_ts(now),
                    target_id,
                ),
            )
    if commit:
        raw.commit()


def quarantine(
    raw, unit: Unit, reason: str, now: datetime, target_id: str | None = None
) -> list[tuple[str, str, int, str]]:
    """Keep a refused unit's records pending, with the reason, one row per record version."""
    cur = raw.cursor()
    out = []
    for table, uuid, revision in unit.records():
        cur.execute(
            "DELETE FROM sync_quarantine WHERE table_name = ? AND record_uuid = ? AND revision = ?"
            " AND target_id IS ?",
            (table, uuid, revision, target_id),
        )
        cur.execute(
            "INSERT INTO sync_quarantine (table_name, record_uuid, revision, reason, logged_at,"
            " target_id) VALUES (?,?,?,?,?,?)",
            (table, uuid, revision, reason, sqlite_ts(now), target_id),
        )
        out.append((table, uuid, revision, reason))
    raw.commit()
    return out
