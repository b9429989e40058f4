"""A story's stored row, built from the pieces its members keep between batches, is the
very bytes of packing a fresh dump of the story: after joins, merges, splits,
regroupings, closings and reloads."""

from __future__ import annotations

import random
from datetime import timedelta

from srsly import msgpack

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import ClusterConfig, StoryClusterer, rows, state
from pipeline.process.stories.model import OpenStory
from pipeline.process.stories.split import MAX_MEMBERS
from story_support import T0, article, scattered

# joins almost anything, so young stories mix two events and are split again
EAGER = ClusterConfig(threshold=0.02, pair_threshold=0.02, merge_threshold=None, half_life=None)


def fresh(story: OpenStory) -> bytes:
    """The row as packing the story's dump gives it, nothing kept from before."""
    return msgpack.Packer(use_bin_type=True).pack(state.dump_story(story))


def open_stories(clusterer: StoryClusterer) -> list[OpenStory]:
    return [clusterer._open[s.id] for s in clusterer.stories()]


def quakes(n: int, seed: int) -> list[ArticleFeatures]:
    """Reports of two earthquakes in random order, each with words every quake report
    has, a few of its own quake's and, now and then, a word or name no report had
    before (a member with new keys puts itself among the story's keys)."""
    rng = random.Random(seed)
    common = [f"quake{i}" for i in range(12)]
    out = []
    for i in range(1, n + 1):
        place = rng.choice(["palu", "elazig"])
        terms = dict.fromkeys([*rng.sample(common, 6), f"{place}{rng.randrange(8)}"], 1)
        if rng.random() < 0.5:
            terms[f"new{i}"] = 1
        names = (place.capitalize(), f"Witness{i}") if rng.random() < 0.3 else (place.title(),)
        when = T0 + timedelta(hours=rng.randrange(48))
        out.append(article(i, when, terms, names, (str(rng.randrange(5)),)))
    return out


def test_every_row_is_the_packed_dump_after_every_article() -> None:
    """Rows are packed after each article, so the pieces kept on the members and the
    keys kept on the stories are reused across joins, merges, splits and regroupings."""
    merged = moved = 0
    packer = msgpack.Packer(use_bin_type=True)
    for stream, config in (
        (scattered(120, seed=3), ClusterConfig()),
        (scattered(120, seed=5), ClusterConfig(threshold=0.3, merge_threshold=0.3)),
        (quakes(60, seed=1), ClusterConfig(half_life=None)),
        (quakes(60, seed=2), EAGER),
    ):
        clusterer = StoryClusterer(config)
        for a in stream:
            assignment = clusterer.add(a)
            merged += bool(assignment.merged)
            moved += bool(assignment.moved)
            for story in open_stories(clusterer):
                assert rows.pack_story(story, packer) == fresh(story)
    assert merged and moved  # stories were merged, split and regrouped on the way


def test_the_stored_rows_are_the_packed_dumps_across_saves_and_a_reload(
    story_articles: list[ArticleFeatures],
) -> None:
    for stream, config in (
        (story_articles, ClusterConfig()),
        (quakes(80, seed=4), ClusterConfig(half_life=None)),
    ):
        clusterer = StoryClusterer(config)
        stored: dict[int, bytes] = {}
        for i, a in enumerate(stream):
            clusterer.add(a)
            if i % 4 == 0 or i == len(stream) - 1:
                saved = clusterer.dump_stored()
                clusterer.mark_stored()
                for sid in saved.removed:
                    del stored[sid]
                stored.update(saved.changed)
                assert stored == {s.id: fresh(s) for s in open_stories(clusterer)}
            if i == len(stream) // 2:  # the members read back from the rows go on
                clusterer = StoryClusterer.from_stored(
                    saved.header, [stored[sid] for sid in sorted(stored)], config
                )


def test_the_header_packed_from_the_clusterers_own_tables_is_the_copied_one(
    story_articles: list[ArticleFeatures],
) -> None:
    clusterer = StoryClusterer()
    for a in story_articles:
        clusterer.add(a)
    copied = state.dump_header(0, T0, None, clusterer.frequencies)
    own = state.dump_header(0, T0, None, clusterer.frequencies, copy=False)
    assert own == copied
    assert own["df"] is clusterer.frequencies.df and copied["df"] is not own["df"]
    packed = state.pack(own, {}, set(), set()).header
    assert packed == msgpack.Packer(use_bin_type=True).pack({**copied, "stories": "rows"})


def test_a_story_past_its_young_age_is_stored_without_members() -> None:
    clusterer = StoryClusterer(EAGER)
    packer = msgpack.Packer(use_bin_type=True)
    for i in range(1, MAX_MEMBERS + 3):
        clusterer.add(article(i, T0, {"quake": 1, f"word{i}": 1}, ("Palu",), ("7.5",)))
        (story,) = open_stories(clusterer)
        assert rows.pack_story(story, packer) == fresh(story)
    assert story.members is None


def test_the_members_keys_follow_appends_and_a_new_list() -> None:
    members = [m for a in quakes(10, seed=7) for m in [_member(a)]]
    story = OpenStory(1, None, None)
    story.members = members[:3]
    keys = rows.member_keys(story, story.members)
    story.members += members[3:6]  # appended to: only the new members are read
    assert rows.member_keys(story, story.members) is keys
    assert keys.keys == _sorted_keys(members[:6])
    assert keys.table == {k: p for p, k in enumerate(keys.keys)}
    story.members = members[6:]  # another list: the keys of its members alone
    assert rows.member_keys(story, story.members).keys == _sorted_keys(members[6:])


def _member(a: ArticleFeatures) -> OpenStory:
    clusterer = StoryClusterer()
    clusterer.add(a)
    (story,) = open_stories(clusterer)
    assert story.members is not None
    return story.members[0]


def _sorted_keys(members: list[OpenStory]) -> list[str]:
    return sorted({k for m in members for vec in m.sums.values() for k in vec})
