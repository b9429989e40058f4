"""From stored article text to ArticleFeatures: language, spaCy, lemmas, entities,
keyphrases, numbers and links. Pure with respect to I/O: text in, plain data out, so
it runs the same in the main process or in a worker process."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress

import numpy as np
from spacy.attrs import LEMMA
from spacy.tokens import Doc

from crawlers.urls import canonical_url
from pipeline.process.analysis.components import lexical
from pipeline.process.analysis.components.hashes import folded_by_hash, lemma_or_lower, member
from pipeline.process.analysis.features import ArticleFeatures, ArticleInput, Entity
from pipeline.process.analysis.language import detect_language
from pipeline.process.analysis.nlp import NlpConfig, analyse_docs, entity_key
from pipeline.process.analysis.numbers import (
    format_value,
    is_number_word,
    number_key,
    parse_digits,
)

MAX_TERMS = 200  # the terms kept per article: enough for TF-IDF, bounded for storage
MAX_ENTITIES = 40
_HREF = re.compile(r"""href\s*=\s*["']([^"'<>\s]+)["']""", re.IGNORECASE)
_DIGITS = re.compile(r"\d")


def analyse(articles: Sequence[ArticleInput], config: NlpConfig) -> list[ArticleFeatures]:
    """Features of each article, in input order. Articles are grouped per detected
    language so each language's pipeline runs batched."""
    langs = [detect_language(f"{a.title}. {a.text}", a.language) for a in articles]
    out: list[ArticleFeatures | None] = [None] * len(articles)
    for lang in sorted(set(langs)):
        idx = [i for i, la in enumerate(langs) if la == lang]
        docs = analyse_docs(
            lang if lang != "und" else "xx",
            [(articles[i].title, articles[i].text) for i in idx],
            config,
        )
        for i, doc in zip(idx, docs, strict=True):
            out[i] = features_from_doc(articles[i], lang, doc)
    return [f for f in out if f is not None]


def features_from_doc(article: ArticleInput, lang: str, doc: Doc) -> ArticleFeatures:
    terms: dict[str, int] = {}
    numbers: set[str] = set()
    if len(doc):
        strings = doc.vocab.strings
        lex = lexical.lexical(doc)
        lexical.forget(doc)  # the last to read them
        alpha, stop, punct, space, length = lex.alpha, lex.stop, lex.punct, lex.space, lex.length
        low, orth, lem = lex.lower, lex.orth, doc.to_array(LEMMA)
        # content words: folded lemma (else lower case) counts, per distinct lemma first
        # (in any order: the terms are ranked below)
        content = (alpha != 0) & (stop == 0) & (length > 1)
        hashes, counts = np.unique(lemma_or_lower(lem[content], low[content]), return_counts=True)
        folded = folded_by_hash.lookup(hashes.tolist(), strings)
        if len(set(folded)) == len(folded):  # no two lemmas fold alike: nothing to add up
            terms = dict(zip(folded, counts.tolist(), strict=True))
        else:
            for key, n in zip(folded, counts.tolist(), strict=True):
                terms[key] = terms.get(key, 0) + n
        numbers = _numbers(strings, orth, low, alpha, punct, space, lang)
    return ArticleFeatures(
        id=article.id,
        lang=lang,
        published=article.published,
        terms=_top_terms(terms),
        entities=_entities(doc),
        keyphrases=tuple(doc._.keyphrases),
        numbers=frozenset(numbers),
        links=frozenset(_links(article)),
        source=article.source,
    )


def _top_terms(terms: dict[str, int]) -> dict[str, int]:
    """The ``MAX_TERMS`` most frequent terms, most frequent first, then in alphabetical
    order (the order of sorting ``(-count, term)`` pairs: the terms sorted, then sorted
    again by count, which keeps the alphabetical order among equal counts, without a
    tuple per term)."""
    ranked = sorted(terms)
    ranked.sort(key=terms.__getitem__, reverse=True)  # stable, also reversed
    return {k: terms[k] for k in ranked[:MAX_TERMS]}


