"""Publish a reviewed guidance library (data/guidance/*.md) to the central database.

Each file is Markdown with TOML front matter between `+++` lines; `slug` and `revision` say
which article and which version. The central row is replaced only by a higher revision, so
publishing the same library twice changes nothing, and an older checkout cannot overwrite a
newer article.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nmi_desk.errors import UserError


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


def read_article(path: Path) -> Article:
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    lines = content.splitlines()
    if not lines or lines[0].strip() != "+++":
        raise UserError(f"{path}: no front matter (a first line of +++)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise UserError(f"{path}: front matter is not closed by a +++ line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: front matter is not valid TOML: {exc}") from exc
    slug, revision = meta.get("slug"), meta.get("revision")
    if not isinstance(slug, str) or not slug.strip():
        raise UserError(f"{path}: front matter has no slug")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise UserError(f"{path}: front matter needs revision = <a whole number from 1>")
    return Article(slug.strip(), revision, content, path)


def read_library(directory: Path) -> list[Article]:
    if not directory.is_dir():
        raise UserError(f"no guidance folder at {directory}")
    articles = [read_article(p) for p in sorted(directory.glob("*.md"))]
    if not articles:
        raise UserError(f"no guidance articles (*.md) in {directory}")
    seen: dict[str, Path] = {}
    for a in articles:
        if a.slug in seen:
            raise UserError(f"slug {a.slug!r} is in both {seen[a.slug].name} and {a.path.name}")
        seen[a.slug] = a.path
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
