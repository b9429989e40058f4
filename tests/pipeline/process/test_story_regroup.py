"""Young stories are grouped again from their members at each check size, so the same
reports give the same stories whatever order they arrive in."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import ClusterConfig, StoryClusterer, bcubed
from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.regroup import Plan, groups, plan
from story_support import T0, article, cluster

DEFAULTS = ClusterConfig(half_life=None)
WITHOUT = dataclasses.replace(DEFAULTS, regroup_threshold=None)


def like_quakes(seed: int) -> tuple[list[ArticleFeatures], dict[int, str]]:
    """24 reports of two earthquakes, alternating: each has eight of ten words every
    quake report has, one word of its own quake's, and one of its names and figures."""
    rng = random.Random(seed)
    common = [f"quake{i}" for i in range(12)]
    own = {
        "palu": ([f"palu{i}" for i in range(10)], ["Palu", "Sulawesi", "BNPB"], ["7.5", "1200"]),
        "elazig": ([f"elazig{i}" for i in range(10)], ["Elazig", "Turkey", "AFAD"], ["6.8", "41"]),
    }
    reports, gold = [], {}
    for i in range(1, 25):
        place = "palu" if i % 2 else "elazig"
        words, names, numbers = own[place]
        terms = dict.fromkeys(rng.sample(common, 8) + rng.sample(words, 1), 1)
        names_, numbers_ = tuple(rng.sample(names, 1)), tuple(rng.sample(numbers, 1))
        reports.append(article(i, T0, terms, names_, numbers_))
        gold[i] = place
    return reports, gold


def partitions(reports: list[ArticleFeatures], config: ClusterConfig, orders: int) -> set:
    """The different partitions of the reports into stories over ``orders`` orders."""
    found = set()
    for seed in range(orders):
        order = reports[:]
        random.Random(seed).shuffle(order)
        stories, _ = cluster(order, config)
        by_story: dict[int, set[int]] = {}
        for article_id, story in stories.items():
            by_story.setdefault(story, set()).add(article_id)
        found.add(frozenset(frozenset(s) for s in by_story.values()))
    return found


def test_the_same_reports_in_any_order_give_the_same_stories() -> None:
    for seed in (0, 2):
        reports, gold = like_quakes(seed)
        # without regrouping, some orders leave other stories than the rest
        assert len(partitions(reports, WITHOUT, 8)) > 1
        (only,) = partitions(reports, DEFAULTS, 8)
        assert sorted(len(s) for s in only) == [12, 12]  # one story per quake
        stories, _ = cluster(reports, DEFAULTS)
        assert bcubed(stories, gold)[2] == 1.0


def test_what_the_clusterer_reports_is_what_it_holds() -> None:
    """Applying every assignment's merges and moves as the pipeline does gives the
    clusterer's own open stories, after each article."""
    reports, _ = like_quakes(2)
    random.Random(5).shuffle(reports)
    clusterer = StoryClusterer(DEFAULTS)
    assigned: dict[int, int] = {}
    regrouped = 0
    for report in reports:
        assignment = clusterer.add(report)
        regrouped += bool(assignment.moved and assignment.merged)
        assigned[report.id] = assignment.story_id
        for article_id, story in assigned.items():
            if story in assignment.merged:
                assigned[article_id] = assignment.story_id
        assigned.update(assignment.moved)
        sizes: dict[int, int] = {}
        for story in assigned.values():
            sizes[story] = sizes.get(story, 0) + 1
        assert {s.id: s.size for s in clusterer.stories()} == sizes
    assert regrouped  # a regrouping both folded stories in and moved articles out


def test_a_reloaded_clusterer_regroups_as_an_uninterrupted_one() -> None:
    reports, _ = like_quakes(0)
    random.Random(3).shuffle(reports)
    whole = StoryClusterer(DEFAULTS)
    expected = [whole.add(a) for a in reports]
    first = StoryClusterer(DEFAULTS)
    for a in reports[:10]:
        first.add(a)
    stored = first.dump_stored()
    again = StoryClusterer.from_stored(stored.header, stored.changed.values(), DEFAULTS)
    assert [again.add(a) for a in reports[10:]] == expected[10:]


def members(n: int) -> list[OpenStory]:
    return [OpenStory(i, None, None) for i in range(n)]


def similarity_of(
    groups_of: list[list[int]], inside: list[float], between: dict[tuple[int, int], float]
) -> Callable[[OpenStory, OpenStory], float]:
    """A similarity between made-up members: ``inside[g]`` within group ``g``,
    ``between[(g, h)]`` across, 0.01 otherwise."""
    group = {m: g for g, ms in enumerate(groups_of) for m in ms}

    def similar(a: OpenStory, b: OpenStory) -> float:
        ga, gb = group[a.id], group[b.id]
        if ga == gb:
            return inside[ga]
        return between.get((min(ga, gb), max(ga, gb)), 0.01)

    return similar


def test_groups_keeps_two_coherent_events_apart_and_draws_in_fragments() -> None:
    # two events of three reports (0.5 alike inside, 0.16 across: enough to merge, but
    # a split would part them), a pair of near copies of the first event's (0.9 inside,
    # 0.17 to it) and a report like nothing else
    parts = [[0, 1, 2], [3, 4, 5], [6, 7], [8]]
    similar = similarity_of(parts, [0.5, 0.5, 0.9, 0.0], {(0, 1): 0.16, (0, 2): 0.17, (1, 2): 0.16})
    assert groups(members(9), similar, 0.15, 0.2, 0.6) == [[0, 1, 2, 6, 7], [3, 4, 5], [8]]
    # not kept apart: one story of both events (as far as they are alike enough)
    assert groups(members(9), similar, 0.15, None, 0.6) == [[0, 1, 2, 3, 4, 5, 6, 7], [8]]
    # nothing alike enough: every report alone
    assert groups(members(9), similar, 0.95, 0.2, 0.6) == [[i] for i in range(9)]


def test_plan_names_only_the_stories_that_change() -> None:
    current = {1: [10, 11], 2: [12], 3: [20, 21], 4: [30, 31, 32, 33]}
    # story 2 folds into 1, story 4 gives two of its reports to a new story, 3 stays
    found = [[10, 11, 12], [20, 21], [30, 31], [32, 33]]
    assert plan(current, found, 4, 30) == Plan(
        gone=(1, 2), kept=(30, 31), new=((10, 11, 12), (32, 33))
    )
    assert plan(current, found, 1, 11) == Plan(
        gone=(2, 4), kept=(10, 11, 12), new=((30, 31), (32, 33))
    )
    assert plan(current, [[10, 11], [12], [20, 21], [30, 31, 32, 33]], 1, 10) is None
