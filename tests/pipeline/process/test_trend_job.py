"""Tests for the trend job's grouping of a week's articles per scope."""

from __future__ import annotations

from pipeline.process.trend_job import ALL, _by_scope


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
