"""The LSH index of the dedup window: finding, removing, building, banding."""

from __future__ import annotations

import random

import pytest

from dedup_support import FIXTURES, index_of, sig
from pipeline.process.dedup.index import THRESHOLD, NearDuplicateIndex
from pipeline.process.dedup.signatures import signature, signature_to_bytes, similarity


def test_find_orders_best_first_then_by_id() -> None:
    index = NearDuplicateIndex()
    index.add(7, sig("en_outlet_b"))
    index.add(5, sig("en_outlet_a"))
    index.add(9, sig("en_outlet_a"))  # the same text twice: a tie
    index.add(3, sig("en_same_topic"))
    found = index.find(sig("en_press_release"))
    assert [article_id for article_id, _ in found] == [5, 9, 7]
    scores = [score for _, score in found]
    assert scores[0] == scores[1] > scores[2] >= THRESHOLD
    assert scores[0] == similarity(sig("en_press_release"), sig("en_outlet_a"))


def test_an_indexed_article_finds_itself() -> None:
    index = index_of("nl_original", "nl_syndicated")
    assert index.find(sig("nl_original"))[0] == (1, 1.0)


def test_the_threshold_is_the_index_setting() -> None:
    score = similarity(sig("en_outlet_a"), sig("en_outlet_b"))
    lenient, strict = NearDuplicateIndex(threshold=score), NearDuplicateIndex(threshold=0.9)
    for index in (lenient, strict):
        index.add(1, sig("en_outlet_a"))
    assert lenient.find(sig("en_outlet_b")) == [(1, score)]
    assert strict.find(sig("en_outlet_b")) == []
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=0.0)


def test_removal_slides_the_window() -> None:
    index = index_of("nl_original", "en_press_release", "en_outlet_a")
    assert len(index) == 3
    assert index.remove(1) is True
    assert 1 not in index and len(index) == 2
    assert index.find(sig("nl_syndicated")) == []
    assert index.remove(1) is False  # already gone: trimming by date needs no bookkeeping
    assert index.remove(42) is False
    # 2 and 3 are near duplicates, so they share band keys: removing 2 must keep 3 findable
    assert [a for a, _ in index.find(sig("en_outlet_b"))] == [2, 3]
    index.remove(2)
    assert [a for a, _ in index.find(sig("en_outlet_b"))] == [3]
    index.remove(3)
    assert len(index) == 0 and index.find(sig("en_outlet_b")) == []
    assert all(not table for table in index._tables)  # nothing left behind


def test_adding_an_id_again_replaces_its_signature() -> None:
    index = index_of("nl_original")
    index.add(1, sig("en_press_release"))
    assert len(index) == 1
    assert index.find(sig("nl_syndicated")) == []
    assert [a for a, _ in index.find(sig("en_outlet_a"))] == [1]


def test_build_from_stored_bytes_equals_adding_one_by_one() -> None:
    names = sorted(path.stem for path in FIXTURES.glob("*.txt"))
    rows = [(i, signature_to_bytes(sig(name))) for i, name in enumerate(names, start=10)]
    rows.append((99, signature_to_bytes(signature(""))))  # stored for a wordless article
    built = NearDuplicateIndex.build(rows)
    added = NearDuplicateIndex()
    for article_id, data in rows:
        added.add(article_id, data)
    assert len(built) == len(added) == len(names)
    assert built._tables == added._tables
    for name in names:
        assert built.find(sig(name)) == added.find(sig(name))
    assert len(NearDuplicateIndex.build([])) == 0


def test_build_keeps_the_last_signature_of_a_repeated_id() -> None:
    built = NearDuplicateIndex.build([(1, sig("nl_original")), (1, sig("en_outlet_a"))])
    assert len(built) == 1
    assert built.find(sig("nl_syndicated")) == []
    assert [a for a, _ in built.find(sig("en_outlet_b"))] == [1]


def _near_copy(words_: list[str], rng: random.Random, vocabulary: list[str]) -> list[str]:
    copy = list(words_)
    for _ in range(rng.randint(1, 5)):  # reworded passages of 12 words
        start = rng.randrange(len(copy) - 12)
        copy[start : start + 12] = rng.choices(vocabulary, k=12)
    return copy


def test_the_banding_finds_every_pair_at_or_above_the_threshold() -> None:
    """LSH only proposes candidates; it must not lose pairs the threshold accepts."""
    rng = random.Random(20260302)
    vocabulary = [f"w{i}" for i in range(3000)]
    originals = [rng.choices(vocabulary, k=150) for _ in range(300)]
    index = NearDuplicateIndex.build(
        (i, signature(" ".join(article))) for i, article in enumerate(originals)
    )
    checked = 0
    for i, article in enumerate(originals):
        copy = signature(" ".join(_near_copy(article, rng, vocabulary)))
        score = similarity(copy, signature(" ".join(article)))
        found = dict(index.find(copy))
        assert (i in found) == (score >= THRESHOLD), (i, score)
        checked += score >= THRESHOLD
    assert 100 < checked < 300  # copies on both sides of the threshold
