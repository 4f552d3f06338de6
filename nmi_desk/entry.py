"""The `nmi-desk` entry point. Without a command it starts the TUI straight away, without
importing the CLI framework (Typer costs ~0.1 s at every start); any command goes to cli.py."""

from __future__ import annotations

import sys

ROOT_OPTIONS = ("--data-dir", "--lang")


def tui_options(argv: list[str]) -> dict[str, str] | None:
    """The root options when argv asks for the TUI alone, else None (a command, --help, ...)."""
    options: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name not in ROOT_OPTIONS or name in options:
            return None
        if not eq:
            if i + 1 >= len(argv):
                return None  # let the CLI say what is missing
            value = argv[i + 1]
            i += 1
        options[name] = value
        i += 1
    return options


def main() -> None:
    options = tui_options(sys.argv[1:])
    if options is None:
        import atexit
        import gc

        # The process ends with the command, and the interpreter's last collection would walk
        # every object SQLAlchemy, pydantic and Typer built (0.1-0.2 s of an everyday
        # `nmi-desk sync`) though nothing in them needs finalising: the command closed its desk
        # with its context (cli/_common.py).
        atexit.register(gc.freeze)
        from nmi_desk.cli.app import main as cli_main

        cli_main()
        return
    from nmi_desk.core.errors import UserError

    try:
        lang = options.get("--lang")
        if lang is not None and lang not in ("nl", "en"):
            raise UserError(f"--lang {lang!r}: choose nl or en")
        from nmi_desk.tui.run import run_tui

        code = run_tui(data_dir=options.get("--data-dir") or None, lang=lang)
    except UserError as exc:
        print(f"nmi-desk: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("nmi-desk: interrupted", file=sys.stderr)
        sys.exit(130)
    if code:
        sys.exit(code)  # a crash: the app printed its one line already
