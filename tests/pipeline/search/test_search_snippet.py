"""Snippets: the densest part of a text, matches marked as plain segments (words, their
inflected forms through the lemmatiser, phrases, prefixes), never HTML."""

from __future__ import annotations

from pipeline.search.query import parse, with_lemmas
from pipeline.search.snippet import ELLIPSIS, Highlight, marked, snippet

LEMMAS = {"woningen": ("woning",), "huizen": ("huis",), "banen": ("baan",)}


def lemma(word: str) -> tuple[str, ...]:
    return LEMMAS.get(word.lower(), (word.lower(),))


def highlight(text: str) -> Highlight:
    return Highlight.of(with_lemmas(parse(text), lambda w: set(lemma(w))))


def marks(parts: list[tuple[str, bool]]) -> list[str]:
    return [text for text, hit in parts if hit]


def test_a_word_its_inflected_forms_and_a_phrase_are_marked() -> None:
    parts = marked("Nieuwe Woningen en oude huizen", highlight("woning huis"), lemma)
    assert parts == [("Nieuwe ", False), ("Woningen", True), (" en oude ", False), ("huizen", True)]
    assert "".join(text for text, _ in parts) == "Nieuwe Woningen en oude huizen"
    phrase = marked("de nieuwe woningen komen", highlight('"nieuwe woningen"'), lemma)
    assert marks(phrase) == ["nieuwe woningen"]  # one mark for the whole phrase
    assert marks(marked("Woningbouw en woningnood", highlight("woning*"))) == [
        "Woningbouw",
        "woningnood",
    ]
    assert marks(marked("Één woning", highlight("een"))) == ["Één"]


def test_excluded_words_are_not_marked() -> None:
    assert marks(marked("woning en huur", highlight("woning -huur"), lemma)) == ["woning"]


def test_the_snippet_is_the_densest_window() -> None:
    filler = " ".join(f"woord{i}" for i in range(100))
    text = f"Begin {filler} daar zijn de banen en nog meer banen. {filler} einde."
    parts = snippet(text, highlight("baan"), lemma, size=12)
    assert parts[0] == (ELLIPSIS + " ", False) and parts[-1] == (" " + ELLIPSIS, False)
    assert marks(parts) == ["banen", "banen"]
    shown = "".join(text for text, _ in parts)
    # four words before the first match, the punctuation after the last word kept
    assert shown == "… woord99 daar zijn de banen en nog meer banen. woord0 woord1 woord2 …"


def test_a_text_without_matches_shows_its_start() -> None:
    text = " ".join(f"w{i}" for i in range(50))
    parts = snippet(text, highlight("niets"), lemma, size=5)
    assert parts == [("w0 w1 w2 w3 w4", False), (" " + ELLIPSIS, False)]
    assert snippet("kort", highlight("niets"), lemma) == [("kort", False)]
    assert snippet("", highlight("niets")) == []
    assert snippet("...", highlight("niets")) == [("...", False)]


def test_markup_in_the_text_stays_text() -> None:
    text = "<script>alert('woning')</script> <b>woning</b>"
    parts = snippet(text, highlight("woning"), lemma)
    assert "".join(t for t, _ in parts) == text  # the page escapes every segment
    assert marks(parts) == ["woning", "woning"]


def test_only_words_that_could_share_a_lemma_are_lemmatised() -> None:
    asked: list[str] = []

    def counting(word: str) -> tuple[str, ...]:
        asked.append(word)
        return lemma(word)

    text = "de gemeente bouwt banen en bakt brood " * 20
    snippet(text, highlight("baan"), counting)
    assert set(asked) == {"banen", "bakt"}  # the words that start as "baan" does
