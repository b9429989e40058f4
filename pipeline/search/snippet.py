"""Snippets: the part of an article's text with the most matches, the matches marked.

Pure: the text comes in, plain segments ``(text, is_match)`` go out, and the page
escapes each one before it wraps the matches in ``<mark>`` (never raw HTML from an
article). A word matches when it is a word of the query (case and diacritics
folded), starts with a ``word*`` prefix, is part of a phrase of the query standing in
the text, or has one of the query words' lemmas (``woningen`` for ``woning``: the
index found it through its lemma column; ``lemma(word)`` gives a word's lemmas in the
article's language). Only words that begin with the same two letters as some lemma
of the query are lemmatised (``banen``/``baan``), so a long text costs a few lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.process.watchlists.matching import fold
from pipeline.search.query import SearchQuery

SNIPPET_WORDS = 32  # words in a snippet
LEAD_WORDS = 4  # words shown before the first match
MAX_TEXT = 50_000  # characters of a text looked at
ELLIPSIS = "…"

_WORD = re.compile(r"\w+", re.UNICODE)

Segment = tuple[str, bool]
Lemmatise = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True)
class Highlight:
    """What counts as a match (from a query's terms to find, not the excluded ones)."""

    words: frozenset[str] = frozenset()  # folded single words
    prefixes: tuple[str, ...] = ()  # folded
    phrases: tuple[tuple[str, ...], ...] = ()  # folded words
    lemmas: frozenset[str] = frozenset()  # folded lemmas of the single words

    @classmethod
    def of(cls, query: SearchQuery) -> Highlight:
        terms = query.terms
        return cls(
            words=frozenset(t.folded[0] for t in terms if not t.phrase and not t.prefix),
            prefixes=tuple(t.folded[0] for t in terms if t.prefix),
            phrases=tuple(t.folded for t in terms if t.phrase),
            lemmas=frozenset(lemma for t in terms for lemma in t.lemmas),
        )


def _folded(word: str) -> str:
    # fold() is casefold and accents off; for ASCII, lower() is the same and cheaper
    return word.lower() if word.isascii() else fold(word)


def _hits(words: list[str], highlight: Highlight, lemma: Lemmatise | None) -> list[bool]:
    """Per word of the text: is it a match?"""
    folded = [_folded(w) for w in words]
    hits = [low in highlight.words for low in folded]
    if highlight.prefixes:
        for i, low in enumerate(folded):
            hits[i] = hits[i] or low.startswith(highlight.prefixes)
    starts = {x[:2] for x in highlight.lemmas}
    if lemma is not None and starts:
        for i, low in enumerate(folded):
            if not hits[i] and low[:2] in starts:
                hits[i] = any(x in highlight.lemmas for x in lemma(words[i]))
    for phrase in highlight.phrases:
        size = len(phrase)
        for i in range(len(folded) - size + 1):
            if folded[i] == phrase[0] and tuple(folded[i : i + size]) == phrase:
                hits[i : i + size] = [True] * size
    return hits


def _densest(hits: list[bool], size: int) -> int:
    """The first match of the earliest run of ``size`` words with the most matches (the
    first word when nothing matches)."""
    where = [i for i, hit in enumerate(hits) if hit]
    best, most, end = 0, 0, 0
    for j, start in enumerate(where):
        while end < len(where) and where[end] < start + size:
            end += 1
        if end - j > most:
            best, most = start, end - j
    return best


def _segments(text: str, spans: list[tuple[int, int, bool]], start: int, end: int) -> list[Segment]:
    """``text[start:end]`` cut at the matched words; neighbouring matches with only
    spaces between them are one segment."""
    out: list[Segment] = []
    at = start
    for s, e, hit in spans:
        if not hit:
            continue
        gap = text[at:s]
        if out and out[-1][1] and gap.isspace():
            out[-1] = (out[-1][0] + gap + text[s:e], True)
        else:
            if gap:
                out.append((gap, False))
            out.append((text[s:e], True))
        at = e
    if text[at:end]:
        out.append((text[at:end], False))
    return out


def marked(text: str, highlight: Highlight, lemma: Lemmatise | None = None) -> list[Segment]:
    """The whole ``text`` (a title) with its matches marked."""
    found = list(_WORD.finditer(text[:MAX_TEXT]))
    hits = _hits([m.group() for m in found], highlight, lemma)
    spans = [(m.start(), m.end(), hit) for m, hit in zip(found, hits, strict=True)]
    return _segments(text, spans, 0, len(text))


def snippet(
    text: str,
    highlight: Highlight,
    lemma: Lemmatise | None = None,
    size: int = SNIPPET_WORDS,
) -> list[Segment]:
    """About ``size`` words of ``text`` around its densest run of matches (the start
    when nothing matches), matches marked, with an ellipsis where text was cut."""
    text = " ".join(text[:MAX_TEXT].split())
    found = list(_WORD.finditer(text))
    if not found:
        return [(text, False)] if text else []
    hits = _hits([m.group() for m in found], highlight, lemma)
    first = _densest(hits, size)
    begin = max(0, min(first - LEAD_WORDS, len(found) - size))
    stop = min(len(found), begin + size)
    start = found[begin].start() if begin else 0
    end = found[stop - 1].end() if stop < len(found) else len(text)
    if stop < len(found):  # keep the punctuation right after the last word
        while end < len(text) and not text[end].isspace() and not text[end].isalnum():
            end += 1
    spans = [(found[i].start(), found[i].end(), hits[i]) for i in range(begin, stop)]
    out = _segments(text, spans, start, end)
    if begin:
        out.insert(0, (ELLIPSIS + " ", False))
    if stop < len(found):
        out.append((" " + ELLIPSIS, False))
    return out
