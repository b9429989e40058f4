"""Duplicate and story links and the processed mark written by ``save_processed``: an
article processed again gets its new canonical copy, loses one it no longer has, and
keeps its story when the batch gives none (the rows whose link does not change are not
written, which must not leave an old link behind)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipeline.store import ProcessedArticle, Store, StoryRow
from postgres_support import query
from store_support import NOW, entry, processed, source_id

pytestmark = pytest.mark.both_databases


def save(store: Store, articles: list[ProcessedArticle], when: datetime = NOW) -> None:
    store.save_processed(
        articles,
        matches=[],
        progress={},
        stories=[StoryRow(1, "quake", 1, NOW, NOW, 4)],
        state={},
        now=when,
    )


def links(store: Store) -> dict[int, tuple[int | None, int | None, str | None]]:
    rows = query(store, "SELECT id, duplicate_of, story_id, processed_at FROM articles ORDER BY id")
    return {i: (dup, story, done) for i, dup, story, done in rows}


def test_links_of_articles_processed_again_are_replaced(store: Store) -> None:
    store.save_entries(source_id(store), [entry(n) for n in range(1, 5)], NOW)
    at = NOW.isoformat()
    save(store, [processed(1, 1, None), processed(2, 1, 1), processed(3, 1, 1), processed(4, 1, 3)])
    assert links(store) == {1: (None, 1, at), 2: (1, 1, at), 3: (1, 1, at), 4: (3, 1, at)}
    later = NOW + timedelta(hours=1)
    # 2 is no copy any more, 3 stays one of 1, 4 is now one of 2, 1 becomes one of 4;
    # none is given a story: each keeps its own
    again = [processed(1, None, 4), processed(2, None, None), processed(3, None, 1)]
    save(store, [*again, processed(4, None, 2)], later)
    done = later.isoformat()
    assert links(store) == {1: (4, 1, done), 2: (None, 1, done), 3: (1, 1, done), 4: (2, 1, done)}
