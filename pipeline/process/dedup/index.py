"""The dedup window's signatures, searchable by similarity: banded LSH over MinHash
signatures, each candidate then checked against the threshold."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from pipeline.process.dedup.signatures import (
    EMPTY,
    NUM_PERM,
    Signature,
    as_signature,
    is_empty,
)

THRESHOLD = 0.5  # the estimated Jaccard from which two articles are near duplicates
_RECALL_AT_THRESHOLD = 0.99  # the share of pairs exactly at the threshold the LSH proposes


def _banding(threshold: float, num_perm: int) -> int:
    """How many bands of two values the LSH tables use for ``threshold``.

    Two articles share a band with probability J² (J: their Jaccard similarity), so with
    b bands they become candidates with probability 1 - (1 - J²)^b. Bands of two values
    need the fewest tables for a given recall, and the fewest tables make the index the
    fastest to build and the smallest; the extra candidates they let through (articles
    sharing some boilerplate, say) cost one vectorised comparison each.
    """
    per_band = threshold**2
    if per_band >= 1.0:
        return 1
    if per_band <= 0.0:
        return num_perm // 2
    needed = math.ceil(math.log(1.0 - _RECALL_AT_THRESHOLD) / math.log(1.0 - per_band))
    return max(1, min(num_perm // 2, needed))


class NearDuplicateIndex:
    """The signatures of the articles in the dedup window, searchable by similarity.

    Build it at the start of a run from the stored signatures of the last N days
    (:meth:`build`), :meth:`find` each new article's near duplicates, :meth:`add` the
    article, and :meth:`remove` articles that leave the window. Articles are indexed
    whatever their dedup status (canonical or duplicate): a later copy may resemble a
    duplicate more than its canonical, and :func:`duplicate_of` follows the link.

    Band tables map a band's two values (one 64-bit int) to the article id, or to a list
    of ids when several articles share the band. Empty signatures are not indexed.
    """

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if num_perm < 2:
            raise ValueError(f"num_perm must be at least 2, got {num_perm}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = _banding(threshold, num_perm)
        # matches needed out of num_perm; the epsilon keeps 0.5 * 128 at 64, not 65
        self._needed = math.ceil(threshold * num_perm - 1e-9)
        self._tables: list[dict[int, int | list[int]]] = [{} for _ in range(self.bands)]
        self._signatures: dict[int, Signature] = {}

    @classmethod
    def build(
        cls,
        items: Iterable[tuple[int, Signature | bytes]],
        threshold: float = THRESHOLD,
        num_perm: int = NUM_PERM,
    ) -> NearDuplicateIndex:
        """An index of ``items``: (article id, signature or its stored bytes) pairs.

        Band keys are computed for all signatures at once; about 0.1 s for 20,000.
        """
        index = cls(threshold, num_perm)
        ids: list[int] = []
        rows: list[Signature] = []
        for article_id, sig in items:
            ids.append(article_id)
            rows.append(index._checked(as_signature(sig)))
        if not rows:
            return index
        matrix = np.stack(rows)
        matrix.setflags(write=False)
        keys = index._band_keys(matrix).tolist()
        nonempty = np.any(matrix != EMPTY, axis=1).tolist()
        for position, (article_id, row_keys, indexed) in enumerate(
            zip(ids, keys, nonempty, strict=True)
        ):
            if not indexed:
                continue
            if article_id in index._signatures:
                index.remove(article_id)
            index._insert(article_id, matrix[position], row_keys)
        return index

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def add(self, article_id: int, sig: Signature | bytes) -> bool:
        """Index ``article_id`` (replacing an earlier signature of it).

        Returns False, indexing nothing, for an empty signature: a text without words
        resembles every other such text and is nobody's duplicate.
        """
        values = self._checked(as_signature(sig))
        if article_id in self._signatures:
            self.remove(article_id)
        if is_empty(values):
            return False
        self._insert(article_id, values, self._band_keys(values).tolist())
        return True

    def remove(self, article_id: int) -> bool:
        """Take ``article_id`` out of the index; False when it was not in it.

        Tolerant on purpose, so the window can be trimmed by date without knowing which
        old articles were indexed (empty ones are not).
        """
        values = self._signatures.pop(article_id, None)
        if values is None:
            return False
        for table, key in zip(self._tables, self._band_keys(values).tolist(), strict=True):
            held = table[key]
            if not isinstance(held, list):
                del table[key]
                continue
            held.remove(article_id)
            if len(held) == 1:
                table[key] = held[0]
        return True

    def find(self, sig: Signature | bytes) -> list[tuple[int, float]]:
        """Indexed articles whose estimated Jaccard with ``sig`` is at least the threshold.

        ``(article id, estimated Jaccard)`` pairs, most similar first, ties by lowest id.
        An article indexed under this very signature is found too (similarity 1.0): the
        caller skips its own id.
        """
        values = self._checked(as_signature(sig))
        if is_empty(values):
            return []
        candidates: set[int] = set()
        for table, key in zip(self._tables, self._band_keys(values).tolist(), strict=True):
            held = table.get(key)
            if held is None:
                continue
            if isinstance(held, list):
                candidates.update(held)
            else:
                candidates.add(held)
        if not candidates:
            return []
        ordered = sorted(candidates)
        stacked = np.stack([self._signatures[c] for c in ordered])
        agreeing = np.count_nonzero(stacked == values, axis=1).tolist()
        found = [
            (article_id, count / self.num_perm)
            for article_id, count in zip(ordered, agreeing, strict=True)
            if count >= self._needed
        ]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found

    def _checked(self, values: Signature) -> Signature:
        if values.shape != (self.num_perm,):
            raise ValueError(
                f"expected a signature of {self.num_perm} values, got shape {values.shape}"
            )
        return values

    def _band_keys(self, values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        """Each band's two consecutive values as one 64-bit key (exact: no hashing).

        Works on one signature (gives ``bands`` keys) or a matrix of them (one row each).
        """
        width = 2 * self.bands
        pairs = np.ascontiguousarray(values[..., :width], dtype="<u4")
        return pairs.view("<u8")

    def _insert(self, article_id: int, values: Signature, keys: list[int]) -> None:
        if values.flags.writeable:  # a caller's array: changing it later must not corrupt us
            values = values.copy()
            values.setflags(write=False)
        self._signatures[article_id] = values
        for table, key in zip(self._tables, keys, strict=True):
            held = table.get(key)
            if held is None:
                table[key] = article_id
            elif isinstance(held, list):
                held.append(article_id)
            else:
                table[key] = [held, article_id]
