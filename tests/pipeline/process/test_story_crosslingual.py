"""Cross-lingual keys of the story clusterer: names in their common forms, the
bilingual lexicon, and the rule that shared domain words alone never join stories."""

from __future__ import annotations

from pipeline.process.stories import ClusterConfig, StoryClusterer
from pipeline.process.stories.keys import name_counts, raw_keys
from pipeline.process.stories.lexicon import Lexicon, NameForms, load_lexicon, load_names
from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.similarity import similarity, weights_of
from story_support import T0, article

NAMES = NameForms.from_rows(
    [
        ("den haag", ["the hague", "hague"]),
        ("szw", ["ministerie van sociale zaken", "sociale zaken", "social affairs"]),
        ("luik", ["liege"]),
    ]
)
LEXICON = Lexicon.from_rows(
    [
        ("strike", {"nl": ["staking", "staken"], "en": ["strike", "walkout"]}),
        ("bus", {"nl": ["bus"], "en": ["bus"]}),
        ("driver", {"nl": ["chauffeur"], "en": ["driver"]}),
    ]
)


def test_a_name_drops_its_leading_article_and_description() -> None:
    assert NAMES.canonical("de fnv") == "fnv"
    assert NAMES.canonical("dutch union fnv") == "fnv"
    assert NAMES.canonical("the hague") == "den haag"
    assert NAMES.canonical("liege") == "luik"
    assert NAMES.canonical("de") == "de"  # never cut to nothing


def test_known_names_of_two_words_are_found_inside_longer_ones() -> None:
    assert NAMES.inside("marieke vos van sociale zaken") == ["szw"]
    assert NAMES.inside("liege airport") == []  # one-word names are not looked for


def test_name_counts_leave_connectors_out_of_the_parts() -> None:
    counts = name_counts(["karin van der berg", "de fnv"], 0.5, NAMES)
    assert counts == {"karin van der berg": 1.0, "fnv": 1.0, "karin": 0.5, "berg": 0.5}
    # without name forms, the keys are taken as they are (as before this change)
    assert name_counts(["de fnv"], 0.5, None) == {"de fnv": 1.0, "fnv": 0.5}


def test_the_lexicon_maps_both_languages_and_dutch_compounds_to_one_concept() -> None:
    assert LEXICON.concepts({"staking": 2, "walkout": 1}, "nl") == {"strike": 2.0}
    assert LEXICON.concepts({"walkout": 1, "staking": 1}, "en") == {"strike": 1.0}
    assert LEXICON.concept("treinstaking", "nl") == "strike"  # the compound's last part
    assert LEXICON.concept("busje", "nl") is None  # parts shorter than five letters do not


def test_the_shipped_data_loads() -> None:
    assert load_names().canonical("antwerp") == "antwerpen"
    assert load_names().canonical("ministry of social affairs") == "szw"
    assert load_lexicon().concept("ontslag", "nl") == load_lexicon().concept("layoff", "en")


def test_shared_domain_words_alone_never_join_two_stories() -> None:
    config = ClusterConfig(half_life=None, window=ClusterConfig().window)
    nl = article(1, T0, {"staking": 1, "bus": 1, "chauffeur": 1}, ("Arriva",), ("48",), "nl")
    en = article(2, T0, {"strike": 1, "bus": 1, "driver": 1}, ("Qbuzz",), ("24",), "en")
    raw_nl = raw_keys(nl, 0.5, True, NAMES, LEXICON)
    raw_en = raw_keys(en, 0.5, True, NAMES, LEXICON)
    assert raw_nl["x:nl"] == raw_en["x:en"] == {"strike": 1.0, "bus": 1.0, "driver": 1.0}
    a, b = _singleton(1, "nl", raw_nl), _singleton(2, "en", raw_en)
    assert similarity(a, b, weights_of(config), None) == 0.0


def test_the_lexicon_at_most_doubles_what_names_and_numbers_share() -> None:
    weights = weights_of(ClusterConfig(lexicon_weight=1.0, lexicon_cap=1.0))
    nl = {"e": {"arriva": 1.0}, "n": {"48": 1.0}, "x:nl": {"strike": 1.0}}
    en = {"e": {"arriva": 0.6, "limburg": 0.8}, "n": {"24": 1.0}, "x:en": {"strike": 1.0}}
    a, b = _singleton(1, "nl", nl), _singleton(2, "en", en)
    # names 0.6 (weight 1.5), numbers 0 (weight 1): mean 0.9 / 2.5 = 0.36; the concepts'
    # cosine 1.0 (weight 1.0) adds at most the names' and numbers' 0.9: 1.8 / 2.5
    assert round(similarity(a, b, weights, None), 6) == 0.72
    no_lexicon = weights | {"x": 0.0}
    assert round(similarity(a, b, no_lexicon, None), 6) == 0.36
    # capped at half of what names and numbers give: (0.9 + 0.45) / 2.5
    assert round(similarity(a, b, weights | {"x-cap": 0.5}, None), 6) == 0.54


