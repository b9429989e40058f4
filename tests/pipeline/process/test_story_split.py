"""A young story whose articles turn out to tell two stories is split in two, so that
which story an article ends up in depends less on the order the articles came in."""

from __future__ import annotations

import dataclasses
import json
import random

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import Assignment, ClusterConfig, StoryClusterer, bcubed
from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.split import MAX_MEMBERS, apart, halves
from story_support import T0, article, cluster

# a clusterer that joins almost anything, so the first articles of two events mix
EAGER = ClusterConfig(threshold=0.02, pair_threshold=0.02, merge_threshold=None, half_life=None)
# a clusterer whose only way to bring two stories together is gathering a fragment
# (no pair joins, merges, decay or regrouping); the tests set its gather threshold
GATHERING = ClusterConfig(
    threshold=0.5, pair_threshold=None, merge_threshold=None, half_life=None, regroup_threshold=None
)


def quake(id_: int, place: str) -> ArticleFeatures:
    """A report of an earthquake at ``place``: the words every quake report has, and
    the place's own names and figures."""
    own = {
        "elazig": ({"elazig": 1, "mosque": 1, "province": 1}, ("Elazig", "Turkey"), ("6.8",)),
        "palu": ({"palu": 1, "tsunami": 1, "beach": 1}, ("Palu", "Sulawesi"), ("7.5",)),
    }
    words, names, numbers = own[place]
    return article(id_, T0, {"quake": 1, "magnitude": 1, "rescue": 1} | words, names, numbers)


def two_quakes() -> tuple[list[ArticleFeatures], dict[int, str]]:
    """Eight reports of two quakes, arriving alternately."""
    places = ["elazig", "palu"] * 4
    return [quake(i, p) for i, p in enumerate(places, 1)], dict(enumerate(places, 1))


def test_a_story_that_mixed_two_events_early_is_split_in_two() -> None:
    reports, gold = two_quakes()
    without = dataclasses.replace(EAGER, split_threshold=None, regroup_threshold=None)
    mixed, _ = cluster(reports, without)
    assert len(set(mixed.values())) == 1  # without splitting, one story for both quakes
    stories, clusterer = cluster(reports, EAGER)
    assert bcubed(stories, gold)[2] == 1.0
    assert sorted(s.size for s in clusterer.stories()) == [4, 4]
    assert {s.label[0] for s in clusterer.stories()} == {"Elazig", "Palu"}


def test_the_split_moves_the_articles_of_the_other_event_and_the_article_stays() -> None:
    reports, gold = two_quakes()
    clusterer = StoryClusterer(EAGER)
    assignments = [clusterer.add(a) for a in reports]
    split = [a for a in assignments if a.moved]
    assert split, "no split reported"
    first = split[0]
    moved = dict(first.moved)
    new_story = set(moved.values())
    assert len(new_story) == 1 and first.story_id not in new_story
    fourth = reports[assignments.index(first)]
    assert fourth.id not in moved  # the article stays in the story it joined
    assert {gold[a] for a in moved} != {gold[fourth.id]}  # the other quake's reports left


def test_a_coherent_story_is_never_split(story_articles: list[ArticleFeatures]) -> None:
    reports = [quake(i, "palu") for i in range(1, 13)]
    stories, _ = cluster(reports, EAGER)
    assert len(set(stories.values())) == 1
    # nor does splitting change the labelled fixture, in its order or shuffled
    for seed in (0, 1, 2):
        stream = list(story_articles)
        if seed:
            random.Random(seed).shuffle(stream)
        with_split, _ = cluster(stream)
        without, _ = cluster(stream, ClusterConfig(split_threshold=None))
        assert with_split == without


def test_halves_splits_two_groups_that_are_far_apart_only() -> None:
    members = [OpenStory(i, None, None) for i in range(8)]

    def alike(near: float, far: float):
        return lambda a, b: near if a.id % 2 == b.id % 2 else far

    assert halves(members, alike(0.5, 0.05), 0.2, 0.6) == ([0, 2, 4, 6], [1, 3, 5, 7])
    assert halves(members, alike(0.5, 0.25), 0.2, 0.6) is None  # alike enough between
    assert halves(members, alike(0.15, 0.12), 0.2, 0.6) is None  # not clearly two groups
    assert halves(members[:3], alike(0.5, 0.0), 0.2, 0.6) is None  # too few to split


