"""``trendwatch_names``: Dutch and English names from capitalised runs of words."""

from __future__ import annotations

from nlp_support import EN_TEXT, NL_TEXT, PLAIN, analysed_doc, entity_texts


def test_dutch_names_with_connectors_and_titles() -> None:
    doc = analysed_doc("nl", "Kabinet wil thuiswerken stimuleren", NL_TEXT)
    names = entity_texts(doc)
    assert "Karin van der Berg" in names  # "Minister" is a title, not part of the name
    assert "Den Haag" in names  # a capitalised stop word mid-sentence belongs to the name
    assert "FNV" in names  # "Volgens" starts the sentence and is trimmed
    assert "VNO-NCW" in names
    assert "Kabinet" not in names  # a capitalised first word only
    assert not any(n.startswith(("Het", "Volgens", "Minister")) for n in names)


def test_english_names() -> None:
    doc = analysed_doc("en", "Bank of England raises rates", EN_TEXT)
    names = entity_texts(doc)
    assert {"Bank of England", "Andrew Bailey", "Tesco", "Goldman Sachs"} <= names
    assert "The Bank of England" not in names
    assert "Remote" not in names and "Managers" not in names  # sentence-initial words
    assert "Thursday" not in names


def test_the_names_come_apart_and_in_order_as_filter_spans_keeps_them(monkeypatch) -> None:
    """Without entities before it, the detector sets its spans as it makes them: they
    must be what ``filter_spans`` keeps of them (apart, in order), on varied text."""
    import random

    from spacy.tokens import Span
    from spacy.util import filter_spans

    from pipeline.process.analysis.components import names
    from pipeline.process.analysis.nlp import build_pipeline

    made: list[Span] = []

    def span(*args, **kwargs) -> Span:
        made.append(Span(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(names, "Span", span)
    rng = random.Random(5)
    words = (
        "Karin van der Berg de Raad of State the Bank FNV minister Minister CEO J. KPN's"
        " Jean-Luc januari Monday zegt said werk work , . ! ? \" ' \n\n 2.000 A I"
    ).split(" ")
    for lang in ("nl", "en"):
        nlp = build_pipeline(lang, PLAIN)
        for _ in range(200):
            made.clear()
            doc = nlp(" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))))
            assert filter_spans(made) == made
            assert [(e.start, e.end) for e in doc.ents] == [(s.start, s.end) for s in made]
            assert all(e.label_ == "NAME" for e in doc.ents)
