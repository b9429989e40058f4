"""From article text to features: entity keys, numbers, and a batch of articles."""

from __future__ import annotations

import random

import pytest

from nlp_support import EN_TEXT, NL_TEXT, PLAIN, analysed_doc
from pipeline.process.analysis import analyse as analyse_module
from pipeline.process.analysis.analyse import (
    MAX_TERMS,
    ArticleInput,
    analyse,
    features_from_doc,
    normalise_number,
)
from pipeline.process.analysis.nlp import entity_key
from pipeline.process.analysis.numbers import is_number_word, number_key
from pipeline.process.watchlists.matching import fold


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


def _texts_with_numbers() -> list[tuple[str, str]]:
    """(language, text): the fixtures' texts, and seeded mixes of words, figures in
    both spellings, number words, magnitudes, units and punctuation, with figures at
    the very start and end, and more terms than are kept."""
    rng = random.Random(9)
    pieces = {
        "nl": "werkgever werknemers medewerker loon loonen cao thuiswerken één een twee"
        " tweeduizend achthonderd twintig miljoen miljard procent € 3,5 2.000 7,1 12:30"
        " 2026 4% mln. per cent de het van en , . ( )".split(),
        "en": "employer employees staff wage wages union remote one two hundred thousand"
        " twenty million bn m k percent per cent $ £ 3.5 2,000 7.1 4.6% €3.5m 2bn 12:30"
        " 2026 the of and , . ( )".split(),
    }
    texts = [
        ("nl", NL_TEXT),
        ("en", EN_TEXT),
        ("nl", "2.000"),
        ("en", "twenty million"),
        ("en", ""),
    ]
    for lang, words in pieces.items():
        for size in (3, 40, 400):
            for _ in range(4):
                tail = [f"woord{rng.randint(0, 400)}" for _ in range(size // 4)]
                texts.append((lang, " ".join(rng.choices(words + tail, k=size))))
        texts.append((lang, " ".join(f"term{i} " * (i % 3 + 1) for i in range(MAX_TERMS + 50))))
    return texts


def test_terms_and_numbers_are_those_read_token_by_token(monkeypatch) -> None:
    """The features' terms and numbers, read from the tokens' attributes as arrays, are
    those of reading every token on its own: each content word's folded lemma (else its
    lower case) counted, the most frequent first and then alphabetically; each token
    with a digit or that is a number word read with the token before it and two after.
    Also when the number words seen are forgotten as the docs are read (a tiny limit),
    and with a table of 16 slots for the hashes looked at (most push another out)."""
    monkeypatch.setattr(analyse_module._NumberWords, "limit", 5)
    monkeypatch.setattr(analyse_module._NumberWords, "bits", 4)
    monkeypatch.setattr(analyse_module, "_number_words_by_hash", analyse_module._NumberWords())
    for lang, text in _texts_with_numbers() * 2:  # the second time with the words seen
        doc = analysed_doc(lang, "", text)
        counts: dict[str, int] = {}
        numbers = set()
        lowers = [t.lower_ for t in doc]
        for i, token in enumerate(doc):
            if token.is_alpha and not token.is_stop and len(token) > 1:
                key = fold(token.lemma_ or token.lower_)
                counts[key] = counts.get(key, 0) + 1
            plain = not (token.is_alpha or token.is_punct or token.is_space)
            if (plain and any(c.isdigit() for c in token.text)) or is_number_word(token.lower_):
                around = [lowers[j] if 0 <= j < len(doc) else "" for j in (i - 1, i + 1, i + 2)]
                numbers.add(number_key(token.text, lang, *around))
        ranked = sorted((-n, k) for k, n in counts.items())[:MAX_TERMS]
        features = features_from_doc(ArticleInput(1, "", text), lang, doc)
        assert list(features.terms.items()) == [(k, -n) for n, k in ranked], text[:40]
        assert features.numbers == numbers - {None}, text[:40]


def test_a_signature_from_the_words_matching_split_is_the_texts(monkeypatch) -> None:
    """An article's MinHash is made from the words matching split its title and body
    into when they are plain ASCII without ``_`` (``batch._signature``): it is the
    signature of the title and body as dedup splits them, for seeded texts of every
    ASCII character in any case, with and without apostrophes and underscores, with
    accents, empty and short ones; also when the remembered word hashes are forgotten
    on the way (a tiny limit)."""
    from pipeline.process import dedup
    from pipeline.process.batch import _signature
    from pipeline.process.dedup import text as dedup_text
    from pipeline.process.watchlists.matching import MatchDoc

    monkeypatch.setattr(dedup_text._LowerWordHashes, "limit", 7)
    rng = random.Random(12)
    ascii_chars = [chr(c) for c in range(128) if chr(c) not in "'_"]
    words = ["Werk", "werk", "WERK", "loon", "2026", "7,1", "x", "KPN-directeur", "a.b"]
    texts = ["", "a", "Werk werk", "één café", "don't", "snake_case word", NL_TEXT, EN_TEXT]
    for _ in range(300):
        if rng.random() < 0.5:
            text = " ".join(rng.choices(words, k=rng.randint(0, 30)))
        else:
            text = "".join(rng.choices(ascii_chars, k=rng.randint(0, 120)))
        texts.append(text)
    plain = 0
    for title, body in zip(texts, [*texts[3:], *texts[:3]], strict=True):
        doc = MatchDoc.build(title, body, None, "nl")
        expected = dedup.signature(f"{title}\n{body}")
        assert _signature(title, body, doc).tolist() == expected.tolist(), (title, body)
        plain += title.isascii() and body.isascii() and "'" not in title + body
    assert plain > 200  # most pairs took the words matching split
