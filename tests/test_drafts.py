"""Drafts: unsaved form content survives in the database and can be restored or discarded."""

from __future__ import annotations

from nmi_desk.domain.drafts import discard_draft, latest_draft, load_draft, save_draft


def test_a_draft_is_saved_replaced_and_discarded(desk, clock):
    engine = desk.engine()
    assert load_draft(engine, "visit") is None
    save_draft(engine, "visit", {"client_name": "Ayşe Yılmaz"}, desk.now())
    clock.advance(seconds=5)
    save_draft(engine, "visit", {"client_name": "Ayşe Yılmaz-Işık", "topics": ["aow"]}, desk.now())
    draft = load_draft(engine, "visit")
    assert draft.payload == {"client_name": "Ayşe Yılmaz-Işık", "topics": ["aow"]}
    assert draft.updated_at.strftime("%H:%M:%S") == "10:30:05"
    discard_draft(engine, "visit")
    assert load_draft(engine, "visit") is None
    assert latest_draft(engine) is None


def test_latest_draft_is_the_one_written_last_and_survives_a_new_engine(desk, clock):
    engine = desk.engine()
    save_draft(engine, "visit:abc", {"client_name": "فاطمة"}, desk.now())
    clock.advance(minutes=1)
    save_draft(engine, "session", {"place": "Buurthuis"}, desk.now())
    desk.close()  # as after a restart: a fresh engine on the same file
    latest = latest_draft(desk.engine())
    assert latest.form == "session"
    assert latest.payload == {"place": "Buurthuis"}
    assert load_draft(desk.engine(), "visit:abc").payload == {"client_name": "فاطمة"}
