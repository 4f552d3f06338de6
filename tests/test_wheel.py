"""A plain (non-editable) install carries its data: reference files, guidance, catalogs,
styles and migrations all ship inside the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("nmi_desk-*.whl"))


def test_the_wheel_holds_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "nmi_desk/data/topics.toml",
        "nmi_desk/data/organisations.toml",
        "nmi_desk/data/locations.toml",
        "nmi_desk/data/countries.toml",
        "nmi_desk/data/lists.toml",
        "nmi_desk/locale/nl.toml",
        "nmi_desk/locale/en.toml",
        "nmi_desk/store/sql/0001_initial.sqlite.sql",
        "nmi_desk/store/sql/0001_initial.postgresql.sql",
        "nmi_desk/tui/app.tcss",
        "nmi_desk/letter/fonts/DejaVuSans.ttf",
        "nmi_desk/letter/fonts/DejaVuSans-Bold.ttf",
        "nmi_desk/letter/fonts/LICENSE",
        "nmi_desk/locale/letter/nl.toml",
        "nmi_desk/locale/letter/ar.toml",
        "nmi_desk/locale/letter/tr.toml",
    ):
        assert needed in names, needed
    assert any(n.startswith("nmi_desk/data/guidance/") and n.endswith(".md") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_runs_demo_and_export_outside_the_source_tree(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "NMI_DESK_HOME": str(tmp_path / "home")}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import nmi_desk.core.paths as p; print(p.__file__); print(p.shipped_data_dir())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(target)) and where[1].startswith(str(target))
    for args in (
        ["demo", "--visits", "7", "--days", "1"],
        ["export", "--format", "json", "--output", "out.json"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "nmi_desk", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out.json").read_text())["visits"] == 7
    # The client's letter renders from the installed package: its font and catalogs ship.
    render = (
        "from datetime import date; from nmi_desk.letter import build_letter, render_pdf; "
        "from nmi_desk.domain.inputs import ReferralInput, VisitInput; "
        "v = VisitInput(location_code='amersfoort', referrals=[ReferralInput('ind')]); "
        "print(len(render_pdf(build_letter(v, 'TS', 'ar', date(2026, 12, 1)))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", render], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and int(proc.stdout) > 1000, proc.stderr
