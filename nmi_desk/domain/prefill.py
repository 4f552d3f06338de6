"""What the walk-in form proposes from what is already known.

An origin country proposes the same destination (most clients consider returning to the country
they came from) and the language most chosen for clients from that country at this location,
else the country's most spoken language (data/country_languages.toml, from CLDR). A proposal is
only a value in an empty field: the consultant's first key replaces it.
"""

from __future__ import annotations

from datetime import timedelta

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlalchemy import func
from sqlmodel import Session, col, select

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.domain.context import Context
from nmi_desk.domain.reference.files import country_languages
from nmi_desk.store.models import Visit


def languages_chosen_here(
    ctx: Context, location_code: str, since_days: int = 365
) -> dict[str, str]:
    """Origin country -> the language most chosen for its clients at this location in the last
    `since_days` (ties: the language code first in the alphabet). Codes only, counted in SQL."""
    since = to_utc_naive(ctx.now() - timedelta(days=since_days))
    with Session(ctx.engine) as session:
        origin, language = col(Visit.origin_country), col(Visit.language)
        rows = session.exec(
            select(origin, language, func.count().label("n"))
            .where(
                Visit.location_code == location_code,
                col(Visit.deleted).is_(False),
                origin.is_not(None),
                language.is_not(None),
                Visit.started_at >= since,
            )
            .group_by(origin, language)
            .order_by(origin, func.count().desc(), language)
        ).all()
    chosen: dict[str, str] = {}
    for country, spoken, _ in rows:
        if country and spoken:
            chosen.setdefault(country, spoken)
    return chosen


def proposed_language(origin: str, chosen_here: dict[str, str]) -> str | None:
    """The language to propose for a client from `origin`."""
    return chosen_here.get(origin) or country_languages().get(origin)
