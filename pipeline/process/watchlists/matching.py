"""Matching articles against watchlist queries, with the reason why.

Pure functions. Text is compared word by word, ignoring case and diacritics, and
lemma-aware (simplemma, in the article's language): ``medewerker`` matches
``medewerkers``, ``manager`` matches ``managers``, and a phrase matches its inflected
forms. Every match says which terms matched (as they stand in the text), where (title
or body) and a snippet around the first hit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from pipeline.process.watchlists.fields import (
    Field,
    analyse,
    fold,
    lemma,
    lower,
    snippet_around,
    word_keys,
)
from pipeline.process.watchlists.query import And, Lang, Node, Not, Or, Site, Term, parse_query

__all__ = [
    "CompiledQuery",
    "Explanation",
    "Field",
    "MatchDoc",
    "analyse",
    "fold",
    "lemma",
    "lower",
    "snippet_around",
    "word_keys",
]


@dataclass(frozen=True)
class MatchDoc:
    """An article prepared for matching against many queries."""

    title: Field
    body: Field
    domain: str
    language: str

    @classmethod
    def build(
        cls,
        title: str,
        body: str,
        url: str | None,
        language: str | None,
        wanted: Callable[[str], Collection[str]] | None = None,
    ) -> MatchDoc:
        """The article prepared for matching; ``wanted(lang)``, when given, is the keys
        the queries to be matched look up (see :func:`analyse`)."""
        lang = (language or "").lower()
        host = (urlsplit(url).hostname or "") if url else ""
        keys = wanted(lang) if wanted is not None else None
        return cls(analyse(title, lang, keys), analyse(body, lang, keys), host.lower(), lang)


@dataclass
class Explanation:
    terms: list[str] = field(default_factory=list)  # matched words as they stand in the text
    location: str = ""  # "title", "body" or "title+body"
    snippet: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"terms": self.terms, "location": self.location, "snippet": self.snippet}


class _Hit(NamedTuple):  # a tuple: cheap to create
    term: str  # the query term that hit
    field: str  # "title" | "body"
    first: int  # position of its first word in the field
    last: int  # position of its last word


_Eval = Callable[["MatchDoc", list[_Hit]], bool]


class CompiledQuery:
    """A parsed query, ready to match many documents."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tree = parse_query(query)
        self._finders: list[_TermFinder] = []
        self._eval = _compile(self.tree, self._finders)

    def lookup_keys(self, lang: str) -> frozenset[str]:
        """The keys this query looks up in a document in ``lang`` (folded forms and
        lemmas of its terms' first words): all :meth:`match` reads of the positions."""
        return frozenset(k for finder in self._finders for k in finder.first_keys(lang))

    def match(self, doc: MatchDoc) -> Explanation | None:
        hits: list[_Hit] = []
        if not self._eval(doc, hits):
            return None
        return _explain(doc, hits)


def _compile(node: Node, finders: list[_TermFinder]) -> _Eval:
    """The query tree as nested closures: whether ``doc`` matches, collecting the hits
    that explain it in ``hits``. Each And/Or branch collects its own hits and only the
    branches that held explain the match; an And gives up at its first failing branch,
    an Or tries every branch."""
    if isinstance(node, Term):
        finder = _TermFinder(node)
        finders.append(finder)
        return finder.find
    if isinstance(node, And):
        branches = [_compile(n, finders) for n in node.nodes]

        def all_of(doc: MatchDoc, hits: list[_Hit]) -> bool:
            for branch in branches:
                own: list[_Hit] = []
                if not branch(doc, own):
                    return False
                hits.extend(own)
            return bool(branches)

        return all_of
    if isinstance(node, Or):
        branches = [_compile(n, finders) for n in node.nodes]

        def any_of(doc: MatchDoc, hits: list[_Hit]) -> bool:
            held = False
            for branch in branches:
                own: list[_Hit] = []
                if branch(doc, own):
                    hits.extend(own)
                    held = True
            return held

        return any_of
    if isinstance(node, Not):
        inner = _compile(node.node, finders)
        return lambda doc, hits: not inner(doc, [])
    if isinstance(node, Site):
        domain, dotted = node.domain, "." + node.domain
        return lambda doc, hits: doc.domain == domain or doc.domain.endswith(dotted)
    if isinstance(node, Lang):
        code = node.code
        return lambda doc, hits: doc.language == code
    raise TypeError(node)


