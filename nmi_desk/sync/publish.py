"""Publish a reviewed guidance library (data/guidance/*.md) to the central database.

Each file is Markdown with TOML front matter between `+++` lines; `slug` and `revision` say
which article and which version. The central row is replaced only by a higher revision, so
publishing the same library twice changes nothing, and an older checkout cannot overwrite a
newer article.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from nmi_desk.core.clock import local_today, system_clock
from nmi_desk.core.errors import UserError
from nmi_desk.domain.reference.files import shipped_reference
from nmi_desk.guidance.library import check_directory, parse_article


@dataclass(frozen=True)
class Article:
    slug: str
    revision: int
    content: str
    path: Path


@dataclass(frozen=True)
class PublishResult:
    published: list[str]  # slugs written (new or higher revision)
    unchanged: int  # central already had this revision or a higher one


def read_library(directory: Path, today: date | None = None) -> list[Article]:
    """The articles of a library folder, after the same validation as `nmi-desk guidance
    check`: a library with any problem is not published (a reviewed library only)."""

    if not directory.is_dir():
        raise UserError(f"no guidance folder at {directory}")
    reports = check_directory(directory, shipped_reference(), today or local_today(system_clock))
    if not reports:
        raise UserError(f"no guidance articles (*.md) in {directory}")
    bad = [r for r in reports if r.problems]
    if bad:
        first = bad[0]
        more = (
            f" (and {len(bad) - 1} more files; run nmi-desk guidance check)" if len(bad) > 1 else ""
        )
        raise UserError(f"{first.path.name}: {first.problems[0]}{more}")
    articles = []
    for report in reports:
        content = report.path.read_text(encoding="utf-8")
        parsed = parse_article(content)
        articles.append(Article(parsed.slug, parsed.revision, content, report.path))
    return articles


def publish_guidance(central, articles: list[Article], now: datetime) -> PublishResult:
    """Upsert the articles centrally in one transaction, keeping the higher revision."""
    from sqlalchemy import text

    with central.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        stamp = now.replace(tzinfo=None) if pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        current = dict(conn.execute(text("SELECT slug, revision FROM guidance_article")).all())
        fresh = [a for a in articles if a.revision > current.get(a.slug, 0)]
        for a in fresh:
            conn.execute(
                text(
                    "INSERT INTO guidance_article (slug, revision, content, updated_at)"
                    " VALUES (:s, :r, :c, :t) ON CONFLICT (slug) DO UPDATE SET"
                    " revision = excluded.revision, content = excluded.content,"
                    " updated_at = excluded.updated_at"
                    " WHERE guidance_article.revision < excluded.revision"
                ),
                {"s": a.slug, "r": a.revision, "c": a.content, "t": stamp},
            )
    return PublishResult([a.slug for a in fresh], len(articles) - len(fresh))
