"""`nmi-desk guidance` as a user runs it: real processes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = Path(__file__).parent / "fixtures" / "guidance_broken"


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "nmi_desk", "guidance", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("guidance-cli") / "home"


# The day this library was last reviewed as a whole: the check runs as on that day, so the
# test does not depend on the machine's clock (a dated statement expiring later is the
# check's warning to act on, not a red build on 1 January).
LIBRARY_DAY = "2026-12-07"


def test_check_passes_on_the_shipped_library(home):
    proc = run("check", "--on", LIBRARY_DAY, home=home)
    assert proc.returncode == 0, proc.stderr
    assert f"articles ok on {LIBRARY_DAY}" in proc.stdout
    assert "every organisation has contact details" in proc.stdout
    assert "warning" not in proc.stderr  # nothing expires within 60 days of the review


def test_check_warns_sixty_days_before_a_statement_expires_and_fails_after(home):
    folder = str(Path(__file__).parent / "fixtures" / "guidance_expired_statement")
    calm = run("check", folder, "--on", "2025-10-01", home=home)  # 91 days before
    assert calm.returncode == 0 and calm.stderr == "", calm.stderr
    soon = run("check", folder, "--on", "2025-11-15", home=home)
    assert soon.returncode == 0, soon.stderr
    (warning,) = soon.stderr.strip().splitlines()
    assert warning.endswith(
        "verlopen-uitspraak.md: warning: line 21: statement expires on 2025-12-31 (in 46 days; "
        "'Deze synthetische termijn loopt tot en met 31 dec…'): re-review it"
    )
    last = run("check", folder, "--on", "2025-12-31", home=home)  # its last day: still holds
    assert last.returncode == 0 and "in 0 days" in last.stderr
    after = run("check", folder, "--on", "2026-01-01", home=home)
    assert after.returncode == 1 and "statement expired on 2025-12-31" in after.stderr


def test_check_on_a_day_that_is_not_a_date_is_one_line(home):
    proc = run("check", "--on", "2027-02-30", home=home)
    assert proc.returncode == 1
    assert proc.stderr == "nmi-desk: --on '2027-02-30' is not a date: use YYYY-MM-DD\n"


def test_check_fails_on_a_broken_fixture_with_one_clear_line_per_problem(home):
    proc = run("check", str(BROKEN), home=home)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    expected = {
        "unknown-codes.md": "unknown topic code 'pensioenen-typo'",
        "plain-http-source.md": "must be an https:// address",
        "no-sources.md": "no sources",
        "quoted-date.md": "reviewed must be a TOML date",
        "wrong-file-name.md": "differs from the file name",
        "no-front-matter.md": "does not start with a +++ line",
        "bad-toml.md": "not valid TOML",
        "future-review.md": "lies in the future",
        "no-revision.md": "front matter lacks revision",
    }
    for name, message in expected.items():
        assert any(name in line and message in line for line in lines), (name, lines)
    assert any("already used by good-article.md" in line for line in lines)
    assert any("unknown organisation code 'svbb'" in line for line in lines)
    assert any("unknown country code 'XX'" in line for line in lines)
    assert not any("good-article.md:" in line for line in lines)  # the control article is fine
    assert lines[-1].startswith("guidance check: ") and "in 9 of 10 articles" in lines[-1]


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        (
            "guidance_expired_statement",
            "verlopen-uitspraak.md: line 21: statement expired on 2025-12-31 "
            "('Deze synthetische termijn loopt tot en met 31 dec…'): review it and update or "
            "remove it",
        ),
        (
            "guidance_homepage_only",
            "alleen-homepage.md: only a homepage as source (https://ind.nl/nl): "
            "cite the page that states the fact",
        ),
        (
            "guidance_unchecked_source",
            "bron-zonder-datum.md: source 'SVB - AOW' has no checked date: "
            "add checked = YYYY-MM-DD (when the page was last read)",
        ),
    ],
)
def test_check_refuses_expired_homepage_only_and_unchecked_sources(home, folder, message):
    proc = run("check", str(FIXTURES / folder), home=home)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, lines  # the problem, then the summary
    assert lines[0].endswith(message), lines
    assert lines[1] == "guidance check: 1 problem(s) in 1 of 1 articles"


def test_search_and_show_work_on_an_encrypted_desk_without_the_passphrase(tmp_path):
    home = tmp_path / "encrypted"
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    env.pop("NMI_DESK_PASSPHRASE", None)
    made = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "change-passphrase"],
        capture_output=True,
        text=True,
        env={**env, "NMI_DESK_NEW_PASSPHRASE": "een lange synthetische wachtzin"},
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    found = run("search", "zorgverzekering marokko", home=home)  # no NMI_DESK_PASSPHRASE
    assert found.returncode == 0, found.stderr
    assert "marokko-uitkeringen-zorg" in found.stdout
    shown = run("show", "kaapverdie", home=home)
    assert shown.returncode == 0, shown.stderr
    assert "Bronnen" in shown.stdout
    # The database itself stays locked: what reads visits still needs the passphrase.
    export = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "export", "--output", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert export.returncode == 1 and "NMI_DESK_PASSPHRASE" in export.stderr


def test_english_titles_with_lang_en(home):
    env = {**os.environ, "NMI_DESK_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "--lang", "en", "guidance", "search", "AOW"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split(None, 1) == [
        "aow-buitenland",
        "State pension (AOW) abroad",
    ]


def test_check_of_a_missing_folder_is_one_line(home, tmp_path):
    proc = run("check", str(tmp_path / "nowhere"), home=home)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"nmi-desk: no folder {tmp_path / 'nowhere'}"


def test_search_json_lists_slug_title_topics_and_score(home):
    proc = run("search", "AOW turkije", "--json", "--limit", "3", home=home)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert 1 <= len(results) <= 3
    for item in results:
        assert {"slug", "title", "topics", "score"} <= item.keys()
        assert isinstance(item["topics"], list) and item["topics"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {"turkije-uitkeringen-zorg", "aow-buitenland"} & {r["slug"] for r in results}


def test_search_prints_slug_and_title_lines(home):
    proc = run("search", "kaapverdië", home=home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[0] == "kaapverdie"


@pytest.mark.parametrize("query", ['"AOW', "   ", "x" * 5000])
def test_search_never_fails_on_odd_text(home, query):
    proc = run("search", query, "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), list)


def test_show_renders_article_with_sources_and_review_date(home):
    proc = run("show", "aow-buitenland", home=home)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("# AOW in het buitenland")
    assert "## Bronnen" in out
    assert "https://www.svb.nl/nl/aow" in out
    assert "Laatst gecontroleerd: " in out


def test_show_unknown_slug_is_one_line_with_a_suggestion(home):
    proc = run("show", "aow-buitenlnd", home=home)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "nmi-desk: no guidance article 'aow-buitenlnd'; did you mean aow-buitenland?"
    ]
