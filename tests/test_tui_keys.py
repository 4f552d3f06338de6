"""One binding mechanism: on every screen Ctrl+P opens the command palette, and F1 lists every
key the consultant can use there (the screen's own, runtime ones included, and the app's,
Ctrl+L among them). The two catalogs name the same keys."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.screen import ModalScreen, Screen
from tui_helpers import wait_screen, wait_today, wait_until

from nmi_desk.core.i18n import catalog
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.keys import LocalizedBindings, key_label, long_description
from nmi_desk.tui.screens.help import HelpScreen
from nmi_desk.tui.screens.today import TodayScreen

# Every screen the counter app has, and the keys that open it from Today.
ROUTES = [
    ([], "TodayScreen"),
    (["n"], "VisitFormScreen"),
    (["n", "ctrl+r"], "ReferralScreen"),
    (["t"], "CountOnlyScreen"),
    (["x"], "ConfirmScreen"),
    (["f"], "FollowUpsScreen"),
    (["f", "d"], "OutcomeNoteScreen"),
    (["i"], "InfoSessionScreen"),
    (["d"], "DayOverviewScreen"),
    (["d", "c"], "CustomPeriodScreen"),
    (["d", "e"], "CloseDayScreen"),
    (["g"], "GuidanceScreen"),
    (["f9"], "SetupScreen"),
    (["f1"], "HelpScreen"),
]


def _seed(desk) -> None:
    create_visit(
        desk.context(),
        VisitInput(
            location_code=desk.settings.location,
            client_name="Mehmet Testpersoon",
            topics=["aow"],
            referrals=[ReferralInput("svb", reason="AOW buitenland")],
        ),
    )


def textual_own_bindings():
    for cls in (App, Screen, ModalScreen):
        yield from cls._merged_bindings or []


def _keys_in_use(app) -> list:
    """What Textual itself says is bound on the current screen, minus its own keys (focus
    moves, cursor moves in a text field: the help's general part names those)."""
    return [
        (key, active.binding)
        for key, active in app.screen.active_bindings.items()
        if active.binding.description
        and not active.binding.system
        and (key, active.binding) not in {(k, b) for k, b in textual_own_bindings()}
        and (
            active.node is app
            or active.node is app.screen
            or isinstance(active.node, LocalizedBindings)
        )
    ]


def _name(pilot) -> str:
    return type(pilot.app.screen).__name__


async def _back_to_today(pilot) -> None:
    for _ in range(6):
        if isinstance(pilot.app.screen, TodayScreen):
            return
        await pilot.press("escape")
        await pilot.pause(0.1)
    await wait_screen(pilot, TodayScreen)


async def test_every_screen_has_the_palette_and_a_help_with_all_its_keys(desk):
    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=1)
        for keys, screen_name in ROUTES:
            for key in keys:
                await pilot.press(key)
            await wait_until(pilot, lambda n=screen_name: _name(pilot) == n, screen_name)
            await pilot.pause(0.1)

            await pilot.press("ctrl+p")
            await wait_screen(pilot, CommandPalette)
            await pilot.press("escape")
            await wait_until(pilot, lambda n=screen_name: _name(pilot) == n, f"{screen_name} back")

            if screen_name != "HelpScreen":
                in_use = _keys_in_use(app)
                await pilot.press("f1")
                await wait_screen(pilot, HelpScreen)
                statics = app.screen.query("Static")
                text = "\n".join(str(s.render()) for s in statics)
                lines = text.splitlines()
                for key, binding in in_use:
                    wanted = long_description(binding)
                    assert any(key_label(key) in ln and wanted in ln for ln in lines), (
                        f"{screen_name}: {key_label(key)} {wanted!r} missing from the help"
                    )
                assert "Ctrl+L" in text and "Ctrl+P" in text
                await pilot.press("escape")
            await _back_to_today(pilot)


async def test_guidance_keys_are_in_the_help_opened_from_today(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen)
        sections = dict(app.screen.sections())
        assert [k for k, _ in sections["Informatie"]] == ["Esc", "Ctrl+F / F2"]
        assert ("Ctrl+L", "Scherm vergrendelen") in sections["Overal"]
        assert ("Ctrl+P", "Alle opdrachten zoeken") in sections["Overal"]


def test_the_dutch_and_english_catalogs_have_the_same_keys():
    dutch, english = set(catalog("nl")), set(catalog("en"))
    assert sorted(dutch - english) == []
    assert sorted(english - dutch) == []


def test_a_count_before_a_word_has_a_singular_form():
    """ "1 bezoeken" was on the client's history: a text where the count is followed by a word
    ("{n} bezoeken") needs `.one` and `.other` forms; "Bezoeken: {n}" needs none."""
    import re

    needs_plural = re.compile(r"\{n\} [^\W\d]")
    for lang in ("nl", "en"):
        single = [
            key
            for key, text in catalog(lang).items()
            if needs_plural.search(text) and not key.endswith((".one", ".other"))
        ]
        assert single == [], f"{lang}: {single}"


async def test_on_a_dialog_the_help_lists_only_the_app_keys_that_work_there(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("t")  # the count-only dialog
        await wait_until(pilot, lambda: _name(pilot) == "CountOnlyScreen", "the dialog")
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen)
        everywhere = [keys for keys, _ in dict(app.screen.sections())["Overal"]]
        assert everywhere == ["Ctrl+Q", "F1", "Ctrl+P", "Ctrl+L"]  # F2, F5 stop at a dialog
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)  # indeed: no guidance over the help


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_todays_footer_shows_the_information_session_and_help_at_80_columns(desk, lang):
    from textual.widgets._footer import FooterKey

    from nmi_desk.tui.app import NmiDeskApp
    from nmi_desk.tui.screens.today import TodayScreen

    desk.settings.lang = lang
    desk.save_settings()
    app = NmiDeskApp(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_screen(pilot, TodayScreen)

        def shown() -> dict:
            return {
                k.key: k.region.right for k in app.screen.query(FooterKey) if k.region.width > 0
            }

        # the footer is laid out after the screen: wait for it, not a fixed pause (a loaded
        # machine once had no footer keys after 0.2 s)
        await wait_until(pilot, lambda: "i" in shown() and "f1" in shown(), "the footer keys")
        keys = shown()
        assert max(keys.values()) <= 80, keys


async def test_the_palette_holds_no_english_textual_commands_in_the_dutch_ui(desk):
    from nmi_desk.tui.screens.visit_form import VisitFormScreen

    english = {"Copy selected text", "Focus Next", "Focus Previous", "Quit", "Keys",
               "Screenshot", "Theme", "Maximize", "Minimize"}  # fmt: skip
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_screen(pilot, TodayScreen)
        await pilot.pause(0.2)
        today = [c.title for c in app.get_system_commands(app.screen)]
        assert "Voorlichting" in today and not english & set(today), today
        assert len(today) == len(set(today)), today  # g and F2: one guidance command
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await pilot.pause(0.2)
        form = [c.title for c in app.get_system_commands(app.screen)]
        assert "Opslaan" in form and not english & set(form), form
