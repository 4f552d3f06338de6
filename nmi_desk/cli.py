"""The command line: one Typer app. No sub-command starts the TUI.

User mistakes end as one line on stderr and a non-zero exit, never a traceback.
Heavy modules are imported inside the commands, so `nmi-desk` reaches the TUI fast.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from nmi_desk.cli_clients import app as clients_app
from nmi_desk.cli_guidance import app as guidance_app
from nmi_desk.cli_sync import register as register_sync
from nmi_desk.core.errors import UserError, one_line

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="nmi-desk: the counter app for NMI remigration consultants.",
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Keep database, config and logs under DIR (or set NMI_DESK_HOME)."
    ),
]


def _desk(ctx: typer.Context, unlock: bool = True):
    from nmi_desk.domain.desk import Desk

    desk = Desk.open(ctx.obj.get("data_dir") if ctx.obj else None)
    desk.check_database()  # empty, damaged, unreadable: one line, nothing created or written
    if unlock and desk.locked:
        _unlock(desk, "Passphrase")
    return desk


def _unlock(desk, prompt: str) -> None:
    """The same growing wait after wrong passphrases as the unlock screen, across processes."""
    from nmi_desk.domain.security import wait_before_unlock

    passphrase = _passphrase(prompt)
    wait = wait_before_unlock(desk.database_path)
    if wait >= 1:
        typer.echo(f"nmi-desk: waiting {wait:.0f} s after earlier wrong passphrases", err=True)
    desk.unlock(passphrase)


def _passphrase(prompt: str, confirm: bool = False) -> str:
    """NMI_DESK_PASSPHRASE for scripts, else a hidden prompt; never an argument (shell history)."""
    from nmi_desk.domain.security import passphrase_from_env

    given = passphrase_from_env()
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError(
            "the database is encrypted and no passphrase was given: run this in a terminal "
            "to be asked for it (a script may set NMI_DESK_PASSPHRASE)"
        )
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def parse_date(value: str | None, option: str, default: date) -> date:
    if value is None:
        return default
    from nmi_desk.core.validation import parse_iso_date

    try:
        return parse_iso_date(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    data_dir: DataDir = None,
    lang: Annotated[str | None, typer.Option("--lang", help="nl (default) or en.")] = None,
) -> None:
    """Start the counter app (TUI) when no command is given."""
    ctx.obj = {"data_dir": data_dir, "lang": lang}
    if lang is not None and lang not in ("nl", "en"):
        raise UserError(f"--lang {lang!r}: choose nl or en")
    if ctx.invoked_subcommand is not None:
        return
    from nmi_desk.tui.run import run_tui

    code = run_tui(data_dir=data_dir, lang=lang)
    if code:
        raise typer.Exit(code)


@app.command()
def demo(
    ctx: typer.Context,
    visits: Annotated[int, typer.Option("--visits", help="How many visits to add.")] = 200,
    days: Annotated[int, typer.Option("--days", help="Spread over the D days ending today.")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same visits.")] = 1,
    location: Annotated[
        str | None, typer.Option("--location", help="Only this location code.")
    ] = None,
) -> None:
    """Fill the local database with synthetic visits (fake people only)."""
    import time

    from nmi_desk.domain.demo import generate

    desk = _desk(ctx)
    started = time.perf_counter()
    result = generate(
        desk.engine(), visits, days, seed, desk.settings.device_id, desk.now(), location=location
    )
    took = time.perf_counter() - started
    typer.echo(
        f"added {result.visits:,} synthetic visits, {result.referrals:,} referrals and "
        f"{result.clients:,} clients "
        f"({result.first_day} .. {result.last_day}) to {desk.url} in {took:.1f} s"
    )


@app.command()
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
    desk = _desk(ctx)
    first = parse_date(from_, "--from", desk.today())
    last = parse_date(to, "--to", first)
    if last < first:
        raise UserError(f"--to {last} is before --from {first}")
    _check_location(location)
    output = output or f"nmi-statistics-{first}-{last}.{fmt}"
    if output == "-" and fmt == "xlsx" and sys.stdout.isatty():
        raise UserError("refusing to write a spreadsheet to a terminal: give --output FILE")
    check_output(output)  # refuse a bad target before the statistics are read
    with open_source(source or desk.url) as db:
        stats = compute_stats(db, first, last, location)
    if suppress_small:
        stats = hide(stats)
    where = write_export(stats, fmt, output)
    if source is None:  # the audit trail: who exported what of this desk's data
        from nmi_desk.domain.audit import record_desk_export

        record_desk_export(desk, first, last, fmt)
    if where != "stdout":
        typer.echo(f"wrote {stats['visits']} visits ({first} .. {last}) to {where}", err=True)


@app.command()
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

    desk = _desk(ctx, unlock=source is None)
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
    with open_source(source or desk.url) as db:
        workbook, stats = build_report(db, first, last, lang, suppress=suppress_small)
    where = write_output(output, workbook)
    if source is None and desk.database_path is not None:
        from nmi_desk.domain.audit import record_export_local

        record_export_local(desk.database_path, desk.actor, desk.now(), first, last, "report")
    if where != "stdout":
        typer.echo(f"wrote {stats['visits']} visits ({first} .. {last}) to {where}", err=True)


def _check_location(location: str | None) -> None:
    from nmi_desk.domain.reference.files import reference

    codes = reference().location_codes()
    if location is not None and location not in codes:
        raise UserError(f"unknown location code {location!r}: one of {', '.join(sorted(codes))}")


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check the database files, integrity and configuration (changes nothing)."""
    from nmi_desk.core.config import Settings, load_settings, resolve_paths
    from nmi_desk.domain.desk import Desk
    from nmi_desk.domain.doctor import run_checks

    paths = resolve_paths(ctx.obj.get("data_dir") if ctx.obj else None)
    config_error = None
    try:
        settings = load_settings(paths)
    except UserError as exc:  # reported as a FAIL line; the rest is checked on defaults
        settings, config_error = Settings(), str(exc)
    desk = Desk(paths=paths, settings=settings)

    def passphrase() -> str | None:
        from nmi_desk.domain.security import passphrase_from_env

        if passphrase_from_env() or sys.stdin.isatty():
            return _passphrase("Passphrase")
        return None

    failed = 0
    for check in run_checks(desk, passphrase=passphrase, config_error=config_error):
        failed += check.failed
        typer.echo(f"{check.mark}  {check.name}: {check.detail}")
    if failed:
        raise typer.Exit(1)


