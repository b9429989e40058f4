"""spaCy pipelines and our components on blank Dutch and English pipelines."""

from __future__ import annotations

import pytest

from pipeline.process.analysis.analyse import ArticleInput, analyse, normalise_number
from pipeline.process.analysis.language import detect_language
from pipeline.process.analysis.nlp import (
    GazetteerEntry,
    NlpConfig,
    analyse_docs,
    build_pipeline,
    entity_key,
)

PLAIN = NlpConfig()
SZW = GazetteerEntry(
    "Ministerie van SZW", "ORG", ("SZW", "ministerie van Sociale Zaken en Werkgelegenheid")
)

NL_TEXT = (
    "Het ministerie van Sociale Zaken en Werkgelegenheid wil dat werkgevers meer ruimte geven"
    " voor thuiswerken. Minister Karin van der Berg zei dinsdag in Den Haag dat 2.000 banen en"
    " 7,1 procent van de medewerkers ermee te maken hebben. Volgens FNV en VNO-NCW blijft"
    " thuiswerken belangrijk voor medewerkers met kinderen. Thuiswerken is populair."
)
EN_TEXT = (
    "The Bank of England raised interest rates on Thursday. Governor Andrew Bailey said"
    " inflation of 4.6% remained too high for comfort. Managers at Tesco said 2,000 jobs were"
    " at risk as remote work changed how offices are used. Remote work is here to stay,"
    " analysts at Goldman Sachs wrote."
)


def _doc(lang: str, title: str, body: str, config: NlpConfig = PLAIN):
    return analyse_docs(lang, [(title, body)], config)[0]


def _names(doc) -> set[str]:
    return {e.text for e in doc.ents}


def test_blank_pipeline_has_our_components_and_the_lookup_table() -> None:
    nlp = build_pipeline("nl", PLAIN)
    assert nlp.pipe_names == [
        "sentencizer",
        "trendwatch_lemmas",
        "trendwatch_names",
        "trendwatch_keyphrases",
    ]
    assert nlp.get_pipe("trendwatch_lemmas").table is not None  # spacy-lookups-data
    assert "entity_ruler" in build_pipeline("nl", NlpConfig(gazetteer=(SZW,))).pipe_names


def test_a_configured_pipeline_that_is_not_installed_falls_back_to_blank(caplog) -> None:
    config = NlpConfig(models=(("nl", "nl_core_news_sm"),))
    nlp = build_pipeline("nl", config)
    assert "trendwatch_names" in nlp.pipe_names  # no NER: the rule-based names run
    assert "not installed" in caplog.text


def test_our_components_compose_with_a_pipeline_that_has_ner() -> None:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", name="ner")  # stands in for a trained NER
    ruler.add_patterns([{"label": "ORG", "pattern": "Tesco"}])
    nlp.add_pipe("trendwatch_lemmas")
    nlp.add_pipe("trendwatch_keyphrases")
    doc = nlp("Managers at Tesco said remote work is here. Remote work stays.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Tesco", "ORG")]
    assert doc[0].lemma_ == "manager"
    assert "remote work" in doc._.keyphrases


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
    doc = _doc(lang, text, "")
    lemmas = {t.lower_: t.lemma_ for t in doc}
    for word, lemma in expected.items():
        assert lemmas[word] == lemma


def test_acronyms_are_not_lemmatised_into_other_words() -> None:
    doc = _doc("en", "AI is changing work", "")
    assert doc[0].lemma_ == "ai"


def test_dutch_names_with_connectors_and_titles() -> None:
    doc = _doc("nl", "Kabinet wil thuiswerken stimuleren", NL_TEXT)
    names = _names(doc)
    assert "Karin van der Berg" in names  # "Minister" is a title, not part of the name
    assert "Den Haag" in names  # a capitalised stop word mid-sentence belongs to the name
    assert "FNV" in names  # "Volgens" starts the sentence and is trimmed
    assert "VNO-NCW" in names
    assert "Kabinet" not in names  # a capitalised first word only
    assert not any(n.startswith(("Het", "Volgens", "Minister")) for n in names)


def test_english_names() -> None:
    doc = _doc("en", "Bank of England raises rates", EN_TEXT)
    names = _names(doc)
    assert {"Bank of England", "Andrew Bailey", "Tesco", "Goldman Sachs"} <= names
    assert "The Bank of England" not in names
    assert "Remote" not in names and "Managers" not in names  # sentence-initial words
    assert "Thursday" not in names


def test_gazetteer_aliases_tag_the_canonical_entity() -> None:
    config = NlpConfig(gazetteer=(SZW,))
    doc = _doc("nl", "SZW komt met plan", NL_TEXT, config)
    tagged = [(e.text, e.label_, e.ent_id_) for e in doc.ents if e.label_ == "ORG"]
    assert ("SZW", "ORG", "ministerie van szw") in tagged
    assert ("ministerie van Sociale Zaken en Werkgelegenheid", "ORG", "ministerie van szw") in [
        (t, label, i) for t, label, i in tagged
    ]


def test_keyphrases_are_lemma_based_and_skip_stop_words() -> None:
    doc = _doc("nl", "Kabinet wil thuiswerken stimuleren", NL_TEXT)
    phrases = doc._.keyphrases
    assert phrases[0] == "thuiswerken"
    assert "medewerker" in phrases  # lemma of "medewerkers"
    assert not {"de", "het", "van", "en", "volgens"} & set(phrases)
    assert len(phrases) <= 10


