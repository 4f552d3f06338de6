"""The command line: one Typer app; every command module adds its commands through
`register(root)`. No sub-command starts the TUI.

User mistakes end as one line on stderr and a non-zero exit, never a traceback.
Heavy modules are imported inside the commands, so `nmi-desk` reaches the TUI fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from nmi_desk.cli import admin, clients, guidance, letter, stats, sync, topics
from nmi_desk.cli._common import DataDir
from nmi_desk.core.errors import UserError, one_line

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="nmi-desk: the counter app for NMI remigration consultants.",
)

# The order is the order of `nmi-desk --help`.
for _module in (admin, stats, letter, guidance, clients, topics, sync):
    _module.register(app)


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