app.add_typer(guidance_app, name="guidance")
app.add_typer(clients_app, name="clients")

topics_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Find topic codes the way the walk-in form's topic picker does.",
)
app.add_typer(topics_app, name="topics")


@topics_app.command("search")
def topics_search(
    query: Annotated[str, typer.Argument(help="A word or phrase, Dutch or English, as typed.")],
    lang: Annotated[str, typer.Option("--lang", help="Labels in nl or en.")] = "nl",
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="At most N results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list, best first.")] = False,
) -> None:
    """Search the topics with the TUI's matcher (word forms, synonyms, typos)."""
    import json

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


register_sync(app)  # sync, publish-guidance (cli_sync.py)


@app.command()
def purge(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be purged.")
    ] = False,
    days: Annotated[
        int | None,
        typer.Option("--days", help="Retention period (default: retention_days in config)."),
    ] = None,
) -> None:
    """Purge personal fields of visits synced more than N days ago (statistics stay)."""
    from nmi_desk.core.config import MAX_RETENTION_DAYS
    from nmi_desk.domain.retention import purge as run_purge

    if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
        raise UserError(f"--days {days}: give 0 to {MAX_RETENTION_DAYS}")
    desk = _desk(ctx)
    period = desk.settings.retention_days if days is None else days
    from nmi_desk.domain.retention import purge_copies

    report = run_purge(desk.engine(), desk.now(), period, desk.actor, dry_run=dry_run)
    if desk.database_path is not None:
        report.files = purge_copies(desk.database_path, dry_run=dry_run)
    _purge_old_notes(desk, dry_run)
    verb = "would purge" if dry_run else "purged"
    plural = "" if report.visits == 1 else "s"
    cutoff = report.cutoff.strftime("%Y-%m-%d %H:%M")
    typer.echo(
        f"{verb} the personal fields of {report.visits} visit{plural} "
        f"synced before {cutoff} UTC ({period} days)"
    )
    if report.visits:
        days_seen = report.days
        span = days_seen[0] if len(days_seen) == 1 else f"{days_seen[0]} .. {days_seen[-1]}"
        typer.echo(f"  visit days: {span}")
        for name, n in report.fields.items():
            if n:
                typer.echo(f"  {name}: {n}")
    copies = {
        "conflict log entries": report.conflicts,
        "quarantine entries": report.quarantine,
        "drafts": report.drafts,
    }
    for what, n in copies.items():
        if n:
            typer.echo(f"  {what}: {n}")
    if report.files:
        typer.echo(f"  older copies of the database: {', '.join(report.files)}")


