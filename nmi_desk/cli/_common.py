"""What every command module shares: the data-dir option, opening the desk, the passphrase."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from nmi_desk.core.errors import UserError

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Keep database, config and logs under DIR (or set NMI_DESK_HOME)."
    ),
]


def open_desk(ctx: typer.Context, unlock: bool = True, write: bool = True):
    """The desk of this command. `write=False` (a read: search, show): no config.toml is
    written and the caller makes no database when there is none."""
    from nmi_desk.domain.desk import Desk

    desk = Desk.open(ctx.obj.get("data_dir") if ctx.obj else None, create=write)
    # Closed when the command ends rather than whenever the interpreter's exit collects it:
    # its connections close (and checkpoint) in order, and the exit need not (entry.py).
    ctx.call_on_close(desk.close)
    desk.check_database()  # empty, damaged, unreadable: one line, nothing created or written
    if unlock and desk.locked:
        unlock_desk(desk, "Passphrase")
    return desk


def unlock_desk(desk, prompt: str) -> None:
    """The same growing wait after wrong passphrases as the unlock screen, across processes."""
    from nmi_desk.domain.security import wait_before_unlock

    passphrase = ask_passphrase(prompt)
    wait = wait_before_unlock(desk.database_path)
    if wait >= 1:
        typer.echo(f"nmi-desk: waiting {wait:.0f} s after earlier wrong passphrases", err=True)
    desk.unlock(passphrase)


def ask_passphrase(prompt: str, confirm: bool = False) -> str:
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


def check_location(location: str | None) -> None:
    from nmi_desk.domain.reference.files import shipped_reference

    codes = shipped_reference().location_codes()
    if location is not None and location not in codes:
        raise UserError(f"unknown location code {location!r}: one of {', '.join(sorted(codes))}")


def new_passphrase() -> str:

    given = os.environ.get("NMI_DESK_NEW_PASSPHRASE")
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError("set NMI_DESK_NEW_PASSPHRASE or run in a terminal")
    return typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
