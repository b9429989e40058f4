"""Tests for the trend job's pure parts: which weeks an update changes, and the grouping
of a week's articles per scope."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.process.trend_job import ALL, _by_scope, weeks_to_update

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday of 2026-W48


def test_an_article_of_an_earlier_week_updates_that_week_and_every_week_after_it() -> None:
    """A late article (published two weeks ago, crawled today) changes its own week's
    trends and the baseline of every week after it, up to now."""
    two_weeks_ago = datetime(2026, 11, 11, 9, tzinfo=UTC)
    assert weeks_to_update([NOW, two_weeks_ago], NOW, "Europe/Amsterdam") == [
        "2026-W46",
        "2026-W47",
        "2026-W48",
    ]
    assert weeks_to_update([NOW], NOW, "Europe/Amsterdam") == ["2026-W48"]


def test_weeks_more_than_five_back_are_history() -> None:
    long_ago = datetime(2026, 9, 1, tzinfo=UTC)
    five_back = datetime(2026, 10, 27, tzinfo=UTC)  # 2026-W44, the oldest week updated
    assert weeks_to_update([long_ago], NOW, "Europe/Amsterdam") == []
    assert weeks_to_update([long_ago, five_back], NOW, "Europe/Amsterdam") == [
        "2026-W44",
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
    ]
    assert weeks_to_update([], NOW, "Europe/Amsterdam") == []


def test_weeks_end_at_midnight_in_the_time_zone() -> None:
    """Sunday 23:30 UTC is already Monday in Amsterdam: the article belongs to the week
    of now, not to the one before."""
    sunday_late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert weeks_to_update([sunday_late], NOW, "Europe/Amsterdam") == ["2026-W48"]
    assert weeks_to_update([sunday_late], NOW, "UTC") == ["2026-W47", "2026-W48"]


def test_each_scope_gets_its_articles_in_order_once() -> None:
    docs = {
        "2026-W40": [
            {"id": 1, "watchlists": ["zorg", "werk"]},
            {"id": 2, "watchlists": []},
            {"id": 3, "watchlists": ["werk", "werk", "gone"]},  # twice, and an unknown one
        ],
        "2026-W41": [{"id": 4, "watchlists": ["zorg", ALL]}],
    }
    scoped = _by_scope(docs, ["werk", "zorg", "leeg"])
    ids = {
        week: {scope: [d["id"] for d in found] for scope, found in by.items()}
        for week, by in scoped.items()
    }
    assert ids == {
        "2026-W40": {ALL: [1, 2, 3], "werk": [1, 3], "zorg": [1], "leeg": []},
        "2026-W41": {ALL: [4], "werk": [], "zorg": [4], "leeg": []},
    }
    # the same as filtering every week's articles once per scope
    for week, week_docs in docs.items():
        for scope in ["werk", "zorg", "leeg"]:
            assert scoped[week][scope] == [d for d in week_docs if scope in d["watchlists"]]
    assert scoped["2026-W39"] == {ALL: [], "werk": [], "zorg": [], "leeg": []}
