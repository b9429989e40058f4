"""Sparse vectors (key -> weight dicts) and the few operations the clusterer needs on them.

Weights are rounded to :data:`DIGITS` places wherever they are made or summed, so that a
dumped state reloads to the same numbers; sums of products use ``math.fsum``, whose
result does not depend on the order of the keys (which changes with the interpreter's
string hashing). Ties between equal weights are always broken by key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
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


_KEY = itemgetter(0)
_WEIGHT = itemgetter(1)


def by_weight_sorted(items: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """``items`` heaviest first, ties by key: ``sorted(items, key=lambda kw: (-kw[1],
    kw[0]))``, by two sorts that compare in C instead of calling a Python key function
    for every item: by key, then by weight (stable, so ties stay in key order). Keys
    are unique."""
    out = sorted(items, key=_KEY)
    out.sort(key=_WEIGHT, reverse=True)  # reverse=True keeps equal weights in order
    return out


def heaviest(vec: Mapping[str, float], limit: int) -> list[tuple[str, float]]:
    """``by_weight_sorted(vec.items())[:limit]``, without sorting all of a long
    vector: only the keys at least as heavy as the ``limit``-th heaviest weight can be
    among them (ties at that weight are then decided by key, as in the full sort)."""
    if len(vec) <= limit:
        return by_weight_sorted(vec.items())
    # sorting the floats in C costs less than heapq.nlargest's Python-level heap
    floor = sorted(vec.values(), reverse=True)[limit - 1]
    return by_weight_sorted([kw for kw in vec.items() if kw[1] >= floor])[:limit]


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


# round(x, DIGITS) goes through a decimal string (about 0.4 µs). For the weights here,
# the same float comes from rounding x scaled to millionths to a whole number, unless
# the scaled value lies near a half (the float product may have rounded across it), is
# not positive (-0.0 keeps its sign) or is too large for the product's error to stay
# within _HALF's margin: those take round(). The whole number of millionths divided by
# 10**DIGITS is the float nearest to that decimal, which is what round() returns
# (tests/pipeline/process/test_story_vectors.py compares the two at every kind of edge).
_SCALE = float(10**DIGITS)
_HALF = 0.4999  # |scaled - whole| below this: the product cannot have crossed a half
_BIG = 2.0**36  # scaled values below this are exact to far better than _HALF's margin


def rounded(x: float) -> float:
    """``round(x, DIGITS)``, the very same float, faster (see :data:`_HALF`)."""
    n = round(y := x * _SCALE)
    if -_HALF < y - n < _HALF and 0.0 < y < _BIG:
        return n / _SCALE
    return round(x, DIGITS)


def unit(vec: Vector) -> Vector:
    """``vec`` scaled to length 1 (empty when it has no weight), weights rounded to
    :data:`DIGITS` places (:func:`rounded`, inlined: this runs for every key of every
    article)."""
    norm = math.sqrt(math.fsum(w * w for w in vec.values()))
    if not norm > 0:
        return {}
    scale, half, big = _SCALE, _HALF, _BIG
    return {
        k: (
            n / scale
            if -half < (y := (x := w / norm) * scale) - (n := round(y)) < half and 0.0 < y < big
            else round(x, DIGITS)
        )
        for k, w in vec.items()
    }


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """fsum is exact, so the result does not depend on the order of the shared keys
    (a set, whose order changes with the interpreter's string hashing)."""
    return math.fsum([a[k] * b[k] for k in a.keys() & b.keys()])


def add(a: Mapping[str, float], b: Mapping[str, float]) -> Vector:
    """The sum of two vectors, as a new one (keys of ``a``, then the new ones of ``b``).
    Weights are rounded to :data:`DIGITS` places, as every weight of the clusterer's
    vectors already is: a key of ``b`` alone keeps its weight as it is (rounding it
    again would give the same float)."""
    out = dict(a)
    get = out.get
    for k, w in b.items():
        old = get(k)
        out[k] = w if old is None else rounded(old + w)
    return out
