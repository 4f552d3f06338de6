"""`nmi-desk topics search`: topic codes found the way the walk-in form's topic picker finds them."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nmi_desk.core.errors import UserError

topics_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Find topic codes the way the walk-in form's topic picker does.",
)


@topics_app.command("search")
def topics_search(
    query: Annotated[str, typer.Argument(help="A word or phrase, Dutch or English, as typed.")],
    lang: Annotated[str, typer.Option("--lang", help="Labels in nl or en.")] = "nl",
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="At most N results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list, best first.")] = False,
) -> None:
    """Search the topics with the TUI's matcher (word forms, synonyms, typos)."""
    from nmi_desk.domain.matching import matcher_for

    if lang not in ("nl", "en"):
        raise UserError(f"unknown language {lang!r}: choose nl or en")
    hits = matcher_for("topic").search(query, limit)
    if as_json:
        rows = [
            {
                "code": h.code,
                "label": h.entry.label(lang),
                "parent": h.entry.parent,
                "score": h.score,
            }
            for h in hits
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not hits:
        typer.echo("no matching topics", err=True)
        return
    width = max(len(h.code) for h in hits)
    for h in hits:
        typer.echo(f"{h.code:<{width}}  {h.entry.label(lang)}")


def register(root: typer.Typer) -> None:
    root.add_typer(topics_app, name="topics")
