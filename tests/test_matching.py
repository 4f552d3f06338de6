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
    ("topic", "topic_queries.toml", 180),
    ("organisation", "organisation_queries.toml", 55),
    ("country", "country_queries.toml", 75),
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


def test_several_words_rank_by_how_many_match_and_stopwords_are_ignored():
    topics = matcher_for("topic")
    assert topics.search("zorg in het buitenland")[0].code == "zorg"
    # Not every word has to match: one that matches nothing lowers the score, hides nothing.
    one_unknown = topics.search("zorg xylofoon")
    assert one_unknown[0].code == "zorg"
    assert one_unknown[0].score < topics.search("zorg")[0].score
    assert topics.search("xylofoon") == []
    # Both words (Onderwijs: "kinderen naar school") above one ("kinderen": Voogdij, ...).
    ranked = [m.code for m in topics.search("kinderen school")]
    assert ranked[0] == "onderwijs" and {"voogdij", "kinderbijslag"} <= set(ranked)
    # A word found in many topics counts less than one found in one ("buitenland").
    assert topics.search("studieschuld buitenland")[0].code == "onderwijs"
    assert topics.search("zorg suriname")[0].code == "zorg"


def test_a_short_last_word_being_typed_adds_but_finds_nothing_on_its_own():
    matcher = Matcher([Entry("a", "Alpha", "Alpha"), Entry("s", "Sigma", "Sigma")])
    assert [m.code for m in matcher.search("alpha s")] == ["a"]
    assert [m.code for m in matcher.search("s")] == ["s"]
    # A code of two letters before another word is a word, not a start: "ww meenemen".
    assert matcher_for("topic").search("ww meenemen")[0].code == "ww"


def test_dutch_compounds_are_split_against_the_vocabulary():
    topics = matcher_for("topic")
    for word, code in [
        ("ziektekostenverzekering", "verzekeringen"),
        ("belastingaangifte", "belastingen"),
        ("huurhuis", "wonen"),
        ("energieschuld", "schulden"),
        ("tandarts", "zorg"),
    ]:
        assert topics.search(word)[0].code == code, word
    # A known compound also brings what it is about: a zorgverzekering is insurance (first)
    # for care (found, second), not only Verzekeringen.
    assert [m.code for m in topics.search("zorgverzekering")][:2] == ["verzekeringen", "zorg"]
    assert [m.code for m in topics.search("ziektekostenverzekering")][:2] == [
        "verzekeringen",
        "zorg",
    ]
    # ... but not what its head happens to share with another entry ("wet" of the WMO).
    assert "wmo" not in [m.code for m in topics.search("remigratiewet")]
    # The head decides a tie: a huisarts is a doctor (Zorg), not a house (Wonen).
    assert [m.code for m in topics.search("huisarts")][:2] == ["zorg", "wonen"]
    # One part may be unknown ("aowaanvraag": the AOW's application), none is made up.
    assert topics.search("aowaanvraag")[0].code == "aow"
    assert topics.search("xylofoonkast") == []


def test_the_closed_remigration_route_ranks_below_the_topics_that_still_apply():
    topics = matcher_for("topic")
    closed = {e.code for e in topics.entries if e.extra.get("closed_to_new")}
    assert closed == {"remigratiewet"}
    for word in ("remigratie", "terugkeer", "terugkeren", "remigration", "return home"):
        ranked = [m.code for m in topics.search(word)]
        assert "remigratiewet" in ranked, word  # still choosable: clients ask about it
        assert ranked[0] != "remigratiewet", (word, ranked)
    # Typed by its name it is still first (nothing else is the Remigratiewet).
    assert topics.search("remigratiewet")[0].code == "remigratiewet"
    # Any entry closed to new applications ranks below an open one matching as well.
    entries = [Entry("old", "Oude regeling", "Old scheme", extra={"closed_to_new": "2025-01-01"}),
               Entry("new", "Nieuwe regeling", "New scheme")]  # fmt: skip
    assert [m.code for m in Matcher(entries).search("regeling")] == ["new", "old"]


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


def test_an_empty_list_finds_nothing_without_failing():
    """An organisation without standard referral reasons gives the reason field an empty
    list; typing there once crashed the app (the log of zero entries)."""
    empty = Matcher([])
    assert empty.search("huurcontract") == []
    assert empty.best("huurcontract") is None
    assert empty.search("") == []
