"""`nmi-desk clients ...`: find a returning client, show their history, and the AVG rights
(inzage export, verwijdering). A Typer sub-app registered in cli.py; the TUI calls the same
domain functions (nmi_desk.domain.clients)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from nmi_desk.cli._common import open_desk
from nmi_desk.core.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Find returning clients, show their history, export (inzage) or erase their data.",
)

UuidArg = Annotated[str, typer.Argument(help="The client's UUID (see `clients search`).")]


def _translator(ctx: typer.Context):
    from nmi_desk.core.translator import Translator

    lang = (ctx.find_root().obj or {}).get("lang") or "nl"
    if lang not in ("nl", "en"):
        raise UserError(f"--lang {lang!r}: choose nl or en")
    return Translator(lang)


def _found(call):
    from nmi_desk.domain.clients import ClientNotFound

    try:
        return call()
    except ClientNotFound as exc:
        raise UserError(str(exc)) from None


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A name as heard, any spelling; a year narrows.")],
    birth_year: Annotated[
        int | None, typer.Option("--birth-year", min=1900, max=2100, help="Only this birth year.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="At most N results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list, best first.")] = False,
) -> None:
    """Search the clients on this laptop by name (diacritics, variants, typos allowed)."""
    from nmi_desk.domain.clients import search as run_search

    desk = open_desk(ctx, write=False)
    # A read makes no database: with none there yet, nothing matches.
    hits = (
        []
        if desk.encryption_state() == "missing"
        else run_search(desk.context(), query, birth_year, limit)
    )
    if as_json:
        typer.echo(json.dumps([h.as_json() for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        typer.echo("no matching clients", err=True)
        return
    for h in hits:
        last = f"{h.last_visit} {h.last_location}" if h.last_visit else "-"
        year = h.birth_year or "----"
        typer.echo(
            f"{h.uuid}  {h.name}  {year}  last visit {last}  visits {h.visits}"
            f"  open follow-ups {h.open_follow_ups}"
        )


@app.command()
def show(
    ctx: typer.Context,
    uuid: UuidArg,
    as_json: Annotated[bool, typer.Option("--json", help="The history as JSON.")] = False,
) -> None:
    """A client's record and history: open follow-ups first, then every visit, newest first."""
    from dataclasses import asdict

    from nmi_desk.domain.clients.read import history

    desk = open_desk(ctx, write=False)
    if desk.encryption_state() == "missing":  # a read makes no database
        raise UserError.of("errors.clients.no_database", path=desk.database_path)
    hist = _found(lambda: history(desk.context(), uuid))
    if as_json:
        out = {
            "client": asdict(hist.client),
            "open_follow_ups": [asdict(r) for r in hist.open_follow_ups],
            "visits": [asdict(v) for v in hist.visits],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    c = hist.client
    typer.echo(f"{c.name or '(purged)'}  {c.birth_year or '----'}  {c.uuid}")
    for r in hist.open_follow_ups:
        typer.echo(f"  open follow-up {r.follow_up_on}  {r.organisation_code}")
    for v in hist.visits:
        refs = ", ".join(f"{r.organisation_code} ({r.status})" for r in v.referrals)
        typer.echo(
            f"  {v.day} {v.time}  {v.location_code}  {', '.join(v.topics) or '-'}"
            + (f"  -> {refs}" if refs else "")
        )


@app.command()
def export(
    ctx: typer.Context,
    uuid: UuidArg,
    output: Annotated[str, typer.Option("--output", help="File to write (.json: JSON).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="md or json (default: from the file name).")
    ] = None,
) -> None:
    """Inzage: everything held on one client, as a readable document or JSON (private file)."""
    from nmi_desk.core.outputs import check_output, write_output
    from nmi_desk.domain.clients.access import inzage, inzage_text

    fmt = fmt or ("json" if output.endswith(".json") else "md")
    if fmt not in ("md", "json"):
        raise UserError(f"--format {fmt!r}: choose md or json")
    tr = _translator(ctx)
    check_output(output)
    desk = open_desk(ctx)
    data = _found(lambda: inzage(desk.context(), uuid))
    text = (
        json.dumps(data, ensure_ascii=False, indent=2, default=str)
        if fmt == "json"
        else inzage_text(data, tr, desk.reference)
    )
    where = write_output(output, text, private=True)
    if where != "stdout":  # registered: erasure and retention remove it (domain.copies)
        from nmi_desk.domain.copies import register_file

        register_file(desk.engine(), where, "inzage", desk.now(), client=uuid)
    typer.echo(f"wrote the inzage of client {uuid} to {where}", err=True)


@app.command()
def erase(
    ctx: typer.Context,
    uuid: UuidArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Verwijdering: erase a client's personal data here, centrally at the next sync and on
    other laptops at their next pull. Counts by code stay."""
    import sys

    from nmi_desk.domain.clients import erase_client
    from nmi_desk.domain.clients.read import history

    desk = open_desk(ctx)
    hist = _found(lambda: history(desk.context(), uuid))
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("refusing to erase without confirmation: add --yes")
        typer.confirm(
            f"Erase {hist.client.name} ({len(hist.visits)} visits)? This cannot be undone",
            abort=True,
        )
    done = erase_client(desk.context(), uuid)
    typer.echo(
        f"erased client {uuid}: {done.visits} visits and {done.referrals} referrals blanked;"
        " the central side and other laptops follow at their next sync",
        err=True,
    )
    if done.drafts or done.files:
        typer.echo(f"  also removed: {done.drafts} drafts, {len(done.files)} files", err=True)
    for left in done.files_left:
        typer.echo(f"  could not remove {left}: delete it by hand", err=True)


@app.command()
def merge(
    ctx: typer.Context,
    survivor: Annotated[str, typer.Argument(help="The record that stays.")],
    merged: Annotated[str, typer.Argument(help="The record merged into it (becomes a tombstone).")],
) -> None:
    """Merge two records of one person: visits move to SURVIVOR (audited, synced)."""
    from nmi_desk.core.validation import ValidationError
    from nmi_desk.domain.clients import merge_clients

    desk = open_desk(ctx)
    try:
        moved = _found(lambda: merge_clients(desk.context(), survivor, merged))
    except ValidationError:
        raise UserError("give two different clients") from None
    typer.echo(f"merged {merged} into {survivor}: {moved} visits moved", err=True)


@app.command()
def fetch(
    ctx: typer.Context,
    uuid: UuidArg,
    target: Annotated[
        str | None, typer.Option("--target", help="Central database URL (default: the saved one).")
    ] = None,
) -> None:
    """Bring a client from the central database onto this laptop with every visit of them
    (as the TUI's central search does); stored as synced, kept up to date at every sync."""
    from nmi_desk.domain.clients import CentralClients, ClientNotFound
    from nmi_desk.sync.target import resolve_target

    desk = open_desk(ctx)
    resolved = resolve_target(target, desk.settings.sync_target)
    remote = CentralClients(resolved)
    try:
        got = remote.fetch_known(desk.engine(), uuid, desk.now())
    except ClientNotFound:
        raise UserError.of("errors.clients.not_central", uuid=uuid, target=resolved.shown) from None
    finally:
        remote.close()
    typer.echo(
        f"fetched client {uuid}: {got.get('client', 0)} client, {got.get('visit', 0)} visits",
        err=True,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clients")
