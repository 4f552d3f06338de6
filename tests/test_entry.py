"""The entry point sends `nmi-desk` (with only root options) straight to the TUI, and
everything else to the Typer CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nmi_desk.entry import tui_options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["--lang", "en"], {"--lang": "en"}),
        (["--data-dir=/tmp/x", "--lang=nl"], {"--data-dir": "/tmp/x", "--lang": "nl"}),
        (["--data-dir", "/tmp/x", "export"], None),
        (["export"], None),
        (["--help"], None),
        (["--lang"], None),
        (["--lang", "en", "--lang", "nl"], None),
    ],
)
def test_only_root_options_go_straight_to_the_tui(argv, expected):
    assert tui_options(argv) == expected


def test_the_tui_path_does_not_import_typer():
    code = (
        "import json, sys, nmi_desk.entry, nmi_desk.tui.run, nmi_desk.tui.app;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "typer" not in json.loads(out.stdout)


def test_a_command_closes_its_database_before_the_process_ends(isolated_home):
    """A command's process skips the interpreter's last collection (entry.py), so nothing may
    wait for it: the desk a command opened is closed with the command's context, and its
    connections checkpoint and remove the write-ahead log as a clean close does."""
    import os

    env = {**os.environ, "NMI_DESK_HOME": str(isolated_home)}
    for args in (["demo", "--visits", "5"], ["sync", "--status"]):
        done = subprocess.run(
            [sys.executable, "-m", "nmi_desk", *args], env=env, capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in isolated_home.iterdir()) == ["config.toml", "nmi-desk.db"]
