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
