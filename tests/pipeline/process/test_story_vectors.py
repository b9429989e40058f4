"""The sparse-vector helpers the clusterer cuts story vectors with."""

from __future__ import annotations

import math
import random

from pipeline.process.stories.vectors import DIGITS, add, heaviest, rounded, top, unit


def _reference(vec: dict[str, float], limit: int) -> list[tuple[str, float]]:
    return sorted(vec.items(), key=lambda kw: (-kw[1], kw[0]))[:limit]


def test_top_keeps_the_heaviest_keys_heaviest_first_ties_by_key() -> None:
    rng = random.Random(5)
    for size in (0, 1, 9, 10, 11, 40, 400):
        # few distinct weights: many ties, also at the cut
        vec = {f"k{rng.randrange(10_000)}": rng.choice((0.1, 0.2, 0.25, 0.5)) for _ in range(size)}
        for limit in (1, 10, 150):
            cut = top(vec, limit)
            if len(vec) <= limit:
                assert list(cut.items()) == list(vec.items())  # untouched, in its own order
            else:
                assert list(cut.items()) == _reference(vec, limit)
            assert heaviest(vec, limit) == _reference(vec, limit)


def _edges(rng: random.Random) -> list[float]:
    """Weights as the clusterer makes them, and values at and next to every edge of
    :func:`rounded`: halves of a millionth, a few units in the last place either side,
    zero, tiny and large values, negatives."""
    values = [0.0, -0.0, 5e-324, 1e-300, 5e-7, 1.5e-6, 2.5e-6, 1.0, 2.0**36 / 1e6, 1e9]
    values += [rng.random() / rng.choice((1, 3, 7, 100, 10_000)) for _ in range(20_000)]
    values += [rng.random() * rng.choice((10, 1000, 60_000)) for _ in range(5_000)]
    for k in range(0, 1_000_000, 997):
        half = (k + 0.5) / 1e6
        values += [half, math.nextafter(half, 0), math.nextafter(half, 1), -half]
        values += [k / 1e6, math.nextafter(k / 1e6, 1)]
    return values


def test_rounded_is_round_to_six_places_to_the_bit() -> None:
    for x in _edges(random.Random(11)):
        got, want = rounded(x), round(x, DIGITS)
        assert got == want and math.copysign(1, got) == math.copysign(1, want), x


def test_unit_and_add_give_the_weights_of_plain_rounding() -> None:
    """The stored state depends on every bit of these weights: they must be what
    ``round(w, DIGITS)`` gave before the faster rounding."""
    rng = random.Random(12)
    for _ in range(300):
        vec = {f"k{i}": rng.random() * rng.choice((1, 5, 0.001)) for i in range(rng.randrange(40))}
        norm = math.sqrt(math.fsum(w * w for w in vec.values()))
        want = {k: round(w / norm, DIGITS) for k, w in vec.items()} if norm > 0 else {}
        assert list(unit(vec).items()) == list(want.items())
        a, b = unit(vec), unit({f"k{rng.randrange(60)}": rng.random() for _ in range(30)})
        summed = dict(a)
        for k, w in b.items():
            summed[k] = round(summed.get(k, 0.0) + w, DIGITS)
        assert list(add(a, b).items()) == list(summed.items())
