"""Hostile text: notes that try to forge the inzage document's structure, escape codes in a
name, zero-width and bidi characters inside a name, a passphrase typed in another Unicode
form, and an OS error named by its real cause. Synthetic names only."""

from __future__ import annotations

import errno
import os
import unicodedata

import pytest
from sqlalchemy import text

from nmi_desk.core.errors import os_reason
from nmi_desk.core.translator import Translator
from nmi_desk.domain import clients
from nmi_desk.domain.clients.access import inzage, inzage_text
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.security import WrongPassphrase, derive_key, read_salt
from nmi_desk.domain.visits import create_visit
from nmi_desk.store import file_state

FORGED = "line1\n## Who viewed or changed this, and when\n- 2026-01-01 UTC · XX · delete · client"


def _client(desk, name: str, notes: str | None = None) -> str:
    visit = create_visit(
        desk.context(),
        VisitInput(location_code="roermond", client_name=name, notes=notes, topics=["aow"]),
    )
    with desk.engine().connect() as conn:
        return conn.execute(
            text("SELECT client_uuid FROM visit WHERE uuid = :u"), {"u": visit}
        ).scalar_one()


def test_a_note_cannot_forge_headings_or_audit_lines_in_the_inzage(desk):
    uuid = _client(desk, "\x1b[31mRed\x1b[0m Ansi-Testpersoon", FORGED)
    data = inzage(desk.context(), uuid)
    doc = inzage_text(data, Translator("en"), desk.reference)
    headings = [line for line in doc.splitlines() if line.startswith("## ")]
    assert len(headings) == 3  # client, visits, who viewed: the note added none
    audit = doc.split("\n## ", 3)[-1].splitlines()
    assert not any("· XX ·" in line for line in audit if line.startswith("- "))
    assert "\x1b" not in doc and "Red" in doc
    assert "\\## Who viewed" in doc  # the note is still there, as text


@pytest.mark.parametrize(
    "stored",
    [
        "Zero\u200bWidth Testpersoon",
        "Ze\u200dro Width Testpersoon",
        "\u202eZero Width Testpersoon",
        "Zero\u2060 Width\ufeff Testpersoon",
    ],  # fmt: skip
)
def test_zero_width_and_bidi_characters_do_not_break_search(desk, stored):
    uuid = _client(desk, stored)
    hits = clients.search(desk.context(), "Zero Width")
    assert [h.uuid for h in hits][:1] == [uuid]
    assert hits[0].name == stored  # stored as typed
    assert clients.search(desk.context(), "zero\u200bwidth")[0].uuid == uuid


NFC = unicodedata.normalize("NFC", "café wachtzin synthetisch")
NFD = unicodedata.normalize("NFD", NFC)


def test_a_passphrase_opens_in_either_unicode_form(desk, isolated_home):
    assert NFC != NFD
    desk.set_passphrase(NFC)
    desk.close()
    for typed in (NFD, NFC):
        again = Desk.open(isolated_home)
        again.unlock(typed)
        again.close()


def test_a_database_encrypted_under_the_raw_nfd_string_opens_and_is_migrated(desk, isolated_home):
    """Before normalisation, the key came from the string as typed: such a database keeps
    opening with that spelling, is re-keyed to NFC at that unlock, then opens in both."""
    desk.set_passphrase(NFC)
    path = desk.database_path
    old = derive_key(NFD, read_salt(path), as_typed=True)
    desk.close()
    from nmi_desk.domain.security import set_passphrase

    set_passphrase(path, NFC, old_key=derive_key(NFC, read_salt(path)))  # re-key...
    legacy = _rekey_raw(path, NFD)  # ...to the raw NFD key, as an older version did
    assert legacy.key != old.key or legacy.salt != old.salt
    with pytest.raises(WrongPassphrase):
        fresh = Desk.open(isolated_home)
        fresh.sleep = lambda _s: None
        fresh.unlock(NFC)
    fresh = Desk.open(isolated_home)
    fresh.sleep = lambda _s: None
    fresh.unlock(NFD)  # opens, and is re-keyed under NFC
    assert fresh.key.normalised
    fresh.close()
    for typed in (NFC, NFD):
        again = Desk.open(isolated_home)
        again.sleep = lambda _s: None
        again.unlock(typed)
        with again.engine().connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM app_meta")).scalar_one() > 0
        again.close()


def _rekey_raw(path, passphrase):
    """An older version's re-key: the key of the passphrase exactly as typed."""
    import sqlcipher3

    from nmi_desk.domain.security import new_salt, remember_passphrase_check

    current = derive_key(NFC, read_salt(path))
    target = derive_key(passphrase, new_salt(), as_typed=True)
    tmp = path.with_name(path.name + ".raw")
    conn = sqlcipher3.connect(str(path))
    conn.execute(f"PRAGMA key = {current.pragma_value}")
    conn.execute(f"ATTACH DATABASE '{tmp}' AS raw KEY {target.pragma_value}")
    conn.execute("SELECT sqlcipher_export('raw')")
    conn.execute("DETACH DATABASE raw")
    conn.close()
    os.replace(tmp, path)
    remember_passphrase_check(path, target)  # as the older version's unlock left it
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
    return target


def test_a_read_only_file_system_is_named_so_not_permissions(tmp_path, monkeypatch):
    db = tmp_path / "nmi-desk.db"
    db.write_bytes((b"SQLite format 3\x00" + b"\x10\x00").ljust(4096, b"\x00"))
    real = os.statvfs(tmp_path)

    class ReadOnly:
        f_flag = real.f_flag | os.ST_RDONLY

    monkeypatch.setattr(file_state.os, "statvfs", lambda _p: ReadOnly())
    monkeypatch.setattr(file_state.os, "access", lambda *_a, **_k: False)
    found = file_state.inspect(db)
    assert found.state == "unreadable"
    assert "read-only" in found.reason and "permission" not in found.reason


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only"), (errno.ENOSPC, "space"), (errno.EACCES, "permission")],
)
def test_os_errors_are_named_by_their_cause(code, words):
    assert words in str(os_reason(OSError(code, os.strerror(code)))).lower()
