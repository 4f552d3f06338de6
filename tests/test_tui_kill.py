"""Real processes in a real pseudo-terminal: kill -9 with unsaved text in the walk-in form, then
start again, the draft is offered and restored; and the start-up path imports no ORM."""

from __future__ import annotations

import os
import sys
import time

import pytest

from nmi_desk.domain.desk import Desk
from nmi_desk.store.connect import connect_sqlite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

NAME = "Zeynep Kılıç-Öztürk"
PASSPHRASE = "balie-wachtzin-synthetisch"  # the real app encrypts; it asks this at every start


def _set_up(home) -> dict:
    desk = Desk.open(home)
    desk.settings.consultant = "TS"
    desk.settings.location = "eindhoven-stadskantoor"
    desk.save_settings()
    desk.engine()  # create and migrate, as after an earlier day at the counter
    desk.close()
    desk.set_passphrase(PASSPHRASE)
    env = dict(os.environ)
    env["NMI_DESK_HOME"] = str(home)
    env.pop("NMI_DESK_EXIT_WHEN_READY", None)
    return env


def _unlock(app) -> None:
    app.wait_text("Ontgrendelen")
    time.sleep(0.3)
    app.send(PASSPHRASE + "\r")


def _key(home):
    """The database's key, as the app derives it from the passphrase (once per test)."""
    from nmi_desk.domain.security import derive_key, read_salt

    path = home / "nmi-desk.db"
    if _KEYS.get(path) is None:
        _KEYS[path] = derive_key(PASSPHRASE, read_salt(path))
    return _KEYS[path]


_KEYS: dict = {}


def _query(home, sql: str, *params):
    conn = connect_sqlite(home / "nmi-desk.db", readonly=True, key=_key(home))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_kill_9_with_unsaved_text_then_restart_offers_and_restores_the_draft(isolated_home):
    from tui_pty import PtyApp, nmi_desk_args

    env = _set_up(isolated_home)
    app = PtyApp(nmi_desk_args(), env)
    try:
        _unlock(app)
        app.wait_text("Bezoeken vandaag: 0")
        mark = app.mark()
        app.send("n")
        app.wait_text("Nieuw bezoek (inloop)", since=mark)
        time.sleep(0.5)  # the form takes the focus once composed
        app.send(NAME)
        app.wait_for(
            lambda: any(
                NAME in payload
                for (payload,) in _query(
                    isolated_home, "SELECT payload FROM draft WHERE form = 'visit'"
                )
            ),
            "the draft on disk",
        )
    finally:
        app.kill9()  # SIGKILL: no clean-up, no save
    assert _query(isolated_home, "SELECT count(*) FROM visit") == [(0,)]

    again = PtyApp(nmi_desk_args(), env)
    try:
        _unlock(again)
        again.wait_text("Herstellen")
        again.send("j")
        again.wait_text(NAME)  # the form shows the restored name
        time.sleep(0.5)
        again.send(b"\x13")  # ctrl+s
        again.wait_for(
            lambda: _query(isolated_home, "SELECT client_name FROM visit") == [(NAME,)],
            "the restored visit saved",
        )
        again.wait_for(
            lambda: _query(isolated_home, "SELECT count(*) FROM draft") == [(0,)],
            "the draft discarded after saving",
        )
        again.send(b"\x11")  # ctrl+q
        again.wait_for(lambda: again.proc.poll() is not None, "a clean exit")
        assert again.proc.returncode == 0
    finally:
        if again.proc.poll() is None:
            again.kill9()
        again.close()


def test_today_is_ready_without_importing_the_orm(isolated_home):
    """Start-up path: Today shows its rows before SQLAlchemy/SQLModel are imported."""
    from tui_pty import PtyApp, nmi_desk_args

    env = _set_up(isolated_home)
    env["NMI_DESK_EXIT_WHEN_READY"] = "1"
    app = PtyApp(nmi_desk_args("-X", "importtime"), env)
    try:
        _unlock(app)
        app.wait_for(lambda: app.proc.poll() is not None, "exit once Today is ready")
    finally:
        app.close()
    assert app.proc.returncode == 0
    imported = app.text
    assert "| textual.app" in imported.replace("  ", " ") or "textual.app" in imported
    assert "sqlalchemy" not in imported and "sqlmodel" not in imported
