"""B-cubed precision, recall and F1, with which the clusterer is scored."""

from __future__ import annotations

import pytest

from pipeline.process.stories import bcubed


def test_bcubed_of_a_perfect_clustering_is_one() -> None:
    gold = {"a": 1, "b": 1, "c": 2}
    assert bcubed({"a": "x", "b": "x", "c": "y"}, gold) == (1.0, 1.0, 1.0)


def test_bcubed_of_one_big_cluster() -> None:
    # precision per item: a 2/3, b 2/3, c 1/3; recall 1 for all
    p, r, f = bcubed({"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 1, "c": 2})
    assert (p, r) == (pytest.approx(5 / 9), 1.0)
    assert f == pytest.approx(2 * (5 / 9) / (5 / 9 + 1))


def test_bcubed_of_all_singletons() -> None:
    # recall per item: a 1/2, b 1/2, c 1
    p, r, f = bcubed({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 1, "c": 2})
    assert (p, r, f) == (1.0, pytest.approx(2 / 3), pytest.approx(0.8))


def test_bcubed_textbook_example() -> None:
    # predicted {1,2,3,4} {5,6}; gold {1,2,3} {4,5,6}
    predicted = {1: "A", 2: "A", 3: "A", 4: "A", 5: "B", 6: "B"}
    gold = {1: "x", 2: "x", 3: "x", 4: "y", 5: "y", 6: "y"}
    p, r, _ = bcubed(predicted, gold)
    assert p == pytest.approx((3 * 3 / 4 + 1 / 4 + 2 * 1) / 6)
    assert r == pytest.approx((3 * 1 + 1 / 3 + 2 * 2 / 3) / 6)


def test_bcubed_scores_only_items_with_a_gold_label() -> None:
    assert bcubed({"a": 1, "b": 1, "z": 1}, {"a": 1, "b": 1}) == (1.0, 1.0, 1.0)
    assert bcubed({"z": 1}, {"a": 1}) == (0.0, 0.0, 0.0)
