"""``trendwatch_lemmas``: lemmas where the lookup table has none, acronyms, and the
packed lemma table."""

from __future__ import annotations

import numpy as np
import pytest
from spacy.strings import get_string_id

from nlp_support import analysed_doc


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        (
            "nl",
            "De werkgevers zoeken banen voor kinderen in organisaties",
            {
                "werkgevers": "werkgever",
                "banen": "baan",
                "kinderen": "kind",
                "organisaties": "organisatie",
            },
        ),
        ("nl", "Medewerkers en teams", {"medewerkers": "medewerker", "teams": "team"}),
        ("en", "Managers were running teams", {"managers": "manager", "running": "run"}),
    ],
)
def test_lemmas_fill_in_where_the_lookup_table_has_none(lang, text, expected) -> None:
    doc = analysed_doc(lang, text, "")
    lemmas = {t.lower_: t.lemma_ for t in doc}
    for word, lemma in expected.items():
        assert lemmas[word] == lemma


def test_acronyms_are_not_lemmatised_into_other_words() -> None:
    doc = analysed_doc("en", "AI is changing work", "")
    assert doc[0].lemma_ == "ai"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_packed_lemma_table_answers_as_spacys_table_does(lang: str) -> None:
    from spacy.lookups import load_lookups

    from pipeline.process.analysis.components.lemmas import LemmaTable

    table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    packed = LemmaTable(table)
    assert len(packed) == len(table) > 10_000
    assert all(packed.get(key) == lemma for key, lemma in table.items())
    word = {"nl": "medewerkers", "en": "managers"}[lang]
    assert packed.get(word) == table.get(word) and packed.get(word) != word
    assert packed.get("qzxwvk-not-a-word") is None
    assert packed.get("qzxwvk-not-a-word", "fallback") == "fallback"
    # many at once (by the words' hashes, as the lemma component reads them), in order
    words = [word, "qzxwvk-not-a-word", *list(table.keys())[:5000:7], "", "ADJ"]
    hashes = np.array([get_string_id(w) for w in words], dtype=np.uint64)
    assert packed.get_many(hashes) == [packed.get(w) for w in words]
    assert packed.get_many(np.array([2**64 - 1, 0], dtype=np.uint64)) == [None, None]


def test_a_lemma_the_pipeline_already_set_is_kept_and_the_same_word_differs_by_it() -> None:
    """A trained lemmatizer's lemma wins (lower-cased), and a word form it lemmatised
    two ways in two places keeps both: the lemma it came with is part of the cache key."""
    import spacy

    from pipeline.process.analysis.components.lemmas import LemmaFiller

    nlp = spacy.blank("en")
    filler = LemmaFiller("en")
    first = nlp.make_doc("Meeting the managers")
    first[0].lemma_ = "Meet"  # as a trained lemmatizer might: a verb here
    filler(first)
    second = nlp.make_doc("Meeting the managers")
    second[0].lemma_ = "Meetup"  # another reading there
    filler(second)
    third = nlp.make_doc("Meeting the managers")  # no lemma set: the table and simplemma
    filler(third)
    assert [t.lemma_ for t in first] == ["meet", "the", "manager"]
    assert [t.lemma_ for t in second] == ["meetup", "the", "manager"]
    assert third[2].lemma_ == "manager"
