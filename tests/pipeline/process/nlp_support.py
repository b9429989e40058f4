"""Texts and helpers of the tests of the spaCy pipelines, our components and the analysis
(``test_nlp``, ``test_lemmas``, ``test_names``, ``test_keyphrases``, ``test_sentences``,
``test_analyse``, ``test_language``)."""

from __future__ import annotations

from spacy.tokens import Doc

from pipeline.process.analysis.nlp import GazetteerEntry, NlpConfig, analyse_docs

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


def analysed_doc(lang: str, title: str, body: str, config: NlpConfig = PLAIN) -> Doc:
    """``title`` and ``body`` through ``lang``'s pipeline, as the analysis runs them."""
    return analyse_docs(lang, [(title, body)], config)[0]


def entity_texts(doc: Doc) -> set[str]:
    return {e.text for e in doc.ents}
