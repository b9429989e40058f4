"""The clusterer's index of open stories: keys too common to scan, closed stories, and
the time buckets that keep out-of-order lookups cheap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.process.stories import ClusterConfig, StoryClusterer
from pipeline.process.stories.index import StoryIndex
from story_support import T0, article, cluster, scattered, unrelated


def test_keys_shared_by_too_many_stories_are_not_scanned() -> None:
    clusterer = StoryClusterer(ClusterConfig(max_posting=50))
    for i in range(1, 201):
        clusterer.add(unrelated(i, T0))
    scanned = clusterer.postings_scanned
    clusterer.add(article(999, T0, {"news": 1}, ()))
    assert clusterer.postings_scanned == scanned  # "news" is in 200 stories: skipped


def test_closed_stories_leave_the_index() -> None:
    clusterer = StoryClusterer()
    for i in range(1, 51):
        clusterer.add(unrelated(i, T0 + timedelta(days=i)))
    # a week's worth of daily stories stays open, older ones were closed
    assert len(clusterer.stories()) == 8
    assert len(clusterer.dump()["stories"]) == 8


def test_out_of_order_articles_find_the_same_candidates_as_a_scan_of_every_story(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = scattered(600, seed=11)
    bucketed, ours = cluster(stream)
    # the reference: every story in the one bucket that every lookup scans
    monkeypatch.setattr(StoryIndex, "bucket", lambda self, story: None)
    scanned, reference = cluster(stream)
    assert bucketed == scanned
    assert ours.dump() == reference.dump()
    assert ours.comparisons == reference.comparisons
    assert len(set(bucketed.values())) > 20  # it does cluster, and keeps events apart
    assert ours.postings_scanned == reference.postings_scanned


def test_out_of_order_lookups_skip_stories_far_away_in_time() -> None:
    clusterer = StoryClusterer()
    # a year of daily stories, newest first: the clock stays at the newest, so all stay open
    for i in range(1, 366):
        clusterer.add(unrelated(i, T0 + timedelta(days=366 - i)))
    assert len(clusterer.stories()) == 365
    probe = clusterer._singleton(unrelated(999, T0), T0, {})
    assert 0 < len(clusterer._index.near_buckets(probe)) < 10  # a few weeks of buckets, not 52
