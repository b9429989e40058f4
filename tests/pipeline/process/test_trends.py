"""Trend statistics on constructed weeks."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.process.trends import (
    StorySize,
    Trend,
    WeekCounts,
    log_likelihood,
    new_entities,
    parse_week,
    previous_weeks,
    rising,
    story_sizes,
    week_bounds,
    week_key,
    week_start,
)

CURRENT = "2026-W48"
HISTORY_KEYS = previous_weeks(CURRENT, 4)


def g2_reference(a: int, docs: int, b: int, baseline_docs: int) -> float:
    """Dunning's G² straight from the textbook: 2·Σ O·ln(O/E) with E from the margins.

    Written independently of the module's x·ln x form, to check it.
    """
    observed = [[a, docs - a], [b, baseline_docs - b]]
    rows = [docs, baseline_docs]
    cols = [a + b, (docs - a) + (baseline_docs - b)]
    n = docs + baseline_docs
    total = 0.0
    for i in range(2):
        for j in range(2):
            o = observed[i][j]
            if o:
                total += o * math.log(o / (rows[i] * cols[j] / n))
    return 2 * total


def weeks(per_week: list[dict[str, int]], docs: int = 100) -> list[WeekCounts]:
    """History weeks, oldest last like previous_weeks(): per_week[0] is last week."""
    return [
        WeekCounts(key, docs, Counter(counts))
        for key, counts in zip(HISTORY_KEYS, per_week, strict=True)
    ]


def now(counts: dict[str, int], docs: int = 100) -> WeekCounts:
    return WeekCounts(CURRENT, docs, Counter(counts))


# --- weeks ---------------------------------------------------------------------------------


def test_week_key_uses_iso_weeks() -> None:
    assert week_key(date(2026, 11, 23)) == "2026-W48"
    assert week_key(date(2026, 1, 1)) == "2026-W01"  # a Thursday: week 1 of 2026
    assert week_key(date(2021, 1, 3)) == "2020-W53"  # a Sunday still in 2020's last week
    assert week_key(date(2026, 12, 31)) == "2026-W53"


def test_week_key_converts_to_the_time_zone_first() -> None:
    late_sunday_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Monday 00:30 in Amsterdam
    assert week_key(late_sunday_utc) == "2026-W48"
    assert week_key(late_sunday_utc, "Europe/Amsterdam") == "2026-W49"
    assert week_key(late_sunday_utc, ZoneInfo("America/New_York")) == "2026-W48"


def test_week_key_refuses_naive_datetimes_with_a_time_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        week_key(datetime(2026, 11, 29, 23, 30), "Europe/Amsterdam")


def test_previous_weeks_cross_the_year_boundary() -> None:
    assert previous_weeks("2026-W01", 4) == ["2025-W52", "2025-W51", "2025-W50", "2025-W49"]
    assert previous_weeks("2026-W03", 4) == ["2026-W02", "2026-W01", "2025-W52", "2025-W51"]


def test_previous_weeks_know_53_week_years() -> None:
    # 2020 and 2026 have 53 ISO weeks (both start on a Thursday, or Wednesday in a leap year)
    date.fromisocalendar(2020, 53, 1)
    date.fromisocalendar(2026, 53, 1)
    assert previous_weeks("2021-W01", 2) == ["2020-W53", "2020-W52"]
    assert previous_weeks("2027-W02", 3) == ["2027-W01", "2026-W53", "2026-W52"]
    assert previous_weeks("2026-W48", 0) == []


def test_parse_week_refuses_weeks_that_do_not_exist() -> None:
    assert parse_week("2026-W53") == (2026, 53)
    for bad in ("2025-W53", "2026-W00", "2026-W54", "2026-48", "2026-W4", " 2026-W48"):
        with pytest.raises(ValueError):
            parse_week(bad)


def test_week_bounds_are_local_mondays() -> None:
    start, end = week_bounds("2026-W48", "Europe/Amsterdam")
    assert week_start("2026-W48") == date(2026, 11, 23)
    assert start == datetime(2026, 11, 23, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert end == datetime(2026, 11, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert start.astimezone(UTC) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


# --- the statistic -------------------------------------------------------------------------


def test_g2_matches_a_hand_calculation() -> None:
    # 12 of 100 articles this week vs 4 of 400 before. Margins: 16 with, 484 without, 500.
    # E = 100·16/500 = 3.2, 100·484/500 = 96.8, 400·16/500 = 12.8, 400·484/500 = 387.2
    by_hand = 2 * (
        12 * math.log(12 / 3.2)
        + 88 * math.log(88 / 96.8)
        + 4 * math.log(4 / 12.8)
        + 396 * math.log(396 / 387.2)
    )
    assert by_hand == pytest.approx(23.4408, abs=1e-4)
    assert log_likelihood(12, 100, 4, 400) == pytest.approx(by_hand, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "docs", "b", "baseline_docs"),
    [
        (12, 100, 4, 400),
        (58, 100, 200, 400),
        (10, 1000, 8, 4000),
        (5, 50, 0, 200),
        (1, 3, 9, 9),
        (3, 3, 1, 9),
    ],
)
def test_g2_matches_the_reference_formula(a: int, docs: int, b: int, baseline_docs: int) -> None:
    # the module's G² is signed; the textbook one is not
    score = log_likelihood(a, docs, b, baseline_docs)
    assert abs(score) == pytest.approx(g2_reference(a, docs, b, baseline_docs), rel=1e-9)
    assert (score > 0) == (a / docs > b / baseline_docs)


def test_g2_is_signed_by_direction_and_zero_for_equal_rates() -> None:
    assert log_likelihood(2, 100, 40, 400) < 0  # fell from 10% to 2%
    assert log_likelihood(2, 100, 40, 400) == pytest.approx(-g2_reference(2, 100, 40, 400))
    assert log_likelihood(10, 100, 40, 400) == 0.0
    assert log_likelihood(100, 100, 400, 400) == 0.0  # in every article, before and now


def test_g2_without_documents_is_zero() -> None:
    assert log_likelihood(0, 0, 4, 400) == 0.0
    assert log_likelihood(3, 10, 0, 0) == 0.0
    assert log_likelihood(0, 0, 0, 0) == 0.0


# --- rising ----------------------------------------------------------------------------------


def test_a_flat_term_is_not_rising() -> None:
    history = weeks([{"werk": 10}] * 4)
    assert rising(now({"werk": 10}), history, kind="term") == []


def test_ordinary_noise_is_not_rising() -> None:
    history = weeks([{"werk": 9}, {"werk": 11}, {"werk": 10}, {"werk": 10}])
    # 13 against an expected 10: a little up, G² ≈ 0.73, far below the threshold
    assert rising(now({"werk": 13}), history, kind="term") == []


def test_a_jump_from_one_a_week_to_twelve_is_rising() -> None:
    history = weeks([{"tiktok": 1, "werk": 10}] * 4)
    [trend] = rising(now({"tiktok": 12, "werk": 10}), history, kind="term")
    assert trend.term == "tiktok"
    assert trend.kind == "term"
    assert (trend.count, trend.docs, trend.baseline, trend.baseline_docs) == (12, 100, 4, 400)
    assert trend.expected == pytest.approx(1.0)
    assert trend.ratio == pytest.approx((12 + 1) / (1 + 1))  # add-one smoothed: 6.5×
    assert trend.score == pytest.approx(g2_reference(12, 100, 4, 400))
    assert trend.score > 20
    assert trend.new is False


def test_expected_scales_with_the_number_of_documents() -> None:
    history = weeks([{"ai": 5}] * 4, docs=50)  # 10% of articles
    [trend] = rising(now({"ai": 40}, docs=200), history, kind="term")
    assert trend.expected == pytest.approx(20.0)  # 10% of 200
    assert trend.ratio == pytest.approx(41 / 21)


def test_a_rare_jump_beats_a_larger_raw_difference_when_g2_says_so() -> None:
    # 100 articles a week. "werk": 50 → 58 (+8); "ontslag": 1 → 8 (+7).
    # A raw difference would rank "werk" first; G² weighs the rates and ranks "ontslag" first.
    history = weeks([{"werk": 50, "ontslag": 1}] * 4)
    current = now({"werk": 58, "ontslag": 8})
    trends = rising(current, history, kind="term", min_score=0.0)
    expected_scores = {
        "werk": g2_reference(58, 100, 200, 400),
        "ontslag": g2_reference(8, 100, 4, 400),
    }
    assert expected_scores["ontslag"] > expected_scores["werk"]
    assert [t.term for t in trends] == ["ontslag", "werk"]
    assert {t.term: t.score for t in trends} == pytest.approx(expected_scores)
    # with the default threshold the frequent word's modest rise is not news at all
    assert [t.term for t in rising(current, history, kind="term")] == ["ontslag"]


def test_a_frequent_term_beats_a_bigger_ratio_when_g2_says_so() -> None:
    # 1000 articles a week. "werk": 300 → 400 (1.33×); "ontslag": 2 → 10 (5×, 3.7× smoothed).
    # The ratio favours "ontslag", but a third more of a very common word is far stronger
    # evidence, and G² says so.
    history = weeks([{"werk": 300, "ontslag": 2}] * 4, docs=1000)
    trends = rising(now({"werk": 400, "ontslag": 10}, docs=1000), history, kind="term")
    werk, ontslag = g2_reference(400, 1000, 1200, 4000), g2_reference(10, 1000, 8, 4000)
    assert werk > ontslag > 6.63
    assert [t.term for t in trends] == ["werk", "ontslag"]
    assert trends[0].ratio < trends[1].ratio
    assert [t.score for t in trends] == pytest.approx([werk, ontslag])


def test_a_falling_term_is_not_rising() -> None:
    history = weeks([{"corona": 40}] * 4)
    assert rising(now({"corona": 5}), history, kind="term") == []


def test_a_term_new_this_week_is_marked_new() -> None:
    history = weeks([{"werk": 10}] * 4)
    [trend] = rising(now({"werk": 10, "chatgpt": 5}), history, kind="entity")
    assert (trend.term, trend.kind, trend.new) == ("chatgpt", "entity", True)
    assert (trend.baseline, trend.expected) == (0, 0.0)
    assert trend.ratio == pytest.approx(6.0)
    assert trend.score == pytest.approx(g2_reference(5, 100, 0, 400))


def test_min_count_filters_noise() -> None:
    history = weeks([{}] * 4)
    current = now({"eenmalig": 2, "drie": 3})
    # two articles out of nowhere score G² ≈ 6.47: just under the threshold anyway
    assert [t.term for t in rising(current, history, kind="term")] == ["drie"]
    assert [t.term for t in rising(current, history, kind="term", min_score=0)] == ["drie"]
    loose = rising(current, history, kind="term", min_count=2, min_score=0)
    assert [t.term for t in loose] == ["drie", "eenmalig"]
    assert [t.term for t in rising(current, history, kind="term", min_count=4)] == []


def test_empty_history_makes_everything_new_without_a_score() -> None:
    current = now({"a": 3, "b": 7, "c": 1, "d": 3})
    for history in ([], weeks([{}] * 4, docs=0)):
        trends = rising(current, history, kind="term")
        assert [t.term for t in trends] == ["b", "a", "d"]  # by count, then term; "c" < 3
        assert all(t.new and t.score == 0.0 and t.expected == 0.0 for t in trends)
        assert trends[0].ratio == pytest.approx(8.0)


def test_a_week_without_documents_does_not_divide_by_zero() -> None:
    empty = WeekCounts(CURRENT, 0, Counter())
    assert rising(empty, weeks([{"werk": 10}] * 4), kind="term") == []
    # a quiet week in the history (feeds down) is simply pooled with the others
    history = [WeekCounts(HISTORY_KEYS[0], 0, Counter()), *weeks([{"ai": 1}] * 4)[1:]]
    [trend] = rising(now({"ai": 12}), history, kind="term")
    assert (trend.baseline, trend.baseline_docs) == (3, 300)
    assert trend.expected == pytest.approx(1.0)
    assert new_entities(empty, set()) == []


def test_ties_are_broken_by_term_whatever_the_input_order() -> None:
    history = weeks([{}] * 4)
    names = ["zeta", "alpha", "mu", "beta"]
    for order in (names, list(reversed(names))):
        current = now(dict.fromkeys(order, 6))
        assert [t.term for t in rising(current, history, kind="term")] == sorted(names)


def test_limit_keeps_the_strongest() -> None:
    history = weeks([{}] * 4)
    current = now({f"t{i:02d}": 3 + i for i in range(30)})
    trends = rising(current, history, kind="term", limit=5)
    assert [t.term for t in trends] == ["t29", "t28", "t27", "t26", "t25"]
    assert len(rising(current, history, kind="term")) == 20
    assert len(rising(current, history, kind="term", limit=None)) == 30


def test_rising_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="kind"):
        rising(now({}), [], kind="lemma")
    with pytest.raises(ValueError, match="current week"):
        rising(now({}), [now({})], kind="term")


# --- week counts ------------------------------------------------------------------------------


def test_week_counts_count_each_term_once_per_document() -> None:
    week = WeekCounts.from_documents(CURRENT, [["ai", "ai", "werk"], ["ai"], []])
    assert week.docs == 3
    assert week.counts == {"ai": 2, "werk": 1}
    assert week.count("nergens") == 0


def test_week_counts_refuse_inconsistent_numbers() -> None:
    with pytest.raises(ValueError, match="outside"):
        WeekCounts(CURRENT, 2, Counter({"ai": 3}))
    with pytest.raises(ValueError, match="negative"):
        WeekCounts(CURRENT, -1)
    with pytest.raises(ValueError):
        WeekCounts("2026-48", 1)


# --- new entities ----------------------------------------------------------------------------


def test_new_entities_are_those_never_seen_before() -> None:
    current = now({"openai": 4, "fnv": 6, "sam altman": 2, "eenmalig": 1, "xai": 2})
    seen = {"fnv", "openai"}
    trends = new_entities(current, seen)
    assert [t.term for t in trends] == ["sam altman", "xai"]  # by count, then key
    first = trends[0]
    assert (first.kind, first.new, first.count, first.docs) == ("entity", True, 2, 100)
    assert (first.expected, first.score, first.ratio) == (0.0, 0.0, 3.0)
    assert [t.term for t in new_entities(current, seen, min_count=1)] == [
        "sam altman",
        "xai",
        "eenmalig",
    ]


def test_new_entities_accept_a_predicate() -> None:
    current = now({"openai": 4, "fnv": 6})
    asked: list[str] = []

    def seen(key: str) -> bool:
        asked.append(key)
        return key == "fnv"

    assert [t.term for t in new_entities(current, seen)] == ["openai"]
    assert sorted(asked) == ["fnv", "openai"]


def test_an_entity_back_after_a_quiet_spell_is_rising_but_not_new() -> None:
    history = weeks([{}] * 4)
    current = now({"ajax": 8})
    [trend] = rising(current, history, kind="entity")
    assert trend.new  # absent from the last four weeks...
    assert new_entities(current, {"ajax"}) == []  # ...but seen before that


# --- stories and storage ----------------------------------------------------------------------


def test_story_sizes_rank_by_articles_added_this_week() -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    stories = [
        StorySize(1, "Cao-akkoord", this_week=3, total=3, first_seen=t0),
        StorySize(2, "Stakingen", this_week=15, total=55, first_seen=t0),
        StorySize(3, "Oud nieuws", this_week=0, total=40, first_seen=t0),
        StorySize(4, "AI op de werkvloer", this_week=3, total=10, first_seen=t0),
        StorySize(5, "Thuiswerken", this_week=3, total=10),
    ]
    ranked = story_sizes(stories)
    assert [s.story_id for s in ranked] == [2, 4, 5, 1]
    assert ranked[-1].new and not ranked[0].new
    assert ranked[0].before == 40
    assert [s.story_id for s in story_sizes(stories, min_this_week=4)] == [2]
    assert [s.story_id for s in story_sizes(stories, limit=1)] == [2]
    data = ranked[0].as_dict()
    assert data["first_seen"] == "2026-11-01T00:00:00+00:00"
    assert data["new"] is False
    json.dumps(data)
    with pytest.raises(ValueError):
        StorySize(6, "Kapot", this_week=5, total=4)


def test_trends_survive_storage_as_json() -> None:
    history = weeks([{"tiktok": 1}] * 4)
    [trend] = rising(now({"tiktok": 12}), history, kind="term")
    data = json.loads(json.dumps(trend.as_dict()))
    assert set(data) >= {"term", "kind", "count", "docs", "expected", "ratio", "score", "new"}
    assert Trend.from_dict(data) == trend
