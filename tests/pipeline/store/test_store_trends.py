"""The trend job's reads on SQLite and PostgreSQL: the first date each entity was seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pipeline.store import Store, StoryRow
from store_support import NOW, entry, processed, source_id

pytestmark = pytest.mark.both_databases


def _entities(*keys: str) -> list[dict[str, str]]:
    return [{"text": key.title(), "key": key, "label": "NAME"} for key in keys]


def test_each_entity_with_the_date_of_the_first_article_it_occurs_in(store: Store) -> None:
    # article n is published n hours before NOW (store_support.entry)
    store.save_entries(source_id(store), [entry(n) for n in (1, 30, 200, 400)], NOW)
    ids = {a.title: a.id for a in store.articles_to_process(10)}
    tags = {
        "Artikel 1": _entities("jumbo", "veghel"),
        "Artikel 30": _entities("jumbo"),
        "Artikel 200": _entities("jumbo", "ahold"),
        "Artikel 400": _entities("ahold"),
    }
    # article 30 is a near-duplicate copy of article 1
    copy_of = {"Artikel 30": ids["Artikel 1"]}
    articles = [replace(processed(ids[t], 1, copy_of.get(t)), entities=e) for t, e in tags.items()]
    store.save_processed(
        articles,
        matches=[],
        progress={},
        stories=[StoryRow(1, "quake", ids["Artikel 1"], NOW, NOW, 4)],
        state={},
        now=NOW,
    )
    first = store.entities_first_seen(NOW - timedelta(hours=10))
    assert first == {
        "jumbo": NOW - timedelta(hours=200),
        "ahold": NOW - timedelta(hours=400),
    }
    assert store.entities_first_seen(NOW) == first | {"veghel": NOW - timedelta(hours=1)}
    assert store.entities_first_seen(NOW - timedelta(hours=500)) == {}
    # from 250 hours back only the copies: article 200's names are the caller's to add
    assert store.entities_first_seen(NOW, copies_from=NOW - timedelta(hours=250)) == {
        "jumbo": NOW - timedelta(hours=30),
        "ahold": NOW - timedelta(hours=400),
    }
