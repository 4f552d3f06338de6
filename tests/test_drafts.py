"""Drafts: unsaved form content survives in the database and can be restored or discarded."""

from __future__ import annotations

from nmi_desk.domain.context import Context
from nmi_desk.domain.drafts import discard_draft, latest_draft, load_draft, save_draft


def test_a_draft_is_saved_replaced_and_discarded(desk, clock):
    engine = desk.engine()
    assert load_draft(Context.of(engine, None), "visit") is None
    save_draft(Context.of(engine, None, desk.now()), "visit", {"client_name": "Ayşe Yılmaz"})
    clock.advance(seconds=5)
    save_draft(
        Context.of(engine, None, desk.now()),
        "visit",
        {"client_name": "Ayşe Yılmaz-Işık", "topics": ["aow"]},
    )
    draft = load_draft(Context.of(engine, None), "visit")
    assert draft.payload == {"client_name": "Ayşe Yılmaz-Işık", "topics": ["aow"]}
    assert draft.updated_at.strftime("%H:%M:%S") == "10:30:05"
    discard_draft(Context.of(engine, None), "visit")
    assert load_draft(Context.of(engine, None), "visit") is None
    assert latest_draft(Context.of(engine, None)) is None


def test_latest_draft_is_the_one_written_last_and_survives_a_new_engine(desk, clock):
    engine = desk.engine()
    save_draft(Context.of(engine, None, desk.now()), "visit:abc", {"client_name": "فاطمة"})
    clock.advance(minutes=1)
    save_draft(Context.of(engine, None, desk.now()), "session", {"place": "Buurthuis"})
    desk.close()  # as after a restart: a fresh engine on the same file
    latest = latest_draft(desk.context())
    assert latest.form == "session"
    assert latest.payload == {"place": "Buurthuis"}
    assert load_draft(desk.context(), "visit:abc").payload == {"client_name": "فاطمة"}


def test_drafts_that_do_not_fit_their_form_are_set_aside_not_offered(desk):
    from nmi_desk.domain.drafts import latest_draft, save_draft, set_aside_misfits
    from nmi_desk.domain.form_payloads import fits_form

    ctx = desk.context()
    save_draft(ctx, "visit", {"client_name": 123, "birth_year": "abc", "topics": "notalist"})
    save_draft(ctx, "session", {"place": "Tilburg", "topics": ["aow"]})
    assert not fits_form("visit", {"referrals": [{"reason": 5}]})
    assert not fits_form("visit", {"partner": "yes"})
    assert fits_form("visit", {"client_name": "Anna Testpersoon", "topics": ["aow"]})
    assert set_aside_misfits(ctx) == 1
    assert set_aside_misfits(ctx) == 0
    assert latest_draft(ctx).form == "session"
