"""``trendwatch_sentences``: sentence starts as spaCy's ``sentencizer`` sets them, on
the token arrays (blank pipelines use it, named ``sentencizer``)."""

from __future__ import annotations

import numpy as np
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.process.analysis.components.hashes import hashes, member
from pipeline.process.analysis.components.lexical import lexical


@Language.factory("trendwatch_sentences")
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp)


class SentenceSplitter:
    """spaCy's rule-based ``sentencizer`` (same punctuation, same decisions) on the
    token arrays: a sentence starts at the first token after sentence-final punctuation
    (``.``, ``!``, ``?`` and their kin) that is neither punctuation nor one of those
    characters. spaCy's own component builds a Token object for every token, which cost
    about a tenth of the analysis."""

    def __init__(self, nlp: Language) -> None:
        from spacy.pipeline import Sentencizer

        final = hashes(nlp.vocab, Sentencizer.default_punct_chars)
        self.final = np.array(sorted(final), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        lex = lexical(doc)
        orth, punct = lex.orth, lex.punct
        final = member(orth, self.final)
        word = (punct == 0) & ~final
        at = np.arange(n)
        # per token: the last final mark and the last word strictly before it
        last_final = np.maximum.accumulate(np.where(final, at, -1))
        last_word = np.maximum.accumulate(np.where(word, at, -1))
        starts = np.zeros(n, dtype=bool)
        starts[1:] = word[1:] & (last_final[:-1] > last_word[:-1])
        starts[0] = True
        values = np.where(starts, 1, -1).astype(np.int64).view(np.uint64)
        doc.from_array([SENT_START], values.reshape(-1, 1))
        return doc
