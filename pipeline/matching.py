"""Matching articles against watchlist queries, with the reason why.

Pure functions. Text is compared word by word, ignoring case and diacritics, and
lemma-aware (simplemma, in the article's language): ``medewerker`` matches
``medewerkers``, ``manager`` matches ``managers``, and a phrase matches its inflected
forms. Every match says which terms matched (as they stand in the text), where (title
or body) and a snippet around the first hit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

import simplemma

from pipeline.query import And, Lang, Node, Not, Or, Site, Term, parse_query

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
LEMMA_LANGS = frozenset({"nl", "en", "de", "fr"})


def lower(word: str) -> str:
    """Lower case with one kind of apostrophe (``KPN’s`` → ``kpn's``), accents kept."""
    return word.casefold().replace("’", "'")


@lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """Case- and diacritics-insensitive form: ``Één`` → ``een``."""
    decomposed = unicodedata.normalize("NFKD", lower(word))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=100_000)
def _keys(word: str, lang: str) -> tuple[str, str]:
    """A word as it stands -> (folded form, lemma): one cache lookup per token."""
    return fold(word), lemma(lower(word), lang)


@lru_cache(maxsize=100_000)
def lemma(word: str, lang: str) -> str:
    """The word's lemma in ``lang``, or the word itself.

    A lemma that does not start with the word's first letter is refused: suppletive
    forms are rare in watchlists, while a short word or acronym mistaken for one
    (English ``AI`` → ``be``) would make ``AI`` match every ``is`` and ``was``.
    """
    folded = fold(word)
    if lang not in LEMMA_LANGS:
        return folded
    # lemmatise with accents on: the dictionaries know "technologieën", not "technologieen"
    found = fold(simplemma.lemmatize(lower(word), lang=lang))
    return found if found[:1] == folded[:1] else folded


class Token(NamedTuple):  # a tuple: cheap to create, ~400 per article
    folded: str
    lemma: str
    start: int
    end: int


@dataclass(frozen=True)
class Field:
    text: str
    tokens: tuple[Token, ...]
    # folded form or lemma -> positions of the tokens that have it: a term is looked up,
    # not searched for, so matching 50 watchlists costs little more than matching one
    positions: dict[str, tuple[int, ...]]


def analyse(text: str, lang: str) -> Field:
    tokens = []
    positions: dict[str, list[int]] = {}
    for i, m in enumerate(_WORD.finditer(text)):
        folded, lem = _keys(m.group(0), lang)
        tokens.append(Token(folded, lem, m.start(), m.end()))
        positions.setdefault(folded, []).append(i)
        if lem != folded:
            positions.setdefault(lem, []).append(i)
    return Field(text, tuple(tokens), {k: tuple(v) for k, v in positions.items()})


@dataclass(frozen=True)
class MatchDoc:
    """An article prepared for matching against many queries."""

    title: Field
    body: Field
    domain: str
    language: str

    @classmethod
    def build(cls, title: str, body: str, url: str | None, language: str | None) -> MatchDoc:
        lang = (language or "").lower()
        host = (urlsplit(url).hostname or "") if url else ""
        return cls(analyse(title, lang), analyse(body, lang), host.lower(), lang)


@dataclass
class Explanation:
    terms: list[str] = field(default_factory=list)  # matched words as they stand in the text
    location: str = ""  # "title", "body" or "title+body"
    snippet: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"terms": self.terms, "location": self.location, "snippet": self.snippet}


@dataclass
class _Hit:
    term: str  # the query term that hit
    field: str  # "title" | "body"
    start: int
    end: int
    surface: str


class CompiledQuery:
    """A parsed query, ready to match many documents."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tree = parse_query(query)

    def match(self, doc: MatchDoc) -> Explanation | None:
        hits: list[_Hit] = []
        if not _eval(self.tree, doc, hits):
            return None
        return _explain(doc, hits)


def _eval(node: Node, doc: MatchDoc, hits: list[_Hit]) -> bool:
    if isinstance(node, Term):
        found = _find(node, doc)
        hits.extend(found)
        return bool(found)
    if isinstance(node, And | Or):
        # each branch collects its own hits; only branches that held explain the match
        results = []
        for n in node.nodes:
            own: list[_Hit] = []
            ok = _eval(n, doc, own)
            results.append(ok)
            if ok:
                hits.extend(own)
            elif isinstance(node, And):
                return False
        return any(results)
    if isinstance(node, Not):
        return not _eval(node.node, doc, [])
    if isinstance(node, Site):
        return doc.domain == node.domain or doc.domain.endswith("." + node.domain)
    if isinstance(node, Lang):
        return doc.language == node.code
    raise TypeError(node)


def _term_keys(word: str, lang: str) -> tuple[str, str]:
    return fold(word), lemma(lower(word), lang)


def _token_matches(tok: Token, keys: tuple[str, str]) -> bool:
    folded, lem = keys
    return tok.folded == folded or tok.lemma == lem or tok.lemma == folded or tok.folded == lem


@lru_cache(maxsize=50_000)
def _keys_for(words: tuple[str, ...], lang: str) -> tuple[tuple[str, str], ...]:
    return tuple(_term_keys(w, lang) for w in words)


def _find(term: Term, doc: MatchDoc) -> list[_Hit]:
    keys = _keys_for(term.words, doc.language)
    fields = (
        (("title", doc.title),) if term.in_title else (("title", doc.title), ("body", doc.body))
    )
    hits: list[_Hit] = []
    n = len(keys)
    folded, lem = keys[0]
    for name, fld in fields:
        starts = fld.positions.get(folded, ())
        if lem != folded:
            starts = sorted({*starts, *fld.positions.get(lem, ())})
        toks = fld.tokens
        for i in starts:
            if i + n <= len(toks) and all(
                _token_matches(toks[i + k], keys[k]) for k in range(1, n)
            ):
                start, end = toks[i].start, toks[i + n - 1].end
                hits.append(_Hit(term.text, name, start, end, fld.text[start:end]))
    return hits


def _explain(doc: MatchDoc, hits: list[_Hit]) -> Explanation:
    # one word per query term, in query order: how it first stands in the text
    first: dict[str, _Hit] = {}
    for h in hits:
        best = first.get(h.term)
        if best is None or (h.field != "title", h.start) < (best.field != "title", best.start):
            first[h.term] = h
    terms = [h.surface for h in first.values()]
    places = sorted({h.field for h in hits}, key=("title", "body").index)
    body_hits = [h for h in hits if h.field == "body"]
    snippet = (
        snippet_around(doc.body.text, body_hits[0].start, body_hits[0].end) if body_hits else ""
    )
    if not snippet:
        snippet = doc.title.text
    return Explanation(terms=terms, location="+".join(places), snippet=snippet)


def snippet_around(text: str, start: int, end: int, width: int = 90) -> str:
    """About ``width`` characters either side of text[start:end], cut at word edges."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left)
        left = space + 1 if 0 <= space < start else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space > end else right
    piece = " ".join(text[left:right].split())
    return ("… " if left > 0 else "") + piece + (" …" if right < len(text) else "")
