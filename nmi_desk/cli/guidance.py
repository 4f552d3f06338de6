"""`nmi-desk guidance ...`: search, show and check the offline guidance library.

A Typer sub-app registered in cli.py. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from nmi_desk.cli._common import open_desk
from nmi_desk.core.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Search, read and check the offline guidance articles.",
)


def _lang(ctx: typer.Context, desk) -> str:
    """--lang on the command line, else the desk's setting: titles and labels follow it."""
    return (ctx.obj or {}).get("lang") or desk.settings.lang


def _guidance(ctx: typer.Context):
    from nmi_desk.guidance.service import open_guidance

    desk = open_desk(ctx, unlock=False, write=False)  # no personal data: no passphrase needed
    if desk.encryption_state() == "missing":
        # A read makes nothing in a data folder not set up yet: the index is built in a
        # temporary folder, removed when the command ends.
        import tempfile

        from nmi_desk.guidance.service import open_guidance_index

        folder = tempfile.TemporaryDirectory(prefix="nmi-guidance-")
        ctx.call_on_close(folder.cleanup)
        index = Path(folder.name) / "guidance-index.sqlite"
        return desk, open_guidance_index(index, desk.guidance_dir, None, [])
    return desk, open_guidance(desk)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for, as you would type it.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="At most N results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of results.")] = False,
) -> None:
    """Search the guidance articles (typos, abbreviations and prefixes allowed)."""
    desk, guidance = _guidance(ctx)
    try:
        hits = guidance.search(query, limit)
        if as_json:
            today = desk.today()
            out = []
            for hit in hits:
                article = guidance.article(hit.slug)
                out.append(
                    {
                        "slug": hit.slug,
                        "title": hit.title,
                        "title_en": article.title_en or None,
                        "topics": list(hit.topics),
                        "score": hit.score,
                        "reviewed": article.reviewed.isoformat() if article.reviewed else None,
                        "due_for_review": article.due_for_review(today),
                        "expired": article.outdated(today),
                        "revision": article.revision,
                        "status": article.status or None,
                    }
                )
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        if not hits:
            typer.echo("no matching articles", err=True)
            return
        width = max(len(h.slug) for h in hits)
        lang = _lang(ctx, desk)
        for hit in hits:
            article = guidance.article(hit.slug)
            typer.echo(f"{hit.slug:<{width}}  {article.display_title(lang)}")
    finally:
        guidance.close()


@app.command()
def show(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The article's slug (see `guidance search`).")],
) -> None:
    """Print one article with its sources and review date."""
    desk, guidance = _guidance(ctx)
    try:
        article = guidance.article(slug.strip())
        if article is None:
            from rapidfuzz import fuzz, process

            near = process.extractOne(
                slug, list(guidance.library.articles), scorer=fuzz.ratio, score_cutoff=75
            )
            hint = f"; did you mean {near[0]}?" if near else ""
            raise UserError(f"no guidance article {slug!r}{hint}")
        from nmi_desk.guidance.render import article_markdown

        text = article_markdown(article, guidance.ref, desk.today(), _lang(ctx, desk))
    finally:
        guidance.close()
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        typer.echo(text, nl=False)


@app.command()
def check(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Folder of articles (default: the shipped library)."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Check as on this day (YYYY-MM-DD; default today)."),
    ] = None,
) -> None:
    """Validate articles: front matter, known codes, https sources, dates, unique slugs.
    Warns 60 days before a dated statement or contact expires; fails once it has."""
    from nmi_desk.cli._common import parse_date
    from nmi_desk.domain.reference.files import shipped_reference
    from nmi_desk.guidance.library import check_directory, shipped_guidance_dir

    day = parse_date(on, "--on", date.today())
    folder = directory or shipped_guidance_dir()
    if not folder.is_dir():
        raise UserError(f"no folder {folder}")
    reports = check_directory(folder, shipped_reference(), day)
    if not reports:
        raise UserError(f"no articles (*.md) in {folder}")
    bad = [r for r in reports if r.problems]
    org_problems, org_warnings = _organisation_problems(day) if directory is None else ([], [])
    for warning in org_warnings:
        typer.echo(f"organisations.toml: warning: {warning}", err=True)
    for report in reports:
        for warning in report.warnings:
            typer.echo(f"{report.path}: warning: {warning}", err=True)
    for problem in org_problems:  # the letter prints these details: same review as articles
        typer.echo(f"organisations.toml: {problem}", err=True)
    for report in bad:
        for problem in report.problems:
            typer.echo(f"{report.path}: {problem}", err=True)
    if bad:
        count = sum(len(r.problems) for r in bad)
        typer.echo(
            f"guidance check: {count} problem(s) in {len(bad)} of {len(reports)} articles",
            err=True,
        )
        raise typer.Exit(1)
    if org_problems:
        raise typer.Exit(1)
    typer.echo(f"guidance check: {len(reports)} articles ok on {day} ({folder})")
    if directory is None:
        typer.echo("guidance check: every organisation has contact details, a source and a date")


def _organisation_problems(day: date) -> tuple[list[str], list[str]]:
    from nmi_desk.domain.reference.files import shipped_reference
    from nmi_desk.letter.contacts import check_organisations, organisation_warnings

    organisations = shipped_reference().organisations
    return check_organisations(organisations, day), organisation_warnings(organisations, day)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="guidance")
