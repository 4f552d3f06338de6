"""The app's own checks on the database file never drop SQLite's locks: another process (a
`nmi-desk sync` in a second terminal) must not take a database in use for unused."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from nmi_desk.store.file_state import file_state

WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("INSERT INTO app_meta (key, value) VALUES ('other', 'process')")
conn.commit()
conn.close()  # the last connection it knows of: it may checkpoint and remove the WAL
"""


def test_checking_the_file_keeps_the_wal_of_a_database_in_use(desk):
    engine = desk.engine()
    with engine.connect() as held:  # a connection in use, as the running app has
        held.execute(text("SELECT count(*) FROM visit")).scalar_one()
        assert file_state(desk.database_path) == "plain"  # e.g. a new connection's check
        subprocess.run([sys.executable, "-c", WRITER, str(desk.database_path)], check=True)
        wal = desk.database_path.with_name(desk.database_path.name + "-wal")
        assert wal.exists()  # still ours: the other process saw our lock
        assert held.execute(text("SELECT value FROM app_meta WHERE key = 'other'")).scalar()
