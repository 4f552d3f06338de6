"""The letter's use cases, shared by the CLI and the TUI: write it to a file, print it,
open it; each audited as the action "letter" with how it left (never its content)."""

from __future__ import annotations

from nmi_desk.core.errors import UserError
from nmi_desk.core.outputs import check_output, write_output
from nmi_desk.domain import audit
from nmi_desk.domain.context import Context
from nmi_desk.domain.copies import register_file
from nmi_desk.domain.visits import NotFound
from nmi_desk.letter.build import NoReferrals, letter_for_visit
from nmi_desk.letter.catalog import resolve_language
from nmi_desk.letter.render import render_pdf

HOW = ("saved", "printed", "opened")


def record_letter(ctx: Context, visit_uuid: str | None, how: str) -> None:
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    if how not in HOW:
        raise ValueError(f"how must be one of {HOW}")
    audit.record_now(engine, actor, "letter", "visit", visit_uuid, now, detail=how)


def file_name(day) -> str:
    """A name for the letter that says what it is, without naming the client."""
    return f"verwijzing-{day.isoformat()}.pdf"


def write_letter_file(ctx: Context, uuid: str, output: str, lang: str | None) -> str:
    """`nmi-desk letter`: the stored visit's letter in `output`; returns where it went."""

    if lang is not None:
        resolve_language(lang)  # an unknown code fails before anything is read
    check_output(output)
    try:
        letter = letter_for_visit(ctx, uuid, lang)
    except NotFound:
        raise UserError.of("errors.letter.no_visit", uuid=uuid) from None
    except NoReferrals:
        raise UserError.of("errors.letter.no_referrals", uuid=uuid) from None
    where = write_output(output, render_pdf(letter), private=True)
    record_letter(ctx, uuid, "saved")
    # Registered: erasure of the client and retention remove it (nmi_desk.domain.copies).
    register_file(ctx.engine, where, "letter", ctx.now(), visit=uuid)
    return where
