"""Our spaCy components, one module each, registered as factories when imported
(:mod:`pipeline.process.analysis.nlp` imports this package before it builds a pipeline):

- ``trendwatch_sentences`` (:mod:`.sentences`): sentence starts as spaCy's
  ``sentencizer`` sets them, on the token arrays;
- ``trendwatch_lemmas`` (:mod:`.lemmas`): simplemma lemmas where the pipeline's
  lemmatizer left a word unchanged (the Dutch lookup table misses ``werkgevers``,
  ``banen``...);
- ``trendwatch_names`` (:mod:`.names`): runs of capitalised words as names (``NAME``)
  where no statistical NER is present, for Dutch and English alike;
- ``trendwatch_keyphrases`` (:mod:`.keyphrases`): ``doc._.keyphrases``, the article's
  top lemma phrases.

:mod:`.hashes` holds what they share: token strings by hash, folded once.
"""

from pipeline.process.analysis.components import keyphrases, lemmas, names, sentences

__all__ = ["keyphrases", "lemmas", "names", "sentences"]
