"""Every key lands where it was typed: whole walk-ins typed with no pause between keys.

The keys are handed to the app the way the terminal driver hands them (one message each),
all at once, without waiting for the app in between: the screen push after `n`, Enter and Tab
moving the focus, a choice list filtering, Ctrl+S saving in a worker and `n` straight after
for the next client. Every stored field is compared with what was typed.
"""

from __future__ import annotations

from sqlmodel import Session, select
from textual import events
from textual.keys import _character_to_key
from tui_helpers import wait_screen, wait_today

from nmi_desk.store.models import Visit, VisitTopic
from nmi_desk.tui.app import NmiDeskApp
from nmi_desk.tui.screens.today import TodayScreen

NAMED = {"tab", "enter", "escape", "ctrl+t", "ctrl+s", "ctrl+r", "backspace"}

# (name, birth year, origin typed, origin, destination typed, destination, language typed,
#  language, topics typed, topic codes): synthetic people. "" takes the form's proposal (the
# origin as destination, the origin's language).
WALK_INS = [
    ("Yusuf Demirtest", "1979", "turk", "TR", "", "TR", "", "tr",
     ["aow", "schulden"], {"aow", "schulden"}),
    ("Fatima Testouali", "1964", "marok", "MA", "", "MA", "arab", "ar",
     ["zorg"], {"zorg"}),
    ("Joao Testvarela", "1958", "kaapv", "CV", "portug", "PT", "portug", "pt",
     ["pensioen", "wonen"], {"pensioen", "wonen"}),
    ("Amra Testovic", "1971", "bosni", "BA", "", "BA", "", "bs",
     ["aow"], {"aow"}),
    ("Kenan Testoglu", "1983", "turk", "TR", "duits", "DE", "", "tr",
     ["uitkering", "belasting"], {"uitkeringen", "belastingen"}),
]  # fmt: skip


def _keys(*parts: str) -> list[str]:
    keys: list[str] = []
    for part in parts:
        keys.extend([part] if part in NAMED else list(part))
    return keys


def walk_in_keys(walk_in) -> list[str]:
    name, year, origin, _, dest, _, lang, _, topics, _ = walk_in
    # Enter moves on like Tab (and, in a choice field, takes the match): both are used.
    step = "enter" if len(name) % 2 else "tab"
    parts = ["n", name, step, year, step, origin, step, dest, "tab", lang, "tab", "ctrl+t"]
    parts = [p for p in parts if p]
    for topic in topics:
        parts += [topic, "enter"]
    return _keys(*parts, "ctrl+s")


def post_keys(app, keys: list[str]) -> None:
    """Hand the keys to the app as the driver does, all at once (no await in between)."""
    for key in keys:
        char: str | None
        if len(key) == 1:
            char = key
            key = key if key.isalnum() else _character_to_key(key)
        else:
            char = {"tab": "\t", "enter": "\r", "escape": "\x1b", "backspace": "\x7f"}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def _stored(desk) -> list[tuple]:
    with Session(desk.engine()) as s:
        visits = s.exec(select(Visit).order_by(Visit.id)).all()
        rows = []
        for v in visits:
            topics = set(s.exec(select(VisitTopic.topic_code).where(VisitTopic.visit_id == v.id)))
            rows.append(
                (
                    v.client_name,
                    v.birth_year,
                    v.origin_country,
                    v.destination_country,
                    v.language,
                    topics,
                )  # fmt: skip
            )
        return rows


def _expected(walk_in) -> tuple:
    name, year, _, origin, _, dest, _, lang, _, topics = walk_in
    return (name, int(year), origin, dest, lang, topics)


async def test_five_walk_ins_typed_without_a_pause_are_stored_exactly(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=0)
        keys = [key for walk_in in WALK_INS for key in walk_in_keys(walk_in)]
        post_keys(app, keys)
        await app.key_order.drained()
        await wait_today(pilot, rows=len(WALK_INS))
        assert app.unexpected_errors == []
    assert _stored(desk) == [_expected(w) for w in WALK_INS]


async def test_a_draft_offer_waits_for_today_instead_of_taking_keys_meant_for_a_form(desk):
    """An earlier run's unsaved form is offered when the database opens: over a walk-in that
    the consultant is already typing, that dialog took the keys ("n Testkaya" landed in it)."""
    from nmi_desk.domain.drafts import save_draft
    from nmi_desk.tui.screens.confirm import ConfirmScreen

    save_draft(desk.context(), "session", {"date": "2026-03-10", "topics": []})
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        # From the very first frame, before the database has opened in its worker.
        post_keys(app, _keys("n", "Selin Testkaya", "ctrl+s"))
        await app.key_order.drained()
        await wait_screen(pilot, ConfirmScreen)  # offered once Today is on top again
        assert isinstance(app.screen_stack[-2], TodayScreen)
    [row] = _stored(desk)
    assert row[0] == "Selin Testkaya"


async def test_pasted_text_keeps_its_place_among_the_keys(desk):
    app = NmiDeskApp(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_today(pilot, rows=0)
        post_keys(app, ["n"])
        app._driver.send_message(events.Paste("Selin Testkaya"))  # before the form is there
        post_keys(app, _keys("tab", "1980", "ctrl+s"))
        await app.key_order.drained()
        await wait_today(pilot, rows=1)
    [row] = _stored(desk)
    assert row[:2] == ("Selin Testkaya", 1980)
