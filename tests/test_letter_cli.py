"""`nmi-desk letter VISIT --lang CODE --output FILE`: the same PDF as the counter, one-line errors."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys

import pytest
from pypdf import PdfReader

from nmi_desk.domain.audit import events
from nmi_desk.domain.inputs import ReferralInput, VisitInput
from nmi_desk.domain.visits import create_visit


def run(*args, home):
    env = dict(os.environ, NMI_DESK_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def visits(desk):
    def make(referrals):
        return create_visit(
            desk.context(),
            VisitInput(
                location_code="eindhoven-stadskantoor",
                language="ar",
                referrals=referrals,
            ),
        )

    with_refs = make([ReferralInput("cak", reason="Zorg in een verdragsland")])
    without = make([])
    desk.close()
    return desk, with_refs, without


def test_the_letter_is_written_private_and_audited(visits, tmp_path):
    desk, uuid, _ = visits
    out = tmp_path / "brief.pdf"
    proc = run("letter", uuid, "--lang", "tr", "--output", str(out), home=desk.paths.home)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1
    assert (
        "Yanınıza alın" in text and "+31 88 711 5551" in text and "Zorg in een verdragsland" in text
    )
    assert [(e.action, e.detail) for e in events(desk.engine(), uuid) if e.action == "letter"] == [
        ("letter", "saved")
    ]


def test_without_lang_the_visit_language_is_used(visits, tmp_path):
    desk, uuid, _ = visits
    out = tmp_path / "brief.pdf"
    assert run("letter", uuid, "--output", str(out), home=desk.paths.home).returncode == 0
    assert "الهاتف" in PdfReader(str(out)).pages[0].extract_text()  # the visit's Arabic


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["00000000-0000-0000-0000-000000000000"], "no visit 00000000-"),
        (
            ["{uuid}", "--lang", "xx"],
            "unknown language 'xx': one of nl, ar, bs, en, fr, hr, pt, sr, tr",
        ),
        (["{uuid}", "--output", "{tmp}"], "is a folder: give a file name"),
        (["{uuid}", "--output", "{tmp}/nope/brief.pdf"], "does not exist"),
        (["{without}"], "has no referrals"),
    ],
)
def test_mistakes_are_one_line(visits, tmp_path, args, message):
    desk, uuid, without = visits
    args = [a.format(uuid=uuid, without=without, tmp=tmp_path) for a in args]
    if "--output" not in args:
        args += ["--output", str(tmp_path / "brief.pdf")]
    proc = run("letter", *args, home=desk.paths.home)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "brief.pdf").exists()
