"""The running app follows settings saved elsewhere, and asks before syncing with another
central database (Pilot, PostgreSQL as on CI)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import text
from test_sync_targets import central_counts, second_pg_url  # noqa: F401  (fixture)
from test_sync_tui import _line_text, _seed
from tui_helpers import wait_screen, wait_today, wait_until

from nmi_desk.domain.desk import Desk
from nmi_desk.sync import resolve_target, run_sync
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.confirm import ConfirmScreen
from nmi_desk.tui.screens.today import TodayScreen

pytestmark = pytest.mark.pg

SIZE = (100, 30)


def _notes(app) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


async def _cli(home, *args: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nmi_desk",
        *args,
        env={**os.environ, "NMI_DESK_HOME": str(home)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await proc.communicate()
    return proc.returncode


def _save_elsewhere(home, **settings) -> None:
    """What another window or the CLI does: its own desk writes config.toml."""
    other = Desk.open(home)
    for key, value in settings.items():
        setattr(other.settings, key, value)
    other.save_settings()
    other.close()


async def test_the_running_app_sees_a_target_saved_by_the_cli(desk, pg_url):
    _seed(desk, 3)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        # 3 visits, their 3 referrals and 3 client records
        await wait_until(pilot, lambda: "9 wachtend" in _line_text(app), "pending count")
        await pilot.press("f5")
        await wait_until(pilot, lambda: "Geen synchronisatiedoel" in _notes(app), "no target")
        assert "\n" not in _notes(app)

        # Another terminal: the consultant sets the target there, and that sync succeeds.
        assert await _cli(desk.paths.home, "sync", "--target", pg_url) == 0
        _seed(desk, 1)  # one more visit since then
        await pilot.press("f5")
        await wait_until(
            pilot,
            lambda: "0 wachtend" in _line_text(app),
            "synced: " + _line_text(app) + _notes(app),
        )
        assert "fout" not in _line_text(app)
    assert central_counts(pg_url)["visit"] == 4


async def test_the_running_app_follows_a_location_saved_elsewhere(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        assert "Eindhoven" in app.screen.sub_title
        _save_elsewhere(desk.paths.home, location="roermond")
        await pilot.press("f5")
        await wait_until(pilot, lambda: "Roermond" in app.screen.sub_title, "new location")
        assert desk.settings.location == "roermond"


async def test_a_target_changed_elsewhere_is_confirmed_in_a_dialog_first(
    desk,
    pg_url,
    second_pg_url,  # noqa: F811
):
    _seed(desk, 3)
    run_sync(desk.engine(), resolve_target(pg_url, ""), desk.now)
    desk.settings.sync_target = resolve_target(pg_url, "").saved
    desk.save_settings()
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        _save_elsewhere(desk.paths.home, sync_target=second_pg_url)
        await pilot.press("f5")
        await wait_screen(pilot, ConfirmScreen)
        question = app.screen.question
        assert "3 bezoeken" in question and "3 doorverwijzingen" in question
        assert "search_path" in question  # names the new target
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, TodayScreen), "dialog closed")
        await wait_until(pilot, lambda: "F5" in _line_text(app), "line says how to go on")
        assert central_counts(second_pg_url)["visit"] == 0  # nothing was sent

        await pilot.press("f5")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("j")
        await wait_until(pilot, lambda: "0 wachtend" in _line_text(app), "synced after yes")
    assert central_counts(second_pg_url)["visit"] == 3
    with desk.engine().connect() as c:
        targets = c.execute(text("SELECT count(*) FROM sync_target")).scalar_one()
    assert targets == 2
