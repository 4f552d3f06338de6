"""What sync moves is what is counted as pending (D3): a corrected and a merged client count in
`sync --status`, `doctor` and Today's counter, from the one list sync/tables.py keeps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nmi_desk.domain.clients.base import ClientInput
from nmi_desk.domain.clients.index import search
from nmi_desk.domain.clients.writes import correct_client, merge_clients
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.stats.today import read_today
from nmi_desk.domain.visits import create_visit
from nmi_desk.sync import resolve_target, run_sync
from nmi_desk.sync.tables import (
    BOOKKEEPING,
    COUNTED_TABLES,
    SENT_COLUMNS,
    model_columns,
    unit_kinds,
)


def run(home: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return proc.stdout + proc.stderr


def test_every_kind_the_push_moves_is_counted():
    pushed = {k.table for u in unit_kinds() for k in (u.root, *u.children)}
    assert pushed - set(BOOKKEEPING) == set(COUNTED_TABLES)


def test_the_sent_columns_are_the_models_columns():
    """Sync lists the columns it sends (building the model classes would slow every
    `nmi-desk sync`); a column a migration adds to a synced table, or a new table with the
    sync columns, must be added there too, or it would stay on the laptop."""
    models = model_columns()
    assert SENT_COLUMNS == models, "add the column or table to sync/tables.py SENT_COLUMNS"
    units = ("client", "visit", "referral", "info_session")
    # the tables that travel on their own do so in the models' order, as they did before
    assert [t for t in SENT_COLUMNS if t not in units] == [t for t in models if t not in units]


def test_a_corrected_and_a_merged_client_count_as_pending(desk, pg_url):
    for name in ("Ottilie Zandvoort-Testpersoon", "Ottilie Zandvoord-Testpersoon"):
        create_visit(desk.context(), VisitInput(location_code="eindhoven-stadskantoor",
                                                client_name=name, topics=["aow"]))  # fmt: skip
    run_sync(desk.engine(), resolve_target(pg_url, ""), desk.now)
    home = desk.paths.home
    desk.settings.sync_target = resolve_target(pg_url, "").saved
    desk.save_settings()
    assert "pending: nothing" in run(home, "sync", "--status")

    keep, gone = (h.uuid for h in search(desk.context(), "Ottilie Zandvoort"))
    correct_client(desk.context(), keep, ClientInput(name="Ottilie Zandvoort-Testpersoon Jr"))
    status = run(home, "sync", "--status")
    assert "pending: 1 client" in status, status
    assert "not yet synced: 1 records" in run(home, "doctor")

    merge_clients(desk.context(), keep, gone)  # both records and the moved visit
    status = run(home, "sync", "--status")
    assert "pending: 2 client, 1 visit" in status, status
    assert "not yet synced: 3 records" in run(home, "doctor")
    assert read_today(desk).counts.unsynced == 3  # Today's counter
    run_sync(desk.engine(), resolve_target(pg_url, ""), desk.now)
    assert "pending: nothing" in run(home, "sync", "--status")
