"""Sparse vectors (key -> weight dicts) and the few operations the clusterer needs on them.

Weights are rounded to :data:`DIGITS` places wherever they are made or summed, so that a
dumped state reloads to the same numbers; sums of products use ``math.fsum``, whose
result does not depend on the order of the keys (which changes with the interpreter's
string hashing). Ties between equal weights are always broken by key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

DIGITS = 6  # stored weights are rounded, so a dumped state reloads to the same numbers
Vector = dict[str, float]


def tf(count: float, binary: bool) -> float:
    """The term-frequency factor of a key counted ``count`` times in an article."""
    if binary:
        return min(count, 1.0)
    return 1 + math.log(count) if count >= 1 else count


def probes(
    vectors: dict[str, Vector], limit: int, wanted: Callable[[str], bool] = lambda space: True
) -> list[tuple[str, list[tuple[str, float]]]]:
    """The heaviest ``limit`` keys of each space (by space, heaviest first), so that
    terms, whose weight is spread over many words, find candidates as well as names and
    numbers do. Only the spaces ``wanted`` says yes to (the others are not sorted)."""
    return [(space, heaviest(vectors[space], limit)) for space in sorted(vectors) if wanted(space)]


def by_weight(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def heaviest(vec: Mapping[str, float], limit: int) -> list[tuple[str, float]]:
    """``sorted(vec.items(), key=by_weight)[:limit]``, without sorting all of a long
    vector: only the keys at least as heavy as the ``limit``-th heaviest weight can be
    among them (ties at that weight are then decided by key, as in the full sort)."""
    if len(vec) <= limit:
        return sorted(vec.items(), key=by_weight)
    # sorting the floats in C costs less than heapq.nlargest's Python-level heap
    floor = sorted(vec.values(), reverse=True)[limit - 1]
    return sorted([kw for kw in vec.items() if kw[1] >= floor], key=by_weight)[:limit]


def top(vec: Mapping[str, float], limit: int) -> Vector:
    """The ``limit`` heaviest keys of ``vec``."""
    if len(vec) <= limit:
        return dict(vec)
    return dict(heaviest(vec, limit))  # the full sort's first ``limit``, in its order


def top_items(
    items: Mapping[str, Any], score: Callable[[Any], float], limit: int
) -> list[tuple[str, Any]]:
    """The ``limit`` items with the highest ``score(value)``, ties by key."""
    if len(items) <= limit:
        return list(items.items())
    return sorted(items.items(), key=lambda kv: (-score(kv[1]), kv[0]))[:limit]


def prune(counts: dict[str, int], limit: int) -> dict[str, int]:
    """Forget the rarest keys until at most ``limit // 2`` remain (halving keeps pruning
    rare). A forgotten key counts as unseen, whose IDF differs little from a key seen in a
    handful of articles; without this the table would grow with every new name and link."""
    keep = limit // 2
    floor = 1
    while sum(1 for c in counts.values() if c > floor) > keep:
        floor += 1
    return {k: c for k, c in counts.items() if c > floor}


def unit(vec: Vector) -> Vector:
    """``vec`` scaled to length 1 (empty when it has no weight)."""
    norm = math.sqrt(math.fsum(w * w for w in vec.values()))
    return {k: round(w / norm, DIGITS) for k, w in vec.items()} if norm > 0 else {}


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """fsum is exact, so the result does not depend on the order of the shared keys
    (a set, whose order changes with the interpreter's string hashing)."""
    return math.fsum([a[k] * b[k] for k in a.keys() & b.keys()])


def add(a: Mapping[str, float], b: Mapping[str, float]) -> Vector:
    """The sum of two vectors, as a new one."""
    out = dict(a)
    get = out.get
    for k, w in b.items():
        out[k] = round(get(k, 0.0) + w, DIGITS)
    return out
