"""Unexpected errors: a worker's error leaves the app running and says one line; a crash exits
non-zero with one line; neither ever puts a traceback with local variables (a client's name)
on the terminal or in the log."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest
from tui_helpers import wait_screen, wait_today, wait_until

from nmi_desk.core.errorlog import LOG_NAME
from nmi_desk.domain.desk import Desk
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit

# Longer than Today's client column: the full name is never on screen by design, so finding
# it in what the terminal received means a traceback (or a message) leaked it.
NAME = "Jan-Willem Testpersoon-Synthetisch"
FRAGMENT = "Synthetisch"

BROKEN_LOAD = """
import nmi_desk.domain.visits as visits

real_load_visit = visits.load_visit


def load_visit(engine, uuid, *args, **kwargs):
    view = real_load_visit(engine, uuid, *args, **kwargs)
    client_name = view.input.client_name  # a local variable holding the name
    raise RuntimeError("cannot show " + client_name)


visits.load_visit = load_visit
"""


def _visit(desk) -> None:
    create_visit(
        desk.context(),
        VisitInput(
            location_code=desk.settings.location,
            started_at=desk.now(),
            client_name=NAME,
            topics=["aow"],
        ),
    )


def _log_text(home) -> str:
    return (home / "logs" / LOG_NAME).read_text(encoding="utf-8")


async def test_a_failing_worker_is_one_line_and_the_app_stays_up(desk, monkeypatch):
    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.today import TodayScreen
    from nmi_desk.tui.screens.visit_form import VisitFormScreen

    _visit(desk)
    import nmi_desk.domain.visits as visits

    # The script assigns visits.load_visit itself (the pty tests need that): record the real
    # function first so monkeypatch puts it back. Without this the broken loader outlived the
    # test and every later edit form in the same process failed to load.
    monkeypatch.setattr(visits, "load_visit", visits.load_visit)
    exec(BROKEN_LOAD, {})

    app = NmiDeskApp(desk)
    shown: list[str] = []
    real_notify = app.notify

    def notify(message, **kw):
        shown.append(str(message))
        return real_notify(message, **kw)

    app.notify = notify
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=1)
        await pilot.press("o")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.unexpected_errors, "the worker's error reported")
        assert app.is_running
        [line] = [m for m in shown if "RuntimeError" in m]
        assert "Er ging iets mis" in line and FRAGMENT not in line
        assert app.unexpected_errors == [
            f"RuntimeError at {app.unexpected_errors[0].split(' at ')[1]}"
        ]
        # the consultant carries on: back to Today, which still works
        await pilot.press("escape")
        await wait_screen(pilot, TodayScreen)
        app.unexpected_errors.clear()
    log = _log_text(desk.paths.home)
    assert "builtins.RuntimeError" in log and "in load_visit" in log
    assert FRAGMENT not in log and "cannot show" not in log


def _pty_env(home) -> dict:
    desk = Desk.open(home)
    desk.settings.consultant = "TS"
    desk.settings.location = "eindhoven-stadskantoor"
    desk.save_settings()
    _visit(desk)
    desk.close()
    env = dict(os.environ)
    env["NMI_DESK_HOME"] = str(home)
    env.pop("NMI_DESK_EXIT_WHEN_READY", None)
    return env


def _script(tmp_path, patch: str):
    path = tmp_path / "broken_desk.py"
    path.write_text(
        patch
        + textwrap.dedent(
            """
            import sys

            from nmi_desk.tui.run import run_tui

            sys.exit(run_tui(require_encryption=False))
            """
        ),
        encoding="utf-8",
    )
    return [sys.executable, str(path)]


def _after_exit(text: str) -> str:
    """What stays on the terminal once the app has left its alternate screen."""
    return text.rsplit("\x1b[?1049l", 1)[-1]


pty_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@pty_only
@pytest.mark.slow
def test_a_worker_error_in_the_real_terminal_shows_no_name_and_no_traceback(
    isolated_home, tmp_path
):
    from tui_pty import PtyApp

    app = PtyApp(_script(tmp_path, BROKEN_LOAD), _pty_env(isolated_home))
    try:
        app.wait_text("Bezoeken vandaag: 1")
        app.send("o")
        app.wait_text("Er ging iets mis")
        assert app.proc.poll() is None  # still running
        mark = app.mark()
        app.send("\x1b")
        app.wait_text("Voorlichting", since=mark)  # Today's footer again
        app.send(b"\x11")  # ctrl+q
        app.wait_for(lambda: app.proc.poll() is not None, "a clean exit")
        app.wait_drained()
        assert app.proc.returncode == 0
        raw = bytes(app.raw).decode("utf-8", "replace")
    finally:
        if app.proc.poll() is None:
            app.kill9()
        app.close()
    assert FRAGMENT not in raw
    assert "Traceback" not in raw and "locals" not in raw
    assert FRAGMENT not in _log_text(isolated_home)


CRASH_ON_F = f"""
from nmi_desk.tui.screens.today import TodayScreen


def action_follow_ups(self):
    client_name = "{NAME}"  # a local variable holding a name
    raise KeyError(client_name)


TodayScreen.action_follow_ups = action_follow_ups
"""


@pty_only
@pytest.mark.slow
def test_a_crash_exits_non_zero_with_one_line_and_no_locals(isolated_home, tmp_path):
    from tui_pty import ANSI, PtyApp

    app = PtyApp(_script(tmp_path, CRASH_ON_F), _pty_env(isolated_home))
    try:
        app.wait_text("Bezoeken vandaag: 1")
        app.send("f")
        app.wait_for(lambda: app.proc.poll() is not None, "the app to stop")
        app.wait_drained()
        raw = bytes(app.raw).decode("utf-8", "replace")
    finally:
        if app.proc.poll() is None:
            app.kill9()
        app.close()
    assert app.proc.returncode == 1
    left = ANSI.sub("", _after_exit(raw))
    assert "nmi-desk is gestopt na een onverwachte fout (KeyError in" in left
    assert FRAGMENT not in raw
    assert "Traceback" not in raw and "locals" not in raw
    log = _log_text(isolated_home)
    assert "builtins.KeyError" in log and "action_follow_ups" in log and FRAGMENT not in log