def test_a_story_keeps_its_members_only_while_young() -> None:
    clusterer = StoryClusterer(EAGER)
    for i in range(1, MAX_MEMBERS + 2):
        clusterer.add(quake(i, "palu"))
    (story,) = clusterer.dump()["stories"]
    assert story["size"] == MAX_MEMBERS + 1 and "members" not in story


def test_members_survive_a_reload_and_a_state_without_them_still_loads() -> None:
    reports, _ = two_quakes()
    whole = StoryClusterer(EAGER)
    expected = [whole.add(a) for a in reports]
    before = StoryClusterer(EAGER)
    got = [before.add(a) for a in reports[:3]]
    state = json.loads(json.dumps(before.dump()))
    assert any("members" in s for s in state["stories"])
    after = StoryClusterer.load(state, EAGER)
    got += [after.add(a) for a in reports[3:]]
    assert got == expected  # the split happens as in an uninterrupted run
    # a story stored by an earlier version has no members: it is never split, as before
    for story in state["stories"]:
        story.pop("members", None)
    old = StoryClusterer.load(state, EAGER)
    assert all(not a.moved for a in (old.add(r) for r in reports[3:]))


def test_a_story_told_in_two_languages_is_not_split_along_them() -> None:
    """Dutch and English reports share names and figures but no words, so they are
    always less alike than two reports in one language: that is no reason to split."""
    english = {"quake": 1, "magnitude": 1, "rescue": 1, "tsunami": 1, "beach": 1}
    dutch = {"aardbeving": 1, "kracht": 1, "redding": 1, "tsunami": 1, "strand": 1}
    names = {"en": ("Palu", "Indonesia", "Donggala", "AFP"), "nl": ("Palu", "Indonesië", "ANP")}
    reports = [
        article(i, T0, english if lang == "en" else dutch, names[lang], (), lang)
        for i, lang in enumerate(["en", "nl"] * 4, 1)
    ]
    stories, clusterer = cluster(reports, EAGER)
    assert len(set(stories.values())) == 1
    assert [s.langs for s in clusterer.stories()] == [("en", "nl")]


def two_young_quake_stories_and_a_bridge(guard: bool) -> tuple[StoryClusterer, Assignment]:
    """Two stories of four reports each (Elazig, Palu), kept apart by a high join
    threshold, and a report of Elazig that mentions Palu: it joins the Elazig story,
    which then comes close enough to the Palu story to merge (``merge_threshold`` low)."""
    config = ClusterConfig(
        threshold=0.3, pair_threshold=None, merge_threshold=0.1, half_life=None, merge_guard=guard
    )
    clusterer = StoryClusterer(config)
    for i, place in enumerate(["elazig"] * 4 + ["palu"] * 4, 1):
        clusterer.add(quake(i, place))
    words = {"quake": 1, "magnitude": 1, "rescue": 1, "elazig": 1, "mosque": 1, "palu": 1}
    bridge = article(9, T0, words, ("Elazig", "Palu"), ("6.8",))
    return clusterer, clusterer.add(bridge)


def test_two_young_stories_that_a_split_would_part_again_are_not_merged() -> None:
    clusterer, bridged = two_young_quake_stories_and_a_bridge(guard=True)
    assert bridged.story_id == 1 and bridged.merged == () and bridged.moved == ()
    assert [(s.id, s.size) for s in clusterer.stories()] == [(1, 5), (2, 4)]


def test_a_merge_that_grows_a_story_past_a_check_size_is_checked_for_a_split() -> None:
    """Without the guard the two merge (5 + 4 articles: past the check sizes 6 and 8,
    none reached exactly) and the split parts them again at once: the Palu reports
    are back together, under a new id."""
    clusterer, bridged = two_young_quake_stories_and_a_bridge(guard=False)
    assert bridged.merged == (2,)
    assert sorted(article for article, _ in bridged.moved) == [5, 6, 7, 8]
    assert sorted(s.size for s in clusterer.stories()) == [4, 5]


