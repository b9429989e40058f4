"""The lexical attributes the components share: read once per doc, and read again when
the doc's tokens changed (a pipeline that merges tokens before our components)."""

from __future__ import annotations

import spacy

from pipeline.process.analysis.components.lexical import forget, lexical


def test_the_shared_attributes_follow_a_retokenised_doc() -> None:
    nlp = spacy.blank("nl")
    doc = nlp.make_doc("De Raad van State zegt nee")
    before = lexical(doc)
    assert lexical(doc) is before  # read once
    assert [doc.vocab.strings[h] for h in before.lower.tolist()][:2] == ["de", "raad"]
    with doc.retokenize() as retokenizer:
        retokenizer.merge(doc[1:4])
    after = lexical(doc)
    assert len(after.orth) == len(doc) == 4
    assert doc.vocab.strings[int(after.orth[1])] == "Raad van State"
    assert after.alpha.tolist() == [1, 0, 1, 1]  # the merged name holds spaces
    forget(doc)
    assert lexical(doc) is not after
