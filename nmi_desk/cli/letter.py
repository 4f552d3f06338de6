"""`nmi-desk letter`: the client's referral letter for a visit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nmi_desk.cli._common import (
    open_desk,
)
from nmi_desk.core.errors import UserError


def letter(
    ctx: typer.Context,
    visit: Annotated[str, typer.Argument(help="The visit's UUID.")],
    output: Annotated[str, typer.Option("--output", help="PDF file to write, or - for stdout.")],
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Client's language, ISO 639-1 (nl, en, tr, ar, fr, pt, bs, hr, sr)."
        ),
    ] = None,
) -> None:
    """Write the client's referral letter (PDF, Dutch + the client's language) for a visit."""
    from nmi_desk.letter.service import write_letter_file

    if output == "-" and sys.stdout.isatty():
        raise UserError("refusing to write a PDF to a terminal: give --output FILE")
    desk = open_desk(ctx)
    where = write_letter_file(desk.context(), visit, output, lang)
    if where != "stdout":
        typer.echo(f"wrote the letter to {where}", err=True)


def register(root: typer.Typer) -> None:
    root.command()(letter)
