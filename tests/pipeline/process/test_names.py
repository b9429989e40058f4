"""``trendwatch_names``: Dutch and English names from capitalised runs of words."""

from __future__ import annotations

from nlp_support import EN_TEXT, NL_TEXT, analysed_doc, entity_texts


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
