"""The one matcher behind every picker: what consultants type finds what they mean."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from nmi_desk.core.folding import fold
from nmi_desk.domain.matching import Matcher, matcher_for
from nmi_desk.domain.reference.files import Entry

FIXTURES = Path(__file__).parent / "fixtures"
SETS = [
    ("topic", "topic_queries.toml", 80),
    ("organisation", "organisation_queries.toml", 40),
    ("country", "country_queries.toml", 40),
]


def _outcomes(kind: str, name: str):
    queries = tomllib.loads((FIXTURES / name).read_text(encoding="utf-8"))["query"]
    matcher = matcher_for(kind)
    out = []
    for q in queries:
        got = [m.code for m in matcher.search(q["q"], 3)]
        out.append((q["q"], q["expect"], got))
    return out


@pytest.mark.parametrize("kind, name, minimum", SETS)
def test_intended_entry_first_in_95_percent_and_top3_in_all(kind, name, minimum):
    outcomes = _outcomes(kind, name)
    assert len(outcomes) >= minimum
    not_top3 = [(q, want, got) for q, want, got in outcomes if want not in got]
    assert not not_top3
    not_first = [(q, want, got) for q, want, got in outcomes if got[0] != want]
    assert len(not_first) <= 0.05 * len(outcomes), not_first


def test_whole_words_rank_above_prefixes_of_longer_words():
    car = [m.code for m in matcher_for("topic").search("car")]
    assert car.index("verhuizing") < car.index("zorg")  # "... and car" before "Care abroad"


def test_word_forms_and_english_words_find_topics():
    topics = matcher_for("topic")
    for word, code in [
        ("verhuizen", "verhuizing"),
        ("inschrijven", "inschrijving"),
        ("emigreren", "inschrijving"),
        ("gezondheid", "zorg"),
        ("health", "zorg"),
        ("move", "verhuizing"),
    ]:
        assert topics.search(word)[0].code == code, word


def test_every_word_must_match_and_stopwords_are_ignored():
    topics = matcher_for("topic")
    assert topics.search("zorg in het buitenland")[0].code == "zorg"
    assert topics.search("zorg xylofoon") == []


def test_fold_drops_diacritics_and_transliterates():
    assert fold("Öztürk") == "ozturk"
    assert fold("Şükrü Çakır") == "sukru cakir"
    assert fold("محمد").isascii() and fold("محمد")


def test_preferred_codes_come_first_among_equals_and_on_an_empty_query():
    entries = [
        Entry("a", "Alpha", "Alpha"),
        Entry("b", "Beta", "Beta"),
        Entry("c", "Gamma", "Gamma"),
    ]
    matcher = Matcher(entries)
    assert [m.code for m in matcher.search("", prefer=["c"])] == ["c", "a", "b"]
    assert matcher.best("") is None  # nothing typed: nothing is chosen for the consultant


def test_languages_consultants_hear_at_the_counter_are_in_the_list():
    languages = matcher_for("language")
    for typed, code in [
        ("darija", "ary"),
        ("tamazight", "ber"),
        ("sranan", "srn"),
        ("papiamento", "pap"),
        ("kabuverdianu", "kea"),
        ("bosnisch", "bs"),
        ("servisch", "sr"),
        ("kroatisch", "hr"),
        ("portuguese", "pt"),
        ("spaans", "es"),
        ("french", "fr"),
        ("turks", "tr"),
    ]:
        assert languages.search(typed)[0].code == code, typed


def test_cli_topics_search_json_contract(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "nmi_desk",
            "topics",
            "search",
            "verhuizen",
            "--json",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.stdout)
    assert rows[0]["code"] == "verhuizing"
    assert rows[0]["label"] == "Moving household goods and car"
    assert all({"code", "label", "score"} <= set(r) for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_cli_topics_search_refuses_an_unknown_language_in_one_line():
    out = subprocess.run(
        [sys.executable, "-m", "nmi_desk", "topics", "search", "aow", "--lang", "xx"],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
