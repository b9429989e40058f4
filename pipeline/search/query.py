"""The search box's syntax, parsed leniently: whatever is typed gives a query.

What people type::

    woning huur            both words (each also in its inflected forms: woningen)
    "nieuwe woningen"      the exact phrase
    woning OR huis         either (OR, or |, binds tighter than the space:
                           ``woning OR huis prijs`` is (woning or huis) and prijs)
    woning -huur           woning, and not huur (nor its inflected forms)
    woning*                words that start with "woning" (three letters at least)

Anything else is read as words: punctuation separates words (``covid-19`` is the
phrase "covid 19", as the index splits it), parentheses and ``AND`` are ignored, an
unclosed quote runs to the end, a dangling ``OR`` or ``-`` is dropped, and a query with
only exclusions or no word at all is empty (:attr:`SearchQuery.empty`). Beyond
:data:`MAX_TERMS` words and phrases the rest is left out (:attr:`SearchQuery.dropped`).
Nothing typed ever reaches the index's query language raw: the store quotes every word
(:func:`pipeline.store.search.match_expression`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pipeline.process.watchlists.matching import fold

MAX_CHARS = 500  # of the typed query; the rest is ignored
MAX_TERMS = 12  # words and phrases to find
MAX_EXCLUDED = 8  # words and phrases to leave out
MAX_PHRASE_WORDS = 12
MIN_PREFIX = 3  # characters before a "*": "a*" would be every article

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTES = '"“”„'
_SPECIAL = set(_QUOTES) | {"(", ")", "|"}


@dataclass(frozen=True)
class Term:
    """A word (``words`` has one) or a phrase (several), as typed."""

    words: tuple[str, ...]
    prefix: bool = False  # ``word*``: every word that starts with it
    lemmas: frozenset[str] = frozenset()  # a single word's lemmas (with_lemmas), folded

    @property
    def phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold(w) for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(self.words) + ("*" if self.prefix else "")


@dataclass(frozen=True)
class SearchQuery:
    """Every group must match (one of its terms, or: any), none of ``excluded`` may."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    dropped: int = 0  # terms left out over MAX_TERMS / MAX_EXCLUDED

    @property
    def empty(self) -> bool:
        """Nothing to look for: no word, or only words to leave out."""
        return not self.groups

    @property
    def terms(self) -> tuple[Term, ...]:
        """The terms to find (not the excluded ones), in order."""
        return tuple(t for group in self.groups for t in group)


@dataclass(frozen=True)
class _Item:
    kind: str  # "term" or "or"
    term: Term | None = None
    negated: bool = False


def _term(raw: str, *, quoted: bool) -> Term | None:
    words = tuple(_WORD.findall(raw))[:MAX_PHRASE_WORDS]
    if not words:
        return None
    prefix = not quoted and len(words) == 1 and raw.endswith("*") and len(words[0]) >= MIN_PREFIX
    return Term(words, prefix=prefix)


def _items(text: str) -> list[_Item]:
    items: list[_Item] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        negated = False
        if c == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
            c = text[i]
        if c.isspace() or c in "()":
            i += 1
        elif c in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _QUOTES), n)
            term = _term(text[i + 1 : end], quoted=True)
            if term is not None:
                items.append(_Item("term", term, negated))
            i = end + 1
        elif c == "|":
            items.append(_Item("or"))
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            raw = text[i:end]
            if raw == "OR" and not negated:
                items.append(_Item("or"))
            elif raw != "AND" or negated:
                term = _term(raw, quoted=False)
                if term is not None:
                    items.append(_Item("term", term, negated))
            i = end
    return items


def parse(text: str) -> SearchQuery:
    """The query in ``text`` (pure, total: never an error; see the module docstring)."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    seen: set[tuple[tuple[str, ...], bool]] = set()
    dropped = 0
    joining = False  # the last item was "OR" right after a term to find
    last_found = False  # the last item was a term to find
    for item in _items(text[:MAX_CHARS]):
        if item.kind == "or":
            joining = last_found
            continue
        term = item.term
        assert term is not None
        key = (term.folded, term.prefix)
        if item.negated:
            if key not in seen and len(excluded) < MAX_EXCLUDED:
                excluded.append(term)
            elif key not in seen:
                dropped += 1
            seen.add(key)
            joining = last_found = False
            continue
        if key in seen:
            joining, last_found = False, True
            continue
        seen.add(key)
        if sum(map(len, groups)) >= MAX_TERMS:
            dropped += 1
        elif joining and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining, last_found = False, True
    found = {(t.folded, t.prefix) for g in groups for t in g}
    # a word both to find and to leave out: leaving it out would find nothing
    kept = tuple(t for t in excluded if (t.folded, t.prefix) not in found)
    return SearchQuery(tuple(tuple(g) for g in groups), kept, dropped)


def with_lemmas(query: SearchQuery, lemmatise: Callable[[str], Iterable[str]]) -> SearchQuery:
    """``query`` with every single word's lemmas (``lemmatise(word)``, folded) beside its
    own folded form, so the index's lemma column finds its inflected forms."""

    def add(term: Term) -> Term:
        if term.phrase or term.prefix:
            return term
        word = term.words[0]
        return replace(term, lemmas=frozenset({fold(word), *lemmatise(word)}))

    return SearchQuery(
        tuple(tuple(add(t) for t in group) for group in query.groups),
        tuple(add(t) for t in query.excluded),
        query.dropped,
    )
