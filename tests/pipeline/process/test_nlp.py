"""Loading the spaCy pipelines: blank Dutch and English ones with our components, a
missing trained one, our components beside a NER, and the gazetteer."""

from __future__ import annotations

from nlp_support import NL_TEXT, PLAIN, SZW, analysed_doc
from pipeline.process.analysis.nlp import NlpConfig, build_pipeline


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


def test_gazetteer_aliases_tag_the_canonical_entity() -> None:
    config = NlpConfig(gazetteer=(SZW,))
    doc = analysed_doc("nl", "SZW komt met plan", NL_TEXT, config)
    tagged = [(e.text, e.label_, e.ent_id_) for e in doc.ents if e.label_ == "ORG"]
    assert ("SZW", "ORG", "ministerie van szw") in tagged
    assert ("ministerie van Sociale Zaken en Werkgelegenheid", "ORG", "ministerie van szw") in [
        (t, label, i) for t, label, i in tagged
    ]
