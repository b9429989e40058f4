"""Tests for guessing an article's language (Dutch or English) from its text, and for
detecting it (any language, with the source's language as a hint)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import py3langid.langid as _langid
import pytest

from nlp_support import EN_TEXT, NL_TEXT
from pipeline.process.analysis import language
from pipeline.process.analysis.language import DETECT_CHARS, detect_language, guess_language

DUTCH = [
    "De werkgevers in de zorg zoeken dringend nieuwe medewerkers, maar het tekort wordt "
    "niet kleiner.",
    "Steeds meer werknemers willen vaker thuiswerken. Dat blijkt uit onderzoek van het CBS "
    "onder ruim tweeduizend mensen met een kantoorbaan.",
    "Het kabinet wil dat zzp'ers die langer dan een jaar voor dezelfde opdrachtgever werken "
    "in dienst worden genomen.",
    "Eén op de drie medewerkers overweegt een andere baan als de werkgever geen ruimte "
    "geeft voor hybride werken.",
]

ENGLISH = [
    "Employers in the care sector are looking for new staff, but the shortage is not "
    "getting any smaller.",
    "More and more employees want to work from home. That is the finding of a survey of "
    "over two thousand office workers.",
    "The government wants freelancers who have worked for the same client for more than "
    "a year to be taken on as employees.",
    "Managers say that a four-day week could help them keep their best people, but many "
    "are still waiting for the results of the pilot.",
]


@pytest.mark.parametrize("text", DUTCH)
def test_dutch_text_is_dutch(text: str) -> None:
    assert guess_language(text) == "nl"
    assert guess_language(text, fallback="en") == "nl"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_text_is_english(text: str) -> None:
    assert guess_language(text) == "en"
    assert guess_language(text, fallback="nl") == "en"


def test_upper_case_text_is_recognised() -> None:
    assert guess_language(DUTCH[0].upper()) == "nl"
    assert guess_language(ENGLISH[0].upper()) == "en"


def test_dutch_article_quoting_some_english_is_still_dutch() -> None:
    text = (
        'De directeur noemde het een "work hard, play hard"-cultuur. Volgens de vakbond is '
        "dat een excuus voor te veel overwerk, want de werkdruk is in deze sector al jaren "
        "te hoog."
    )
    assert guess_language(text) == "nl"


@pytest.mark.parametrize(
    "text",
    [
        "Werkgevers zoeken personeel",  # headline: no stop words at all
        "Thuiswerken blijft populair",
        "Layoffs hit tech sector",
        "Hybrid work: here to stay",
        "De baan",  # a single stop word
        "The job",
    ],
)
def test_short_text_falls_back(text: str) -> None:
    assert guess_language(text) is None
    assert guess_language(text, fallback="nl") == "nl"
    assert guess_language(text, fallback="en") == "en"


@pytest.mark.parametrize("text", ["", " ", "\n\t", "2026", "€ 3.500 bruto", "🙂👍", "!!!", "\x00"])
def test_empty_or_wordless_text_falls_back(text: str) -> None:
    assert guess_language(text) is None
    assert guess_language(text, fallback="nl") == "nl"


def test_evenly_mixed_text_falls_back() -> None:
    # four Dutch and four English stop words ('in' and 'is' count for both)
    text = "De manager said that het team in Amsterdam is the best."
    assert guess_language(text, fallback="nl") == "nl"
    assert guess_language(text, fallback="en") == "en"
    assert guess_language(text) is None


def test_min_votes_can_be_raised_and_lowered() -> None:
    text = "Werkgevers zoeken personeel voor de zorg"  # 'voor' and 'de': two Dutch votes
    assert guess_language(text) is None
    assert guess_language(text, min_votes=2) == "nl"
    assert guess_language(DUTCH[0], min_votes=100, fallback="en") == "en"


def test_only_the_start_of_a_long_text_counts() -> None:
    # a long Dutch article followed by an English appendix is judged by its start
    dutch = " ".join(DUTCH) + " "
    text = dutch * (5000 // len(dutch) + 1) + " ".join(ENGLISH) * 50
    assert guess_language(text) == "nl"


def test_dutch_with_diacritics_and_apostrophes() -> None:
    text = "Één op de vier zzp'ers in België heeft geen pensioen, en dat is een probleem."
    assert guess_language(text) == "nl"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "de " * 100_000,
        "\u200b".join(["werk"] * 100),
        "<p>De werkgever is <b>niet</b> aansprakelijk</p>",
        "ÀÉÎÕÜ ß ĳ Ÿ",
        "\ud7ff\ue000",
    ],
)
def test_never_raises(text: str) -> None:
    assert guess_language(text, fallback="nl") in ("nl", "en")


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


def _labelled_articles() -> list[tuple[str, str]]:
    """(title and text, language) of every labelled Dutch and English article of the
    fixtures: the story fixtures and the near-duplicate ones (named ``nl_``, ``en_``)."""
    fixtures = Path(__file__).parents[2] / "fixtures"
    found = []
    for path in sorted((fixtures / "stories").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            found.append((f"{record['title']}\n\n{record['text']}", record["lang"]))
    for path in sorted((fixtures / "dedup").glob("*.txt")):
        found.append((path.read_text("utf-8"), path.name[:2]))
    return found


def test_every_labelled_article_is_detected_in_its_language() -> None:
    """Detection reads only the first characters of an article (DETECT_CHARS): on every
    labelled Dutch and English article we have, that still names the right language,
    without any hint to fall back on."""
    articles = _labelled_articles()
    assert len(articles) > 150 and {lang for _, lang in articles} == {"nl", "en"}
    assert sum(len(text) > DETECT_CHARS for text, _ in articles) > 100  # the cut matters
    wrong = [text[:60] for text, lang in articles if detect_language(text, None) != lang]
    assert wrong == []


def _odd_texts() -> list[str]:
    """Texts of every kind of character: seeded random mixes of ASCII, other scripts,
    emoji, controls and unpaired surrogates, short and long, and upper-case ones."""
    rng = random.Random(16)
    ranges = [(32, 126), (0, 0x2FFF), (0x0400, 0x04FF), (0x4E00, 0x4FFF), (0x1F300, 0x1F64F)]
    texts = ["", "a", "A", "AB CD", "x" * 5000, "é" * 10, "\ud800 werk", "\x00\x01\x02"]
    for _ in range(600):
        low, high = rng.choice(ranges)
        text = "".join(chr(rng.randint(low, high)) for _ in range(rng.randint(0, 400)))
        texts.append(text.upper() if rng.random() < 0.1 else text)
    return texts


def test_the_identifier_answers_as_py3langid_does() -> None:
    """Detection uses py3langid's model through a vectorised scan (``_Identifier``): its
    language and probability must be py3langid's own, to the bit, for any text."""
    reference = _langid.LanguageIdentifier.from_modelpath(
        _langid.MODEL_DIR / _langid.MODEL_FILE, norm_probs=True
    )
    ours = language._identifier()
    articles = [text for text, _ in _labelled_articles()]
    texts = [*articles, *(t[:DETECT_CHARS] for t in articles), *DUTCH, *ENGLISH, *_odd_texts()]
    texts.append(ENGLISH[0].encode())  # bytes, as py3langid also takes them
    differ = [t[:40] for t in texts if ours.classify(t) != reference.classify(t)]
    assert differ == []


