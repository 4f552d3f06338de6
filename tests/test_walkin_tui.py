"""The walk-in form's fields by keyboard (Pilot): typing into a closed choice field is never
lost, the location's most chosen countries come first, a home visit is a choice, several
wrong fields are shown at once with the focus on the first."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select
from textual.widgets import OptionList
from tui_helpers import Keys, wait_screen, wait_today, wait_until

from nmi_desk.core.clock import AMS
from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.models import Visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen
from nmi_desk.tui.widgets.choice_field import ChoiceField

SIZE = (80, 24)


async def _new_form(pilot) -> VisitFormScreen:
    await wait_today(pilot)
    await pilot.press("n")
    await wait_screen(pilot, VisitFormScreen)
    await wait_until(pilot, lambda: pilot.app.screen.baseline is not None, "form ready")
    return pilot.app.screen


def _visits(desk):
    with Session(desk.engine()) as s:
        return s.exec(select(Visit).order_by(Visit.id)).all()


async def test_a_home_visit_from_cabo_verde_typed_in_english_is_stored(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await _new_form(pilot)
        keys = Keys(pilot)
        await keys.choose("#origin_country", "cabo verde", "CV")
        await keys.choose("#language", "kriolu", "kea")
        await keys.choose("#channel", "home visit", "home-visit")
        await keys.press("ctrl+s")
        await wait_screen(pilot, TodayScreen)
    [visit] = _visits(desk)
    assert (visit.origin_country, visit.language, visit.channel) == ("CV", "kea", "home-visit")


async def test_countries_most_chosen_here_are_listed_first(desk):
    for hour in (9, 10):
        create_visit(
            desk.context(),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                started_at=datetime(2026, 3, 9, hour, tzinfo=AMS),
                origin_country="MA",
            ),
        )
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _new_form(pilot)
        field = form.query_one("#origin_country", ChoiceField)
        await wait_until(pilot, lambda: field.preferred == ["MA"], "preferred countries")
        await Keys(pilot).reach("#origin_country")
        options = field.query_one(OptionList)
        assert options.get_option_at_index(0).id == "MA"
        assert options.option_count > 200  # the whole list stays reachable below
        await pilot.press("down", "enter")  # nothing typed: the first is one key away
        assert field.value == "MA"


async def test_several_wrong_fields_are_shown_at_once_with_the_focus_on_the_first(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _new_form(pilot)
        keys = Keys(pilot)
        await keys.fill("#birth_year", "1800")
        await keys.fill("#origin_country", "qqqq")  # matches nothing: kept, not dropped
        await keys.fill("#children", "99")
        await keys.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, VisitFormScreen)
        shown = {
            label.id
            for label in form.query(".field-error")
            if label.display and str(label.render()).strip()
        }
        assert {"err-birth_year", "err-origin_country", "err-children_coremigrating"} <= shown
        assert "qqqq" in str(form.query_one("#err-origin_country").render())
        assert app.focused is form.query_one("#birth_year")
    assert _visits(desk) == []
