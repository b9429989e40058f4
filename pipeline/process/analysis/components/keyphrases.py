"""``trendwatch_keyphrases``: ``doc._.keyphrases``, the article's top lemma phrases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from heapq import heapify, heappop

import numpy as np
from spacy.attrs import ENT_TYPE, LEMMA
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.process.analysis.components.hashes import (
    folded_by_hash,
    hashes,
    lemma_or_lower,
    member,
)
from pipeline.process.analysis.components.lexical import lexical

if not Doc.has_extension("keyphrases"):
    Doc.set_extension("keyphrases", default=())


@Language.factory("trendwatch_keyphrases", default_config={"top": 10})
def make_keyphrases(nlp: Language, name: str, top: int) -> KeyphraseExtractor:
    return KeyphraseExtractor(nlp, top)


_WEAK = (
    "say said tell told add added according also just like make made new year week"
    " zeggen zei zegt volgens jaar week nieuw nieuwe laten gaan komen maken krijgen ermee"
    " daarom echter blijven vooral onder andere".split()
)
_PHRASE_ATTRS = [ENT_TYPE, LEMMA]  # and the lexical attributes


class KeyphraseExtractor:
    """The article's top phrases: runs of up to three content words (no stop words,
    numbers, punctuation or names: those are entities), keyed by their folded lemmas,
    scored by frequency with a boost for the title (``doc.user_data["title_end"]``, a
    token index) and for multi-word phrases. A multi-word phrase needs two occurrences
    or a place in the title."""

    def __init__(self, nlp: Language, top: int) -> None:
        self.top = top
        self.weak = np.array(sorted(hashes(nlp.vocab, _WEAK)), dtype=np.uint64)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            doc._.keyphrases = ()
            return doc
        title_end = int(doc.user_data.get("title_end", 0))
        lex = lexical(doc)
        alpha, stop, length, low = lex.alpha, lex.stop, lex.length, lex.lower
        ent, lem = doc.to_array(_PHRASE_ATTRS).T
        content = (alpha != 0) & (stop == 0) & (length > 2) & (ent == 0)
        if self.weak.size:
            content &= ~member(low, self.weak) & ~member(lem, self.weak)
        at = np.flatnonzero(content)  # token index of each content word, in order
        words = folded_by_hash.lookup(lemma_or_lower(lem[at], low[at]).tolist(), doc.vocab.strings)
        chosen: list[str] = []
        for key in best_phrases(words, at, title_end):
            # a phrase inside a chosen longer one adds nothing ("work" in "remote work")
            if any(f" {key} " in f" {c} " for c in chosen):
                continue
            chosen.append(key)
            if len(chosen) == self.top:
                break
        doc._.keyphrases = tuple(chosen)
        return doc


def ranked_phrases(words: list[str], at: np.ndarray, title_end: int) -> list[str]:
    """The candidate keyphrases, best first: phrases of up to three consecutive content
    words, scored by frequency with a boost for the title and for longer phrases.

    ``words`` are the folded content words in order and ``at`` their token indices: a
    run of content words is a stretch of consecutive indices. A phrase of n words weighs
    1 + 0.5 (n - 1) per occurrence, three times that where it starts in the title. A
    multi-word phrase needs two occurrences or a place in the title. Ties go to the
    alphabetically first phrase.
    """
    return list(best_phrases(words, at, title_end))


def best_phrases(words: list[str], at: np.ndarray, title_end: int) -> Iterator[str]:
    """:func:`ranked_phrases` one at a time, best first: the candidates wait in a heap,
    so a caller that takes the first few does not sort them all (each is a distinct
    phrase, so the heap gives them in the sorted order)."""
    next_in_run = np.diff(at) == 1  # word j and word j + 1 are neighbours in the text
    two = np.flatnonzero(next_in_run)
    three = np.flatnonzero(next_in_run[:-1] & next_in_run[1:])
    sizes = (
        (1.0, words),
        (1.5, [f"{words[j]} {words[j + 1]}" for j in two.tolist()]),
        (2.0, [f"{words[j]} {words[j + 1]} {words[j + 2]}" for j in three.tolist()]),
    )
    # how many of each size's phrases start in the title (their starts ascend)
    titled = [int(np.searchsorted(where, title_end)) for where in (at, at[two], at[three])]
    if " " in "\x00".join(words):  # a lemma with a space: sizes are not told by spaces
        yield from _ranked_phrases_slowly(sizes, titled)
        return
    in_title: Counter[str] = Counter()  # occurrences that start in the title
    for (_, found), n in zip(sizes, titled, strict=True):
        in_title.update(found[:n])
    # the score per occurrence is exact in floating point (multiples of 0.5), so a
    # phrase's score is its weight times its occurrences, the title's counted thrice
    entries = [(-(n + 2 * in_title.get(key, 0)) * 1.0, key) for key, n in Counter(words).items()]
    for weight, found in sizes[1:]:
        entries.extend(
            (-weight * (n + 2 * in_title.get(key, 0)), key)
            for key, n in Counter(found).items()
            if n >= 2 or key in in_title
        )
    heapify(entries)
    while entries:
        yield heappop(entries)[1]


def _ranked_phrases_slowly(sizes, titled: list[int]) -> list[str]:
    """:func:`ranked_phrases` where a phrase of one size may equal one of another."""
    counts: Counter[str] = Counter()
    scores: dict[str, float] = {}
    in_title: set[str] = set()
    for (weight, found), n in zip(sizes, titled, strict=True):
        for i, key in enumerate(found):
            counts[key] += 1
            if i < n:
                in_title.add(key)
                scores[key] = scores.get(key, 0.0) + 3.0 * weight
            else:
                scores[key] = scores.get(key, 0.0) + weight
    kept = [
        (-score, key)
        for key, score in scores.items()
        if " " not in key or counts[key] >= 2 or key in in_title
    ]
    return [key for _, key in sorted(kept)]
