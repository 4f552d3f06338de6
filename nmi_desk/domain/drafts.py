"""Drafts: a form's unsaved content, kept in the database as the consultant types.

After a crash or a kill the next start finds the draft and offers to restore it. One draft per
form key ("visit" for a new walk-in, "visit:<uuid>" for an edit, "session" for an info
session); saving again replaces it. The payload is a JSON object the form itself defines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import Session, col, delete, select

from nmi_desk.core.clock import local, to_utc_naive
from nmi_desk.domain.context import Context
from nmi_desk.domain.form_payloads import fits_form
from nmi_desk.store.models import Draft


@dataclass(frozen=True)
class DraftView:
    form: str
    payload: dict
    updated_at: datetime  # aware, Europe/Amsterdam


def save_draft(ctx: Context, form: str, payload: dict) -> None:
    """Insert or replace the draft of one form (committed before returning)."""
    engine, now = ctx.engine, ctx.now()

    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    with Session(engine) as session:
        row = session.exec(select(Draft).where(Draft.form == form)).first()
        if row is None:
            row = Draft(form=form, payload=text, updated_at=to_utc_naive(now))
        else:
            row.payload = text
            row.updated_at = to_utc_naive(now)
        session.add(row)
        session.commit()


def _view(row) -> DraftView | None:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return None  # a damaged draft is not worth a crash; the next keystroke rewrites it
    if not isinstance(payload, dict):
        return None
    return DraftView(row.form, payload, local(row.updated_at))


def load_draft(ctx: Context, form: str) -> DraftView | None:
    engine = ctx.engine

    with Session(engine) as session:
        row = session.exec(select(Draft).where(Draft.form == form)).first()
        return _view(row) if row else None


ASIDE = "aside:"  # the form key of a draft set aside: kept, never offered, purged with age


def set_aside_misfits(ctx: Context) -> int:
    """Drafts that do not fit their form (an older version's, or damaged: a name that is a
    number, topics that are not a list) are set aside: kept under `aside:<form>` so nothing
    typed is lost, never offered for restoring (it would crash the form), removed by purge
    once older than the period and by erasure when they name the client. How many."""
    moved = 0
    with Session(ctx.engine) as session:
        for row in session.exec(select(Draft).where(col(Draft.form).not_like(f"{ASIDE}%"))).all():
            view = _view(row)
            if view is None or not fits_form(row.form, view.payload):
                row.form = f"{ASIDE}{row.form}"[:64]
                session.add(row)
                moved += 1
        if moved:
            session.commit()
    return moved


def latest_draft(ctx: Context) -> DraftView | None:
    """The most recently written draft of any form that fits it, the one a restart offers to
    restore (`set_aside_misfits` first puts the others aside)."""
    engine = ctx.engine

    with Session(engine) as session:
        rows = session.exec(
            select(Draft)
            .where(col(Draft.form).not_like(f"{ASIDE}%"))
            .order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())
        )
        for row in rows:
            view = _view(row)
            if view is not None and fits_form(row.form, view.payload):
                return view
    return None


def discard_draft(ctx: Context, form: str) -> None:
    engine = ctx.engine

    with Session(engine) as session:
        session.exec(delete(Draft).where(col(Draft.form) == form))
        session.commit()
