"""The store: the only module that talks SQL.

SQLite through sqlite-utils, in WAL mode with foreign keys and a busy timeout, so
one-off commands stay safe beside a running scheduler. Schema changes are versioned
migrations, applied one ``user_version`` step at a time. Every write is idempotent:
writing the same entry or edition twice never creates a second row.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from crawlers.entries import Entry
from digests.fsutil import create_private_file, make_private_dir

APPLICATION_ID = 0x54574348  # "TWCH"
BUSY_TIMEOUT_MS = 10_000

log = logging.getLogger(__name__)


def iso(dt: datetime | None) -> str | None:
    """UTC ISO-8601 text that sorts as it should."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def backup_file_name(when: datetime, tag: str | None = None) -> str:
    """``trendwatch-20261126-120000.db`` (UTC), or ``trendwatch-{tag}-20261126-120000.db``."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    return f"trendwatch-{tag}-{stamp}.db" if tag else f"trendwatch-{stamp}.db"


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- schema --------------------------------------------------------------------------


def _v1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL DEFAULT 'feed',
            url TEXT NOT NULL,
            language TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            in_config INTEGER NOT NULL DEFAULT 1,
            title TEXT,
            etag TEXT,
            last_modified TEXT,
            last_fetched TEXT,
            last_success TEXT,
            last_error TEXT,
            last_error_at TEXT,
            consecutive_errors INTEGER NOT NULL DEFAULT 0,
            warning TEXT,
            next_poll TEXT,
            created TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            identity TEXT NOT NULL,
            guid TEXT,
            url TEXT,
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            author TEXT,
            published TEXT,
            fetched TEXT NOT NULL,
            updated TEXT NOT NULL,
            language TEXT,
            categories TEXT NOT NULL DEFAULT '[]',
            content_hash TEXT NOT NULL,
            processed_at TEXT,
            UNIQUE (source_id, identity)
        );
        CREATE INDEX articles_url ON articles(url);
        CREATE INDEX articles_published ON articles(published);
        CREATE INDEX articles_fetched ON articles(fetched);
        CREATE INDEX articles_unprocessed ON articles(processed_at) WHERE processed_at IS NULL;
        CREATE TABLE watchlists (
            name TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            query TEXT NOT NULL,
            matched_through INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE matches (
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            watchlist TEXT NOT NULL REFERENCES watchlists(name) ON DELETE CASCADE,
            terms TEXT NOT NULL DEFAULT '[]',
            location TEXT NOT NULL DEFAULT '',
            snippet TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            PRIMARY KEY (article_id, watchlist)
        );
        CREATE INDEX matches_watchlist ON matches(watchlist);
        CREATE TABLE editions (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            slug TEXT NOT NULL,
            title TEXT NOT NULL,
            language TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            year INTEGER NOT NULL,
            week INTEGER NOT NULL,
            watchlists TEXT NOT NULL,
            item_count INTEGER NOT NULL,
            archive_path TEXT NOT NULL,
            data TEXT NOT NULL,
            built_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            subscriber TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            transport TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id TEXT,
            last_error TEXT,
            next_attempt TEXT,
            created TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (edition_id, subscriber)
        );
        CREATE INDEX deliveries_status ON deliveries(status);
        """
    )


def _v2(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL DEFAULT '',
            representative_id INTEGER REFERENCES articles(id) ON DELETE SET NULL,
            first_seen TEXT,
            last_seen TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            updated TEXT NOT NULL
        );
        CREATE INDEX stories_last_seen ON stories(last_seen);
        ALTER TABLE articles ADD COLUMN duplicate_of INTEGER
            REFERENCES articles(id) ON DELETE SET NULL;
        ALTER TABLE articles ADD COLUMN story_id INTEGER
            REFERENCES stories(id) ON DELETE SET NULL;
        CREATE INDEX articles_story ON articles(story_id);
        CREATE INDEX articles_duplicate_of ON articles(duplicate_of);
        CREATE TABLE article_features (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            language TEXT NOT NULL,
            entities TEXT NOT NULL DEFAULT '[]',
            keyphrases TEXT NOT NULL DEFAULT '[]',
            terms TEXT NOT NULL DEFAULT '{}',
            numbers TEXT NOT NULL DEFAULT '[]',
            links TEXT NOT NULL DEFAULT '[]',
            minhash BLOB,
            analysed_at TEXT NOT NULL
        );
        CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE trends (
            week TEXT NOT NULL,
            scope TEXT NOT NULL,
            kind TEXT NOT NULL,
            term TEXT NOT NULL,
            rank INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (week, scope, kind, term)
        );
        """
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Source health for polite crawling: where the config points and where the feed
    moved to, why a source was switched off, the server's hints and the poll interval."""
    for column in (
        "config_url TEXT",  # the URL in the config; url differs after a 301/308
        "moved_from TEXT",  # the URL before the last permanent redirect
        "url_changed_at TEXT",
        "disabled_reason TEXT",  # set when the crawler switched the source off (410 Gone)
        "disabled_at TEXT",
        "retry_after TEXT",  # 429/503 Retry-After: no poll before this time
        "cache_max_age INTEGER",  # seconds, from Cache-Control max-age
        "feed_ttl INTEGER",  # minutes, from the feed's <ttl> or sy:updatePeriod
        "poll_interval INTEGER",  # seconds: the adaptive interval chosen last time
        "last_status INTEGER",  # HTTP status of the last fetch (0: no response)
        "last_duration REAL",  # seconds the last crawl of the source took
    ):
        db.execute(f"ALTER TABLE sources ADD COLUMN {column}")
    db.execute("UPDATE sources SET config_url = url")
    db.execute(
        "CREATE INDEX articles_source_date ON articles(source_id, coalesce(published, fetched))"
    )


