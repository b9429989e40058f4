"""From article text to features: entity keys, numbers, and a batch of articles."""

from __future__ import annotations

import pytest

from nlp_support import EN_TEXT, NL_TEXT, PLAIN
from pipeline.process.analysis.analyse import ArticleInput, analyse, normalise_number
from pipeline.process.analysis.nlp import entity_key


def test_entity_key_folds_case_accents_and_possessives() -> None:
    assert entity_key("Café  Noir’s") == "cafe noir"
    assert entity_key("KPN's") == "kpn"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("2.000", "nl", "2000"),
        ("2,000", "en", "2000"),
        ("7,1", "nl", "7.1"),
        ("7.1", "en", "7.1"),
        ("4.6%", "en", "4.6"),
        ("€1.250", "nl", "1250"),
        ("3", "en", None),
        ("2026", "nl", "2026"),
        ("12:30", "en", None),
    ],
)
def test_numbers_have_one_spelling_across_languages(text, lang, expected) -> None:
    assert normalise_number(text, lang) == expected


def test_analyse_gives_features_per_article_in_input_order() -> None:
    articles = [
        ArticleInput(
            7,
            "Bank of England raises rates",
            EN_TEXT,
            url="https://news.example/a?utm_source=x",
            html='<p><a href="https://www.bankofengland.co.uk/report#s1">report</a></p>',
        ),
        ArticleInput(3, "Kabinet wil thuiswerken stimuleren", NL_TEXT, language="nl"),
        ArticleInput(5, "Kort", "", language="en"),
    ]
    en, nl, short = analyse(articles, PLAIN)
    assert (en.id, nl.id, short.id) == (7, 3, 5)
    assert (en.lang, nl.lang, short.lang) == ("en", "nl", "en")
    # "inflation of 4.6%", "7,1 procent": a percentage keeps its unit
    assert {"4.6%", "2000"} <= en.numbers and {"7.1%", "2000"} <= nl.numbers
    assert en.links == {"https://news.example/a", "https://www.bankofengland.co.uk/report"}
    assert en.terms["rate"] == 2 and "the" not in en.terms
    assert nl.terms["medewerker"] == 2
    assert any(e.key == "andrew bailey" for e in en.entities)
    assert short.terms == {"kort": 1}


def test_a_batch_looks_its_watchlists_keys_up_once_a_language(monkeypatch) -> None:
    """The keys the watchlists look up are found once per batch and language (not per
    article), and the matches are those of matching against every word's keys."""
    from pipeline.process import batch
    from pipeline.process.watchlists.matching import CompiledQuery, MatchDoc
    from pipeline.store.prepared import match_row

    calls: list[str] = []
    real = batch._lookup_keys
    monkeypatch.setattr(batch, "_lookup_keys", lambda w, lang: calls.append(lang) or real(w, lang))
    specs = (batch.WatchlistSpec("thuis", "thuiswerken OR remote"), batch.WatchlistSpec("x", "zzz"))
    config = batch.WorkerConfig(PLAIN, specs)
    articles = [
        ArticleInput(1, "Thuiswerken blijft", NL_TEXT),
        ArticleInput(2, "Remote work is here", EN_TEXT),
        ArticleInput(3, "Meer thuiswerken", NL_TEXT[:120]),
        ArticleInput(4, "Remote, again: 12,5%!", EN_TEXT[::-1]),
    ]
    out = batch.analyse_articles(articles, config)
    assert sorted(calls) == sorted({a.features.lang for a in out})  # once each
    assert {"nl", "en"} <= set(calls)
    for article, analysed in zip(articles, out, strict=True):
        lang = analysed.features.lang
        doc = MatchDoc.build(article.title, article.text, article.url, lang)
        expected = []
        for spec in specs:
            why = batch.match_watchlist(CompiledQuery(spec.query), spec, doc, analysed.features)
            if why is not None:
                expected.append(match_row(article.id, spec.name, why))
        assert analysed.matches == tuple(expected)
    assert all(any(row[1] == "thuis" for row in a.matches) for a in out[:3])
