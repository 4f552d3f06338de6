"""The TUI under a full disk and a damaged database, in a real pseudo-terminal: what the
consultant typed stays on the form, the failure is one line, nothing crashes, no traceback."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pty and ulimit")

PASS = "balie-wachtzin-synthetisch"
NAME = "Fulldisk Testpersoon"


def _home(tmp_path, visits: int):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        'consultant = "TS"\nlocation = "eindhoven-stadskantoor"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMI_DESK_")}
    env["NMI_DESK_HOME"] = str(home)
    for args, extra in (
        (["demo", "--visits", str(visits), "--days", "1"], {}),
        (["change-passphrase"], {"NMI_DESK_NEW_PASSPHRASE": PASS}),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "nmi_desk", *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
    return home, env


def _unlock(app) -> None:
    app.wait_text("Ontgrendelen")
    time.sleep(0.3)
    app.send(PASS + "\r")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash for ulimit")
def test_full_disk_keeps_the_form_and_says_why(tmp_path):
    """The WAL may grow to ~4 KiB beyond its 32 KiB index: the first write of the form fails,
    as on a full disk (RLIMIT_FSIZE; SIGXFSZ ignored so the write fails instead of killing)."""
    from tui_pty import PtyApp, nmi_desk_args

    home, env = _home(tmp_path, 5)
    script = 'trap "" XFSZ; ulimit -f 36; exec "$@"'
    app = PtyApp(["bash", "-c", script, "bash", *nmi_desk_args()], env)
    try:
        _unlock(app)
        app.wait_text("Sync (F5)")  # Today is up, the database open behind it
        mark = app.mark()
        app.send("n")
        app.wait_text("Nieuw bezoek (inloop)", since=mark)
        time.sleep(0.5)
        app.send(NAME)
        time.sleep(1.0)  # the draft write is tried (and fails)
        mark = app.mark()
        app.send(b"\x13")  # ctrl+s
        app.wait_text("Niet opgeslagen", since=mark)
        app.wait_text("opnieuw", since=mark)
        assert NAME in app.text  # the form is still there with the name
        assert app.proc.poll() is None  # no crash
        app.send(b"\x11")  # ctrl+q
        app.wait_for(lambda: app.proc.poll() is not None, "the app to quit")
        assert app.proc.returncode == 0
    finally:
        if app.proc.poll() is None:
            app.kill9()
        app.close()
    assert "Traceback" not in app.text
    # What did reach the disk is whole: the failed writes left no damage behind.
    doctor = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "doctor"],
        env={**env, "NMI_DESK_PASSPHRASE": PASS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "ok    integrity: ok" in doctor.stdout, doctor.stdout + doctor.stderr


def test_damaged_database_shows_what_happened_instead_of_loading(tmp_path):
    from tui_pty import PtyApp, nmi_desk_args

    home, env = _home(tmp_path, 2000)
    db = home / "nmi-desk.db"
    data = bytearray(db.read_bytes())
    start = int(len(data) * 0.7) // 4096 * 4096  # in the visit pages, past the schema
    data[start : start + 65536] = random.Random(5).randbytes(65536)
    db.write_bytes(bytes(data))
    app = PtyApp(nmi_desk_args(), env)
    try:
        _unlock(app)
        app.wait_text("Vandaag kan niet getoond worden")
        app.wait_text("back-up terug")  # the Dutch UI says it in Dutch (errors.db.damaged)
        # The notification wraps where the path's length puts it (gw0 or gw1 in a tmp path),
        # and the terminal draws its rows in any order: look for words, not phrases. (The
        # tmp path itself holds "damaged": the test's name.)
        shown = " ".join(app.text.split())
        assert "beschadigd" in shown
        assert "is damaged" not in shown and "damaged (" not in shown
        app.send(b"\x11")
        app.wait_for(lambda: app.proc.poll() is not None, "the app to quit")
        assert app.proc.returncode == 0
    finally:
        if app.proc.poll() is None:
            app.kill9()
        app.close()
    assert "Traceback" not in app.text
    assert db.read_bytes() == bytes(data)
