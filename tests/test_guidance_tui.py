"""The guidance screen: search as you type, read an article with its sources and review date.

Functional tests run on the shipped library; the snapshots on a small fixture library
(tests/fixtures/guidance_tui), so that editing an article does not change the pictures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Markdown, OptionList, Static
from tui_helpers import LIMIT, workers_done

from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.guidance import GuidanceScreen

FIXTURE_LIBRARY = Path(__file__).parent / "fixtures" / "guidance_tui"


@pytest.fixture
def fixture_library(desk):
    desk.guidance_dir = FIXTURE_LIBRARY


async def settle(pilot, until) -> None:
    """Let workers and messages run until `until()` holds. The bound is generous: the first
    article's Markdown takes seconds to mount on a loaded machine, and this is no timing test."""
    for _ in range(LIMIT):
        await workers_done(pilot)
        await pilot.pause(0.05)
        if until():
            return
    raise AssertionError(f"the guidance screen did not settle: {_state(pilot.app)}")


def _state(app) -> str:
    """What the screen had got to, for the failure message."""
    screen = app.screen
    if not isinstance(screen, GuidanceScreen):
        return f"screen {type(screen).__name__}"
    options = screen.query_one("#results", OptionList)
    workers = [(w.name, w.state.name) for w in app.workers]
    return (
        f"library {'open' if screen.guidance else 'not open'}, "
        f"info {str(screen.query_one('#info', Static).render())!r}, "
        f"{options.option_count} results (highlighted {options.highlighted}), "
        f"shown {screen.current_slug!r}, "
        f"text blocks {len(screen.query_one('#text', Markdown).children)}, "
        f"workers {workers}, errors {getattr(app, 'unexpected_errors', None)}"
    )


def results(app) -> list[str]:
    options = app.screen.query_one("#results", OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def shown(app) -> str | None:
    return app.screen.current_slug


async def open_screen(pilot, **kwargs) -> GuidanceScreen:
    screen = GuidanceScreen(**kwargs)
    pilot.app.push_screen(screen)
    await settle(
        pilot,
        lambda: (
            screen.current_slug is not None
            and len(screen.query_one("#text", Markdown).children) > 0
        ),  # the Markdown is mounted
    )
    screen.query_one("#query", Input).cursor_blink = False  # a blinking cursor is not a picture
    await pilot.pause(0.2)  # and laid out (whether the article pane needs a scrollbar)
    return screen


async def test_results_follow_typing_and_the_best_article_is_shown(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot)
        assert len(results(app)) == len(app.screen.guidance.library)  # nothing typed: all
        await pilot.press(*"kinderbij")
        await settle(pilot, lambda: shown(app) == "kinderbijslag-buitenland")
        assert results(app)[0] == "kinderbijslag-buitenland"
        await pilot.press(*"slag marokko")
        await settle(pilot, lambda: "marokko-uitkeringen-zorg" in results(app)[:3])
        title = str(app.screen.query_one("#title", Static).render())
        assert title.startswith("Marokko") or title.startswith("Kinderbijslag")
        text = app.screen.query_one("#text", Markdown).source
        assert not text.startswith("# ")  # the title is its own line above the text
        assert "## Bronnen" in text and "https://" in text
        reviewed = str(app.screen.query_one("#reviewed", Static).render())
        assert reviewed.startswith("Laatst gecontroleerd: ")


async def test_hostile_text_in_the_search_field_never_breaks_the_screen(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot)
        field = screen.query_one("#query", Input)
        for text in ['"AOW AND', "NEAR(", "*-*", "مرحبا", "😀", "   ", "x" * 5000]:
            field.value = text
            await settle(pilot, lambda: screen.query_one("#info", Static).render() is not None)
        field.value = "aow"
        await settle(pilot, lambda: shown(app) == "aow-buitenland")
        assert screen.is_current


async def test_topic_lists_its_articles_until_the_consultant_types(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, topic="kinderbijslag")
        listed = results(app)
        assert "kinderbijslag-buitenland" in listed
        assert len(listed) < len(app.screen.guidance.library)
        assert "Kinderbijslag" in app.screen.sub_title


async def test_down_moves_into_the_results_and_escape_closes(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        before = app.screen
        await open_screen(pilot, query="zorgverzekering")
        first = shown(app)
        await pilot.press("down")
        assert isinstance(app.focused, OptionList)
        await pilot.press("down")
        await settle(pilot, lambda: shown(app) != first)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is before


async def test_status_line_and_due_for_review_marking(desk, clock, fixture_library):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, query="aow")
        assert shown(app) == "aow-testartikel"
        status = screen.query_one("#status", Static)
        assert status.display and "Remigratiewet" in str(status.render())
        assert not screen.query_one("#due", Static).display  # reviewed 2025-11-01, now 2026-03
        screen.query_one("#query", Input).value = "kindgeld"
        await settle(pilot, lambda: shown(app) == "oud-testartikel")
        due = screen.query_one("#due", Static)
        assert due.display and "01-12-2024" in str(due.render())
        assert not screen.query_one("#status", Static).display
        options = screen.query_one("#results", OptionList)
        assert str(options.get_option_at_index(0).prompt).startswith("! ")


async def test_a_year_later_the_same_article_is_due_for_review(desk, clock, fixture_library):
    clock.advance(days=365)  # 2027-03-10: more than 12 months after 2025-11-01
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, query="aow")
        assert shown(app) == "aow-testartikel"
        assert screen.query_one("#due", Static).display


async def test_the_english_interface_lists_and_shows_english_titles(desk, fixture_library):
    desk.settings.lang = "en"
    desk.save_settings()
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, query="aow")
        assert shown(app) == "aow-testartikel"
        first = str(screen.query_one("#results", OptionList).get_option_at_index(0).prompt)
        assert first == "State pension abroad (test article)"
        assert str(screen.query_one("#title", Static).render()) == first


async def test_an_expired_statement_is_marked_in_the_list_and_the_text(desk, fixture_library):
    app = NmiDeskApp(desk)  # the desk's clock: 2026-03-10
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_screen(pilot, query="termijn")
        assert shown(app) == "termijn-testartikel"
        options = screen.query_one("#results", OptionList)
        assert str(options.get_option_at_index(0).prompt).startswith("! ")
        warning = str(screen.query_one("#due", Static).render())
        assert warning == "1 uitspraak in dit artikel is verlopen (gemarkeerd in de tekst)."
        text = screen.query_one("#text", Markdown).source
        assert "Verlopen op 31-12-2025" in text  # before the expired paragraph
        assert "Geldig tot 31-12-2027." in text  # the other one still holds
        assert "<!--" not in text


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_guidance_snapshot(desk, snap_compare, size, fixture_library):
    async def run_before(pilot):
        await open_screen(pilot, query="aow")

    assert snap_compare(NmiDeskApp(desk), terminal_size=size, run_before=run_before)


def test_guidance_snapshot_due_for_review(desk, snap_compare, fixture_library):
    async def run_before(pilot):
        await open_screen(pilot, topic="kinderbijslag")

    assert snap_compare(NmiDeskApp(desk), terminal_size=(100, 30), run_before=run_before)
