"""A word's lemmas as the NLP stage finds them, for the search index's lemma column.

The process stage stores each article's content-word lemmas in
``article_features.terms``: spaCy's tokenizer, the ``trendwatch_lemmas`` component
(spacy-lookups-data's table, else simplemma, with the first-letter guard), lower case,
folded (:func:`pipeline.process.watchlists.matching.fold`). :func:`lemmas_of` runs a
query word through the same: a blank pipeline of the language with that component,
which is the pipeline the process stage uses unless the config names a trained one (a
trained lemmatizer mostly agrees on single words; the word's own folded form is
searched as well, :func:`pipeline.search.query.with_lemmas`).

The pipelines load on first use (spaCy and the lemma tables: a few seconds and about
100 MB), once per process, or ahead of it in a thread (:func:`warm_up_in_background`);
calls are serialised (a spaCy pipeline is not thread-safe) and their answers cached.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.process.watchlists.matching import fold

if TYPE_CHECKING:
    from spacy.language import Language

LANGUAGES = ("nl", "en")  # the languages whose lemmas are searched

_lock = threading.Lock()
_pipelines: dict[str, Language] = {}


def _pipeline(lang: str) -> Language:
    """The blank pipeline of ``lang`` with ``trendwatch_lemmas``; call under ``_lock``."""
    nlp = _pipelines.get(lang)
    if nlp is None:
        import spacy

        # importing the components registers trendwatch_lemmas with spaCy
        from pipeline.process.analysis import components  # noqa: F401

        nlp = spacy.blank(lang)
        nlp.add_pipe("trendwatch_lemmas")
        _pipelines[lang] = nlp
        # The pipeline lives as long as the process: its hundreds of thousands of
        # objects are moved out of the garbage collector's sight, or every full
        # collection (many a second under load) walks them again.
        gc.freeze()
    return nlp


@lru_cache(maxsize=100_000)
def lemmas_of(word: str, lang: str) -> tuple[str, ...]:
    """The folded lemmas of the words in ``word`` (usually one), in ``lang`` (one of
    :data:`LANGUAGES`; any other gives none)."""
    if lang not in LANGUAGES or not word.strip():
        return ()
    with _lock:
        doc = _pipeline(lang)(word)
        return tuple(fold(t.lemma_ or t.lower_) for t in doc if t.is_alpha)


def query_lemmas(word: str, languages: Iterable[str] = LANGUAGES) -> frozenset[str]:
    """The lemmas of a query word in each of ``languages``."""
    return frozenset(lemma for lang in languages for lemma in lemmas_of(word, lang))


def warm_up(languages: Iterable[str] = LANGUAGES) -> None:
    """Load the pipelines now rather than on the first search."""
    for lang in languages:
        lemmas_of("woning", lang)


_warming = threading.Event()


def warm_up_in_background() -> None:
    """Start loading the pipelines in a thread, once per process (the search page calls
    this when it is opened, so the search typed into it does not wait for them)."""
    if _warming.is_set():
        return
    _warming.set()
    threading.Thread(target=warm_up, name="lemmas-warm-up", daemon=True).start()
