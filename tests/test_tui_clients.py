"""Returning clients in the counter TUI (Textual Pilot), keyboard only: find a client by a typed
variant of the name, open the history, start a new visit, save; the new visit is linked and
the stable fields were filled in; it costs fewer keys than the same visit for a new client.
Also: the walk-in form's Ctrl+F, the rights (inzage export, correction, erasure)."""

from __future__ import annotations

import json

from sqlmodel import Session, select
from textual.widgets import DataTable, Input
from tui_helpers import Keys, settle, wait_screen, wait_today, wait_until

from nmi_desk.domain import clients
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit
from nmi_desk.store.models import Client, Referral, Visit, VisitTopic
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.clients import ClientHistoryScreen, ClientSearchScreen
from nmi_desk.tui.screens.confirm import ConfirmScreen
from nmi_desk.tui.screens.referral import ReferralScreen
from nmi_desk.tui.screens.visit_form import VisitFormScreen
from nmi_desk.tui.widgets.choice_field import ChoiceField

SIZE = (100, 30)
NAME = "Şükrü Öztürk"


def earlier_visit(desk, clock) -> str:
    """Şükrü came three weeks ago to Eindhoven: Turkish, leaving for Turkey with his wife."""
    clock.advance(days=-21)
    create_visit(
        desk.context(),
        VisitInput(
            location_code="eindhoven-stadskantoor",
            client_name=NAME,
            birth_year=1961,
            origin_country="TR",
            destination_country="TR",
            language="tr",
            partner_coremigrating=True,
            children_coremigrating=2,
            topics=["aow"],
            referrals=[ReferralInput("svb", reason="AOW naar Turkije")],
        ),
    )
    clock.advance(days=21)
    return clients.search(desk.context(), "ozturk")[0].uuid


def visits(desk) -> list:
    with Session(desk.engine()) as s:
        return s.exec(select(Visit).order_by(Visit.id)).all()


async def topic_and_referral(pilot, keys: Keys) -> None:
    """One topic (zorg) and one referral (CAK): the same in both counts."""
    await keys.type("zorg")
    await keys.press("enter")
    await keys.press("ctrl+r")
    await wait_screen(pilot, ReferralScreen)
    await keys.type("cak")
    await keys.press("enter")
    await keys.press("ctrl+s")  # referral done
    await wait_screen(pilot, VisitFormScreen)


async def new_client_visit(pilot, keys: Keys) -> None:
    """A first visit: name, birth year, countries, language, household typed and chosen."""
    await keys.press("n")
    await wait_screen(pilot, VisitFormScreen)
    await wait_until(pilot, lambda: pilot.app.screen.baseline is not None, "form ready")
    await keys.fill("#client_name", "Hatice Demir")
    await keys.fill("#birth_year", "1963")
    await keys.choose("#origin_country", "Turk", "TR")  # typed at once: no list to open
    await keys.choose("#destination_country", "Turk", "TR")
    await keys.choose("#language", "Turk", "tr")
    await keys.reach("#partner")
    await keys.press("space")  # partner comes along
    await keys.fill("#children", "2")
    await keys.press("ctrl+t")
    await topic_and_referral(pilot, keys)
    await keys.press("ctrl+s")


async def returning_client_visit(pilot, keys: Keys) -> None:
    """Find Şükrü by a variant of his name, open his history, a new visit for him."""
    app = pilot.app
    await keys.press("c")  # find client
    await wait_screen(pilot, ClientSearchScreen)
    await keys.type("sukru oztrk")  # no diacritics, a letter missing
    await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1,
                     "the client in the results")  # fmt: skip
    await keys.press("enter")  # open the history
    await wait_screen(pilot, ClientHistoryScreen)
    await wait_until(pilot, lambda: app.screen.history is not None, "history")
    assert app.screen.query_one(DataTable).row_count == 1
    assert "SVB" in str(app.screen.query_one("#history-open").render())  # open follow-up
    await keys.press("n")  # a new visit for him
    await wait_screen(pilot, VisitFormScreen)
    form = app.screen
    await wait_until(pilot, lambda: form.baseline is not None, "form prefilled")
    assert form.query_one("#client_name", Input).value == NAME
    assert form.query_one("#birth_year", Input).value == "1961"
    assert form.query_one("#origin_country", ChoiceField).value == "TR"
    assert form.query_one("#language", ChoiceField).value == "tr"
    await wait_until(pilot, lambda: form.focused is not None
                     and form.focused.id == "topic-filter", "topics focused")  # fmt: skip
    await topic_and_referral(pilot, keys)
    await keys.press("ctrl+s")  # visit saved: back on Today, the queue
    await wait_today(pilot, rows=2)


