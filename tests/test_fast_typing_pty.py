"""A fast typist on a busy laptop, in a real pseudo-terminal: five walk-ins typed 80 ms a key
while two CPU-bound processes hold both cores, every stored field exactly as typed.

The keys are the ones tests/test_fast_typing.py hands to the app in-process (the same five
synthetic clients); here they go through the terminal driver of the real `nmi-desk` process.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from test_fast_typing import WALK_INS, _expected, walk_in_keys
from test_tui_kill import _query, _set_up, _unlock

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

KEY_GAP = 0.080  # seconds between keys: a fast typist
BYTES = {"tab": b"\t", "enter": b"\r", "ctrl+t": b"\x14", "ctrl+s": b"\x13", "escape": b"\x1b"}


def _burners(n: int = 2) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def _stored(home) -> list[tuple]:
    rows = _query(
        home,
        "SELECT id, client_name, birth_year, origin_country, destination_country, language"
        " FROM visit ORDER BY id",
    )
    out = []
    for vid, *fields in rows:
        topics = {code for (code,) in _query(
            home, "SELECT topic_code FROM visit_topic WHERE visit_id = ?", vid)}  # fmt: skip
        out.append((*fields, topics))
    return out


def test_five_walk_ins_typed_80_ms_a_key_on_a_busy_laptop_are_stored_exactly(isolated_home):
    from tui_pty import PtyApp, nmi_desk_args

    env = _set_up(isolated_home)
    app = PtyApp(nmi_desk_args(), env)
    burners = _burners()
    try:
        _unlock(app)
        app.wait_text("Bezoeken vandaag: 0")
        for walk_in in WALK_INS:
            for key in walk_in_keys(walk_in):
                app.send(BYTES.get(key, key.encode()))
                time.sleep(KEY_GAP)
        app.wait_for(lambda: len(_stored(isolated_home)) >= len(WALK_INS), "five visits saved")
        time.sleep(1.0)  # nothing more arrives
        stored = _stored(isolated_home)
        app.send(b"\x11")  # ctrl+q
        app.wait_for(lambda: app.proc.poll() is not None, "a clean exit")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        if app.proc.poll() is None:
            app.kill9()
        app.close()
    assert [(n, y, o, d, lang, t) for n, y, o, d, lang, t in stored] == [
        _expected(w) for w in WALK_INS
    ]
