"""Articles on SQLite and PostgreSQL: idempotent saves, changed entries processed again, a
failed save leaves nothing, and one row per article across an alert and a feed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.store import Store
from postgres_support import query
from store_support import NOW, Src, entry, source_id

pytestmark = pytest.mark.both_databases


def test_saving_the_same_entries_twice_adds_no_rows(store: Store) -> None:
    entries = [entry(1), entry(2), entry(3)]
    first = store.save_entries(source_id(store), entries, NOW)
    again = store.save_entries(source_id(store), entries, NOW + timedelta(minutes=30))
    assert (first.new, again.new, again.unchanged) == (3, 0, 3)
    assert store.article_count() == 3


def test_changed_entry_is_updated_and_reprocessed_but_keeps_first_seen(store: Store) -> None:
    sid = source_id(store)
    store.save_entries(sid, [entry(1)], NOW)
    ids = [r.id for r in store.articles_to_process()]
    store.save_matches([], processed_ids=ids, now=NOW)
    assert store.articles_to_process() == []
    later = NOW + timedelta(hours=2)
    result = store.save_entries(sid, [entry(1, title="Artikel 1 (bijgewerkt)")], later)
    assert result.updated == 1
    [row] = store.articles_to_process()
    assert row.title == "Artikel 1 (bijgewerkt)"
    assert row.fetched == NOW
    assert row.updated == later


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    class Boom(Exception):
        pass

    def entries():
        yield entry(1)
        yield entry(2)
        raise Boom

    with pytest.raises(Boom):
        store.save_entries(source_id(store), entries(), NOW)
    assert store.article_count() == 0


def test_an_alert_never_stores_an_article_twice(database: str | Path) -> None:
    with Store(database) as store:
        store.sync_sources(
            [Src("Uitgever", "https://x.test/feed"), Src("Alert", "https://a.test/", "alert")], NOW
        )
        ids = {r.name: r.id for r in store.sources()}
        alert_first = entry(1, identity="guid:alert-1", text="Kort.")
        saved = store.save_entries(ids["Alert"], [alert_first, entry(2, identity="a-2")], NOW)
        assert (saved.new, saved.known) == (2, 0)
        # the publisher's copy of article 1 takes over the alert's row
        saved = store.save_entries(ids["Uitgever"], [entry(1, text="Het hele verhaal.")], NOW)
        assert saved.new == 1 and store.article_count() == 2
        [row] = query(store, "SELECT source_id, text FROM articles WHERE url = 'https://x.test/1'")
        assert row == (ids["Uitgever"], "Het hele verhaal.")
        # the alert brings it again: known, not stored
        again = store.save_entries(ids["Alert"], [alert_first], NOW)
        assert (again.new, again.known) == (0, 1) and store.article_count() == 2


def test_one_save_mixes_new_changed_and_repeated_entries(store: Store) -> None:
    """The stored rows are read in one query and the new ones written in one batch; an
    identity twice in one save counts as stored by the time its second copy comes."""
    sid = source_id(store)
    store.save_entries(sid, [entry(1), entry(2)], NOW)
    later = NOW + timedelta(hours=1)
    batch = [entry(1), entry(2, title="Artikel 2 (bijgewerkt)"), entry(3), entry(3), entry(4)]
    result = store.save_entries(sid, batch, later)
    assert (result.new, result.updated, result.unchanged) == (2, 1, 2)
    assert store.article_count() == 4
    again = store.save_entries(sid, [entry(3, title="Artikel 3 (anders)"), entry(3)], later)
    assert (again.new, again.updated, again.unchanged) == (0, 2, 0)  # changed, and back
    [row] = [r for r in store.articles_to_process() if r.url == entry(3).url]
    assert row.title == entry(3).title
