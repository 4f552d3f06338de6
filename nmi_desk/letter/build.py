"""From a visit to a `Letter`: plain data, no layout, no I/O.

What goes on the letter: per referral (not the cancelled ones) the organisation, what to ask
(the reason as typed; a standard reason also in the client's language), the consultant's
note as typed, the follow-up date and the contact
details; the date, the location and the consultant's initials. No client name and no birth
year: a letter lost on the way names nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nmi_desk.core.clock import AMS
from nmi_desk.domain.context import Context
from nmi_desk.domain.reference.files import shipped_reference, standard_reason
from nmi_desk.domain.visits import load_visit
from nmi_desk.letter.catalog import LetterLanguage, resolve_language
from nmi_desk.letter.contacts import Contact, contact_for

PER_PAGE = 3  # referrals on one A4 page


@dataclass(frozen=True)
class LetterReferral:
    organisation: str  # Dutch name (what the next counter's staff read)
    organisation_en: str
    ask: str | None  # as typed by the consultant (a standard reason: its Dutch text)
    ask_client: str | None  # a standard reason in the client's language (None: typed text)
    note: str | None  # as typed
    follow_up: date | None
    contact: Contact | None
    own_contact: bool  # the client's own insurer, fund or municipality: see their letters


@dataclass(frozen=True)
class Letter:
    language: LetterLanguage
    day: date
    location: str
    consultant: str  # initials
    referrals: tuple[LetterReferral, ...]


def build_letter(
    inp, consultant: str, lang: str | None = None, day: date | None = None, ref=None
) -> Letter:
    """The letter for a visit (a visits.VisitInput); `lang` overrides the visit's language;
    `ref` the reference in use (default: the shipped files)."""

    ref = ref or shipped_reference()
    orgs = ref.by_code("organisations")
    shipped = shipped_reference().by_code("organisations")
    locations = ref.by_code("locations")
    language = resolve_language(lang if lang is not None else inp.language)
    if day is None:
        day = inp.started_at.astimezone(AMS).date() if inp.started_at else date.today()
    referrals = []
    for r in inp.referrals:
        if r.status == "cancelled":
            continue
        org = orgs.get(r.organisation_code)
        own = shipped.get(r.organisation_code)
        ask = (r.reason or "").strip() or None
        standard = standard_reason(ask)
        ask_client = None
        if standard is not None and language.client != "nl":
            ask_client = standard.text(language.client)
        referrals.append(
            LetterReferral(
                organisation=org.nl if org else r.organisation_code,
                organisation_en=(org.en or org.nl) if org else r.organisation_code,
                ask=ask,
                ask_client=ask_client,
                note=(r.note or "").strip() or None,
                follow_up=r.follow_up_on,
                contact=contact_for(r.organisation_code, day),  # what holds that day
                own_contact=bool(own and own.extra.get("own")),
            )
        )
    location = locations.get(inp.location_code)
    return Letter(
        language=language,
        day=day,
        location=location.nl if location else inp.location_code,
        consultant=consultant,
        referrals=tuple(referrals),
    )


class NoReferrals(ValueError):
    """A letter needs at least one referral that is not cancelled."""


def letter_for_visit(ctx: Context, uuid: str, lang: str | None):
    """The letter for a stored visit (the CLI's way in); NotFound for an unknown UUID."""

    view = load_visit(ctx, uuid)
    letter = build_letter(
        view.input, view.consultant or ctx.actor.consultant, lang, ref=ctx.reference
    )
    if not letter.referrals:
        raise NoReferrals(uuid)
    return letter
