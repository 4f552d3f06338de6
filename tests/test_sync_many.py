"""Twenty-two laptops pushing (and pulling) at the same moment to one central PostgreSQL schema:
every record exactly once, nothing lost, no deadlock, and the conflict rule holds for the two
laptops that edited the same visit. The same through PgBouncer in transaction mode."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from many_laptops import check_central, prepare, sync_all
from sqlalchemy.engine import make_url

pytestmark = [pytest.mark.pg, pytest.mark.slow]

LAPTOPS = 22


def test_twenty_two_laptops_at_once_leave_every_record_exactly_once(tmp_path, pg_url):
    fleet = prepare(tmp_path, LAPTOPS, visits=60)
    sync_all(fleet, pg_url)
    check_central(fleet, pg_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pgbouncer(pg_url):
    """PgBouncer on a loopback port, transaction pooling, in front of the test's schema."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if binary is None:
        pytest.skip("pgbouncer is not installed")
    url = make_url(pg_url)
    schema = url.query["options"].split("=", 1)[1]
    port = _free_port()
    # Started as root it runs as nobody, which cannot enter pytest's private tmp folders.
    work = Path(tempfile.mkdtemp(prefix="nmi-pgbouncer-"))
    os.chmod(work, 0o755)
    (work / "users.txt").write_text(f'"{url.username}" ""\n')
    (work / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"central = host={url.host} port={url.port or 5432} dbname={url.database}"
        f" user={url.username} connect_query='SET search_path = {schema}'\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"unix_socket_dir =\nauth_type = trust\nauth_file = {work / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 5\nmax_client_conn = 200\n"
    )
    for f in work.iterdir():
        os.chmod(f, 0o644)
    cmd = [binary, str(work / "pgbouncer.ini")]
    if os.geteuid() == 0:
        cmd[1:1] = ["-u", "nobody"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"pgbouncer did not start: {proc.stdout.read().decode()[-500:]}")
    yield f"postgresql+psycopg://{url.username}@127.0.0.1:{port}/central"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(work)


def test_through_pgbouncer_in_transaction_mode(tmp_path, pg_url, pgbouncer):
    """Five server connections for twelve laptops: each transaction may land on another
    server connection, so any session state (a prepared statement, a temp table or a SET
    outliving its transaction) would break a push or leak into another laptop's."""
    fleet = prepare(tmp_path, 12, visits=40)
    sync_all(fleet, pgbouncer)
    check_central(fleet, pg_url)
    # Everything again, the same way: a re-run through the pooler pushes nothing twice.
    sync_all(fleet, pgbouncer)
    check_central(fleet, pg_url)


def test_a_big_first_push_through_pgbouncer_is_counted_exactly(
    tmp_path, clock, pg_url, pgbouncer, monkeypatch
):
    """More than a batch of new visits through the pooler: counted beside the push on a
    connection of its own (its copies are temp tables of one transaction), marked on the
    laptop before the central commit and committed there after it; the per-day counts equal
    the rows and nothing is left pending."""
    from nmi_desk.domain.demo import generate
    from nmi_desk.store.engine import open_engine
    from nmi_desk.sync import resolve_target
    from tests.stats_oracle import per_day, read_rows
    from tests.test_sync import make_desk
    from tests.test_sync_set_counts import _folded, _precounted

    used = _precounted(monkeypatch)
    desk = make_desk(tmp_path / "laptop", clock, "device-pooled")
    generate(desk.engine(), 800, 20, 7, desk.settings.device_id, desk.now())
    try:
        report = desk.sync(resolve_target(pgbouncer, ""), batch_size=200)
        assert report.pushed["visit"] == 800 and used == [True]
        with desk.engine().connect() as conn:
            pending = conn.exec_driver_sql(
                "SELECT count(*) FROM visit WHERE synced_revision < revision"
            ).scalar_one()
        assert pending == 0
        central = open_engine(pg_url)
        try:
            assert _folded(central) == per_day(read_rows(central))
        finally:
            central.dispose()
    finally:
        desk.close()
