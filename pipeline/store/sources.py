"""The ``sources`` table: the configured feeds and alerts, their fetch state and health
(etag, errors, moves, 410 Gone, Retry-After, poll interval), and the sources an import
creates. The crawl stage decides (:mod:`pipeline.crawl.decide`): which sources are due,
and what one crawl leaves on its source; this part selects and writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipeline.crawl.decide import is_due, sources_digest
from pipeline.store.connection import StoreBase
from pipeline.store.rows import CrawlRecord, SourceRow, source_row
from pipeline.store.values import from_iso, iso

SOURCES_DIGEST_KEY = "sources_digest"  # the state key of the config synced last


class SourcesMixin(StoreBase):
    """Sources and their fetch state."""

    def sync_sources(self, sources: Iterable[Any], now: datetime) -> None:
        """Make the sources table follow the config (by name). Sources that left the
        config keep their articles but are marked ``in_config = 0``.

        The config's URL is kept in ``config_url``; ``url`` is where the crawler goes,
        which differs once the feed moved permanently (301/308). Only a change of the
        configured URL (or type) resets ``url`` and the fetch state, and switches a
        source that was disabled (410 Gone) back on. Rows that already follow the config
        are not written."""
        sources = list(sources)
        names = []
        with self.transaction():
            for s in sources:
                names.append(s.name)
                existing = self._one(
                    "SELECT id, type, coalesce(config_url, url) AS config_url, language,"
                    " enabled, in_config FROM sources WHERE name = ?",
                    [s.name],
                )
                if existing is None:
                    self._x(
                        "INSERT INTO sources (name, type, url, config_url, language, enabled,"
                        " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [s.name, s.type, s.url, s.url, s.language, int(s.enabled), iso(now)],
                    )
                    continue
                wanted = (s.type, s.language, int(s.enabled), 1)
                have = (
                    existing["type"],
                    existing["language"],
                    existing["enabled"],
                    existing["in_config"],
                )
                if have != wanted:
                    self._x(
                        "UPDATE sources SET type = ?, language = ?, enabled = ?, in_config = 1"
                        " WHERE id = ?",
                        [s.type, s.language, int(s.enabled), existing["id"]],
                    )
                if existing["config_url"] != s.url or existing["type"] != s.type:
                    self._x(
                        "UPDATE sources SET url = ?, config_url = ?, etag = NULL,"
                        " last_modified = NULL, moved_from = NULL, url_changed_at = ?,"
                        " disabled_reason = NULL, disabled_at = NULL, retry_after = NULL,"
                        " consecutive_errors = 0, next_poll = NULL, poll_interval = NULL,"
                        " cache_max_age = NULL, feed_ttl = NULL WHERE id = ?",
                        [s.url, s.url, iso(now), existing["id"]],
                    )
            placeholders = ",".join("?" * len(names)) or "''"
            self._x(
                f"UPDATE sources SET in_config = 0 WHERE in_config = 1 AND name NOT IN"
                f" ({placeholders})",
                names,
            )

    def sync_sources_if_changed(self, sources: Iterable[Any], now: datetime) -> bool:
        """:meth:`sync_sources` unless the sources this method synced last were these
        (their digest in the ``state`` table; a sync by another caller, e.g. ``trendwatch
        crawl`` with another config, is not seen): a periodic tick over 100,000 unchanged
        sources then writes nothing. True when it synced."""
        sources = list(sources)
        digest = sources_digest(sources)
        row = self._x(self.dialect.STATE_SELECT, [SOURCES_DIGEST_KEY]).fetchone()
        if row is not None and self.dialect.state_value(row) == digest:
            return False
        with self.transaction():
            self.sync_sources(sources, now)
            self._x(
                self.dialect.STATE_UPSERT, self.dialect.state_params(SOURCES_DIGEST_KEY, digest)
            )
        return True

    def sources(self, *, configured_only: bool = True) -> list[SourceRow]:
        where = "WHERE s.in_config = 1" if configured_only else ""
        rows = self._rows(
            "SELECT s.*, (SELECT count(*) FROM articles a WHERE a.source_id = s.id)"
            f" AS article_count FROM sources s {where} ORDER BY s.name"
        )
        return [source_row(r) for r in rows]

    def source(self, name: str) -> SourceRow | None:
        row = self._one(
            "SELECT s.*, (SELECT count(*) FROM articles a WHERE a.source_id = s.id)"
            " AS article_count FROM sources s WHERE s.name = ?",
            [name],
        )
        return source_row(row) if row else None

    def due_sources(
        self, now: datetime, *, force: bool = False, names: Iterable[str] | None = None
    ) -> list[SourceRow]:
        """The configured, enabled sources that a crawl at ``now`` takes, by name: those
        not switched off (410 Gone) that :func:`pipeline.crawl.decide.is_due` finds due
        (all of them with ``force``, except those asked to wait by a Retry-After);
        with ``names``, only those."""
        # the due decision in SQL too (the same as is_due's; times compare as they are
        # stored, UTC ISO text or timestamptz), so an index on next_poll answers it
        when = iso(now)
        polled = "" if force else " AND (next_poll IS NULL OR next_poll <= ?)"
        rows = [
            source_row(r)
            for r in self._rows(
                "SELECT * FROM sources WHERE in_config = 1 AND enabled = 1"
                " AND disabled_reason IS NULL AND (retry_after IS NULL OR retry_after <= ?)"
                f"{polled} ORDER BY name",
                [when] if force else [when, when],
            )
        ]
        rows = [
            r
            for r in rows
            if is_due(from_iso(r.next_poll), from_iso(r.retry_after), now, force=force)
        ]
        if names is not None:
            wanted = set(names)
            rows = [r for r in rows if r.name in wanted]
        return rows

    def recent_entry_times(self, source_id: int, limit: int = 100) -> list[datetime]:
        """The dates of a source's newest articles (publication, else first seen)."""
        rows = self._x(
            "SELECT coalesce(published, fetched) FROM articles WHERE source_id = ?"
            " ORDER BY coalesce(published, fetched) DESC LIMIT ?",
            [source_id, limit],
        ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows if r[0]]

    def record_crawl(self, source_id: int, now: datetime, record: CrawlRecord) -> None:
        """Write one crawl's record on its source as it is (:mod:`pipeline.crawl.decide`
        took every decision in it): the fetch state after a success, the error after a
        failure, the health and next poll either way, a permanent move (the crawler goes
        to the new URL from now on; the config's URL is kept in ``config_url``) and the
        reason a source is switched off (410 Gone). ``now`` is when it happened."""
        with self.transaction():
            if record.ok:
                self._x(
                    "UPDATE sources SET etag = ?, last_modified = ?, last_fetched = ?,"
                    " last_success = ?, consecutive_errors = ?, warning = ?,"
                    " title = coalesce(?, title), next_poll = ?, poll_interval = ?,"
                    " cache_max_age = ?, feed_ttl = coalesce(?, feed_ttl), retry_after = ?,"
                    " last_status = ?, last_duration = ? WHERE id = ?",
                    [
                        record.etag,
                        record.last_modified,
                        iso(now),
                        iso(now),
                        record.errors,
                        record.warning,
                        record.title,
                        iso(record.next_poll),
                        record.poll_interval,
                        record.cache_max_age,
                        record.feed_ttl,
                        iso(record.retry_after),
                        record.status,
                        record.duration,
                        source_id,
                    ],
                )
            else:
                self._x(
                    "UPDATE sources SET last_fetched = ?, last_error = ?, last_error_at = ?,"
                    " consecutive_errors = ?, next_poll = ?, retry_after = ?, last_status = ?,"
                    " last_duration = ? WHERE id = ?",
                    [
                        iso(now),
                        record.error,
                        iso(now),
                        record.errors,
                        iso(record.next_poll),
                        iso(record.retry_after),
                        record.status,
                        record.duration,
                        source_id,
                    ],
                )
            if record.moved_to:
                self._x(
                    "UPDATE sources SET moved_from = url, url = ?, url_changed_at = ?"
                    " WHERE id = ? AND url != ?",
                    [record.moved_to, iso(now), source_id, record.moved_to],
                )
            if record.disabled_reason:
                self._x(
                    "UPDATE sources SET disabled_reason = ?, disabled_at = ? WHERE id = ?",
                    [record.disabled_reason, iso(now), source_id],
                )

    def enable_source(self, name: str) -> bool:
        """Switch a source that the crawler disabled (410 Gone) back on, due at once;
        also forgets a Retry-After and the error count. False if there is no such source."""
        with self.transaction():
            cursor = self._x(
                "UPDATE sources SET disabled_reason = NULL, disabled_at = NULL,"
                " retry_after = NULL, consecutive_errors = 0, next_poll = NULL WHERE name = ?",
                [name],
            )
        return cursor.rowcount == 1

    def ensure_source(self, name: str, type_: str, url: str, now: datetime) -> int:
        """The id of a source that is not crawled (an import), created if needed."""
        row = self._one("SELECT id FROM sources WHERE name = ?", [name])
        if row:
            return int(row["id"])
        with self.transaction():
            cur = self._x(
                "INSERT INTO sources (name, type, url, enabled, in_config, created)"
                " VALUES (?, ?, ?, 0, 0, ?) RETURNING id",
                [name, type_, url, iso(now)],
            )
            return int(cur.fetchone()[0])