def test_english_keyphrases_prefer_repeated_multiword_phrases() -> None:
    doc = _doc("en", "Bank of England raises rates", EN_TEXT)
    assert "remote work" in doc._.keyphrases
    assert "the" not in doc._.keyphrases


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
    assert {"4.6", "2000"} <= en.numbers and {"7.1", "2000"} <= nl.numbers
    assert en.links == {"https://news.example/a", "https://www.bankofengland.co.uk/report"}
    assert en.terms["rate"] == 2 and "the" not in en.terms
    assert nl.terms["medewerker"] == 2
    assert any(e.key == "andrew bailey" for e in en.entities)
    assert short.terms == {"kort": 1}


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        (NL_TEXT, None, "nl"),
        (EN_TEXT, "nl", "en"),  # the text wins over the source's language
        ("", "nl", "nl"),
        ("", None, "und"),
        ("CBS", "en", "en"),
        ("Het kabinet en de bonden zijn het eens", None, "nl"),
        (
            "Der Vorstand hat heute beschlossen, dass die Mitarbeiter künftig an zwei Tagen"
            " pro Woche von zu Hause aus arbeiten dürfen, wie das Unternehmen mitteilte.",
            "nl",
            "de",
        ),
    ],
)
def test_detect_language(text, hint, expected) -> None:
    assert detect_language(text, hint) == expected


def test_detection_never_raises_on_odd_text() -> None:
    for text in ("🙂🙂🙂", "1234 5678", "a" * 50_000, "nl en nl en", "\x00\x01"):
        assert isinstance(detect_language(text, None), str)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_packed_lemma_table_answers_as_spacys_table_does(lang: str) -> None:
    from spacy.lookups import load_lookups

    from pipeline.process.analysis.nlp import LemmaTable

    table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    packed = LemmaTable(table)
    assert len(packed) == len(table) > 10_000
    assert all(packed.get(key) == lemma for key, lemma in table.items())
    word = {"nl": "medewerkers", "en": "managers"}[lang]
    assert packed.get(word) == table.get(word) and packed.get(word) != word
    assert packed.get("qzxwvk-not-a-word") is None
    assert packed.get("qzxwvk-not-a-word", "fallback") == "fallback"


def _ranked_by_runs(words: list[str], at: list[int], title_end: int) -> list[str]:
    """The ranking as specified, run by run: every phrase of one to three neighbouring
    content words weighs 1 + 0.5 (n - 1), thrice in the title; a multi-word phrase
    needs two occurrences or a place in the title; ties by phrase."""
    from collections import Counter

    scores: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    in_title: set[str] = set()
    runs: list[list[int]] = []
    for j in range(len(words)):
        if runs and at[j] == at[runs[-1][-1]] + 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    for run in runs:
        for size in (1, 2, 3):
            for k in range(len(run) - size + 1):
                key = " ".join(words[j] for j in run[k : k + size])
                counts[key] += 1
                titled = at[run[k]] < title_end
                scores[key] += (3.0 if titled else 1.0) * (1.0 + 0.5 * (size - 1))
                if titled:
                    in_title.add(key)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [k for k, _ in ranked if " " not in k or counts[k] >= 2 or k in in_title]


def test_keyphrase_ranking_follows_its_definition() -> None:
    import random

    import numpy as np

    from pipeline.process.analysis.nlp import _ranked_phrases

    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(12)]
    for _ in range(300):
        n = rng.randint(1, 40)
        words = [rng.choice(vocabulary) for _ in range(n)]
        at = np.cumsum([rng.choice([1, 1, 1, 2, 5]) for _ in range(n)])
        title_end = rng.choice([0, int(at[min(n - 1, 3)]), int(at[-1]) + 1])
        expected = _ranked_by_runs(words, at.tolist(), title_end)
        assert _ranked_phrases(words, at, title_end) == expected
    # a lemma with a space in it ("in house") takes the general path, same definition
    words = ["in house", "team", "in", "house", "team", "in house", "team"]
    at = np.array([0, 1, 2, 3, 4, 6, 7])
    assert _ranked_phrases(words, at, 2) == _ranked_by_runs(words, at.tolist(), 2)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sentences_are_split_as_spacys_sentencizer_splits_them(lang: str) -> None:
    import spacy

    texts = [
        NL_TEXT,
        EN_TEXT,
        'Really?! "Yes." he said... and then: no. Ok',
        "A.B. Smith went to the U.S. today. OK.",
        "“Quote.” Next one. ) (x) . . y",
        "...",
        "Geen punt aan het eind",
        "Wat nu？ Verder。 Klaar！",
        "",
    ]
    theirs = spacy.blank(lang)
    theirs.add_pipe("sentencizer")
    ours = build_pipeline(lang, PLAIN)
    assert ours.get_pipe("sentencizer").__class__.__name__ == "SentenceSplitter"
    for text in texts:
        expected = [t.is_sent_start for t in theirs(text)]
        assert [t.is_sent_start for t in ours(text)] == expected, text
    assert len(list(ours(NL_TEXT).sents)) == 4
