"""The clusterer's state: dumped and reloaded, stored as a header and per-story rows, and
the JSON state of earlier versions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import ClusterConfig, StoryClusterer
from story_support import T0, article, scattered


def test_a_reloaded_state_continues_exactly_like_an_uninterrupted_run(
    story_articles: list[ArticleFeatures],
) -> None:
    whole = StoryClusterer()
    expected = [whole.add(a) for a in story_articles]
    for cut in (1, len(story_articles) // 2, len(story_articles) - 3):
        before = StoryClusterer()
        got = [before.add(a) for a in story_articles[:cut]]
        state = json.loads(json.dumps(before.dump()))  # as the pipeline stores it
        after = StoryClusterer.load(state)
        got += [after.add(a) for a in story_articles[cut:]]
        assert got == expected
        assert after.dump() == whole.dump()
        assert after.stories() == whole.stories()


def test_a_state_of_another_version_is_refused() -> None:
    state = StoryClusterer().dump()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        StoryClusterer.load(state)


def test_new_story_ids_continue_after_a_reload() -> None:
    clusterer = StoryClusterer()
    first = clusterer.add(article(1, T0, {"alpha": 1, "beta": 1}, ("Alpha Corp",)))
    reloaded = StoryClusterer.load(clusterer.dump())
    second = reloaded.add(article(2, T0, {"gamma": 1, "delta": 1}, ("Gamma Inc",)))
    assert (first.story_id, second.story_id) == (1, 2)
    assert second.is_new


class FakeStore:
    """The header and the story rows as ``Store.save_processed`` keeps them."""

    def __init__(self) -> None:
        self.header: bytes | str = b""
        self.rows: dict[int, bytes] = {}
        self.written = 0  # story rows written, over all saves

    def save(self, clusterer: StoryClusterer) -> None:
        state = clusterer.dump_stored()
        self.header = state.header
        for sid in state.removed:
            del self.rows[sid]
        self.rows.update(state.changed)
        self.written += len(state.changed)
        clusterer.mark_stored()

    def load(self, config: ClusterConfig | None = None) -> StoryClusterer:
        return StoryClusterer.from_stored(
            self.header, [self.rows[i] for i in sorted(self.rows)], config
        )


def test_the_stored_state_holds_the_whole_dump_after_every_article(
    story_articles: list[ArticleFeatures],
) -> None:
    """A save writes only the story rows that changed, and deletes those of stories that
    closed or merged away: after joins, merges, new representatives, closings and a
    reload, the stored rows must still read back as the full state."""
    for stream, config in (
        (story_articles, ClusterConfig()),
        (scattered(300, seed=3), ClusterConfig(threshold=0.3, merge_threshold=0.3)),
    ):
        clusterer, store = StoryClusterer(config), FakeStore()
        for i, a in enumerate(stream):
            clusterer.add(a)
            if i % 3 == 0:  # batches of a few story_articles, as the pipeline stores them
                store.save(clusterer)
                assert sorted(store.rows) == [s.id for s in clusterer.stories()]
                assert store.load(config).dump() == clusterer.dump()
            if i == len(stream) // 2:
                store.save(clusterer)
                clusterer = store.load(config)
        clusterer.close_before(max(a.published for a in stream if a.published))
        store.save(clusterer)
        assert store.load(config).dump() == clusterer.dump()
        # far fewer rows written than a whole state per save would have taken
        assert store.written < len(stream) * 2


def test_a_state_stored_as_json_by_an_earlier_version_still_loads(
    story_articles: list[ArticleFeatures],
) -> None:
    whole = StoryClusterer()
    expected = [whole.add(a) for a in story_articles]
    cut = len(story_articles) // 2
    before = StoryClusterer()
    for a in story_articles[:cut]:
        before.add(a)
    after = StoryClusterer.from_stored(json.dumps(before.dump(), sort_keys=True))
    store = FakeStore()
    store.save(after)  # the first save writes every story in rows
    assert sorted(store.rows) == [s.id for s in before.stories()]
    after = store.load()
    assert [after.add(a) for a in story_articles[cut:]] == expected[cut:]
    # the same content; the members' keys listed in another order (the JSON had them
    # sorted, and a member keeps the order it was read in)
    assert _keyed(after.dump()) == _keyed(whole.dump())


def _keyed(dump: dict[str, Any]) -> dict[str, Any]:
    """``dump`` with each member's weights as {space: {key: millionths}}, whatever
    order its keys are listed in."""
    stories = []
    for story in dump["stories"]:
        keys = story.get("member_keys", [])
        members = [
            {
                **m,
                "weights": {
                    space: dict(zip([keys[p] for p in at], w, strict=True))
                    for space, (at, w) in m["weights"].items()
                },
            }
            for m in story.get("members") or []
        ]
        stories.append({**story, "members": members})
    return {**dump, "stories": stories}
