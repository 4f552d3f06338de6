"""The walk-in form proposes what is known and asks about what is unlikely.

An origin proposes the destination and the language (most chosen here for that country, else
data/country_languages.toml); one key overrides a proposal. A time later than now and a choice
the typed text hardly supports are pointed out once, beside their field, before saving; an error
clears as soon as its field is right again. The test clock stands at 10:30.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from textual.widgets import Label, OptionList
from tui_helpers import wait_screen, wait_today, wait_until

from nmi_desk.domain.inputs import VisitInput
from nmi_desk.domain.prefill import languages_chosen_here, proposed_language
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.models import Visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.count_only import CountOnlyScreen
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen
from nmi_desk.tui.widgets.choice_field import ChoiceField

SIZE = (100, 30)


def _visits(desk) -> list[Visit]:
    with Session(desk.engine()) as s:
        return list(s.exec(select(Visit).order_by(Visit.id)).all())


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Label).render())


async def _form(pilot) -> VisitFormScreen:
    await wait_today(pilot)
    await pilot.press("n")
    await wait_screen(pilot, VisitFormScreen)
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.baseline is not None, "form ready")
    return screen


async def _origin_typed(pilot, name: str, origin: str) -> VisitFormScreen:
    """A new walk-in with a name and an origin typed, the focus on the destination."""
    form = await _form(pilot)
    await _type(pilot, name)
    await pilot.press("tab", "tab")
    await _type(pilot, origin)
    await pilot.press("tab")
    return form


async def _type(pilot, text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


async def test_an_origin_proposes_destination_and_language_and_tab_takes_them(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _origin_typed(pilot, "Selin Testkaya", "turk")
        destination = form.query_one("#destination_country", ChoiceField)
        language = form.query_one("#language", ChoiceField)
        assert (destination.value, language.value) == ("TR", "tr")
        assert destination.proposed and language.proposed
        assert destination.input.has_focus
        # The destination's list starts with the origin.
        options = destination.query_one(OptionList)
        assert options.get_option_at_index(0).id == "TR"
        await pilot.press("tab", "tab", "ctrl+s")  # both proposals taken as they are
        await wait_screen(pilot, TodayScreen)
    [visit] = _visits(desk)
    assert (visit.origin_country, visit.destination_country, visit.language) == ("TR", "TR", "tr")


async def test_one_key_overrides_a_proposal(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _origin_typed(pilot, "Emre Testdogan", "turk")
        await _type(pilot, "duits")  # replaces the proposed Turkije at the first key
        await pilot.press("tab")
        assert form.query_one("#destination_country", ChoiceField).value == "DE"
        assert not form.query_one("#destination_country", ChoiceField).proposed
        await pilot.press("ctrl+s")
        await wait_screen(pilot, TodayScreen)
    [visit] = _visits(desk)
    assert (visit.origin_country, visit.destination_country, visit.language) == ("TR", "DE", "tr")


def test_the_language_most_chosen_here_for_a_country_comes_before_the_table(desk):
    # The table says Moroccan Arabic for Morocco (CLDR: most speakers) ...
    assert proposed_language("MA", {}) == "ary"
    assert proposed_language("CV", {}) == "kea"
    ctx = desk.context()
    for language in ("fr", "fr", "ary"):
        create_visit(
            ctx,
            VisitInput(
                location_code="eindhoven-stadskantoor", origin_country="MA", language=language
            ),
        )
    # ... but at this counter clients from Morocco were mostly served in French.
    chosen = languages_chosen_here(ctx, "eindhoven-stadskantoor")
    assert chosen == {"MA": "fr"}
    assert proposed_language("MA", chosen) == "fr"
    assert languages_chosen_here(ctx, "amersfoort") == {}


async def test_a_time_later_than_now_is_asked_about_once(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot)
        await pilot.press("shift+tab")  # the time field, before the name
        await _type(pilot, "1655")
        await pilot.press("ctrl+s")
        assert "16:55" in _text(form, "#err-time") and "10:30" in _text(form, "#err-time")
        assert isinstance(app.screen, VisitFormScreen) and _visits(desk) == []
        await pilot.press("ctrl+s")  # yes, 16:55
        await wait_screen(pilot, TodayScreen)
    [visit] = _visits(desk)
    assert visit.started_at.hour in (15, 16)  # 16:55 Amsterdam, stored in UTC


async def test_a_count_only_time_later_than_now_is_asked_about_once(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        await pilot.press("t")
        await wait_screen(pilot, CountOnlyScreen)
        await pilot.press("2", "enter")
        await _type(pilot, "1655")
        await pilot.press("ctrl+s")
        screen = app.screen
        assert isinstance(screen, CountOnlyScreen)
        assert "16:55" in _text(screen, "#err-time")
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        assert _text(screen, "#err-time") == ""  # stale once the time is edited
        await _type(pilot, "1015")
        await pilot.press("ctrl+s")  # earlier than now: no question
        await wait_screen(pilot, TodayScreen)
    assert len(_visits(desk)) == 2


async def test_a_choice_the_typed_text_hardly_supports_is_pointed_out_before_saving(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot)
        await _type(pilot, "Noor Testbakker")
        await pilot.press("tab", "tab")
        await _type(pilot, "kije")  # inside "Turkije", "Slowakije", ...: the start of nothing
        await pilot.press("tab")
        origin = form.query_one("#origin_country", ChoiceField)
        taken = origin.value
        assert taken
        await pilot.press("ctrl+s")
        line = _text(form, "#err-origin_country")
        assert "'kije'" in line and origin.label_of(taken) in line
        assert origin.input.has_focus and not origin.has_class("-open")
        assert _visits(desk) == []
        await pilot.press("ctrl+s")  # the consultant confirms
        await wait_screen(pilot, TodayScreen)
    [visit] = _visits(desk)
    assert visit.origin_country == taken


async def test_an_error_is_readable_beside_its_field_and_clears_when_it_is_right(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        form = await _form(pilot)
        await _type(pilot, "Lina Testvries")
        await pilot.press("tab", "tab", "tab", "tab")  # to the language
        await _type(pilot, "xqz")
        language = form.query_one("#language", ChoiceField)
        listed = language.query_one(OptionList)
        assert listed.option_count == 1 and listed.get_option_at_index(0).disabled
        assert "niets gevonden" in str(listed.get_option_at_index(0).prompt)
        await pilot.press("ctrl+s")
        assert "xqz" in _text(form, "#err-language")
        # The focus is on the field, its list shut: the line under it is not covered.
        assert language.input.has_focus and not language.has_class("-open")
        await pilot.press("backspace", "backspace", "backspace")
        await _type(pilot, "turks")
        await pilot.press("tab")
        assert language.value == "tr"
        assert _text(form, "#err-language") == ""


def test_no_doubt_for_a_time_within_the_grace(desk):
    from nmi_desk.core.validation import doubt_later_than_now

    now = desk.now()
    assert doubt_later_than_now(now + timedelta(minutes=1), now) is None
    assert doubt_later_than_now(now - timedelta(hours=3), now) is None
    assert doubt_later_than_now(now + timedelta(minutes=10), now) is not None
