"""Token strings by their hash, for components that read token attributes as arrays.

spaCy's string hashes are the same in every vocab, so what is derived from a string can
be cached by its hash: :data:`folded_by_hash` holds the :func:`fold` of the lemmas and
lower-case forms the components and the feature extraction read."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from pipeline.process.watchlists.matching import fold


class _FoldedByHash(dict[int, str]):
    """String hash (spaCy's, the same in every vocab) -> the string's :func:`fold`, for
    the lemma and lower-case attributes read as arrays: a dictionary lookup per token
    instead of a string-store lookup and a cached call."""

    limit = 200_000

    def lookup(self, hashes: list[int], strings) -> list[str]:
        # one C-level pass for the hits (nearly all of them), Python only for the misses
        out = list(map(self.get, hashes))
        if None in out:
            if len(self) + len(hashes) > self.limit:
                self.clear()
            for i, h in enumerate(hashes):
                if out[i] is None:
                    found = self.get(h)
                    if found is None:
                        found = self[h] = fold.__wrapped__(strings[h])  # this is the cache
                    out[i] = found
        return out


folded_by_hash = _FoldedByHash()


def lemma_or_lower(lemmas: np.ndarray, lowers: np.ndarray) -> np.ndarray:
    """Per token, the hash of ``strings[lemma] or strings[lower]``: hash 0 is the empty
    string, the only string that is false."""
    return np.where(lemmas != 0, lemmas, lowers)


def member(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(values, table)`` for a sorted, non-empty ``table`` of hashes: a binary
    search per value (``np.isin`` compares every value with every entry of a short table,
    or sorts both together, costing several times more on an article's tokens)."""
    at = np.searchsorted(table, values)
    at[at == table.size] = 0  # past the end: compared with an entry it cannot equal
    return table[at] == values


def hashes(vocab, words: Iterable[str]) -> frozenset[int]:
    """The hashes of ``words``, added to ``vocab``'s strings."""
    return frozenset(vocab.strings.add(w) for w in words)