async def test_returning_client_found_by_variant_served_with_fewer_keys(desk, clock):
    uuid = earlier_visit(desk, clock)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        first_time = Keys(pilot)
        await new_client_visit(pilot, first_time)
        await wait_today(pilot, rows=1)
        returning = Keys(pilot)
        await returning_client_visit(pilot, returning)
        await settle(pilot)
        # The client's history is one key away on Today, the new visit in it.
        await pilot.press("h")
        await wait_screen(pilot, ClientHistoryScreen)
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 2,
                         "the new visit in the history")  # fmt: skip
        await pilot.press("escape")
        await wait_today(pilot, rows=2)

    hatice, new = visits(desk)[-2:]
    assert (hatice.client_name, hatice.destination_country, hatice.language,
            hatice.partner_coremigrating, hatice.children_coremigrating) == (
        "Hatice Demir", "TR", "tr", True, 2)  # fmt: skip
    assert new.client_uuid == uuid
    assert (new.client_name, new.birth_year, new.origin_country, new.destination_country,
            new.language, new.partner_coremigrating, new.children_coremigrating) == (
        NAME, 1961, "TR", "TR", "tr", True, 2)  # fmt: skip
    with Session(desk.engine()) as s:
        for visit in (hatice, new):
            assert set(
                s.exec(select(VisitTopic.topic_code).where(VisitTopic.visit_id == visit.id))
            ) == {"zorg"}
            assert [r.organisation_code for r in s.exec(
                select(Referral).where(Referral.visit_id == visit.id))] == ["cak"]  # fmt: skip
    # Keys beyond the typed text: the returning client's visit costs fewer.
    assert returning.count < first_time.count, (returning.count, first_time.count)
    # c, enter, n, enter (topic), ctrl+r, enter, ctrl+s x2: and that ends on Today
    assert returning.count <= 8, returning.log
    assert first_time.count <= 15  # a new client with countries and language: the walk-in budget
    assert returning.typed < first_time.typed  # and less to type


async def test_walk_in_form_finds_the_client_with_ctrl_f(desk, clock):
    uuid = earlier_visit(desk, clock)
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("n")
        await wait_screen(pilot, VisitFormScreen)
        await wait_until(pilot, lambda: app.screen.baseline is not None, "form ready")
        for char in "ozturk":
            await pilot.press(char)
        await pilot.press("ctrl+f")
        await wait_screen(pilot, ClientSearchScreen)
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1, "found")
        await pilot.press("enter")
        await wait_screen(pilot, VisitFormScreen)
        form = app.screen
        await wait_until(pilot, lambda: form.query_one("#client_name", Input).value == NAME,
                         "prefilled")  # fmt: skip
        assert form.query_one("#destination_country", ChoiceField).value == "TR"
        await pilot.press("ctrl+s")
        await wait_today(pilot, rows=1)
        await settle(pilot)
    assert visits(desk)[-1].client_uuid == uuid


async def test_rights_from_the_history_export_correct_erase(desk, clock, tmp_path):
    uuid = earlier_visit(desk, clock)
    desk.settings.inzage_dir = str(tmp_path / "chosen")  # the consultant's folder
    app = NmiDeskApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await wait_today(pilot, rows=0)
        await pilot.press("c")
        await wait_screen(pilot, ClientSearchScreen)
        for char in "ozturk":
            await pilot.press(char)
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).row_count == 1, "found")
        await pilot.press("enter")
        await wait_screen(pilot, ClientHistoryScreen)
        await wait_until(pilot, lambda: app.screen.history is not None, "history")
        await pilot.press("e")  # inzage
        folder = tmp_path / "chosen"  # where the consultant chose, not the data folder
        await wait_until(pilot, lambda: folder.exists() and len(list(folder.glob("*.json"))) == 1,
                         "inzage written")  # fmt: skip
        data = json.loads(next(folder.glob("*.json")).read_text(encoding="utf-8"))
        assert data["client"]["name"] == NAME and len(data["visits"]) == 1
        assert oct(next(folder.glob("*.md")).stat().st_mode & 0o777) == "0o600"

        await pilot.press("c")  # correctie: the birth year was one off
        await wait_until(pilot, lambda: app.screen.query("#edit-year"), "edit dialog")
        year = app.screen.query_one("#edit-year", Input)
        year.value = "1962"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "1962" in str(app.screen.query_one("#history-title")
                                                      .render()), "corrected")  # fmt: skip

        await pilot.press("x")  # verwijdering, after a question
        await wait_screen(pilot, ConfirmScreen)
        await pilot.press("j" if app.tr.lang == "nl" else "y")
        await wait_screen(pilot, ClientSearchScreen)
        await settle(pilot)
    with Session(desk.engine()) as s:
        client = s.exec(select(Client).where(Client.uuid == uuid)).one()
        assert client.deleted and client.name is None and client.erased_at is not None
        assert client.revision == 3  # created, corrected, erased: each travels
        assert all(v.client_name is None for v in s.exec(select(Visit)))
    assert clients.search(desk.context(), "ozturk") == []
    assert list(folder.iterdir()) == []  # the erasure took the inzage documents with it
    assert not (desk.paths.home / "inzage").exists()
