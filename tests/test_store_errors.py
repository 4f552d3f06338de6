"""Code that reads through store.connect catches `database_errors()`: on an encrypted file
the connection is sqlcipher3's, whose exceptions are not sqlite3's (Today's first read on a
new encrypted database once crashed on exactly that)."""

from __future__ import annotations

import sqlite3

import pytest

from nmi_desk.store.connect import connect_sqlite, database_errors


def test_a_missing_table_on_an_encrypted_connection_is_a_database_error(desk):
    desk.set_passphrase("een lange wachtzin voor de test")
    conn = connect_sqlite(desk.paths.database, key=desk.key)
    try:
        with pytest.raises(database_errors()) as info:
            conn.execute("SELECT * FROM no_such_table")
    finally:
        conn.close()
    assert not isinstance(info.value, sqlite3.DatabaseError)  # why sqlite3's alone is not enough


def test_a_missing_table_on_a_plain_connection_is_a_database_error(desk):
    conn = connect_sqlite(desk.paths.database)
    try:
        with pytest.raises(database_errors()):
            conn.execute("SELECT * FROM no_such_table")
    finally:
        conn.close()
