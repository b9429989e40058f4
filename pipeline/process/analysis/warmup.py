"""Preloaded into the forkserver that starts ``trendwatch process``'s worker processes.

The large read-only data every worker needs (spaCy's modules, the Dutch and English
lemma tables of spacy-lookups-data and simplemma, the language identifier's model,
numpy) is loaded once here, and so are the Dutch and English blank pipelines each worker
starts from (:func:`~.nlp.prepare_blanks`: about 0.4 s a worker otherwise); workers
forked from this process share those pages copy-on-write instead of each loading its own
copy.
"""

from __future__ import annotations

import gc

import numpy  # noqa: F401 - imported for its side effect: the module is loaded
import simplemma
import spacy.lang.en
import spacy.lang.nl  # noqa: F401

from pipeline.process.analysis import analyse  # noqa: F401
from pipeline.process.analysis.components.lemmas import lookup_table
from pipeline.process.analysis.language import _identifier
from pipeline.process.analysis.nlp import prepare_blanks

for _lang in ("nl", "en"):
    simplemma.lemmatize("werken", lang=_lang)
    lookup_table(_lang)
_identifier()
prepare_blanks(("nl", "en"))
gc.freeze()  # keep the garbage collector from writing to the shared pages
