"""The central change sequence (nmi_desk/sync/changes.py) against a real PostgreSQL schema.

A pull after one change reads rows in proportion to that change, not to the clients the laptop
holds (counted: result rows and statements, never time); positions become visible in commit
order even when two push transactions run side by side.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import event, text

from nmi_desk.domain.demo import generate
from nmi_desk.store.engine import open_engine
from nmi_desk.sync import changes
from nmi_desk.sync.clients_pull import pull_clients
from nmi_desk.sync.crashpoints import CRASH_ENV
from nmi_desk.sync.state import active_target
from tests.test_clients_sync import make_desk, sync, visit


class Counted:
    """Statements and result rows an engine ran (after_cursor_execute)."""

    def __init__(self, engine) -> None:
        self.statements = self.rows = 0
        event.listen(engine, "after_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements += 1
        if cursor.description is not None:
            self.rows += max(cursor.rowcount, 0)


def test_a_pull_after_one_change_reads_what_changed_not_what_is_held(tmp_path, clock, pg_url):
    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    central = open_engine(pg_url)
    try:
        generate(a.engine(), 600, 60, 7, a.settings.device_id, a.now())
        sync(a, pg_url)
        with a.engine().connect() as conn:
            held = conn.exec_driver_sql("SELECT count(*) FROM client WHERE deleted = 0").scalar()
            some = conn.exec_driver_sql(
                "SELECT uuid FROM client WHERE deleted = 0 ORDER BY uuid LIMIT 1"
            ).scalar()
        assert held >= 100
        sync(b, pg_url)
        # B fetches one of A's clients, adds a visit and syncs it.
        pull_clients(b.engine(), central, b.now(), wanted=[some], held_too=False)
        added = visit(b, client_uuid=some)
        sync(b, pg_url)

        target = active_target(a.engine())
        counted = Counted(central)
        got = pull_clients(a.engine(), central, a.now(), target_id=target)
        assert got.get("visit") == 1
        assert _client_of(a, added) == some
        # The new visit, its topic and referral, and a few lookups: not one row per held client.
        assert counted.rows <= 10, (counted.rows, held)
        assert counted.statements <= 10

        nothing = Counted(central)
        assert pull_clients(a.engine(), central, a.now(), target_id=target) == {}
        assert nothing.rows <= 1  # the latest position, and no row of any client

        # The same pull without a position (a first pull from this target) reads every held
        # client whole: what the count above is compared with.
        with a.engine().begin() as conn:
            conn.execute(text("UPDATE sync_target SET pulled_position = NULL"))
        whole = Counted(central)
        pull_clients(a.engine(), central, a.now(), target_id=target)
        assert whole.rows >= held
    finally:
        central.dispose()
        a.close()
        b.close()


def _client_of(desk, visit_uuid: str) -> str | None:
    """The client a visit on this laptop belongs to."""
    with desk.engine().connect() as conn:
        return conn.execute(
            text("SELECT client_uuid FROM visit WHERE uuid = :u"), {"u": visit_uuid}
        ).scalar()


def _waiting_on_lock(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar()
            == "Lock"
        )


def test_positions_become_visible_in_commit_order(pg_url):
    """Two push transactions: the one that asks for its position second waits until the first
    has committed, so a reader that saw a position never misses a smaller one later."""
    engine = open_engine(pg_url)
    one, two = engine.connect(), engine.connect()
    try:
        first, second = one.begin(), two.begin()
        tx_one, tx_two = changes.begin(one), changes.begin(two)
        changes.finish(one)  # position taken, not committed yet
        pid = two.exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def finish_two():
            changes.finish(two)
            second.commit()

        worker = threading.Thread(target=finish_two)
        worker.start()
        for _ in range(200):  # the state is what is checked; the loop only bounds the wait
            if _waiting_on_lock(engine, pid):
                break
            time.sleep(0.05)
        assert _waiting_on_lock(engine, pid), "the second position was taken beside the first"
        with engine.connect() as reader:
            assert changes.latest(reader) == 0  # neither committed: nothing to read yet
        first.commit()
        worker.join(30)
        assert not worker.is_alive()
        with engine.connect() as reader:
            order = reader.exec_driver_sql("SELECT tx FROM sync_change ORDER BY position").all()
        assert [r[0] for r in order] == [tx_one, tx_two]
    finally:
        one.close()
        two.close()
        engine.dispose()


def test_a_sqlite_target_numbers_its_transactions_too(tmp_path, clock):
    """A file target: the position is taken by the transaction's first write; a pull after a
    change on another laptop brings just that change."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    try:
        client_visit = visit(a, "Testpersoon Positie")
        sync(a, url)
        uuid = _client_of(a, client_visit)
        sync(b, url)
        central = open_engine(url)
        try:
            pull_clients(b.engine(), central, b.now(), wanted=[uuid], held_too=False)
            visit(b, client_uuid=uuid)
            sync(b, url)
            with central.connect() as conn:
                positions = [r[0] for r in conn.exec_driver_sql("SELECT position FROM sync_change")]
            assert positions == sorted(positions) and len(positions) == len(set(positions)) >= 2
        finally:
            central.dispose()
        report = sync(a, url)
        assert report.pulled.get("visit") == 1
    finally:
        a.close()
        b.close()


def _sync_process(home, url: str, crash: str | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env["NMI_DESK_HOME"] = str(home)
    if crash:
        env[CRASH_ENV] = crash
    done = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "sync", "--target", url],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_kill_9_while_a_pull_of_changes_is_written_pulls_them_again(tmp_path, clock, pg_url):
    """The changes and the position pulled up to are one local transaction: killed before its
    commit, the laptop has neither, and the next sync brings the change."""
    a = make_desk(tmp_path / "a", clock, "laptop-a", "eindhoven-stadskantoor")
    b = make_desk(tmp_path / "b", clock, "laptop-b", "roermond")
    central = open_engine(pg_url)
    try:
        first = visit(a, "Testpersoon Onderbreking")
        sync(a, pg_url)
        uuid = _client_of(a, first)
        with a.engine().connect() as conn:
            before = conn.execute(text("SELECT pulled_position FROM sync_target")).scalar()
        assert before is not None
        sync(b, pg_url)
        pull_clients(b.engine(), central, b.now(), wanted=[uuid], held_too=False)
        added = visit(b, client_uuid=uuid)
        sync(b, pg_url)
        a.close()

        code, output = _sync_process(a.paths.home, pg_url, crash="during-client-pull")
        assert code == -signal.SIGKILL, output
        with a.engine().connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM visit WHERE uuid = :u"), {"u": added}
                ).scalar()
                == 0
            )
            assert conn.execute(text("SELECT pulled_position FROM sync_target")).scalar() == before
        a.close()

        code, output = _sync_process(a.paths.home, pg_url)
        assert code == 0, output
        with a.engine().connect() as conn:
            got = conn.execute(
                text("SELECT client_uuid, revision, synced_revision FROM visit WHERE uuid = :u"),
                {"u": added},
            ).one()
            after = conn.execute(text("SELECT pulled_position FROM sync_target")).scalar()
        assert got[0] == uuid and got[1] == got[2]
        assert after > before
    finally:
        central.dispose()
        a.close()
        b.close()
