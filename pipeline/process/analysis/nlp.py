"""spaCy pipelines: one per language, loaded once per process, with our components.

A trained pipeline is used when the config names one that is installed
(``[nlp] models = { nl = "nl_core_news_sm" }``); otherwise ``spacy.blank(lang)`` with
our sentencizer and the lookup lemmatizer from spacy-lookups-data. Our components
(:mod:`pipeline.process.analysis.components`, one module each) are registered factories,
so they compose with either:

- ``trendwatch_lemmas`` fills in simplemma lemmas where the pipeline's lemmatizer left
  a word unchanged (the Dutch lookup table misses ``werkgevers``, ``banen``...);
- ``entity_ruler`` (spaCy's own) tags configured gazetteer entities and their aliases,
  with the canonical name as entity id;
- ``trendwatch_names`` tags runs of capitalised words as names (``NAME``) where no
  statistical NER is present, for Dutch and English alike;
- ``trendwatch_keyphrases`` sets ``doc._.keyphrases``: the article's top lemma phrases.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import is_package

# importing the components registers them with spaCy, for the pipelines built here
from pipeline.process.analysis import components  # noqa: F401
from pipeline.process.analysis.features import GazetteerEntry, NlpConfig, entity_key

log = logging.getLogger("trendwatch.nlp")

BLANK_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})


_PIPELINES: dict[tuple[str, NlpConfig], Language] = {}
_BLANKS: dict[str, Language] = {}  # made ahead by prepare_blanks, each used once


def prepare_blanks(langs: Iterable[str]) -> None:
    """Make ``spacy.blank(lang)`` for each of ``langs`` now, for the next
    :func:`build_pipeline` of that language to take: the fork server that starts the
    worker processes makes them (:mod:`.warmup`), so a worker does not spend the 0.1 s
    (English) to 0.3 s (Dutch: 4,670 tokenizer exceptions) a blank pipeline takes to
    make; each worker takes its own copy-on-write copy. A blank pipeline does not
    depend on the config: our components are added to it by :func:`build_pipeline`."""
    for lang in langs:
        if lang not in _BLANKS:
            _BLANKS[lang] = spacy.blank(lang)


def _blank(lang: str) -> Language:
    """``spacy.blank(lang)``: the one :func:`prepare_blanks` made, once, else a new one."""
    found = _BLANKS.pop(lang, None)
    return found if found is not None else spacy.blank(lang)


def pipeline_for(lang: str, config: NlpConfig) -> Language:
    """The spaCy pipeline for ``lang``, built once per process and config."""
    key = (lang, config)
    if key not in _PIPELINES:
        _PIPELINES[key] = build_pipeline(lang, config)
    return _PIPELINES[key]


def build_pipeline(lang: str, config: NlpConfig) -> Language:
    """A new spaCy pipeline for ``lang`` with our components (:func:`pipeline_for` keeps
    one per process)."""
    model = config.model_for(lang)
    if model and is_package(model):
        nlp = spacy.load(model)
        log.info("language %s: trained pipeline %s", lang, model)
    else:
        if model:
            log.warning("language %s: pipeline %r is not installed; using a blank one", lang, model)
        nlp = _blank(lang if lang in BLANK_LANGS else "xx")
        nlp.add_pipe("trendwatch_sentences", name="sentencizer")
    # blank pipelines: the spacy-lookups-data table is read by trendwatch_lemmas itself
    nlp.add_pipe("trendwatch_lemmas", config={"lookups": "lemmatizer" not in nlp.pipe_names})
    ruler = None
    if config.gazetteer:
        ruler_options = {"phrase_matcher_attr": "LOWER", "overwrite_ents": True}
        where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
        ruler = nlp.add_pipe("entity_ruler", config=ruler_options, **where)
    if "ner" not in nlp.pipe_names:
        nlp.add_pipe("trendwatch_names")
    nlp.add_pipe("trendwatch_keyphrases")
    nlp.initialize()
    if ruler is not None:
        ruler.add_patterns(list(_patterns(config.gazetteer)))
    return nlp


def _patterns(entries: Iterable[GazetteerEntry]) -> Iterable[dict]:
    for entry in entries:
        for alias in (entry.name, *entry.aliases):
            yield {"label": entry.label, "pattern": alias, "id": entity_key(entry.name)}


def analyse_docs(lang: str, texts: Sequence[tuple[str, str]], config: NlpConfig) -> list[Doc]:
    """Run ``lang``'s pipeline over ``(title, body)`` pairs, batched with ``nlp.pipe``."""
    nlp = pipeline_for(lang, config)
    docs = []
    for title, body in texts:
        # a full stop after the title makes the body's first word start a sentence
        stop = "" if title.rstrip()[-1:] in (".", "!", "?", ":") else "."
        text = f"{title}{stop}\n\n{body}" if body else title
        doc = nlp.make_doc(text)
        doc.user_data["title_end"] = _title_end(doc, len(title))
        doc.user_data["text"] = text  # doc.text without rebuilding it from the tokens
        docs.append(doc)
    return list(nlp.pipe(docs, batch_size=config.batch_size))


def _title_end(doc: Doc, chars: int) -> int:
    for tok in doc:
        if tok.idx >= chars:
            return tok.i
    return len(doc)