def _numbers(strings, orth, low, alpha, punct, space, lang: str) -> set[str]:
    """The number keys of a document (:func:`~.numbers.number_key`): every token that
    holds a digit or is a number word, read with the token before it and two after.

    The few tokens read (about 15 in a 400-word article) have their strings and their
    neighbours' looked up from one gather each, not a numpy scalar per token."""
    candidates = np.flatnonzero((alpha == 0) & (punct == 0) & (space == 0))
    texts = [strings[h] for h in orth[candidates].tolist()]
    keep = [_DIGITS.search(t) is not None for t in texts]
    at = list(compress(candidates.tolist(), keep))
    texts = list(compress(texts, keep))
    # a token whose lower case is a number word is all letters (alpha): matched against
    # every number word seen, the tokens found are those of the doc's own number words
    table = _number_words_by_hash.lookup(strings, low[alpha != 0])
    if table.size:
        more = np.flatnonzero(member(low, table))  # in any order: the keys are a set
        at += more.tolist()
        texts += [strings[h] for h in orth[more].tolist()]
    if not at:
        return set()
    # the lower case of the token before each one and of the two after it; hash 0 (the
    # empty string) past either end of the doc
    padded = np.zeros(len(low) + 3, dtype=low.dtype)
    padded[1:-2] = low
    where = np.array(at)
    before, after, after2 = (
        [strings[h] for h in padded[where + shift].tolist()] for shift in (0, 2, 3)
    )
    out: set[str] = set()
    for text, b, a, a2 in zip(texts, before, after, after2, strict=True):
        key = number_key(text, lang, b, a, a2)
        if key:
            out.add(key)
    return out


class _NumberWords:
    """The number words among the lower-case forms of the alpha tokens seen so far, by
    their string hashes (spaCy's: the same in every vocab). Which hashes were looked at
    is kept in a table of ``1 << bits`` slots, a hash in the slot its low bits name, so
    that a doc's hashes are told apart in a few numpy steps; Python reads only the
    strings of hashes not in their slot (new ones, or one that another hash pushed
    out: read again, with the same answer). Forgotten all at once when ``limit`` number
    words are kept. One thread at a time (a lock)."""

    bits = 18  # 2 MB of slots
    limit = 10_000

    def __init__(self) -> None:
        self._seen = np.zeros(1 << self.bits, dtype=np.uint64)  # hash 0: no string's
        self._mask = np.uint64((1 << self.bits) - 1)
        self._numbers: set[int] = set()
        self.table = np.zeros(0, dtype=np.uint64)  # the number words' hashes, sorted
        self._lock = threading.Lock()

    def lookup(self, strings, hashes: np.ndarray) -> np.ndarray:
        """:attr:`table` once the number words among ``hashes`` (uint64) are in it."""
        with self._lock:
            new = hashes[self._seen[(hashes & self._mask).astype(np.intp)] != hashes]
            if new.size:
                found = {h for h in set(new.tolist()) if is_number_word(strings[h])}
                if not found <= self._numbers:
                    if len(self._numbers) + len(found) > self.limit:
                        self._seen[:] = 0
                        self._numbers.clear()
                        new = hashes  # the doc's number words seen before: read again
                        found = {h for h in set(new.tolist()) if is_number_word(strings[h])}
                    self._numbers |= found
                    self.table = np.array(sorted(self._numbers), dtype=np.uint64)
                self._seen[(new & self._mask).astype(np.intp)] = new
            return self.table


_number_words_by_hash = _NumberWords()


_entity_key = lru_cache(maxsize=100_000)(entity_key)


def _entities(doc: Doc) -> tuple[Entity, ...]:
    seen: dict[str, Entity] = {}
    whole = doc.user_data.get("text")  # as analyse_docs made the doc: doc.text, for free
    for ent in doc.ents:
        # Span.text and Doc.text join their tokens one by one: cut from the text instead
        text = (whole[ent.start_char : ent.end_char] if whole is not None else ent.text).strip()
        key = ent.ent_id_ or _entity_key(text)
        if key and key not in seen:
            seen[key] = Entity(text=text, key=key, label=ent.label_)
        if len(seen) >= MAX_ENTITIES:
            break
    return tuple(seen.values())


def _links(article: ArticleInput) -> set[str]:
    links = set()
    if article.url:
        links.add(canonical_url(article.url))
    for href in _HREF.findall(article.html or ""):
        if href.startswith(("http://", "https://")):
            try:
                links.add(canonical_url(href))
            except ValueError:
                continue
    return links


def normalise_number(text: str, lang: str) -> str | None:
    """One spelling per number token, without its unit: Dutch ``2.000`` and English
    ``2,000`` are ``2000``; Dutch ``7,1`` and English ``7.1`` are ``7.1``. Single digits
    say too little to tell events apart and are dropped. (The features use
    :func:`~.numbers.number_key`, which also reads the words around the number.)"""
    value = parse_digits(text.strip().rstrip("%").lstrip("€$£"), lang)
    if value is None:
        return None
    key = format_value(value)
    return key if len(key) > 1 else None
