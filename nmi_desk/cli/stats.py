"""`nmi-desk export` and `nmi-desk report`: visit statistics without personal data."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nmi_desk.cli._common import (
    check_location,
    open_desk,
    parse_date,
)
from nmi_desk.core.errors import UserError


def export(
    ctx: typer.Context,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default today).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default = --from).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or xlsx.")] = "csv",
    output: Annotated[str | None, typer.Option("--output", help="File, or - for stdout.")] = None,
    location: Annotated[
        str | None, typer.Option("--location", help="Only this location code.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Database URL: sqlite:///file.db or postgresql+psycopg://... (default: local).",
        ),
    ] = None,
    suppress_small: Annotated[
        bool,
        typer.Option(
            "--suppress-small", help="Show counts 1-4 as <5 (for reports leaving the NMI)."
        ),
    ] = False,
) -> None:
    """Export visit statistics for a period (no personal data)."""
    from nmi_desk.core.outputs import check_output
    from nmi_desk.domain.stats.compute import check_format, compute_stats, open_source, write_export
    from nmi_desk.domain.stats.compute import suppress_small as hide

    check_format(fmt)
    desk = open_desk(ctx)
    first = parse_date(from_, "--from", desk.today())
    last = parse_date(to, "--to", first)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    check_location(location)
    output = output or f"nmi-statistics-{first}-{last}.{fmt}"
    if output == "-" and fmt == "xlsx" and sys.stdout.isatty():
        raise UserError("refusing to write a spreadsheet to a terminal: give --output FILE")
    check_output(output)  # refuse a bad target before the statistics are read
    with open_source(source or desk.url, None if source else desk.key) as db:
        stats = compute_stats(db, first, last, location)
    if suppress_small:
        stats = hide(stats)
    where = write_export(stats, fmt, output)
    if source is None:  # the audit trail: who exported what of this desk's data
        from nmi_desk.domain.audit import record_desk_export

        record_desk_export(desk, first, last, fmt)
    if where != "stdout":
        typer.echo(f"wrote {stats['visits']} visits ({first} .. {last}) to {where}", err=True)


def report(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Database URL: postgresql+psycopg://... (the central one) or sqlite:///file.db "
            "(default: local).",
        ),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: 1 January).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: today).")
    ] = None,
    output: Annotated[str | None, typer.Option("--output", help="The .xlsx file to write.")] = None,
    suppress_small: Annotated[
        bool,
        typer.Option(
            "--suppress-small", help="Show counts 1-4 as <5 (for reports leaving the NMI)."
        ),
    ] = False,
) -> None:
    """The office report: a workbook with a sheet per statistic by location and by month, and
    charts of visits per month and the top topics (no personal data)."""
    from nmi_desk.core.outputs import check_output, write_output
    from nmi_desk.domain.stats.compute import open_source
    from nmi_desk.domain.stats.report import build_report

    desk = open_desk(ctx, unlock=source is None)
    today = desk.today()
    last = parse_date(to, "--to", today)
    first = parse_date(from_, "--from", last.replace(month=1, day=1))
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    output = output or f"nmi-report-{first}-{last}.xlsx"
    if output == "-" and sys.stdout.isatty():
        raise UserError("refusing to write a spreadsheet to a terminal: give --output FILE")
    check_output(output)
    lang = (ctx.obj or {}).get("lang") or desk.settings.lang
    if lang not in ("nl", "en"):
        raise UserError(f"--lang {lang!r}: choose nl or en")
    with open_source(source or desk.url, None if source else desk.key) as db:
        workbook, stats = build_report(db, first, last, lang, suppress=suppress_small)
    where = write_output(output, workbook)
    if source is None and desk.database_path is not None:
        from nmi_desk.domain.audit import record_export_local

        record_export_local(
            desk.database_path, desk.actor, desk.now(), first, last, "report", key=desk.key
        )
    if where != "stdout":
        typer.echo(f"wrote {stats['visits']} visits ({first} .. {last}) to {where}", err=True)


def register(root: typer.Typer) -> None:
    root.command()(export)
    root.command()(report)
