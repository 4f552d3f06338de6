"""Looking after the laptop's database: `demo`, `doctor`, `purge`, `change-passphrase`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nmi_desk.cli._common import (
    ask_passphrase,
    new_passphrase,
    open_desk,
    unlock_desk,
)
from nmi_desk.core.errors import UserError


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

    desk = open_desk(ctx)
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
    ctx.call_on_close(desk.close)  # as open_desk does (cli/_common.py)

    def passphrase() -> str | None:
        from nmi_desk.domain.security import passphrase_from_env

        if passphrase_from_env() or sys.stdin.isatty():
            return ask_passphrase("Passphrase")
        return None

    failed = 0
    for check in run_checks(desk, passphrase=passphrase, config_error=config_error):
        failed += check.failed
        typer.echo(f"{check.mark}  {check.name}: {check.detail}")
    if failed:
        raise typer.Exit(1)


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
    desk = open_desk(ctx)
    period = desk.settings.retention_days if days is None else days
    from nmi_desk.domain.retention import purge_copies

    report = run_purge(desk.context(), period, dry_run=dry_run)
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
    if report.documents:
        typer.echo(f"  inzage documents and letters: {len(report.documents)}")


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


def change_passphrase(ctx: typer.Context) -> None:
    """Set the passphrase (encrypting a plain database) or change it (re-keys the database)."""
    from nmi_desk.domain.security import check_new_passphrase

    desk = open_desk(ctx, unlock=False)
    if desk.database_path is None:
        raise UserError("only the local database is encrypted by nmi-desk")
    if desk.locked:
        unlock_desk(desk, "Current passphrase")
    new = new_passphrase()
    check_new_passphrase(new)
    was = desk.encryption_state()
    desk.set_passphrase(new)
    done = "re-keyed" if was == "encrypted" else "encrypted"
    typer.echo(f"{done} {desk.database_path} under the new passphrase", err=True)


def register(root: typer.Typer) -> None:
    root.command()(demo)
    root.command()(doctor)
    root.command()(purge)
    root.command("change-passphrase")(change_passphrase)
