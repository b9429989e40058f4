"""What the admin pages read: recent articles for the watchlist editor's preview, the
matches of each watchlist, and deliveries per subscriber (the failed ones in full).

The rows are typed (frozen dataclasses, built by :func:`~pipeline.store.values.typed_row`)
and defined here, beside the one part that reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.store.connection import StoreBase
from pipeline.store.values import chunks, iso, typed_row


@dataclass(frozen=True, slots=True)
class PreviewArticle:
    """A processed article as the preview matches it; see ``Store.preview_articles``."""

    id: int
    title: str
    url: str | None
    text: str | None
    language: str | None  # the feed's, if it said
    detected_language: str | None  # the analysis's
    date: datetime  # publication, else first seen
    source_name: str


@dataclass(frozen=True, slots=True)
class SubscriberDeliveries:
    """The deliveries to one subscriber, counted by outcome."""

    subscriber: str
    sent: int
    failed: int
    waiting: int  # pending or being sent (a retry may be planned)
    last_sent: datetime | None


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A delivery that failed for good, or failed and waits for a retry."""

    id: int
    subscriber: str
    edition_key: str
    status: str  # "failed", or "pending"/"sending" with an error (a retry is planned)
    attempts: int
    last_error: str | None
    next_attempt: datetime | None
    created: datetime


class AdminMixin(StoreBase):
    """Reads for the admin pages."""

    def recent_article_ids(self, since: datetime) -> list[int]:
        """The ids of the articles dated (published, else first seen) from ``since``,
        ascending; read from the date indexes only."""
        rows = self._x(
            "SELECT id FROM articles WHERE published >= ?"
            " UNION SELECT id FROM articles WHERE published IS NULL AND fetched >= ?"
            " ORDER BY id",
            [iso(since), iso(since)],
        ).fetchall()
        return [r[0] for r in rows]

    def preview_articles(self, ids: Sequence[int]) -> list[PreviewArticle]:
        """The processed articles among ``ids`` with what matching needs, in id order
        (articles not processed yet are left out)."""
        found: list[PreviewArticle] = []
        for chunk, marks in chunks(sorted(ids)):
            rows = self._rows(
                "SELECT a.id, a.title, a.url, a.text, a.language,"
                " f.language AS detected_language, coalesce(a.published, a.fetched) AS date,"
                " s.name AS source_name FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN article_features f ON f.article_id = a.id"
                f" WHERE a.id IN ({marks}) AND a.processed_at IS NOT NULL ORDER BY a.id",
                chunk,
            )
            found.extend(typed_row(PreviewArticle, r) for r in rows)
        return found

    def watchlist_match_counts(self, since: datetime) -> dict[str, int]:
        """The number of matched articles per watchlist dated from ``since``."""
        rows = self._rows(
            "SELECT m.watchlist, count(*) AS n FROM matches m JOIN articles a"
            " ON a.id = m.article_id WHERE coalesce(a.published, a.fetched) >= ?"
            " GROUP BY m.watchlist",
            [iso(since)],
        )
        return {r["watchlist"]: r["n"] for r in rows}

    def deliveries_by_subscriber(self) -> list[SubscriberDeliveries]:
        """Every subscriber that a delivery was made for, with its counts."""
        rows = self._rows(
            "SELECT subscriber, sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent,"
            " sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,"
            " sum(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS waiting,"
            " max(sent_at) AS last_sent"
            " FROM deliveries GROUP BY subscriber ORDER BY subscriber"
        )
        return [typed_row(SubscriberDeliveries, r) for r in rows]

    def failed_deliveries(self, limit: int = 100) -> list[FailedDelivery]:
        """The latest deliveries that failed (for good, or waiting for a retry)."""
        rows = self._rows(
            "SELECT d.id, d.subscriber, e.key AS edition_key, d.status, d.attempts,"
            " d.last_error, d.next_attempt, d.created FROM deliveries d"
            " JOIN editions e ON e.id = d.edition_id WHERE d.status = 'failed'"
            " OR (d.status IN ('pending', 'sending') AND d.last_error IS NOT NULL)"
            " ORDER BY d.id DESC LIMIT ?",
            [limit],
        )
        return [typed_row(FailedDelivery, r) for r in rows]
