"""The sparse-vector helpers the clusterer cuts story vectors with."""

from __future__ import annotations

import random

from pipeline.process.stories.vectors import heaviest, top


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
