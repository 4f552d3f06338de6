"""The database file replaced or removed under a running app (a restore, a sync tool, a
careless copy): writing stops with one line, nothing is reported saved that is not stored,
and what the write-ahead log held is kept in a rescued copy the consultant can bring back.
Plain and encrypted; swapped and removed. Synthetic names only."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import text

from nmi_desk.core.errors import UserError
from nmi_desk.domain.copies import rescued_copies
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.connect import connect_sqlite

PASS = "een lange synthetische wachtzin"


def _visit(desk, name: str) -> str:
    return create_visit(
        desk.context(),
        VisitInput(location_code="eindhoven-stadskantoor", client_name=name, topics=["aow"]),
    )


def _names(path, key=None) -> set[str]:
    conn = connect_sqlite(path, key=key)
    try:
        return {r[0] for r in conn.execute("SELECT client_name FROM visit") if r[0]}
    finally:
        conn.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("how", ["swapped", "removed"])
def test_a_replaced_database_stops_writing_and_keeps_what_the_log_held(
    desk, isolated_home, encrypted, how
):
    if encrypted:
        desk.set_passphrase(PASS)
    db = desk.database_path
    _visit(desk, "Eerder Opgeslagen-Testpersoon")
    with desk.engine().connect() as conn:  # a backup is made of a whole file
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = isolated_home.parent / "backup.db"
    shutil.copy(db, backup)  # "yesterday's backup": without the visit saved next
    _visit(desk, "Voor Vervanging-Testpersoon")  # only in the write-ahead log
    assert os.path.getsize(f"{db}-wal") > 0
    key = desk.key
    if how == "swapped":
        os.replace(backup, db)
    else:
        os.unlink(db)
    with pytest.raises(UserError) as refused:
        _visit(desk, "Na Vervanging-Testpersoon")
    line = str(refused.value)
    assert "\n" not in line and ("replaced" if how == "swapped" else "removed") in line
    assert "rescued-" in line
    desk.close()
    (rescued,) = rescued_copies(db)
    assert _names(rescued, key) == {"Eerder Opgeslagen-Testpersoon", "Voor Vervanging-Testpersoon"}
    if how == "swapped":  # the backup opens as it was: the old log was not replayed into it
        assert _names(db, key) == {"Eerder Opgeslagen-Testpersoon"}
        again = Desk.open(isolated_home)
        if encrypted:
            again.unlock(PASS)
        with again.engine().connect() as conn:
            assert conn.execute(text("PRAGMA quick_check")).scalar_one() == "ok"
        again.close()
    else:
        assert not db.exists()


def test_the_same_file_keeps_working_and_nothing_is_rescued(desk):
    for n in range(3):
        _visit(desk, f"Gewoon Doorwerken-{n}")
    desk.close()
    assert rescued_copies(desk.database_path) == []
