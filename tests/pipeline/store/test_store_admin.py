"""What the admin pages read, on SQLite and PostgreSQL: the recent articles by date, the
processed ones among them, matches per watchlist, and deliveries per subscriber and the
failed ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.store import Store
from pipeline.store.admin import FailedDelivery, SubscriberDeliveries
from store_support import NOW, Wl, edition_row, entry, source_id

pytestmark = pytest.mark.both_databases
EDITION = edition_row()


def test_recent_and_processed_articles_and_matches_per_watchlist(store: Store) -> None:
    sid = source_id(store)
    store.save_entries(
        sid,
        [entry(1), entry(2, published=NOW - timedelta(days=40)), entry(3, published=None)],
        NOW,
    )
    store.sync_watchlists([Wl("w", "W", "artikel")])
    ids = {r.url: r.id for r in store.articles_to_process()}
    one, old, undated = (ids[f"https://x.test/{n}"] for n in (1, 2, 3))
    store.save_matches(
        [(one, "w", {"terms": ["artikel"]}), (old, "w", {"terms": ["artikel"]})],
        processed_ids=[one, old],
        progress={"w": old},
        now=NOW,
    )
    since = NOW - timedelta(days=30)
    assert store.recent_article_ids(since) == [one, undated]  # undated: first seen now
    preview = store.preview_articles([one, undated])
    assert [(p.id, p.date, p.source_name) for p in preview] == [
        (one, NOW - timedelta(hours=1), "Bron")
    ]  # the unprocessed one is left out
    assert store.watchlist_match_counts(since) == {"w": 1}
    assert store.watchlist_match_counts(NOW - timedelta(days=60)) == {"w": 2}


def test_deliveries_per_subscriber_and_the_failed_ones(store: Store) -> None:
    edition = store.add_edition(EDITION)
    sent = store.ensure_delivery(edition, "a@example.org", NOW)
    store.finish_delivery(sent.id, "sent", NOW)
    failed = store.ensure_delivery(edition, "b@example.org", NOW)
    store.finish_delivery(failed.id, "failed", NOW, error="550 no such user")
    retry = store.ensure_delivery(edition, "c@example.org", NOW)
    later = NOW + timedelta(hours=1)
    store.finish_delivery(retry.id, "pending", NOW, error="421 busy", next_attempt=later)
    assert store.deliveries_by_subscriber() == [
        SubscriberDeliveries("a@example.org", 1, 0, 0, NOW),
        SubscriberDeliveries("b@example.org", 0, 1, 0, None),
        SubscriberDeliveries("c@example.org", 0, 0, 1, None),
    ]
    key = str(EDITION["key"])
    assert store.failed_deliveries() == [
        FailedDelivery(retry.id, "c@example.org", key, "pending", 0, "421 busy", later, NOW),
        FailedDelivery(failed.id, "b@example.org", key, "failed", 0, "550 no such user", None, NOW),
    ]