def _v4(db: sqlite_utils.Database) -> None:
    """The story clusterer's open stories, one row each, so that a batch writes only the
    stories it changed (the rest of its state stays in ``state``)."""
    db.execute("CREATE TABLE cluster_stories (id INTEGER PRIMARY KEY, state BLOB NOT NULL)")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("initial schema", _v1),
    ("features, duplicates, stories, trends", _v2),
    ("source health: moves, 410, Retry-After, adaptive polling", _v3),
    ("the clusterer's open stories in rows", _v4),
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The database cannot be used (newer schema, not a trendwatch database...)."""


# --- rows handed to callers --------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    type: str
    url: str
    language: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    consecutive_errors: int
    warning: str | None
    next_poll: str | None
    in_config: bool
    article_count: int = 0
    title: str | None = None
    last_fetched: str | None = None
    config_url: str | None = None
    moved_from: str | None = None
    url_changed_at: str | None = None
    disabled_reason: str | None = None
    disabled_at: str | None = None
    retry_after: str | None = None
    cache_max_age: int | None = None
    feed_ttl: int | None = None
    poll_interval: int | None = None
    last_status: int | None = None
    last_duration: float | None = None


@dataclass(frozen=True)
class CrawlRecord:
    """What one crawl leaves on its source's row; see :meth:`Store.record_crawl`."""

    ok: bool  # something usable arrived (entries, or 304 Not Modified)
    next_poll: datetime
    status: int = 0
    error: str | None = None
    warning: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    poll_interval: int | None = None  # seconds
    cache_max_age: int | None = None  # seconds
    feed_ttl: int | None = None  # minutes; None keeps the stored one
    retry_after: datetime | None = None
    moved_to: str | None = None  # a permanent redirect: the source's new URL
    gone: bool = False  # 410 Gone: switch the source off
    duration: float | None = None


@dataclass(frozen=True)
class ProcessedArticle:
    """One article's NLP results, as ``save_processed`` stores them."""

    id: int
    language: str
    entities: list[dict[str, str]]
    keyphrases: list[str]
    terms: dict[str, int]
    numbers: list[str]
    links: list[str]
    minhash: bytes | None
    duplicate_of: int | None
    story_id: int | None  # None keeps the story the article already has


@dataclass(frozen=True)
class StoryRow:
    id: int
    label: str
    representative_id: int
    first: datetime | None
    last: datetime | None
    size: int


@dataclass(frozen=True)
class SaveResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    known: int = 0  # an alert's entries already stored from another source: not stored again