def test_the_kept_float_rows_are_the_rows_converted_each_time(monkeypatch) -> None:
    """The identifier keeps each feature's weights converted to floats (``_FloatRows``):
    the scores are those of converting the features' rows for every text, to the bit,
    also when the kept rows are forgotten and kept again (a tiny limit), in Dutch and
    English, with odd punctuation, digits, other scripts and nothing at all."""
    monkeypatch.setattr(language._FloatRows, "limit", 300)
    ours = language._Identifier.from_modelpath(
        _langid.MODEL_DIR / _langid.MODEL_FILE, norm_probs=True
    )
    texts = [*DUTCH, *ENGLISH, NL_TEXT, EN_TEXT, "12,5% — €3.5m!? ...", "", *_odd_texts()[:200]]
    for text in texts * 2:  # the second time from the kept rows
        data = text.encode("utf-8", "surrogatepass")
        features, counts = ours._features(data)
        if not features.size:
            continue
        # the features' rows converted for this text alone
        weights = ours._halves.take(ours.nb_ptc.view(np.uint16)[features])
        converted = np.log1p(counts) @ weights + ours.nb_pc
        assert (
            ours._raw_score(data).view(np.uint32).tolist() == converted.view(np.uint32).tolist()
        ), text[:40]
    assert ours._float_rows is not None and ours._float_rows._size <= 1024
