"""``trendwatch_lemmas``: a lower-cased lemma for every word, from the pipeline's own
lemmatizer, the spacy-lookups-data table (packed into arrays: :class:`LemmaTable`) or
simplemma, whichever first gives one."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from itertools import compress, repeat
from operator import is_

import numpy as np
import simplemma
from spacy.attrs import LEMMA
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from pipeline.process.analysis.components.lexical import lexical

SIMPLEMMA_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
LOOKUP_LANGS = frozenset({"nl", "en", "de", "fr", "es", "it", "pt", "da", "sv", "nb"})
_CACHE_SIZE = 200_000  # word forms remembered per pipeline, then forgotten all at once


def _simplemma(word: str, lang: str) -> str:
    # not cached here: LemmaFiller caches its lemmas, simplemma caches its own
    return simplemma.lemmatize(word, lang=lang).lower()


@Language.factory("trendwatch_lemmas", default_config={"lookups": True})
def make_lemmas(nlp: Language, name: str, lookups: bool) -> LemmaFiller:
    return LemmaFiller(nlp.lang, lookups)


class LemmaFiller:
    """Lower-cased lemmas for every word.

    A lemma the pipeline already set (a trained lemmatizer) is kept. Otherwise the
    lookup table of spacy-lookups-data decides (the table spaCy's lookup lemmatizer
    uses, read here once per word form instead of once per token), and where it has no
    entry or leaves the word unchanged, simplemma (nlp-notes: the Dutch table misses
    ``werkgevers``, ``banen``, ``kinderen``...). Works on attribute arrays: a 400-word
    article costs one C-level pass of dictionary lookups by word hash, and Python work
    only for the word forms this process has not seen yet.
    """

    def __init__(self, lang: str, lookups: bool = True) -> None:
        self.lang = lang if lang in SIMPLEMMA_LANGS else ""
        self.table = lookup_table(lang) if lookups and lang in LOOKUP_LANGS else None
        # word form (ORTH hash) -> lemma hash, where the pipeline set no lemma (blank
        # pipelines: every word); (ORTH, LEMMA) -> lemma hash where it set one
        self.cache: dict[int, int] = {}
        self.pair_cache: dict[tuple[int, int], int] = {}

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        lex = lexical(doc)
        at = np.flatnonzero(lex.alpha)  # the words: only they get a lemma here
        if not at.size:
            return doc
        out = doc.to_array(LEMMA)
        orth, low, lem = lex.orth[at], lex.lower[at], out[at]
        keys: list
        cache: dict
        if lem.any():  # a lemmatizer ran before: its lemma is part of the key
            keys, cache = list(zip(orth.tolist(), lem.tolist(), strict=True)), self.pair_cache
        else:
            keys, cache = orth.tolist(), self.cache
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        # one C-level pass of dictionary lookups; Python only for the forms not seen yet
        found = list(map(cache.get, keys))
        if None in found:
            self._fill(doc.vocab.strings, found, keys, cache, orth, low, lem)
        out[at] = np.array(found, dtype=np.uint64)
        doc.from_array([LEMMA], out.reshape(-1, 1))
        return doc

    def _fill(self, strings, found: list, keys: list, cache: dict, orth, low, lem) -> None:
        """Fill in the lemma hashes ``found`` lacks (None): the forms not seen yet, whose
        lemmas go into ``cache``. The lookup table is read for all of them at once (by
        the forms' and their lower cases' hashes: the table's keys)."""
        missing = list(compress(range(len(found)), map(is_, found, repeat(None))))
        tabled: dict[int, str | None] = {}
        if self.table is not None:
            wanted = np.unique(np.concatenate((orth[missing], low[missing])))
            tabled = dict(zip(wanted.tolist(), self.table.get_many(wanted), strict=True))
        for j in missing:
            key = keys[j]
            new = cache.get(key)
            if new is None:
                form, lower = int(orth[j]), int(low[j])
                text, low_text = strings[form], strings[lower]
                current = strings[int(lem[j])]
                table = (tabled.get(form), tabled.get(lower))
                new = cache[key] = strings.add(self._lemma(text, low_text, current, table))
            found[j] = new

    def _lemma(
        self,
        text: str,
        low: str,
        current: str,
        table: tuple[str | None, str | None] | None = None,
    ) -> str:
        """The lemma of ``text`` (lower case ``low``), whose lemma is ``current`` so
        far; ``table`` is what the lookup table gives for ``text`` and for ``low``,
        when it was read already."""
        current = current.lower()
        if (not current or current == low) and self.table is not None:
            if table is None:
                table = (self.table.get(text), self.table.get(low))
            current = str(table[0] or table[1] or "").lower()
        if self.lang and (not current or current == low):
            current = _simplemma(low, self.lang)
        # the same first-letter guard as the matcher: "AI" must not become "be"
        return current if current[:1] == low[:1] else low


@lru_cache(maxsize=16)
def lookup_table(lang: str) -> LemmaTable | None:
    """The spacy-lookups-data lemma table of ``lang``, packed; None when it has none.
    Packed once per installed spacy-lookups-data, then read from the cache
    (:mod:`~pipeline.process.analysis.datacache`)."""
    from spacy.lookups import load_lookups

    from pipeline.process.analysis.datacache import cached_arrays

    def build() -> dict[str, np.ndarray]:
        return LemmaTable(load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")).arrays()

    try:
        arrays = cached_arrays(f"lemma-lookup-{lang}", "spacy-lookups-data", build)
    except (ValueError, KeyError):  # no table for this language
        return None
    return LemmaTable.from_arrays(arrays)


class LemmaTable:
    """A spacy-lookups-data lemma table (word -> lemma) packed into arrays.

    spaCy's ``Table`` is an ordered dictionary of Python objects: the Dutch one takes
    about 70 MB for 213,000 words. Here it takes about 5: the words' hashes, sorted, and
    for each one its lemma's place in one string of all distinct lemmas. :meth:`get`
    answers as ``Table.get`` does, with a binary search instead of a hash lookup, and
    reading it writes to no shared memory page (a dictionary's values have reference
    counts to update), so worker processes keep sharing it with their forkserver.
    """

    __slots__ = ("_hashes", "_lemma", "_starts", "_text")

    def __init__(self, table: Mapping[int, str]) -> None:
        lemmas: dict[str, int] = {}
        which = [lemmas.setdefault(str(v), len(lemmas)) for v in table.values()]
        hashes = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
        order = np.argsort(hashes)
        self._hashes = hashes[order]
        self._lemma = np.array(which, dtype=np.int32)[order]
        lengths = np.fromiter(map(len, lemmas), dtype=np.int64, count=len(lemmas))
        self._starts = np.concatenate(([0], np.cumsum(lengths)))
        self._text = "".join(lemmas)

    def arrays(self) -> dict[str, np.ndarray]:
        """The packed table as plain arrays (the lemmas' text as UTF-32 code points,
        so :attr:`_starts` stay character offsets): :meth:`from_arrays` restores it."""
        text = np.frombuffer(self._text.encode("utf-32-le"), dtype=np.uint32)
        return {"hashes": self._hashes, "lemma": self._lemma, "starts": self._starts, "text": text}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> LemmaTable:
        table = cls.__new__(cls)
        table._hashes = arrays["hashes"].astype(np.uint64, copy=False)
        table._lemma = arrays["lemma"].astype(np.int32, copy=False)
        table._starts = arrays["starts"].astype(np.int64, copy=False)
        table._text = arrays["text"].astype("<u4", copy=False).tobytes().decode("utf-32-le")
        return table

    def __len__(self) -> int:
        return len(self._hashes)

    def get_many(self, hashes: np.ndarray) -> list[str | None]:
        """The lemma of each of ``hashes`` (words' hashes), else None: :meth:`get` for
        many at once, with one binary search over all of them."""
        at = self._hashes.searchsorted(hashes.astype(np.uint64, copy=False))
        at[at == len(self._hashes)] = 0  # past the end: compared with an entry it cannot equal
        hit = self._hashes[at] == hashes
        lemmas = self._lemma[at].tolist()
        starts, text = self._starts, self._text
        return [
            text[int(starts[n]) : int(starts[n + 1])] if ok else None
            for n, ok in zip(lemmas, hit.tolist(), strict=True)
        ]

    def get(self, key: str | int, default: str | None = None) -> str | None:
        """The lemma of ``key`` (a word, or its hash), else ``default``."""
        h = get_string_id(key)
        i = int(self._hashes.searchsorted(np.uint64(h)))
        if i == len(self._hashes) or int(self._hashes[i]) != h:
            return default
        n = int(self._lemma[i])
        return self._text[int(self._starts[n]) : int(self._starts[n + 1])]
