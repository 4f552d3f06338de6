"""`nmi-desk sync` and `nmi-desk publish-guidance`: the command-line face of nmi_desk.sync.

Registered on the main Typer app by nmi_desk/cli/app.py. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from nmi_desk.cli._common import open_desk
from nmi_desk.core.errors import UserError
from nmi_desk.sync.target import ENV_URL

TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="postgresql+psycopg://user@host/db or sqlite:///path.db "
        "(default: NMI_DESK_SYNC_URL, then the saved target). Saved without its password.",
    ),
]


def without_password_or_empty(url: str) -> str:
    from nmi_desk.sync.target import without_password

    try:
        return without_password(url) if url else ""
    except UserError:
        return ""


def _ask_target(option: str | None, desk) -> str | None:
    """With nothing configured and a person at the keyboard, ask for the URL."""
    if option or os.environ.get(ENV_URL) or desk.settings.sync_target:
        return option
    if not sys.stdin.isatty():
        return None
    return typer.prompt("Sync target URL (postgresql+psycopg://user@host/db)").strip() or None


def _resolve(option: str | None, saved: str):
    """The target, or one line when its URL cannot be parsed (an IPv6 address without its
    closing bracket, a port that is not a number)."""
    from nmi_desk.sync.target import resolve_target

    try:
        return resolve_target(option, saved)
    except ValueError as exc:
        scheme = (option or saved or "").split("://", 1)[0]
        raise UserError(
            f"not a database URL ({scheme}://...): {exc}; an IPv6 host goes in brackets, "
            "postgresql+psycopg://user@[::1]:5432/db"
        ) from None


def _with_password(target, password: str):
    from sqlalchemy.engine import make_url

    from nmi_desk.sync.target import Target

    url = make_url(target.url).set(password=password).render_as_string(hide_password=False)
    return Target(url=url, shown=target.shown, saved=target.saved, source=target.source)


def _show_status(desk) -> None:
    from nmi_desk.sync.state import list_targets, pending_by_table

    engine = desk.engine()
    targets = list_targets(engine)
    saved = desk.settings.sync_target
    if not targets:
        pending = sum(pending_by_table(engine).values())
        where = f"saved target {saved}" if saved else "no target saved"
        typer.echo(f"never synced ({where}); {pending:,} record(s) pending")
        _show_quarantine(engine)
        return
    for t in targets:
        mark = "*" if t.active else " "
        what = ", ".join(f"{n:,} {table}" for table, n in t.pending.items() if n) or "nothing"
        typer.echo(f"{mark} {t.url}  (central id {t.target_id[:8]})")
        typer.echo(f"    pending: {what}")
        typer.echo(f"    last success: {t.last_success or 'never'}")
        if t.last_error:
            typer.echo(f"    last error: {t.last_error}")
    if saved and all(t.url != saved for t in targets):
        typer.echo(f"  {saved}  (saved, never synced: everything will be pushed)")
    _show_quarantine(engine)


def _show_quarantine(engine) -> None:
    from nmi_desk.sync.state import quarantined_records

    refused = quarantined_records(engine)
    if not refused:
        return
    typer.echo(f"quarantine: {len(refused)} record(s) refused by the central side; correct them")
    typer.echo("and they go at the next sync:")
    for q in refused:
        typer.echo(f"    {q.table} {q.uuid} (revision {q.revision}): {q.reason}")


def _confirm_switch(desk, resolved, yes: bool) -> None:
    """Another central database than the last one: say what will be pushed there, then ask."""
    from nmi_desk.sync.state import switch_needed

    switch = switch_needed(desk.engine(), resolved.saved, desk.settings.sync_target)
    if switch is None or yes:
        return
    question = (
        f"this laptop last synced with {switch.previous}; switching to {resolved.shown}"
        f" pushes {switch.describe() or 'nothing'} there"
    )
    if not sys.stdin.isatty():
        raise UserError(f"{question}: confirm with --yes")
    if not typer.confirm(f"{question[0].upper()}{question[1:]}. Switch?", default=False):
        raise UserError("sync target unchanged; nothing was sent")


def sync(
    ctx: typer.Context,
    target: TargetOption = None,
    no_pull: Annotated[
        bool, typer.Option("--no-pull", help="Only push; skip reference data and guidance.")
    ] = False,
    status: Annotated[
        bool,
        typer.Option(
            "--status", help="List the central targets, what is pending for each, last success."
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Switch to a new --target without asking.")
    ] = False,
) -> None:
    """Push this laptop's records to the central database and pull published updates."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    desk = open_desk(ctx)
    if status:
        _show_status(desk)
        return
    resolved = _resolve(_ask_target(target, desk), desk.settings.sync_target)
    _confirm_switch(desk, resolved, yes)
    previous = without_password_or_empty(desk.settings.sync_target or os.environ.get(ENV_URL, ""))
    desk.engine()  # opened (and migrated) before the progress bar starts
    console = Console(stderr=True)
    with Progress(
        TextColumn("sync"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # else rich leaves an empty line before any message
    ) as bar:
        task = bar.add_task("push", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = desk.sync(
                resolved,
                progress=progress,
                pull=not no_pull,
                previous_url=previous,
            )
        except UserError as exc:
            needs_password = "password" in str(exc) and not resolved.is_sqlite
            if not (needs_password and sys.stdin.isatty()):
                raise
            bar.stop()
            secret = typer.prompt(f"Password for {resolved.shown}", hide_input=True)
            resolved = _with_password(resolved, secret)
            bar.start()
            report = desk.sync(
                resolved,
                progress=progress,
                pull=not no_pull,
                previous_url=previous,
            )
    if resolved.source == "option" and desk.settings.sync_target != resolved.saved:
        desk.settings.sync_target = resolved.saved  # never the password (target.py)
        desk.save_settings()
    typer.echo(f"synced with {resolved.shown}: {report.summary()}")
    if report.quarantined:
        typer.echo(
            f"nmi-desk: {report.quarantined} record(s) refused by the central side are kept"
            " locally in quarantine with the reason (see `nmi-desk sync --status` or `nmi-desk doctor`)",
            err=True,
        )


def publish_guidance(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder of reviewed articles (*.md).")],
    target: TargetOption = None,
) -> None:
    """Put a reviewed guidance library in the central database (higher revisions only)."""
    from nmi_desk.sync.publish import publish_guidance as publish
    from nmi_desk.sync.publish import read_library
    from nmi_desk.sync.target import open_central

    desk = open_desk(ctx)
    articles = read_library(directory)
    resolved = _resolve(target, desk.settings.sync_target)
    central = open_central(resolved)
    try:
        from sqlalchemy.exc import DBAPIError

        try:
            result = publish(central, articles, desk.now())
        except DBAPIError as exc:
            from nmi_desk.store.errors import first_line

            raise UserError(f"publishing to {resolved.shown} failed: {first_line(exc)}") from None
    finally:
        central.dispose()
    typer.echo(
        f"published {len(result.published)} article(s) to {resolved.shown};"
        f" {result.unchanged} already there at the same or a higher revision"
    )


def register(root: typer.Typer) -> None:
    root.command("sync")(sync)
    root.command("publish-guidance")(publish_guidance)
