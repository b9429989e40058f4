"""Near-duplicate detection on the fixture articles: what is caught and what is not."""

from __future__ import annotations

import itertools

import pytest

from dedup_support import FIXTURES, index_of, sig, text
from pipeline.process.dedup import THRESHOLD, shingles, similarity


def exact_jaccard(a: str, b: str) -> float:
    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second)


# --- the fixtures' premise -----------------------------------------------------------


def test_fixture_copies_really_differ_and_same_topic_articles_share_the_subject() -> None:
    original, copy = text("nl_original"), text("nl_syndicated")
    assert original.splitlines()[0] != copy.splitlines()[0]  # a new headline
    assert original != copy
    for name in ("Zwolle", "Dijkhuis", "vierdaagse werkweek"):
        assert name in original and name in text("nl_same_topic")
    release, a, b = text("en_press_release"), text("en_outlet_a"), text("en_outlet_b")
    assert len({release.split("\n\n")[1], a.split("\n\n")[1], b.split("\n\n")[1]}) == 3  # intros
    assert "About Northbridge" in release and "About Northbridge" not in b
    for name in ("Northbridge", "Leeds", "Helen Ashworth", "60"):
        assert name in release and name in text("en_same_topic")


# --- what is caught and what is not --------------------------------------------------


def test_syndicated_copy_with_a_new_headline_and_edited_sentences_is_caught() -> None:
    original, copy = sig("nl_original"), sig("nl_syndicated")
    assert similarity(original, copy) >= THRESHOLD
    index = index_of("nl_original", "nl_same_topic")
    assert [article_id for article_id, _ in index.find(copy)] == [1]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("en_press_release", "en_outlet_a"),
        ("en_press_release", "en_outlet_b"),
        ("en_outlet_a", "en_outlet_b"),  # two reprints, each with its own intro
    ],
)
def test_press_release_reprinted_with_different_intros_is_caught(first: str, second: str) -> None:
    assert similarity(sig(first), sig(second)) >= THRESHOLD
    index = index_of(first, "en_same_topic")
    assert [article_id for article_id, _ in index.find(sig(second))] == [1]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("nl_original", "nl_same_topic"),
        ("nl_syndicated", "nl_same_topic"),
        ("en_press_release", "en_same_topic"),
        ("en_outlet_a", "en_same_topic"),
        ("en_outlet_b", "en_same_topic"),
    ],
)
def test_different_articles_on_the_same_topic_are_not_caught(first: str, second: str) -> None:
    assert similarity(sig(first), sig(second)) < 0.1
    assert exact_jaccard(text(first), text(second)) < 0.05
    assert index_of(first).find(sig(second)) == []


def test_all_fixtures_group_into_exactly_the_expected_duplicates() -> None:
    names = sorted(path.stem for path in FIXTURES.glob("*.txt"))
    pairs = {
        frozenset(pair)
        for pair in itertools.combinations(names, 2)
        if similarity(sig(pair[0]), sig(pair[1])) >= THRESHOLD
    }
    assert pairs == {
        frozenset({"nl_original", "nl_syndicated"}),
        frozenset({"en_press_release", "en_outlet_a"}),
        frozenset({"en_press_release", "en_outlet_b"}),
        frozenset({"en_outlet_a", "en_outlet_b"}),
    }


def test_estimate_follows_the_exact_jaccard_of_the_shingles() -> None:
    # the signature hashes the very shingles shingles() lists
    for first, second in itertools.combinations(sorted(p.stem for p in FIXTURES.glob("*.txt")), 2):
        exact = exact_jaccard(text(first), text(second))
        assert abs(similarity(sig(first), sig(second)) - exact) < 0.12, (first, second)
