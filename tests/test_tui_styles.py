"""Styles cannot leak between screens: Textual loads every screen's sheet into one global
stylesheet, so a dialog must look the same whichever screens were opened before it."""

from __future__ import annotations

from tui_helpers import settle, wait_screen, wait_today

from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.confirm import ConfirmScreen
from nmi_desk.tui.screens.count_only import CountOnlyScreen
from nmi_desk.tui.screens.today import TodayScreen


async def _count_only_layout(pilot) -> dict:
    await pilot.press("t")
    await wait_screen(pilot, CountOnlyScreen)
    await settle(pilot)
    screen = pilot.app.screen
    layout = {
        name: screen.query_one(name).region
        for name in ("#count-only", ".hint", "#topic-options", "#topic-tags")
    }
    await pilot.press("escape")
    await wait_screen(pilot, TodayScreen)
    return layout


async def test_the_count_only_dialog_keeps_its_size_after_a_confirmation_and_a_form(desk):
    create_visit(
        desk.context(), VisitInput(location_code=desk.settings.location, client_name="Test Persoon")
    )
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=1)
        fresh = await _count_only_layout(pilot)
        await pilot.press("x")  # the delete question: a ConfirmScreen with its own sheet
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await wait_screen(pilot, TodayScreen)
        await pilot.press("n")  # the walk-in form: its sheet sizes the topic list too
        await settle(pilot)
        await pilot.press("escape")
        await wait_screen(pilot, TodayScreen)
        assert await _count_only_layout(pilot) == fresh
