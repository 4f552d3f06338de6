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


def test_check_passes_on_the_shipped_library(home):
    proc = run("check", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "articles ok" in proc.stdout
    assert "every organisation has contact details" in proc.stdout


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