# --- the store ---------------------------------------------------------------------


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # The database holds every subscriber's address: a new one is created 0600 in a
        # new 0700 folder, and SQLite gives its -wal and -shm files the database's mode.
        make_private_dir(self.path.parent)
        create_private_file(self.path)
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
        self.db = sqlite_utils.Database(conn, execute_plugins=False)
        self._configure()
        self._migrate()

    # lifecycle
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _configure(self) -> None:
        x = self.db.execute
        x(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        x("PRAGMA foreign_keys = ON")
        if x("PRAGMA journal_mode").fetchone()[0] != "wal":
            x("PRAGMA journal_mode = WAL")
        x("PRAGMA synchronous = NORMAL")

    def _migrate(self) -> None:
        app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):
            raise StoreError(f"{self.path} is not a trendwatch database")
        if app_id == 0 and version == 0 and self.db.table_names():
            raise StoreError(f"{self.path} holds tables but is not a trendwatch database")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this trendwatch knows up to "
                f"{SCHEMA_VERSION}. Upgrade trendwatch."
            )
        if 0 < version < SCHEMA_VERSION:
            self._backup_before_migration(version)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            _, migrate = MIGRATIONS[number - 1]
            with self.db.atomic():
                migrate(self.db)
                problems = self.db.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StoreError(f"migration {number} broke foreign keys: {problems[:3]}")
                self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
        return list(self.db.query(sql, params))

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    # --- backups -------------------------------------------------------------------

    def backup(self, target: str | Path) -> Path:
        """Copy the database to ``target`` with SQLite's online backup API; return the path.

        Safe while other connections or processes write (WAL): the copy is read in one
        step through a connection of its own, so it is one consistent snapshot with every
        transaction committed before it started and nothing uncommitted. It is written to
        a temporary file beside ``target``, must pass ``PRAGMA integrity_check``, and only
        then is renamed to ``target`` (replacing an existing file atomically): a half or
        failed backup never carries the final name. The copy is one self-contained file
        (rollback journal, not WAL), so it can be copied like any other file.
        """
        target = Path(target)
        live = self.path.resolve()
        own_files = {live, *(live.with_name(live.name + s) for s in ("-wal", "-shm", "-journal"))}
        if target.resolve() in own_files:
            raise ValueError(f"cannot back up {self.path} onto itself ({target})")
        make_private_dir(target.parent)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            source = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                copy = sqlite3.connect(name)
                try:
                    source.backup(copy)
                    copy.execute("PRAGMA journal_mode = DELETE")
                    result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
                finally:
                    copy.close()
            finally:
                source.close()
            if result != ["ok"]:
                raise StoreError(
                    f"the backup of {self.path} failed its integrity check: {result[:3]}"
                )
            os.replace(name, target)
        except sqlite3.Error as exc:
            Path(name).unlink(missing_ok=True)
            raise StoreError(f"could not back up {self.path} to {target}: {exc}") from exc
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return target

    def _backup_before_migration(self, version: int) -> Path:
        """Back the database up into ``backups/`` beside it before migrating ``version``."""
        name = backup_file_name(datetime.now(UTC), f"v{version}-before-v{SCHEMA_VERSION}")
        try:
            path = self.backup(self.path.parent / "backups" / name)
        except (OSError, StoreError) as exc:
            raise StoreError(
                f"could not back up {self.path} before migrating it from schema version"
                f" {version} to {SCHEMA_VERSION}: {exc}. Nothing was migrated."
            ) from exc
        log.warning(
            "Database %s has schema version %d; backed up to %s before migrating it to %d.",
            self.path,
            version,
            path,
            SCHEMA_VERSION,
        )
        return path

    # --- sources -------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[Any], now: datetime) -> None:
        """Make the sources table follow the config (by name). Sources that left the
        config keep their articles but are marked ``in_config = 0``.

        The config's URL is kept in ``config_url``; ``url`` is where the crawler goes,
        which differs once the feed moved permanently (301/308). Only a change of the
        configured URL (or type) resets ``url`` and the fetch state, and switches a
        source that was disabled (410 Gone) back on."""
        names = []
        with self.transaction():
            for s in sources:
                names.append(s.name)
                existing = self._one(
                    "SELECT id, type, coalesce(config_url, url) AS config_url FROM sources"
                    " WHERE name = ?",
                    [s.name],
                )
                if existing is None:
                    self.db.execute(
                        "INSERT INTO sources (name, type, url, config_url, language, enabled,"
                        " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [s.name, s.type, s.url, s.url, s.language, int(s.enabled), iso(now)],
                    )
                    continue
                self.db.execute(
                    "UPDATE sources SET type = ?, language = ?, enabled = ?, in_config = 1"
                    " WHERE id = ?",
                    [s.type, s.language, int(s.enabled), existing["id"]],
                )
                if existing["config_url"] != s.url or existing["type"] != s.type:
                    self.db.execute(
                        "UPDATE sources SET url = ?, config_url = ?, etag = NULL,"
                        " last_modified = NULL, moved_from = NULL, url_changed_at = ?,"
                        " disabled_reason = NULL, disabled_at = NULL, retry_after = NULL,"
                        " consecutive_errors = 0, next_poll = NULL, poll_interval = NULL,"
                        " cache_max_age = NULL, feed_ttl = NULL WHERE id = ?",
                        [s.url, s.url, iso(now), existing["id"]],
                    )
            placeholders = ",".join("?" * len(names)) or "''"
            self.db.execute(
                f"UPDATE sources SET in_config = 0 WHERE name NOT IN ({placeholders})", names
            )

    def sources(self, *, configured_only: bool = True) -> list[SourceRow]:
        where = "WHERE s.in_config = 1" if configured_only else ""
        rows = self._rows(
            "SELECT s.*, (SELECT count(*) FROM articles a WHERE a.source_id = s.id)"
            f" AS article_count FROM sources s {where} ORDER BY s.name"
        )
        return [_source_row(r) for r in rows]

    def source(self, name: str) -> SourceRow | None:
        row = self._one(
            "SELECT s.*, (SELECT count(*) FROM articles a WHERE a.source_id = s.id)"
            " AS article_count FROM sources s WHERE s.name = ?",
            [name],
        )
        return _source_row(row) if row else None

    def due_sources(
        self, now: datetime, *, force: bool = False, names: Iterable[str] | None = None
    ) -> list[SourceRow]:
        """Configured, enabled sources whose next poll has come (all of them with
        ``force``), by name. Never those switched off (410 Gone) or asked to wait by a
        Retry-After that has not passed yet, forced or not."""
        sql = (
            "SELECT * FROM sources WHERE in_config = 1 AND enabled = 1"
            " AND disabled_reason IS NULL AND (retry_after IS NULL OR retry_after <= :now)"
        )
        if not force:
            sql += " AND (next_poll IS NULL OR next_poll <= :now)"
        rows = [_source_row(r) for r in self._rows(sql + " ORDER BY name", {"now": iso(now)})]
        if names is not None:
            wanted = set(names)
            rows = [r for r in rows if r.name in wanted]
        return rows

    def recent_entry_times(self, source_id: int, limit: int = 100) -> list[datetime]:
        """The dates of a source's newest articles (publication, else first seen)."""
        rows = self.db.execute(
            "SELECT coalesce(published, fetched) FROM articles WHERE source_id = ?"
            " ORDER BY coalesce(published, fetched) DESC LIMIT ?",
            [source_id, limit],
        ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows if r[0]]

    def record_crawl(self, source_id: int, now: datetime, record: CrawlRecord) -> None:
        """Store one crawl's outcome on the source: fetch state and health, a permanent
        move (the crawler goes to the new URL from now on; the config's URL is kept in
        ``config_url``), 410 Gone (the source is switched off) and Retry-After."""
        with self.transaction():
            if record.ok:
                self.db.execute(
                    "UPDATE sources SET etag = ?, last_modified = ?, last_fetched = ?,"
                    " last_success = ?, consecutive_errors = 0, warning = ?,"
                    " title = coalesce(?, title), next_poll = ?, poll_interval = ?,"
                    " cache_max_age = ?, feed_ttl = coalesce(?, feed_ttl), retry_after = NULL,"
                    " last_status = ?, last_duration = ? WHERE id = ?",
                    [
                        record.etag,
                        record.last_modified,
                        iso(now),
                        iso(now),
                        record.warning,
                        record.title,
                        iso(record.next_poll),
                        record.poll_interval,
                        record.cache_max_age,
                        record.feed_ttl,
                        record.status,
                        record.duration,
                        source_id,
                    ],
                )
            else:
                self.db.execute(
                    "UPDATE sources SET last_fetched = ?, last_error = ?, last_error_at = ?,"
                    " consecutive_errors = consecutive_errors + 1, next_poll = ?,"
                    " retry_after = ?, last_status = ?, last_duration = ? WHERE id = ?",
                    [
                        iso(now),
                        record.error or "failed",
                        iso(now),
                        iso(record.next_poll),
                        iso(record.retry_after),
                        record.status,
                        record.duration,
                        source_id,
                    ],
                )
            if record.moved_to:
                self.db.execute(
                    "UPDATE sources SET moved_from = url, url = ?, url_changed_at = ?"
                    " WHERE id = ? AND url != ?",
                    [record.moved_to, iso(now), source_id, record.moved_to],
                )
            if record.gone:
                self.db.execute(
                    "UPDATE sources SET disabled_reason = ?, disabled_at = ? WHERE id = ?",
                    [f"410 Gone on {now.date().isoformat()}", iso(now), source_id],
                )

    def enable_source(self, name: str) -> bool:
        """Switch a source that the crawler disabled (410 Gone) back on, due at once;
        also forgets a Retry-After and the error count. False if there is no such source."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE sources SET disabled_reason = NULL, disabled_at = NULL,"
                " retry_after = NULL, consecutive_errors = 0, next_poll = NULL WHERE name = ?",
                [name],
            )
        return cursor.rowcount == 1

    # --- articles ------------------------------------------------------------------

    def save_entries(self, source_id: int, entries: Iterable[Entry], now: datetime) -> SaveResult:
        """Insert new entries, update changed ones (and queue them for processing again);
        the (source, identity) pair is unique, so repeating a save adds nothing.

        One article, one row, across an alert and the publisher's own feed (their links
        are unwrapped to the same canonical URL): an alert's new entry whose URL is
        stored already, from any other source, is not stored again (``known``); a
        feed's new entry whose URL only an alert has brought in takes over that row
        (the feed's fuller copy replaces the alert's snippet, and is processed again)."""
        new = updated = unchanged = known = 0
        with self.transaction():
            kind = self._one("SELECT type FROM sources WHERE id = ?", [source_id])
            is_alert = bool(kind) and kind["type"] == "alert"
            alerts_exist = is_alert or bool(
                self._one("SELECT 1 AS x FROM sources WHERE type = 'alert' LIMIT 1")
            )
            for e in entries:
                digest = e.content_hash
                row = self._one(
                    "SELECT id, content_hash, published FROM articles"
                    " WHERE source_id = ? AND identity = ?",
                    [source_id, e.identity],
                )
                values = {
                    "guid": e.guid,
                    "url": e.url,
                    "title": e.title,
                    "summary": e.summary,
                    "content": e.content,
                    "text": e.text,
                    "author": e.author,
                    "published": iso(e.published),
                    "language": e.language,
                    "categories": json.dumps(list(e.categories), ensure_ascii=False),
                    "content_hash": digest,
                }
                if row is None and e.url and alerts_exist:
                    if is_alert:
                        if self._one(
                            "SELECT id FROM articles WHERE url = ? AND source_id != ? LIMIT 1",
                            [e.url, source_id],
                        ):
                            known += 1
                            continue
                    else:
                        held = self._one(
                            "SELECT a.id FROM articles a JOIN sources s ON s.id = a.source_id"
                            " WHERE a.url = ? AND s.type = 'alert' AND NOT EXISTS (SELECT 1"
                            " FROM articles b JOIN sources t ON t.id = b.source_id"
                            " WHERE b.url = a.url AND t.type != 'alert') LIMIT 1",
                            [e.url],
                        )
                        if held:
                            self.db.execute(
                                "UPDATE articles SET source_id = :source_id,"
                                " identity = :identity, guid = :guid, url = :url,"
                                " title = :title, summary = :summary, content = :content,"
                                " text = :text, author = :author,"
                                " published = coalesce(:published, published),"
                                " language = :language, categories = :categories,"
                                " content_hash = :content_hash, updated = :now,"
                                " processed_at = NULL WHERE id = :id",
                                {
                                    **values,
                                    "source_id": source_id,
                                    "identity": e.identity,
                                    "id": held["id"],
                                    "now": iso(now),
                                },
                            )
                            new += 1
                            continue
                if row is None:
                    self.db.execute(
                        "INSERT INTO articles (source_id, identity, guid, url, title, summary,"
                        " content, text, author, published, fetched, updated, language,"
                        " categories, content_hash) VALUES (:source_id, :identity, :guid,"
                        " :url, :title, :summary, :content, :text, :author, :published,"
                        " :now, :now, :language, :categories, :content_hash)",
                        {**values, "source_id": source_id, "identity": e.identity, "now": iso(now)},
                    )
                    new += 1
                elif row["content_hash"] != digest:
                    self.db.execute(
                        "UPDATE articles SET guid = :guid, url = :url, title = :title,"
                        " summary = :summary, content = :content, text = :text,"
                        " author = :author, published = coalesce(:published, published),"
                        " language = :language, categories = :categories,"
                        " content_hash = :content_hash, updated = :now, processed_at = NULL"
                        " WHERE id = :id",
                        {**values, "id": row["id"], "now": iso(now)},
                    )
                    updated += 1
                else:
                    if values["published"] and values["published"] != row["published"]:
                        self.db.execute(
                            "UPDATE articles SET published = ? WHERE id = ?",
                            [values["published"], row["id"]],
                        )
                    unchanged += 1
        return SaveResult(new=new, updated=updated, unchanged=unchanged, known=known)

    def known_identities(self, source_id: int, identities: Iterable[str]) -> set[str]:
        """Which of ``identities`` the source has stored already."""
        wanted = sorted(set(identities))
        found: set[str] = set()
        for chunk, marks in _chunks(wanted):
            rows = self.db.execute(
                f"SELECT identity FROM articles WHERE source_id = ? AND identity IN ({marks})",
                [source_id, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def article_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def unprocessed_count(self) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM articles WHERE processed_at IS NULL").fetchone()[
                0
            ]
        )

    def articles_to_process(self, limit: int = 1000, after_id: int = 0) -> list[dict]:
        return self._rows(
            "SELECT a.*, s.name AS source_name, s.url AS source_url,"
            " s.language AS source_language FROM articles a"
            " JOIN sources s ON s.id = a.source_id"
            " WHERE a.processed_at IS NULL AND a.id > ? ORDER BY a.id LIMIT ?",
            [after_id, limit],
        )

    def max_processed_id(self) -> int:
        return int(
            self.db.execute(
                "SELECT coalesce(max(id), 0) FROM articles WHERE processed_at IS NOT NULL"
            ).fetchone()[0]
        )

    def processed_articles(self, after_id: int, through_id: int, limit: int = 1000) -> list[dict]:
        """Processed articles with after_id < id <= through_id, in id order."""
        return self._rows(
            "SELECT a.*, s.name AS source_name, s.url AS source_url,"
            " f.language AS detected_language, f.entities FROM articles a"
            " JOIN sources s ON s.id = a.source_id"
            " LEFT JOIN article_features f ON f.article_id = a.id WHERE a.id > ? AND a.id <= ?"
            " AND a.processed_at IS NOT NULL ORDER BY a.id LIMIT ?",
            [after_id, through_id, limit],
        )

    # --- watchlists and matches ----------------------------------------------------

    def sync_watchlists(self, watchlists: Iterable[Any]) -> list[str]:
        """Store the configured watchlists; a new or changed query drops its old matches
        so stored articles are matched again. Returns the names that need (re)matching."""
        stale: list[str] = []
        names: list[str] = []
        with self.transaction():
            for w in watchlists:
                names.append(w.name)
                row = self._one("SELECT query FROM watchlists WHERE name = ?", [w.name])
                if row is None:
                    self.db.execute(
                        "INSERT INTO watchlists (name, title, query) VALUES (?, ?, ?)",
                        [w.name, w.title, w.query],
                    )
                elif row["query"] != w.query:
                    self.db.execute("DELETE FROM matches WHERE watchlist = ?", [w.name])
                    self.db.execute(
                        "UPDATE watchlists SET title = ?, query = ?, matched_through = 0"
                        " WHERE name = ?",
                        [w.title, w.query, w.name],
                    )
                else:
                    self.db.execute(
                        "UPDATE watchlists SET title = ? WHERE name = ?", [w.title, w.name]
                    )
            placeholders = ",".join("?" * len(names)) or "''"
            self.db.execute(f"DELETE FROM watchlists WHERE name NOT IN ({placeholders})", names)
            top = self.max_processed_id()
            for row in self._rows("SELECT name, matched_through FROM watchlists"):
                if row["matched_through"] < top:
                    stale.append(row["name"])
        return stale

    def watchlist_progress(self) -> dict[str, int]:
        return {r["name"]: r["matched_through"] for r in self._rows("SELECT * FROM watchlists")}

    def save_matches(
        self,
        results: Iterable[tuple[int, str, dict[str, Any] | None]],
        *,
        processed_ids: Iterable[int] = (),
        progress: dict[str, int] | None = None,
        now: datetime,
    ) -> int:
        """Store match results ``(article_id, watchlist, explanation or None)`` in one
        transaction, mark articles processed and advance each watchlist's progress."""
        with self.transaction():
            count = self._save_matches(results, now)
            self._mark_processed(list(processed_ids), progress or {}, now)
        return count

    def _save_matches(
        self, results: Iterable[tuple[int, str, dict[str, Any] | None]], now: datetime
    ) -> int:
        # the last result per article and watchlist counts; then one statement each way
        latest = {(article_id, watchlist): why for article_id, watchlist, why in results}
        created = iso(now)
        gone = [key for key, why in latest.items() if why is None]
        found = [
            (
                article_id,
                watchlist,
                json.dumps(why.get("terms", []), ensure_ascii=False),
                why.get("location", ""),
                why.get("snippet", ""),
                created,
            )
            for (article_id, watchlist), why in latest.items()
            if why is not None
        ]
        if gone:
            self.db.conn.executemany(
                "DELETE FROM matches WHERE article_id = ? AND watchlist = ?", gone
            )
        if found:
            self.db.conn.executemany(
                "INSERT INTO matches (article_id, watchlist, terms, location, snippet,"
                " created) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, watchlist)"
                " DO UPDATE SET terms = excluded.terms, location = excluded.location,"
                " snippet = excluded.snippet",
                found,
            )
        return len(found)

    def _mark_processed(self, ids: list[int], progress: dict[str, int], now: datetime) -> None:
        for chunk, marks in _chunks(ids):
            self.db.execute(
                f"UPDATE articles SET processed_at = ? WHERE id IN ({marks})",
                [iso(now), *chunk],
            )
        for name, through in progress.items():
            self.db.execute(
                "UPDATE watchlists SET matched_through = max(matched_through, ?) WHERE name = ?",
                [through, name],
            )

    def matched_articles(
        self, watchlist: str, start: datetime, end: datetime, *, max_backdate_days: int = 30
    ) -> list[dict]:
        """Articles matched by ``watchlist`` whose date (publication, else first seen)
        falls in [start, end); entries published more than ``max_backdate_days`` before
        they were first seen are left out. Newest first."""
        return self._rows(
            "SELECT a.id, a.title, a.url, a.summary, a.text, a.published, a.fetched,"
            " a.language, a.story_id, a.duplicate_of, s.name AS source_name, m.terms,"
            " m.location, m.snippet, coalesce(a.published, a.fetched) AS date,"
            " f.entities, f.keyphrases"
            " FROM matches m JOIN articles a ON a.id = m.article_id"
            " JOIN sources s ON s.id = a.source_id"
            " LEFT JOIN article_features f ON f.article_id = a.id"
            " WHERE m.watchlist = ? AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?"
            " AND (a.published IS NULL OR julianday(a.fetched) - julianday(a.published) <= ?)"
            " ORDER BY date DESC, a.id DESC",
            [watchlist, iso(start), iso(end), max_backdate_days],
        )

    def period_articles(self, start: datetime, end: datetime, limit: int = 2000) -> list[dict]:
        """Canonical processed articles dated in [start, end), newest first, with their
        entities and keyphrases (candidates for "Lees ook")."""
        return self._rows(
            "SELECT a.id, a.title, a.url, a.story_id, a.duplicate_of, s.name AS source_name,"
            " coalesce(a.published, a.fetched) AS date, f.entities, f.keyphrases"
            " FROM articles a JOIN sources s ON s.id = a.source_id"
            " JOIN article_features f ON f.article_id = a.id"
            " WHERE a.duplicate_of IS NULL AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ? ORDER BY date DESC, a.id DESC LIMIT ?",
            [iso(start), iso(end), limit],
        )

    def story_members(self, story_ids: Iterable[int]) -> list[dict]:
        """Every article of the given stories: id, story, source, URL, title, date."""
        wanted = sorted(set(story_ids))
        rows: list[dict] = []
        for chunk, marks in _chunks(wanted):
            rows += self._rows(
                "SELECT a.id, a.story_id, a.duplicate_of, a.url, a.title,"
                " coalesce(a.published, a.fetched) AS date, s.name AS source_name"
                f" FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE a.story_id IN ({marks}) ORDER BY a.id",
                chunk,
            )
        return rows

    def match_count(self, since: datetime | None = None) -> int:
        if since is None:
            return int(self.db.execute("SELECT count(*) FROM matches").fetchone()[0])
        return int(
            self.db.execute(
                "SELECT count(*) FROM matches WHERE created >= ?", [iso(since)]
            ).fetchone()[0]
        )

    # --- NLP results: features, duplicates, stories, state ---------------------------

    def state(self, key: str) -> str | bytes | None:
        row = self._one("SELECT value FROM state WHERE key = ?", [key])
        return row["value"] if row else None

    def cluster_stories(self) -> list[bytes]:
        """The clusterer's stored open stories, by id (see ``save_processed``)."""
        rows = self.db.execute("SELECT state FROM cluster_stories ORDER BY id").fetchall()
        return [row[0] for row in rows]

    def save_processed(
        self,
        articles: Iterable[ProcessedArticle],
        *,
        matches: Iterable[tuple[int, str, dict[str, Any] | None]],
        progress: dict[str, int],
        stories: Iterable[StoryRow],
        state: dict[str, str | bytes],
        cluster_stories: tuple[dict[int, bytes], Iterable[int]] = ({}, ()),
        repoint: Iterable[tuple[int, int]] = (),
        merges: Iterable[tuple[int, int]] = (),
        now: datetime,
    ) -> int:
        """Store one processed batch in one transaction: features, duplicate and story
        links, watchlist matches, the stories touched and the clusterer's state (its
        ``state`` rows, and ``cluster_stories``: the open stories to write, by id, and
        the ids of those to delete). A crash part-way leaves the batch unprocessed, to
        be done again from the same state."""
        with self.transaction():
            for story in stories:
                self.db.execute(
                    "INSERT INTO stories (id, label, representative_id, first_seen, last_seen,"
                    " size, updated) VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                    " SET label = excluded.label, first_seen = excluded.first_seen,"
                    " last_seen = excluded.last_seen, size = excluded.size,"
                    " updated = excluded.updated",
                    [
                        story.id,
                        story.label,
                        iso(story.first),
                        iso(story.last),
                        story.size,
                        iso(now),
                    ],
                )
            articles = list(articles)
            ids = [a.id for a in articles]
            analysed = iso(now)
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO article_features (article_id, language, entities,"
                " keyphrases, terms, numbers, links, minhash, analysed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        a.id,
                        a.language,
                        _json(a.entities),
                        _json(a.keyphrases),
                        _json(a.terms),
                        _json(a.numbers),
                        _json(a.links),
                        a.minhash,
                        analysed,
                    )
                    for a in articles
                ],
            )
            self.db.conn.executemany(
                "UPDATE articles SET duplicate_of = ?, story_id = coalesce(?, story_id)"
                " WHERE id = ?",
                [(a.duplicate_of, a.story_id, a.id) for a in articles],
            )
            for old, new in merges:  # two stories turned out to be one
                self.db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [new, old])
                self.db.execute("DELETE FROM stories WHERE id = ?", [old])
            for old, new in repoint:  # a better canonical copy arrived
                self.db.execute(
                    "UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ? OR id = ?",
                    [new, old, old],
                )
                self.db.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", [new])
            # representatives last: they may be articles of this very batch
            for story in stories:
                self.db.execute(
                    "UPDATE stories SET representative_id = ? WHERE id = ?",
                    [story.representative_id, story.id],
                )
            # every watchlist was evaluated for these articles: clear theirs, store the hits
            for chunk, marks in _chunks(ids):
                self.db.execute(f"DELETE FROM matches WHERE article_id IN ({marks})", chunk)
            count = self._save_matches((m for m in matches if m[2] is not None), now)
            self._mark_processed(ids, progress, now)
            for key, value in state.items():
                self.db.execute(
                    "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key)"
                    " DO UPDATE SET value = excluded.value",
                    [key, value],
                )
            changed, removed = cluster_stories
            self.db.conn.executemany(
                "DELETE FROM cluster_stories WHERE id = ?", [(i,) for i in removed]
            )
            self.db.conn.executemany(
                "INSERT INTO cluster_stories (id, state) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET state = excluded.state",
                list(changed.items()),
            )
        return count

    def dedup_candidates(self, since: datetime) -> list[dict]:
        """Processed articles first seen since ``since`` with their MinHash signature,
        oldest first, for the near-duplicate index."""
        return self._rows(
            "SELECT a.id, a.duplicate_of, a.story_id, coalesce(a.published, a.fetched) AS date,"
            " s.name AS source_name, f.minhash FROM articles a"
            " JOIN article_features f ON f.article_id = a.id JOIN sources s ON s.id = a.source_id"
            " WHERE a.fetched >= ? AND f.minhash IS NOT NULL ORDER BY a.id",
            [iso(since)],
        )

    def article_infos(self, ids: Iterable[int]) -> list[dict]:
        """Date, source and duplicate-of of the given articles (no signature)."""
        wanted = sorted(set(ids))
        rows: list[dict] = []
        for chunk, marks in _chunks(wanted):
            rows += self._rows(
                "SELECT a.id, a.duplicate_of, coalesce(a.published, a.fetched) AS date,"
                " s.name AS source_name FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE a.id IN ({marks})",
                chunk,
            )
        return rows

    def features(self, article_id: int) -> dict | None:
        return self._one("SELECT * FROM article_features WHERE article_id = ?", [article_id])

    def article_story(self, article_id: int) -> int | None:
        row = self._one("SELECT story_id FROM articles WHERE id = ?", [article_id])
        return row["story_id"] if row else None

    def reset_processing(self) -> int:
        """Forget every NLP result so ``process`` starts again from the first article."""
        with self.transaction():
            self.db.execute(
                "UPDATE articles SET processed_at = NULL, duplicate_of = NULL, story_id = NULL"
            )
            for table in (
                "article_features",
                "matches",
                "stories",
                "state",
                "cluster_stories",
                "trends",
            ):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("UPDATE watchlists SET matched_through = 0")
        return self.article_count()

    def story_count(self, since: datetime | None = None) -> int:
        if since is None:
            return int(self.db.execute("SELECT count(*) FROM stories").fetchone()[0])
        return int(
            self.db.execute(
                "SELECT count(*) FROM stories WHERE last_seen >= ?", [iso(since)]
            ).fetchone()[0]
        )

    # --- trends ----------------------------------------------------------------------

    def tagged_articles(self, start: datetime, end: datetime) -> list[dict]:
        """Canonical (non-duplicate) processed articles dated in [start, end), with their
        keyphrases, entities and the watchlists they matched."""
        return self._rows(
            "SELECT a.id, a.story_id, f.keyphrases, f.entities,"
            " coalesce(a.published, a.fetched) AS date,"
            " (SELECT json_group_array(m.watchlist) FROM matches m WHERE m.article_id = a.id)"
            " AS watchlists FROM articles a JOIN article_features f ON f.article_id = a.id"
            " WHERE a.duplicate_of IS NULL AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?",
            [iso(start), iso(end)],
        )

    def has_articles_before(self, when: datetime) -> bool:
        row = self._one(
            "SELECT 1 AS x FROM articles WHERE coalesce(published, fetched) < ? LIMIT 1",
            [iso(when)],
        )
        return row is not None

    def stories_by_id(self, ids: Iterable[int]) -> dict[int, dict]:
        wanted = sorted(set(ids))
        found: dict[int, dict] = {}
        for chunk, marks in _chunks(wanted):
            for r in self._rows(f"SELECT * FROM stories WHERE id IN ({marks})", chunk):
                found[r["id"]] = r
        return found

    def entity_seen_before(self, keys: Iterable[str], before: datetime) -> set[str]:
        """Which of ``keys`` occur in an article dated before ``before``."""
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        found: set[str] = set()
        for chunk, marks in _chunks(wanted):
            rows = self._rows(
                "SELECT DISTINCT json_extract(e.value, '$.key') AS key"
                " FROM articles a JOIN article_features f ON f.article_id = a.id,"
                " json_each(f.entities) e WHERE coalesce(a.published, a.fetched) < ?"
                f" AND json_extract(e.value, '$.key') IN ({marks})",
                [iso(before), *chunk],
            )
            found.update(r["key"] for r in rows)
        return found

    def save_trends(self, week: str, scope: str, trends: Iterable[dict[str, Any]]) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM trends WHERE week = ? AND scope = ?", [week, scope])
            for rank, t in enumerate(trends):
                self.db.execute(
                    "INSERT INTO trends (week, scope, kind, term, rank, data)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [week, scope, t["kind"], t["term"], rank, _json(t)],
                )

    def trends(self, week: str, scope: str = "*") -> list[dict]:
        rows = self._rows(
            "SELECT data FROM trends WHERE week = ? AND scope = ? ORDER BY kind, rank",
            [week, scope],
        )
        return [json.loads(r["data"]) for r in rows]

    # --- import and export -----------------------------------------------------------

    def ensure_source(self, name: str, type_: str, url: str, now: datetime) -> int:
        """The id of a source that is not crawled (an import), created if needed."""
        row = self._one("SELECT id FROM sources WHERE name = ?", [name])
        if row:
            return int(row["id"])
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO sources (name, type, url, enabled, in_config, created)"
                " VALUES (?, ?, ?, 0, 0, ?)",
                [name, type_, url, iso(now)],
            )
        return int(cur.lastrowid)

    def export_rows(self, batch: int = 1000) -> Iterator[dict]:
        """Every article with its source, features and matches, in id order."""
        after = 0
        while True:
            rows = self._rows(
                "SELECT a.*, s.name AS source_name, s.type AS source_type,"
                " f.language AS detected_language, f.entities, f.keyphrases,"
                " (SELECT json_group_array(json_object('watchlist', m.watchlist,"
                " 'terms', json(m.terms), 'location', m.location, 'snippet', m.snippet))"
                " FROM matches m WHERE m.article_id = a.id) AS matches"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN article_features f ON f.article_id = a.id"
                " WHERE a.id > ? ORDER BY a.id LIMIT ?",
                [after, batch],
            )
            if not rows:
                return
            yield from rows
            after = rows[-1]["id"]

    # --- editions and deliveries ---------------------------------------------------

    def edition(self, key: str) -> dict | None:
        return self._one("SELECT * FROM editions WHERE key = ?", [key])

    def add_edition(self, row: dict[str, Any]) -> int:
        """Insert an edition unless one with the same key exists; returns its id either
        way (the first build of a period wins, so a re-run sends the same content)."""
        with self.transaction():
            existing = self._one("SELECT id FROM editions WHERE key = ?", [row["key"]])
            if existing:
                return int(existing["id"])
            cursor = self.db.execute(
                "INSERT INTO editions (key, slug, title, language, period_start, period_end,"
                " year, week, watchlists, item_count, archive_path, data, built_at) VALUES"
                " (:key, :slug, :title, :language, :period_start, :period_end, :year, :week,"
                " :watchlists, :item_count, :archive_path, :data, :built_at)",
                row,
            )
            return int(cursor.lastrowid)

    def editions_for(self, slug: str, before: str) -> list[dict]:
        """Earlier editions of one audience (by slug), built before ``before`` (ISO)."""
        return self._rows(
            "SELECT * FROM editions WHERE slug = ? AND built_at < ? ORDER BY built_at",
            [slug, before],
        )

    def editions(self) -> list[dict]:
        return self._rows("SELECT * FROM editions ORDER BY period_end DESC, key")

    def ensure_delivery(self, edition_id: int, subscriber: str, now: datetime) -> dict:
        with self.transaction():
            self.db.execute(
                "INSERT INTO deliveries (edition_id, subscriber, created) VALUES (?, ?, ?)"
                " ON CONFLICT (edition_id, subscriber) DO NOTHING",
                [edition_id, subscriber, iso(now)],
            )
        row = self._one(
            "SELECT * FROM deliveries WHERE edition_id = ? AND subscriber = ?",
            [edition_id, subscriber],
        )
        assert row is not None
        return row

    def unfinished_deliveries(self) -> list[dict]:
        """Deliveries still pending or left 'sending', with their edition, oldest first."""
        return self._rows(
            "SELECT d.*, e.key AS edition_key, e.built_at, e.data FROM deliveries d"
            " JOIN editions e ON e.id = d.edition_id"
            " WHERE d.status IN ('pending', 'sending') ORDER BY e.built_at, d.id"
        )

    def claim_delivery(self, delivery_id: int, transport: str, message_id: str) -> bool:
        """Move a pending delivery to 'sending'. False when someone else has it or it is
        already done: the row is the lock, so two runs never send the same message."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE deliveries SET status = 'sending', transport = ?, message_id = ?,"
                " attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
                [transport, message_id, delivery_id],
            )
            return cursor.rowcount == 1

    def finish_delivery(
        self,
        delivery_id: int,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        next_attempt: datetime | None = None,
    ) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE deliveries SET status = ?, last_error = ?, next_attempt = ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                [status, error, iso(next_attempt), status, iso(now), delivery_id],
            )

    def delivery(self, delivery_id: int) -> dict | None:
        return self._one("SELECT * FROM deliveries WHERE id = ?", [delivery_id])

    def deliveries(self, edition_id: int | None = None) -> list[dict]:
        if edition_id is None:
            return self._rows("SELECT * FROM deliveries ORDER BY id")
        return self._rows("SELECT * FROM deliveries WHERE edition_id = ? ORDER BY id", [edition_id])

    def delivery_counts(self) -> dict[str, int]:
        rows = self._rows("SELECT status, count(*) AS n FROM deliveries GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def delivered_to(self, edition_id: int) -> set[str]:
        """Subscribers with a delivery of this edition in any state."""
        rows = self.db.execute(
            "SELECT subscriber FROM deliveries WHERE edition_id = ?", [edition_id]
        ).fetchall()
        return {r[0] for r in rows}

    # --- scheduler bookkeeping -------------------------------------------------------

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def next_polls(self) -> dict[str, datetime | None]:
        """Each crawlable source's next poll (None: never polled), by name; sources
        switched off are left out, and a pending Retry-After counts as the next poll."""
        rows = self.db.execute(
            "SELECT name, next_poll, retry_after FROM sources WHERE in_config = 1"
            " AND enabled = 1 AND disabled_reason IS NULL"
        ).fetchall()
        out: dict[str, datetime | None] = {}
        for name, next_poll, retry_after in rows:
            times = [from_iso(t) for t in (next_poll, retry_after) if t]
            out[name] = max((t for t in times if t is not None), default=None)
        return out

    def postpone_polls(self, polls: dict[str, datetime]) -> None:
        """Move sources' next polls (the scheduler spreads overdue ones after a restart)."""
        with self.transaction():
            for name, when in polls.items():
                self.db.execute(
                    "UPDATE sources SET next_poll = ? WHERE name = ?", [iso(when), name]
                )

    def next_delivery_attempt(self) -> datetime | None:
        """The earliest retry time of a pending delivery (None: nothing is waiting)."""
        row = self.db.execute(
            "SELECT min(coalesce(next_attempt, created)) FROM deliveries"
            " WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def article_count_since(self, since: datetime) -> int:
        """Articles first seen since ``since``."""
        return int(
            self.db.execute(
                "SELECT count(*) FROM articles WHERE fetched >= ?", [iso(since)]
            ).fetchone()[0]
        )


def _source_row(r: dict) -> SourceRow:
    return SourceRow(
        id=r["id"],
        name=r["name"],
        type=r["type"],
        url=r["url"],
        language=r["language"],
        enabled=bool(r["enabled"]),
        etag=r["etag"],
        last_modified=r["last_modified"],
        last_success=r["last_success"],
        last_error=r["last_error"],
        last_error_at=r["last_error_at"],
        consecutive_errors=r["consecutive_errors"],
        warning=r["warning"],
        next_poll=r["next_poll"],
        in_config=bool(r["in_config"]),
        article_count=r.get("article_count", 0),
        title=r.get("title"),
        last_fetched=r.get("last_fetched"),
        config_url=r.get("config_url"),
        moved_from=r.get("moved_from"),
        url_changed_at=r.get("url_changed_at"),
        disabled_reason=r.get("disabled_reason"),
        disabled_at=r.get("disabled_at"),
        retry_after=r.get("retry_after"),
        cache_max_age=r.get("cache_max_age"),
        feed_ttl=r.get("feed_ttl"),
        poll_interval=r.get("poll_interval"),
        last_status=r.get("last_status"),
        last_duration=r.get("last_duration"),
    )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """``values`` in pieces within SQLite's limit on parameters, each with its "?,?,…"."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield chunk, ",".join("?" * len(chunk))