def _term_keys(word: str, lang: str) -> tuple[str, str]:
    return fold(word), lemma(lower(word), lang)


def _token_matches(tok: tuple[str, str], keys: tuple[str, str]) -> bool:
    # the word's folded form or lemma is the term word's folded form or lemma
    return tok[0] in keys or tok[1] in keys


class _TermFinder:
    """Finds one query term (a word or a phrase) in a document's fields."""

    def __init__(self, term: Term) -> None:
        self.term = term
        self.text = term.text
        self.names = ("title",) if term.in_title else ("title", "body")
        self._keys: dict[str, tuple[tuple[str, str], ...]] = {}  # language -> word keys

    def _keys_in(self, lang: str) -> tuple[tuple[str, str], ...]:
        keys = self._keys.get(lang)
        if keys is None:
            keys = self._keys[lang] = tuple(_term_keys(w, lang) for w in self.term.words)
        return keys

    def first_keys(self, lang: str) -> tuple[str, ...]:
        """The keys :meth:`find` looks up in the positions (its first word's)."""
        keys = self._keys_in(lang)
        return keys[0] if keys else ()

    def find(self, doc: MatchDoc, hits: list[_Hit]) -> bool:
        """Whether the term occurs; where it first occurs in each field goes to ``hits``
        (an explanation shows the first occurrence of a term, title before body)."""
        keys = self._keys.get(doc.language) or self._keys_in(doc.language)
        n = len(keys)
        folded, lem = keys[0]
        text = self.text
        found = False
        for name in self.names:
            positions = (doc.title if name == "title" else doc.body).positions
            starts = positions.get(folded)
            more = positions.get(lem) if lem != folded else None
            if n == 1:
                if starts:
                    first = min(starts[0], more[0]) if more else starts[0]
                elif more:
                    first = more[0]
                else:
                    continue
                hits.append(_Hit(text, name, first, first))
                found = True
                continue
            fld = doc.title if name == "title" else doc.body
            if more:
                starts = sorted({*starts, *more}) if starts else more
            if not starts:
                continue
            words, key_of = fld.words, fld.key_of
            last = len(words) - n  # the last position a phrase of n words can start at
            for i in starts:  # ascending
                if i > last:
                    break
                # the words after the first, as _token_matches compares them (inlined:
                # a phrase's first word can stand hundreds of times in a body)
                for k in range(1, n):
                    tok, want = key_of[words[i + k]], keys[k]
                    if tok[0] not in want and tok[1] not in want:
                        break
                else:
                    hits.append(_Hit(text, name, i, i + n - 1))
                    found = True
                    break
        return found


def _explain(doc: MatchDoc, hits: list[_Hit]) -> Explanation:
    # one word per query term, in query order: how it first stands in the text (within a
    # field, word positions order hits as their offsets do)
    first: dict[str, _Hit] = {}
    for h in hits:
        best = first.get(h.term)
        if best is None or (h.field != "title", h.first) < (best.field != "title", best.first):
            first[h.term] = h
    terms = [_surface(doc, h) for h in first.values()]
    places = sorted({h.field for h in hits}, key=("title", "body").index)
    body_hit = next((h for h in hits if h.field == "body"), None)
    snippet = ""
    if body_hit is not None:
        snippet = doc.body.snippet(body_hit.first, body_hit.last)
    if not snippet:
        snippet = doc.title.text
    return Explanation(terms=terms, location="+".join(places), snippet=snippet)


def _surface(doc: MatchDoc, hit: _Hit) -> str:
    return (doc.title if hit.field == "title" else doc.body).quote(hit.first, hit.last)