def _singleton(sid: int, lang: str, sums: dict) -> OpenStory:
    return OpenStory(sid, T0, T0, size=1, langs={lang: 1}, sums=sums)


def test_a_dutch_and_an_english_report_meet_on_forms_and_concepts() -> None:
    nl = article(
        1, T0, {"staking": 1, "haven": 1, "pensioen": 1}, ("Luik", "de ABVV"), ("8000",), "nl"
    )
    en = article(2, T0, {"strike": 1, "port": 1, "pension": 1}, ("Liege", "ABVV"), ("8000",))

    def joined(config: ClusterConfig) -> float:
        clusterer = StoryClusterer(config)
        clusterer.add(nl)
        return clusterer.add(en).similarity

    # In their common forms both have the names {luik, abvv}, the number 8000 and the
    # concepts {strike, port, pension}, each key in both articles, so every weight is
    # the same and every cosine 1.0: names and numbers give (1.5 + 1.0) / 2.5 = 1.0, and
    # the concepts add their cosine times the lexicon's weight (0.5 × 1.0, less than
    # the 2.5 of names and numbers): (2.5 + 0.5) / 2.5.
    assert joined(ClusterConfig()) == 1.2
    assert joined(ClusterConfig(lexicon_weight=0.0)) == 1.0
    # as written, only "abvv" (a part of "de abvv" on one side) and the number meet
    assert joined(ClusterConfig(lexicon_weight=0.0, name_forms=None)) < 0.7


def test_a_state_stored_before_the_cross_lingual_keys_loads_and_goes_on() -> None:
    """States stored by earlier versions have no concept spaces and names as written:
    they load as they are, and articles after them get the new keys."""
    before = ClusterConfig(name_forms=None, lexicon_weight=0.0)
    old = StoryClusterer(before)
    old.add(article(1, T0, {"staking": 1, "haven": 1}, ("de ABVV", "Luik"), ("8000",), "nl"))
    stored = old.dump_stored()
    clusterer = StoryClusterer.from_stored(stored.header, stored.changed.values())
    assert clusterer.config == ClusterConfig()
    joined = clusterer.add(
        article(2, T0, {"strike": 1, "port": 1}, ("ABVV", "Liege"), ("8000",), "en")
    )
    assert not joined.is_new and joined.story_id == 1
    story = clusterer._open[1]
    assert "x:en" in story.sums and "x:nl" not in story.sums  # the old member has none


def test_an_acronym_the_lexicon_lists_is_a_word_of_the_domain_not_a_name() -> None:
    """Two articles on AI at work that share only "AI" and "HR" (written as names) are
    two stories: as words of the lexicon they are a theme, not a name."""
    lexicon = Lexicon.from_rows(
        [("ai", {"nl": ["ai"], "en": ["ai"]}), ("hr", {"nl": ["hr"], "en": ["hr"]})]
    )
    nl = article(1, T0, {"beleid": 1}, ("AI", "HR", "Evelien Brouwer"), (), "nl")
    en = article(2, T0, {"study": 1}, ("AI", "HR", "Harlow Institute"), ("1400",), "en")
    raw_nl = raw_keys(nl, 0.5, True, NAMES, lexicon)
    assert set(raw_nl["e"]) == {"evelien brouwer", "evelien", "brouwer"}
    a, b = _singleton(1, "nl", raw_nl), _singleton(2, "en", raw_keys(en, 0.5, True, NAMES, lexicon))
    assert similarity(a, b, weights_of(ClusterConfig()), None) == 0.0
    # a name that is also a word stays a name unless it is written as an acronym
    court = article(3, T0, {}, ("Court",), (), "en")
    assert (
        "court"
        in raw_keys(
            court,
            0.5,
            True,
            NAMES,
            Lexicon.from_rows([("court", {"nl": ["rechtbank"], "en": ["court"]})]),
        )["e"]
    )
