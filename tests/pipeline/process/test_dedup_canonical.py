"""Choosing the canonical copy of a group, and deciding for a newly processed article."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dedup_support import sig
from pipeline.process.dedup.canonical import (
    Candidate,
    DedupDecision,
    choose_canonical,
    duplicate_of,
)
from pipeline.process.dedup.index import NearDuplicateIndex
from pipeline.process.dedup.signatures import similarity

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# --- choosing the canonical ----------------------------------------------------------


def cand(article_id: int, hours_ago: float | None, preferred: bool = False, **kw) -> Candidate:
    published = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return Candidate(
        article_id, published, source=f"source {article_id}", preferred=preferred, **kw
    )


def test_a_preferred_source_wins_even_when_later() -> None:
    assert choose_canonical([cand(1, 10), cand(2, 1, preferred=True), cand(3, 20)]) == 2


def test_otherwise_the_earliest_published_wins() -> None:
    assert choose_canonical([cand(1, 10), cand(2, 30), cand(3, 20)]) == 2
    # among several preferred ones, again the earliest
    assert choose_canonical([cand(1, 10, True), cand(2, 30), cand(3, 20, True)]) == 3


def test_ties_go_to_the_lowest_id_and_unknown_dates_count_as_latest() -> None:
    assert choose_canonical([cand(5, 10), cand(3, 10), cand(4, 10)]) == 3
    assert choose_canonical([cand(1, None), cand(2, 1)]) == 2
    assert choose_canonical([cand(2, None), cand(1, None)]) == 1
    with pytest.raises(ValueError):
        choose_canonical([])


def test_the_choice_does_not_depend_on_the_order() -> None:
    group = [cand(4, 5), cand(2, 8), cand(7, 8), cand(3, None), cand(9, 1, preferred=True)]
    assert {choose_canonical(list(p)) for p in itertools.permutations(group)} == {9}
    group = group[:4]
    assert {choose_canonical(list(p)) for p in itertools.permutations(group)} == {2}


# --- deciding for a new article ------------------------------------------------------


class Store:
    """What the integrator keeps: article facts with their dedup links, and the index."""

    def __init__(self) -> None:
        self.articles: dict[int, Candidate] = {}
        self.index = NearDuplicateIndex()

    def lookup(self, article_id: int) -> Candidate:
        return self.articles[article_id]

    def process(self, new: Candidate, name: str, **kw) -> DedupDecision:
        values = sig(name)
        decision = duplicate_of(new, values, self.index, self.lookup, **kw)
        if decision.replaces is not None:
            for other in list(self.articles.values()):
                if other.article_id == decision.replaces or other.duplicate_of == decision.replaces:
                    self.articles[other.article_id] = _with_link(other, new.article_id)
        self.articles[new.article_id] = _with_link(new, decision.duplicate_of)
        self.index.add(new.article_id, values)
        return decision

    def shown(self) -> set[int]:
        """The articles a digest shows: the canonical ones."""
        return {a.article_id for a in self.articles.values() if a.duplicate_of is None}


def _with_link(info: Candidate, link: int | None) -> Candidate:
    return Candidate(info.article_id, info.published, info.source, info.preferred, link)


def test_a_new_copy_points_at_the_existing_article() -> None:
    store = Store()
    assert store.process(cand(1, 10), "nl_original") == DedupDecision()
    decision = store.process(cand(2, 5), "nl_syndicated")
    assert decision.duplicate_of == 1 and decision.replaces is None
    assert decision.similarity == similarity(sig("nl_original"), sig("nl_syndicated"))
    assert store.process(cand(3, 4), "nl_same_topic") == DedupDecision()
    assert store.shown() == {1, 3}


def test_chains_stay_flat() -> None:
    store = Store()
    store.process(cand(1, 10), "en_press_release")
    assert store.process(cand(2, 8), "en_outlet_a").duplicate_of == 1
    # article 1 left the window: the next copy's only match is 2, itself a duplicate of 1
    store.index.remove(1)
    assert store.process(cand(3, 6), "en_outlet_b").duplicate_of == 1


def test_a_copy_from_a_preferred_source_takes_over() -> None:
    store = Store()
    store.process(cand(1, 10), "en_outlet_a")
    store.process(cand(2, 9), "en_outlet_b")
    decision = store.process(cand(3, 2, preferred=True), "en_press_release")
    assert decision == DedupDecision(
        replaces=1, similarity=similarity(sig("en_press_release"), sig("en_outlet_a"))
    )
    assert store.shown() == {3}
    assert {a.duplicate_of for a in store.articles.values()} == {3, None}


def test_an_earlier_original_polled_later_takes_over() -> None:
    store = Store()
    store.process(cand(1, 2), "nl_syndicated")  # the syndicator's feed was polled first
    decision = store.process(cand(2, 6), "nl_original")
    assert decision.replaces == 1 and decision.duplicate_of is None
    assert store.shown() == {2}


def test_the_outcome_does_not_depend_on_the_arrival_order() -> None:
    arrivals = [
        (cand(1, 30), "en_outlet_a"),
        (cand(2, 31), "en_press_release"),
        (cand(3, 20), "en_outlet_b"),
        (cand(4, 25), "en_same_topic"),
    ]
    outcomes = set()
    for order in itertools.permutations(arrivals):
        store = Store()
        for new, name in order:
            store.process(new, name)
        outcomes.add(frozenset((a.article_id, a.duplicate_of) for a in store.articles.values()))
    assert outcomes == {frozenset({(1, 2), (2, None), (3, 2), (4, None)})}


def test_running_it_again_is_consistent() -> None:
    store = Store()
    store.process(cand(1, 10), "nl_original")
    store.process(cand(2, 5), "nl_syndicated")
    values = sig("nl_original")
    # the canonical: its own entry is skipped, and its duplicates point at it
    assert duplicate_of(store.articles[1], values, store.index, store.lookup) == DedupDecision(
        similarity=similarity(values, sig("nl_syndicated"))
    )
    # the duplicate: the same answer as the first time
    again = duplicate_of(store.articles[2], sig("nl_syndicated"), store.index, store.lookup)
    assert again.duplicate_of == 1 and again.replaces is None


def test_max_gap_keeps_recurring_articles_apart() -> None:
    store = Store()
    store.process(cand(1, 24 * 8), "nl_original")
    assert store.process(cand(2, 0), "nl_syndicated", max_gap=timedelta(days=3)) == DedupDecision()
    assert store.process(cand(3, 24 * 7), "nl_syndicated", max_gap=timedelta(days=3)) == (
        DedupDecision(
            duplicate_of=1, similarity=similarity(sig("nl_original"), sig("nl_syndicated"))
        )
    )
    # an unknown date is never too far
    assert store.process(cand(4, None), "nl_original", max_gap=timedelta(hours=1)).duplicate_of == 1


def _at(article_id: int, published: datetime) -> Candidate:
    return Candidate(article_id, published, source=f"source {article_id}", preferred=False)


def test_max_gap_is_inclusive_to_the_microsecond() -> None:
    gap = timedelta(days=3)
    copy = DedupDecision(
        duplicate_of=1, similarity=similarity(sig("nl_original"), sig("nl_syndicated"))
    )
    takeover = DedupDecision(replaces=1, similarity=copy.similarity)
    for apart, later, earlier in (
        (gap, copy, takeover),  # exactly max_gap apart: still compared
        (gap + timedelta(microseconds=1), DedupDecision(), DedupDecision()),  # too far
    ):
        # the copy published after the existing article, then before it (an original
        # polled late takes over)
        for published, expected in ((NOW + apart, later), (NOW - apart, earlier)):
            store = Store()
            store.process(_at(1, NOW), "nl_original")
            got = store.process(_at(2, published), "nl_syndicated", max_gap=gap)
            assert got == expected, (apart, published)
