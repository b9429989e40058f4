"""A query word's lemmas are the lemmas the NLP stage stores for the same word in an
article (``article_features.terms``), in Dutch and English."""

from __future__ import annotations

import pytest

from pipeline.process.analysis.analyse import analyse
from pipeline.process.analysis.features import ArticleInput
from pipeline.process.analysis.nlp import NlpConfig
from pipeline.search.lemmas import lemmas_of, query_lemmas

TEXTS = {
    "nl": (
        "Woningen en huizen",
        "De gemeente bouwt woningen, werkgevers zoeken banen voor kinderen en de"
        " technologieën van scholen veranderen. Schepen varen naar steden.",
    ),
    "en": (
        "Companies and workers",
        "Large companies hired more workers; the cities built houses and children ran"
        " to schools while employers were running teams.",
    ),
}

STOP = {"naar", "voor", "more", "while", "were", "with"}  # stop words are no terms


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_words_lemma_is_the_term_the_process_stage_stores(lang: str) -> None:
    title, text = TEXTS[lang]
    [features] = analyse([ArticleInput(1, title, text, language=lang)], NlpConfig())
    assert features.lang == lang
    words = {w.strip(".,;") for w in f"{title} {text}".split()}
    content = [w for w in words if len(w) > 3 and w.lower() not in STOP]
    assert len(content) >= 12
    for word in content:
        [lemma] = lemmas_of(word, lang)
        assert lemma in features.terms, (word, lemma, sorted(features.terms))


def test_examples_in_both_languages() -> None:
    assert lemmas_of("woningen", "nl") == ("woning",)
    assert lemmas_of("Banen", "nl") == ("baan",)
    assert lemmas_of("companies", "en") == ("company",)
    assert lemmas_of("AI", "en") == ("ai",)  # not "be"
    assert lemmas_of("technologieën", "nl") == ("technologie",)  # folded
    assert lemmas_of("woningen", "de") == () and lemmas_of("  ", "nl") == ()
    assert query_lemmas("woningen", ["nl"]) == {"woning"}
    assert query_lemmas("woningen") >= {"woning", "woningen"}