def test_apart_needs_two_coherent_groups_of_two_or_more() -> None:
    members = [OpenStory(i, None, None) for i in range(6)]

    def alike(a: OpenStory, b: OpenStory) -> float:
        return 0.5 if a.id % 2 == b.id % 2 else 0.05

    odd, even = members[1::2], members[0::2]
    assert apart(even, odd, alike, 0.2, 0.6)
    assert not apart(even, even, alike, 0.2, 0.6)  # alike between as inside
    assert not apart(even, odd[:1], alike, 0.2, 0.6)  # one article may always join


def palu_follow_up(id_: int) -> ArticleFeatures:
    """A later report of the Palu quake in other words: too unlike the first reports to
    join their story while it has two articles."""
    words = {"quake": 1, "palu": 1, "tsunami": 1, "sulawesi": 1, "death": 1, "toll": 1}
    return article(id_, T0, words, ("Palu", "Sulawesi", "BNPB"), ("1200",))


def test_a_story_that_grew_to_a_check_size_gathers_a_fragment_of_its_event_only() -> None:
    reports = [quake(1, "palu"), quake(2, "palu"), quake(3, "elazig"), quake(4, "elazig")]
    reports += [palu_follow_up(5), palu_follow_up(6), quake(7, "palu"), quake(8, "palu")]
    apart_config = dataclasses.replace(GATHERING, gather_threshold=None)
    fragments, _ = cluster(reports, apart_config)
    assert len({fragments[5], fragments[1]}) == 2  # the follow-ups began a story of their own
    clusterer = StoryClusterer(dataclasses.replace(GATHERING, gather_threshold=0.3))
    assignments = [clusterer.add(a) for a in reports]
    assert assignments[-1].merged == (fragments[5],)  # at four articles, the Palu story took it
    stories, _ = cluster(reports, dataclasses.replace(GATHERING, gather_threshold=0.3))
    gold = {1: "palu", 2: "palu", 3: "elazig", 4: "elazig"} | dict.fromkeys((5, 6, 7, 8), "palu")
    assert bcubed(stories, gold)[2] == 1.0  # and not the Elazig story


def test_a_state_with_the_members_weights_as_floats_still_loads() -> None:
    """Members are stored with their keys once per story and their weights as whole
    millionths; a state of the version before, floats by key, goes on the same."""
    reports, _ = two_quakes()
    whole = StoryClusterer(EAGER)
    expected = [whole.add(a) for a in reports]
    before = StoryClusterer(EAGER)
    for a in reports[:3]:
        before.add(a)
    state = json.loads(json.dumps(before.dump()))
    for story in state["stories"]:
        keys = story.pop("member_keys", None)
        for member in story.get("members", []):
            weights = member.pop("weights")
            member["sums"] = {
                space: {keys[k]: w / 1_000_000 for k, w in zip(*pair, strict=True)}
                for space, pair in weights.items()
            }
    assert any("members" in s for s in state["stories"])
    after = StoryClusterer.load(state, EAGER)
    assert [after.add(a) for a in reports[3:]] == expected[3:]
    assert after.dump() == whole.dump()


def test_a_fragment_that_reaches_a_check_size_joins_the_larger_story_of_its_event() -> None:
    """The Palu story has eight articles (no more checks until twelve) when follow-ups
    in other words begin a story of their own: at four, that one folds into it."""
    reports = [quake(i, "palu") for i in range(1, 9)]
    reports += [palu_follow_up(i) for i in range(9, 13)]
    clusterer = StoryClusterer(dataclasses.replace(GATHERING, gather_threshold=0.3))
    assignments = [clusterer.add(a) for a in reports]
    assert assignments[8].is_new  # the first follow-up began a story
    assert assignments[-1].story_id == 1 and assignments[-1].merged == (assignments[8].story_id,)
    assert [(s.id, s.size) for s in clusterer.stories()] == [(1, 12)]
