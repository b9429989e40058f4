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


def test_a_blank_pipeline_made_ahead_is_taken_once_and_analyses_alike() -> None:
    """prepare_blanks (the fork server's warm-up) makes the blank pipeline the next
    build_pipeline of its language starts from, once; a pipeline built on it gives the
    same docs as one built on a blank made there and then, with or without a gazetteer."""
    from pipeline.process.analysis import nlp as nlp_module

    title, body = "Thuiswerken blijft", NL_TEXT
    for config in (PLAIN, NlpConfig(gazetteer=(SZW,))):
        nlp_module.prepare_blanks(["nl"])
        made = nlp_module._BLANKS["nl"]
        ahead = build_pipeline("nl", config)
        assert ahead is made and "nl" not in nlp_module._BLANKS
        fresh = build_pipeline("nl", config)
        assert fresh is not made
        assert ahead.pipe_names == fresh.pipe_names
        a, b = (nlp(f"{title}.\n\n{body}") for nlp in (ahead, fresh))
        assert [(t.text, t.lemma_, t.is_sent_start, t.ent_type_) for t in a] == [
            (t.text, t.lemma_, t.is_sent_start, t.ent_type_) for t in b
        ]
        assert a._.keyphrases == b._.keyphrases and a._.keyphrases
        assert [(e.text, e.label_, e.ent_id_) for e in a.ents] == [
            (e.text, e.label_, e.ent_id_) for e in b.ents
        ]