@app.command()
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
    desk = _desk(ctx)
    where = write_letter_file(desk.engine(), visit, output, lang, desk.actor, desk.now())
    if where != "stdout":
        typer.echo(f"wrote the letter to {where}", err=True)


def _purge_old_notes(desk, dry_run: bool) -> None:
    """Markdown notes for clients left in the data folder by older versions."""
    from nmi_desk.letter.legacy import remove_stray_notes, stray_notes

    notes = stray_notes(desk.paths.home)
    if not notes:
        return
    if dry_run:
        typer.echo(f"would remove {len(notes)} old client notes (Markdown) from {notes[0].parent}")
        return
    removed = remove_stray_notes(desk.paths.home)
    from nmi_desk.domain.audit import record_now

    record_now(
        desk.engine(), desk.actor, "purge", "note", None, desk.now(), detail=f"{removed} notes"
    )
    typer.echo(f"removed {removed} old client notes (Markdown) from the data folder")


@app.command("change-passphrase")
def change_passphrase(ctx: typer.Context) -> None:
    """Set the passphrase (encrypting a plain database) or change it (re-keys the database)."""
    from nmi_desk.domain.security import check_new_passphrase

    desk = _desk(ctx, unlock=False)
    if desk.database_path is None:
        raise UserError("only the local database is encrypted by nmi-desk")
    if desk.locked:
        _unlock(desk, "Current passphrase")
    new = _new_passphrase()
    check_new_passphrase(new)
    was = desk.encryption_state()
    desk.set_passphrase(new)
    done = "re-keyed" if was == "encrypted" else "encrypted"
    typer.echo(f"{done} {desk.database_path} under the new passphrase", err=True)


def _new_passphrase() -> str:
    import os

    given = os.environ.get("NMI_DESK_NEW_PASSPHRASE")
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError("set NMI_DESK_NEW_PASSPHRASE or run in a terminal")
    return typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)


def _click_exception_type() -> type[Exception]:
    # Typer re-exports BadParameter whether it bundles Click or depends on it; its base
    # ClickException is what every usage error derives from.
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


DEBUG_ENV = "NMI_DESK_DEBUG"  # 1: show the traceback of an unexpected error (developers)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr for every user mistake."""
    click_exception = _click_exception_type()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="nmi-desk", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click_exception as exc:
        print(f"nmi-desk: {exc.format_message()} (try --help)", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
    except (typer.Abort, KeyboardInterrupt):
        print("nmi-desk: interrupted", file=sys.stderr)
        sys.exit(130)
    except UserError as exc:
        print(f"nmi-desk: {exc}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # the last resort: one line, never a traceback with client data
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        print(f"nmi-desk: {one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        if code == 130:
            print("nmi-desk: interrupted", file=sys.stderr)
        sys.exit(code)
