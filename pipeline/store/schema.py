"""The schema: one migration per ``user_version`` step, from the first tables to the
subscribers of the web. A migration is never changed once released; a new one is
appended (the connection applies them one step at a time, checking foreign keys after
each). ``APPLICATION_ID`` marks a file as a trendwatch database.

The same list builds a PostgreSQL database: a migration gets a ``Target`` to run its
DDL on, sqlite-utils' ``Database`` on SQLite or a :class:`PostgresMigration`, whose
``executescript`` translates SQLite's types (:meth:`pipeline.store.dialect.Dialect.ddl`).
Where the two differ beyond types (FTS5, an expression index, the ``state`` table's
text-or-bytes values), the migration asks :func:`dialect_of` and says both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pipeline.store.dialect import Dialect

APPLICATION_ID = 0x54574348  # "TWCH"


class Target(Protocol):
    """What a migration runs its DDL on."""

    def executescript(self, sql: str) -> Any: ...

    def execute(self, sql: str) -> Any: ...


class PostgresMigration:
    """A migration's target on PostgreSQL: its DDL with PostgreSQL's types."""

    dialect_name = "postgresql"

    def __init__(self, dbapi: Any, dialect: Dialect) -> None:
        self.dbapi = dbapi
        self.dialect = dialect

    def executescript(self, sql: str) -> None:
        self.dbapi.cursor().execute(self.dialect.ddl(sql))  # several statements, no params

    def execute(self, sql: str) -> None:
        self.executescript(sql)


def dialect_of(db: Target) -> str:
    """``"sqlite"`` (sqlite-utils' Database) or ``"postgresql"``."""
    return str(getattr(db, "dialect_name", "sqlite"))


def _v1(db: Target) -> None:
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


def _v2(db: Target) -> None:
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
    if dialect_of(db) == "postgresql":
        # SQLite's TEXT column holds the clusterer's bytes too; PostgreSQL's cannot
        db.executescript(
            """
            ALTER TABLE state ALTER COLUMN value DROP NOT NULL;
            ALTER TABLE state ADD COLUMN value_bytes BYTEA;
            ALTER TABLE state ADD CHECK ((value IS NULL) <> (value_bytes IS NULL));
            """
        )


def _v3(db: Target) -> None:
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
    date = "coalesce(published, fetched)"
    if dialect_of(db) == "postgresql":
        date = f"({date})"  # PostgreSQL wants an expression in parentheses
    db.execute(f"CREATE INDEX articles_source_date ON articles(source_id, {date})")


def _v4(db: Target) -> None:
    """The story clusterer's open stories, one row each, so that a batch writes only the
    stories it changed (the rest of its state stays in ``state``)."""
    db.execute("CREATE TABLE cluster_stories (id INTEGER PRIMARY KEY, state BLOB NOT NULL)")


def _v5(db: Target) -> None:
    """Full-text search over the processed articles (``pipeline/store/search.py``): an
    FTS5 table with the title, the plain text (phrases, snippets), the article's lemmas
    (the content-word lemmas of ``article_features.terms``, so ``woning`` finds
    ``woningen`` in Dutch as in English) and tags for the filters that FTS5 answers
    itself (``twsource<id> twlang<code>``), case and diacritics folded; the rowid is the
    article's id. An article's row goes with the article. The articles processed before
    are indexed here; the process stage indexes every batch it stores.

    On PostgreSQL a table with the same columns and the article's language, whose
    ``document`` (a ``tsvector``: the title and text under the language's configuration,
    ``dutch`` or ``english``, and the lemmas as they are) has a GIN index; its rows go
    with their article by a foreign key."""
    if dialect_of(db) == "postgresql":
        db.executescript(_V5_POSTGRESQL)
        return
    db.executescript(
        """
        CREATE VIRTUAL TABLE article_search USING fts5(
            title, text, lemmas, tags, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN
            DELETE FROM article_search WHERE rowid = old.id;
        END;
        INSERT INTO article_search (rowid, title, text, lemmas, tags)
            SELECT a.id, a.title, a.text,
                coalesce((SELECT group_concat(t.key, ' ') FROM json_each(f.terms) t), ''),
                'twsource' || a.source_id || ' twlang' || f.language
            FROM articles a JOIN article_features f ON f.article_id = a.id
            WHERE a.processed_at IS NOT NULL ORDER BY a.id;
        """
    )


_SEARCH_CONFIG = (
    "CASE language WHEN 'nl' THEN 'dutch'::regconfig WHEN 'en' THEN 'english'::regconfig"
    " ELSE 'simple'::regconfig END"
)
_V5_POSTGRESQL = f"""
    CREATE TABLE article_search (
        id BIGINT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        lemmas TEXT NOT NULL,
        tags TEXT NOT NULL,
        language TEXT NOT NULL,
        document TSVECTOR GENERATED ALWAYS AS (
            setweight(to_tsvector({_SEARCH_CONFIG}, title), 'A')
            || setweight(to_tsvector({_SEARCH_CONFIG}, text), 'B')
            || setweight(to_tsvector('simple'::regconfig, lemmas), 'A')
        ) STORED
    );
    CREATE INDEX article_search_document ON article_search USING GIN (document);
    INSERT INTO article_search (id, title, text, lemmas, tags, language)
        SELECT a.id, a.title, a.text,
            coalesce((SELECT string_agg(t.key, ' ')
                FROM jsonb_object_keys(f.terms::jsonb) AS t(key)), ''),
            'twsource' || a.source_id || ' twlang' || f.language, f.language
        FROM articles a JOIN article_features f ON f.article_id = a.id
        WHERE a.processed_at IS NOT NULL ORDER BY a.id;
"""


def _v6_subscribers(db: Target) -> None:
    """Subscriptions: the subscribers of the web (and every subscriber's unsubscribe and
    token version, the config's too), and the requests waiting for their confirmation.
    Self-contained: it follows search's version 5 and needs nothing of it.

    ``subscribers`` has one row per address (``email_key``: stripped and case-folded)
    that subscribed on the web or unsubscribed: ``status`` active or unsubscribed,
    ``token_version`` raised by every unsubscribe. ``subscribe_requests`` keeps what a
    subscribe form asked for until it is confirmed (once), replaced or expired."""
    db.executescript(
        """
        CREATE TABLE subscribers (
            email_key TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL,
            watchlists TEXT NOT NULL DEFAULT '[]',
            digest_weekday INTEGER CHECK (digest_weekday BETWEEN 0 AND 6),
            status TEXT NOT NULL CHECK (status IN ('active', 'unsubscribed')),
            token_version INTEGER NOT NULL DEFAULT 0 CHECK (token_version >= 0),
            consent TEXT,
            created TEXT NOT NULL,
            confirmed_at TEXT,
            unsubscribed_at TEXT,
            updated TEXT NOT NULL
        );
        CREATE INDEX subscribers_status ON subscribers(status);
        CREATE TABLE subscribe_requests (
            id INTEGER PRIMARY KEY,
            nonce INTEGER NOT NULL UNIQUE,
            email_key TEXT NOT NULL,
            email TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL,
            watchlists TEXT NOT NULL DEFAULT '[]',
            digest_weekday INTEGER CHECK (digest_weekday BETWEEN 0 AND 6),
            consent TEXT NOT NULL,
            created TEXT NOT NULL,
            expires TEXT NOT NULL,
            used_at TEXT,
            outcome TEXT CHECK (outcome IN ('confirmed', 'replaced'))
        );
        CREATE INDEX subscribe_requests_email ON subscribe_requests(email_key);
        CREATE INDEX subscribe_requests_expires ON subscribe_requests(expires);
        """
    )


def _v7_analysis(db: Target) -> None:
    """Analysis results waiting for the sequential half of processing (the work queue
    analyses in parallel batch jobs; dedup and stories take them in id order), and the
    mark of an article whose analysis failed (kept after it is processed, for the
    status). ``fingerprint`` is of the article as it was analysed: a result of an
    article that changed since is stale. ``result`` is JSON, NULL when ``error`` says
    why the analysis failed."""
    db.executescript(
        """
        CREATE TABLE article_analysis (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            fingerprint TEXT NOT NULL,
            result TEXT,
            error TEXT,
            analysed_at TEXT NOT NULL
        );
        """
    )


MIGRATIONS: list[tuple[str, Callable[[Target], None]]] = [
    ("initial schema", _v1),
    ("features, duplicates, stories, trends", _v2),
    ("source health: moves, 410, Retry-After, adaptive polling", _v3),
    ("the clusterer's open stories in rows", _v4),
    ("full-text search: title, text and lemmas of the processed articles", _v5),
    ("subscribers from the web, unsubscribes, token versions", _v6_subscribers),
    ("analysis results waiting for stories, and failed analyses", _v7_analysis),
]
SCHEMA_VERSION = len(MIGRATIONS)
