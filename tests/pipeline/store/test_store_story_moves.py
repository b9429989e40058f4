"""Story links written by ``save_processed``: a story split in two moves its articles
after the batch's merges, in the order the clusterer reported them."""

from __future__ import annotations

import pytest

from pipeline.store import Store, StoryRow
from postgres_support import query
from store_support import NOW, entry, processed, source_id

pytestmark = pytest.mark.both_databases


def story(id_: int, representative: int, size: int) -> StoryRow:
    return StoryRow(id_, f"story {id_}", representative, NOW, NOW, size)


def stories_of(store: Store) -> dict[int, int]:
    rows = query(store, "SELECT id, story_id FROM articles ORDER BY id")
    return {article: story for article, story in rows}


def test_merges_then_moves_of_a_split_are_applied_in_order(store: Store) -> None:
    store.save_entries(source_id(store), [entry(n) for n in range(1, 7)], NOW)
    first = [processed(1, 1), processed(2, 1), processed(3, 2), processed(4, 2)]
    store.save_processed(
        first,
        matches=[],
        progress={},
        stories=[story(1, 1, 2), story(2, 3, 2)],
        state={},
        now=NOW,
    )
    # the next batch: story 2 merges into 1, then 1 splits: 2 and 4 move to story 3,
    # and 4 moves again, to story 4, by a later split
    second = [processed(5, 1), processed(6, 1)]
    store.save_processed(
        second,
        matches=[],
        progress={},
        stories=[story(1, 1, 4), story(3, 2, 1), story(4, 4, 1)],
        state={},
        merges=[(2, 1)],
        moves=[(2, 3), (4, 3), (4, 4)],
        now=NOW,
    )
    assert stories_of(store) == {1: 1, 2: 3, 3: 1, 4: 4, 5: 1, 6: 1}
    kept = query(store, "SELECT id FROM stories ORDER BY id")
    assert [row[0] for row in kept] == [1, 3, 4]
