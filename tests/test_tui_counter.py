"""The counter TUI driven by keyboard alone (Textual Pilot): walk-in, count-only visit, edit,
delete, follow-up, info session, drafts, validation, languages, keys, palette and help."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select
from textual.widgets import DataTable, Input, Label
from tui_helpers import Keys, settle, table_rows, wait_screen, wait_today, wait_until

from nmi_desk.domain.drafts import load_draft
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.models import InfoSession, InfoSessionTopic, Referral, Visit, VisitTopic
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.confirm import ConfirmScreen, OutcomeNoteScreen
from nmi_desk.tui.screens.count_only import CountOnlyScreen
from nmi_desk.tui.screens.follow_ups import FollowUpsScreen
from nmi_desk.tui.screens.info_session import InfoSessionScreen
from nmi_desk.tui.screens.referral import ReferralScreen
from nmi_desk.tui.screens.today import TodayScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen

SIZE = (100, 30)


def _visits(desk):
    with Session(desk.engine()) as s:
        return s.exec(select(Visit).order_by(Visit.id)).all()


def _topics(desk, visit):
    with Session(desk.engine()) as s:
        return set(s.exec(select(VisitTopic.topic_code).where(VisitTopic.visit_id == visit.id)))


def _referrals(desk, visit=None):
    with Session(desk.engine()) as s:
        q = select(Referral).order_by(Referral.id)
        if visit is not None:
            q = q.where(Referral.visit_id == visit.id)
        return s.exec(q).all()


def _seed(desk, **over) -> str:
    values = dict(
        location_code="eindhoven-stadskantoor",
        client_name="Mehmet Testpersoon",
        topics=["aow"],
        referrals=[ReferralInput("svb", reason="AOW buitenland")],
    )
    values.update(over)
    return create_visit(desk.context(), VisitInput(**values))


async def _topic(pilot, keys: Keys, text: str, code: str) -> None:
    from nmi_desk.tui.widgets.topic_picker import TopicPicker

    picker = pilot.app.screen.query_one(TopicPicker)
    await keys.reach("#topic-filter", shortcut="ctrl+t")
    await keys.type(text)
    await keys.pick(lambda: picker.highlighted_code, code)
    await keys.press("enter")
    await wait_until(pilot, lambda: code in picker.selected, f"topic {code}")


async def _register_walk_in(pilot, keys: Keys, name: str) -> None:
    """Name, birth year, origin and destination country, language, two topics, a referral
    to SVB, save: by keyboard only, each key the app needs counted (Keys.reach/pick)."""
    await keys.press("n")
    await wait_screen(pilot, VisitFormScreen)
    await wait_until(pilot, lambda: pilot.app.screen.baseline is not None, "form ready")
    await keys.fill("#client_name", name)
    await keys.fill("#birth_year", "1961")
    await keys.choose("#origin_country", "Turk", "TR")
    await keys.choose("#destination_country", "Turkije", "TR")
    await keys.choose("#language", "turks", "tr")
    await _topic(pilot, keys, "aow", "aow")
    await _topic(pilot, keys, "remigratie", "remigratiewet")
    await keys.press("ctrl+r")
    await wait_screen(pilot, ReferralScreen)
    dialog = pilot.app.screen
    await keys.reach("#org-filter")
    await keys.type("svb")
    await keys.pick(
        lambda: getattr(dialog.query_one("#org-options").highlighted_option, "id", None), "svb"
    )
    await keys.press("enter")  # SVB chosen, on to the reason
    await keys.type("AOW en remigratie-uitkering bespreken")
    await keys.press("ctrl+s")  # referral done
    await wait_screen(pilot, VisitFormScreen)
    await keys.press("ctrl+s")  # visit saved
    await wait_screen(pilot, TodayScreen)


async def test_walk_in_by_keyboard_is_stored_and_shown_in_today(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        keys = Keys(pilot)
        await _register_walk_in(pilot, keys, "Ayşe Yılmaz")
        await wait_today(pilot, rows=1)
        row = table_rows(app)[0]
        assert row[0] == "10:30"
        assert row[1] == "Ayşe Yılmaz"
        assert "AOW" in row[2] and "Remigratiewet" in row[2]
        assert row[3] == "SVB"
        assert row[4] == "Doorverwezen"
        counts = str(app.screen.query_one("#count-visits").render())
        assert "1" in counts
    [visit] = _visits(desk)
    assert (visit.client_name, visit.birth_year) == ("Ayşe Yılmaz", 1961)
    assert (visit.origin_country, visit.destination_country, visit.language) == ("TR", "TR", "tr")
    assert (visit.consultant, visit.location_code, visit.outcome) == (
        "TS",
        "eindhoven-stadskantoor",
        "referred",
    )
    assert _topics(desk, visit) == {"aow", "remigratiewet"}
    [referral] = _referrals(desk, visit)
    assert referral.organisation_code == "svb"
    assert referral.reason == "AOW en remigratie-uitkering bespreken"
    assert referral.follow_up_on == date(2026, 3, 24)  # default: 14 days on
    assert load_draft(desk.context(), "visit") is None  # saved: no draft left behind


async def test_walk_in_with_countries_and_language_takes_at_most_15_keys(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        keys = Keys(pilot)
        await _register_walk_in(pilot, keys, "Fatima El Amrani")
        await wait_today(pilot, rows=1)
    [visit] = _visits(desk)
    assert (visit.origin_country, visit.destination_country, visit.language) == ("TR", "TR", "tr")
    assert len(_topics(desk, visit)) == 2 and len(_referrals(desk, visit)) == 1
    print(f"walk-in: {keys.count} keys beyond the text: {keys.log}")  # pytest -s shows it
    assert keys.count <= 15, f"{keys.count} keys beyond the text: {keys.log}"


async def test_count_only_visit_of_two_people_at_09_55_takes_at_most_6_keys(desk):
    # The clock stands at 10:30: a time later than now is asked about (test_walkin_prefill.py).
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        keys = Keys(pilot)
        await keys.press("t")
        await wait_screen(pilot, CountOnlyScreen)
        await keys.fill("#people", "2")
        await keys.fill("#time", "0955")
        await keys.press("ctrl+s")
        await wait_today(pilot, rows=2)
        assert [r[:2] for r in table_rows(app)] == [["09:55", "alleen geteld"]] * 2
    print(f"count-only: {keys.count} keys beyond the text: {keys.log}")
    assert keys.count <= 6, f"{keys.count} keys beyond the text: {keys.log}"
    visits = _visits(desk)
    assert len(visits) == 2 and all(v.count_only for v in visits)
    assert all(v.local_hour == 9 and v.client_name is None for v in visits)


async def test_count_only_visit_holds_topics_and_nothing_personal(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("t")
        await wait_screen(pilot, CountOnlyScreen)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: app.focused and app.focused.id == "topic-filter")
        await pilot.press(*"schuld", "enter", *"aow", "enter", "ctrl+s")
        await wait_today(pilot, rows=1)
        row = table_rows(app)[0]
        assert row[1] == "alleen geteld"
    [visit] = _visits(desk)
    assert visit.count_only and visit.client_name is None and visit.birth_year is None
    assert _topics(desk, visit) == {"aow", "schulden"}


async def test_edit_raises_the_revision_and_today_shows_the_change(desk):
    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=1)
        await pilot.press("o")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.query_one("#client_name", Input).value)
        form = app.screen
        form.query_one("#client_name", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k", *"Mehmet Işık")
        await pilot.press("ctrl+s")
        await wait_screen(pilot, TodayScreen)
        await wait_until(pilot, lambda: table_rows(app)[0][1] == "Mehmet Işık", "edited row")
    [visit] = _visits(desk)
    assert visit.revision == 2 and visit.client_name == "Mehmet Işık"
    [referral] = _referrals(desk, visit)
    assert referral.revision == 1  # untouched referral keeps its revision


async def test_delete_asks_first_and_leaves_a_tombstone(desk):
    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=1)
        await pilot.press("x")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("n")  # not yet
        await wait_screen(pilot, TodayScreen)
        assert not _visits(desk)[0].deleted
        await pilot.press("x")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("j")
        await wait_today(pilot, rows=0)
    [visit] = _visits(desk)
    assert visit.deleted and visit.revision == 2
    assert all(r.deleted for r in _referrals(desk, visit))


async def test_a_read_overtaken_by_a_delete_never_shows_the_deleted_visit(desk):
    from nmi_desk.domain.stats.today import read_today
    from nmi_desk.tui.messages import TodayLoaded

    _seed(desk)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=1)
        before_delete = read_today(desk)  # what a read that started before the delete sees
        await pilot.press("x")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("j")
        await wait_today(pilot, rows=0)
        # that slow read arrives last: the first read of the screen, long overtaken
        app.screen.post_message(TodayLoaded(before_delete, read=1))
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count == 0


async def test_follow_ups_overdue_first_and_marked_done_with_a_note(desk, clock):
    _seed(desk, client_name="Later Persoon", referrals=[ReferralInput("uwv", reason="WW")])
    _seed(
        desk,
        client_name="Vroeg Persoon",
        referrals=[ReferralInput("svb", reason="AOW", follow_up_on=date(2026, 3, 1))],
    )
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        await pilot.press("f")
        await wait_screen(pilot, FollowUpsScreen)
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 2)
        rows = table_rows(app)
        assert rows[0][0] == "01-03-2026" and rows[0][3] == "Vroeg Persoon"
        assert rows[0][1] == "SVB" and rows[0][4] == "10-03-2026"
        assert "1 te laat" in str(app.screen.query_one("#follow-title").render())
        assert rows[1][3] == "Later Persoon"
        await pilot.press("d")
        await wait_screen(pilot, OutcomeNoteScreen)
        await pilot.press(*"Uitkering aangevraagd", "enter")
        await wait_screen(pilot, FollowUpsScreen)
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1)
        assert table_rows(app)[0][3] == "Later Persoon"
    svb = next(r for r in _referrals(desk) if r.organisation_code == "svb")
    assert (svb.status, svb.outcome_note, svb.revision) == ("done", "Uitkering aangevraagd", 2)


async def test_info_session_is_registered(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("i")
        await wait_screen(pilot, InfoSessionScreen)
        await wait_until(pilot, lambda: app.focused and app.focused.id == "municipality_code-input")
        await pilot.press(*"sneek", "enter")  # Súdwest-Fryslân, by its best-known town
        await pilot.press(*"Buurthuis De Boog", "enter")  # place -> partner
        app.screen.query_one("#attendees", Input).focus()
        await pilot.press(*"35")
        await pilot.press("ctrl+t", *"aow", "enter", *"verblijf", "enter", "ctrl+s")
        await wait_screen(pilot, TodayScreen)
        await settle(pilot)
    with Session(desk.engine()) as s:
        [row] = s.exec(select(InfoSession)).all()
        topics = set(
            s.exec(select(InfoSessionTopic.topic_code).where(InfoSessionTopic.session_id == row.id))
        )
    assert (row.place, row.attendees, row.held_on) == ("Buurthuis De Boog", 35, date(2026, 3, 10))
    assert row.location_code == "eindhoven-stadskantoor" and row.consultant == "TS"
    assert row.municipality_code == "GM1900"  # Súdwest-Fryslân
    assert topics == {"aow", "verblijf"}


NAMES = ["Şükrü İşık-Ağaoğlu", "فاطمة الزهراء", "Zoë Ångström-Niño"]


@pytest.mark.parametrize("name", NAMES)
async def test_names_in_turkish_arabic_and_with_diacritics_are_stored_and_shown(desk, name):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None)
        await Keys(pilot).type(name)
        await pilot.press("ctrl+s")
        await wait_today(pilot, rows=1)
        assert table_rows(app)[0][1] == name
    assert _visits(desk)[0].client_name == name


async def test_inline_validation_in_plain_dutch(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None)
        form = app.screen
        form.query_one("#birth_year", Input).focus()
        await pilot.press(*"1850")
        await pilot.pause(0.1)
        err = form.query_one("#err-birth_year", Label)
        assert str(err.render()) == "Geboortejaar moet tussen 1900 en 2026 liggen."
        form.query_one("#children", Input).focus()
        await pilot.press(*"25")
        await pilot.pause(0.1)
        assert "tussen 0 en 20" in str(form.query_one("#err-children_coremigrating").render())
        await pilot.press("ctrl+s")  # refused: the form stays, nothing stored
        await settle(pilot)
        assert isinstance(app.screen, VisitFormScreen)
    assert _visits(desk) == []


async def test_escape_asks_before_discarding_and_drafts_are_kept_meanwhile(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None)
        await pilot.press(*"Nog Niet Opgeslagen")

        def drafted() -> str | None:
            draft = load_draft(desk.context(), "visit")
            return draft.payload["client_name"] if draft else None

        # saved as it is typed: a first draft may hold the first letters only
        await wait_until(pilot, lambda: drafted() == "Nog Niet Opgeslagen", "the whole draft")
        await pilot.press("escape")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await pilot.press("escape")
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("j")
        await wait_screen(pilot, TodayScreen)
        await settle(pilot)
    assert load_draft(desk.context(), "visit") is None
    assert _visits(desk) == []


async def test_a_draft_left_behind_is_offered_and_restored_on_the_next_start(desk):
    from nmi_desk.domain.drafts import save_draft

    payload = {"client_name": "Hatice Doğan", "topics": ["aow"], "referrals": [], "time": "10:05"}
    payload["date"] = "2026-03-10"
    save_draft(desk.context(), "visit", payload)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, ConfirmScreen)
        # The dialog is the current screen before its question is composed: wait for what
        # the consultant sees, not for the class.
        await wait_until(pilot, lambda: app.screen.query(".question"), "the question")
        assert "Herstellen" in str(app.screen.query_one(".question").render())
        await pilot.press("j")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.query_one("#client_name", Input).value)
        assert app.screen.query_one("#client_name", Input).value == "Hatice Doğan"
        assert app.screen.read()["topics"] == ["aow"]
        await pilot.press("ctrl+s")
        await wait_today(pilot, rows=1)
    [visit] = _visits(desk)
    assert visit.client_name == "Hatice Doğan" and visit.started_at.strftime("%H:%M") == "09:05"
    assert load_draft(desk.context(), "visit") is None


async def test_a_draft_that_does_not_fit_the_form_is_set_aside_with_a_message(desk):
    """An older version's draft (or a damaged one) never crashes the form: it is set aside,
    said once, and the app starts on Today; the draft stays in the database, unoffered."""
    from sqlalchemy import text

    from nmi_desk.domain.drafts import save_draft

    save_draft(desk.context(), "visit", {"client_name": 123, "birth_year": "abc",
                                        "topics": "notalist"})  # fmt: skip
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await wait_until(pilot, lambda: any("apart gezet" in str(n.message)
                                            for n in app._notifications), "the message")  # fmt: skip
        assert not isinstance(app.screen, ConfirmScreen)
    with desk.engine().connect() as conn:
        assert conn.execute(text("SELECT form FROM draft")).scalars().all() == ["aside:visit"]


async def test_english_through_the_setting(desk):
    desk.settings.lang = "en"
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        assert "Visits today" in str(app.screen.query_one("#count-visits").render())
        descriptions = {b.binding.description for b in app.screen.active_bindings.values()}
        assert {"New", "Count only", "Follow-ups", "Info session", "Day", "Help"} <= descriptions


@pytest.mark.parametrize(
    ("lang", "prompt"), [("nl", "Zoek een opdracht…"), ("en", "Search for commands…")]
)
async def test_textual_s_own_palette_prompt_follows_the_language(desk, lang, prompt):
    from textual.command import CommandInput, CommandPalette

    desk.settings.lang = lang
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("ctrl+p")
        await wait_screen(pilot, CommandPalette)
        assert app.screen.query_one(CommandInput).placeholder == prompt


async def test_language_switch_in_settings_rebuilds_the_screens(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("f9")
        await wait_until(pilot, lambda: app.screen.query("#lang"))
        app.screen.query_one("#lang").focus()
        await pilot.press(*"eng")  # typed: English
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, TodayScreen)
                and "Visits today" in str(app.screen.query_one("#count-visits").render())
            ),
            "English Today",
        )
        # the same Today, in English: no Dutch one left underneath
        assert [type(s) for s in app.screen_stack] == [TodayScreen]
    assert desk.settings.lang == "en"


async def test_every_footer_key_is_in_the_palette_and_the_help(desk):
    from nmi_desk.tui.screens.help import HelpScreen

    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        _seed(desk)
        app.screen.refresh_today()
        await wait_today(pilot, rows=1)
        shown = [
            a.binding
            for a in app.screen.active_bindings.values()
            if a.binding.show and a.binding.description
        ]
        footer = {b.description for b in shown}
        named = {b.tooltip or b.description for b in shown}  # the long form, where there is one
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Nieuw", "Telbezoek", "Opvolging", "Voorlichting", "Dag", "Info", "Hulp"} <= footer
        assert {"Dagoverzicht", "Afsluiten", "Voorlichting"} <= commands
        assert named <= commands
        await pilot.press("f1")
        await wait_screen(pilot, HelpScreen)
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        for description in named | {
            "Doorverwijzing toevoegen",
            "Brief voor de cliënt (afdrukken, openen, opslaan)",
            "Afgerond",
        }:
            assert description in text
        assert "Ctrl+S" in text and "F1" in text


async def test_topic_picker_finds_aow_by_synonym_and_toggles(desk):
    from nmi_desk.tui.widgets.topic_picker import TopicPicker

    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("t")
        await wait_screen(pilot, CountOnlyScreen)
        await pilot.press("ctrl+t")  # the dialog starts at the number of people
        await wait_until(pilot, lambda: app.focused and app.focused.id == "topic-filter")
        picker = app.screen.query_one(TopicPicker)
        await pilot.press(*"ouderdomspensioen")
        assert picker.highlighted_code == "aow"
        await pilot.press("ctrl+a", "ctrl+k", *"State pension")  # English labels match too
        assert picker.highlighted_code == "aow"
        await pilot.press("enter")
        assert picker.selected == ["aow"]
        await pilot.press("tab", "space")  # space in the list toggles the highlighted one off
        assert picker.selected == []
        # Words that find nothing say so, and Enter picks nothing.
        await pilot.press("shift+tab", "ctrl+a", "ctrl+k", *"xylofoon")
        options = app.screen.query_one("#topic-options")
        await wait_until(pilot, lambda: options.option_count == 1, "the empty result")
        assert str(options.get_option_at_index(0).prompt) == "niets gevonden"
        assert picker.highlighted_code is None
        await pilot.press("enter")
        assert picker.selected == []
        # A compound and a phrase of which not every word matches find their topic.
        await pilot.press("ctrl+a", "ctrl+k", *"huurhuis opzeggen")
        await wait_until(pilot, lambda: picker.highlighted_code == "wonen", "wonen")


@pytest.mark.parametrize("dialog", ["draft offer", "first-run setup"])
async def test_quitting_while_a_start_up_dialog_mounts_is_not_a_crash(desk, dialog):
    """Ctrl+Q as the draft offer (or the setup screen) appears: the app tears the screen down
    mid-mount. A query in its on_mount used to crash the app (NoMatches '#yes', exit 1): the
    flaky draft-offer test's second error."""
    from nmi_desk.tui.screens.setup import SetupScreen

    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot)
        # The sync line mounts just after Today's rows (it queries in on_mount as well).
        await wait_until(pilot, lambda: app.screen.query("#sync-text"), "the sync line")
        app.push_screen(ConfirmScreen("Herstellen?") if dialog == "draft offer" else SetupScreen())
        app.exit()
        await pilot.pause()
    assert app.return_code == 0
