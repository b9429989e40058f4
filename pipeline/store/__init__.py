"""The store: the only package that talks SQL.

SQLite (the default: a file, in WAL mode with foreign keys and a busy timeout, so
one-off commands stay safe beside a running scheduler) or PostgreSQL (a
``postgresql://`` URL), from one code through SQLAlchemy; where the two differ is in
``dialect``. Schema changes are versioned
migrations, applied one ``user_version`` step at a time. Every write is idempotent:
writing the same entry or edition twice never creates a second row.

Callers use one class, :class:`Store`, and import everything from here. It is built
from one part per group of tables, as lemon24/reader builds its storage:

- ``connection``: opening the database, pragmas, migrations in steps, transactions,
  backups
- ``dialect``: where SQLite and PostgreSQL differ (parameters, types, JSON, times)
- ``schema``: the migrations themselves (``SCHEMA_VERSION``, ``APPLICATION_ID``)
- ``sources``: sources and their fetch state
- ``articles``: saving entries, the processing queue, the articles of a period, export
- ``analysis``: NLP results (features, duplicates, story links), one batch at a time
- ``analysis_results``: analysis results waiting for dedup and stories (the work
  queue's batch jobs), and the marks of failed analyses
- ``matches``: watchlists and their matches
- ``stories``: stories and the clusterer's open stories
- ``trends``: trends per week and what they are computed from
- ``editions``: each period's edition, built once
- ``deliveries``: each edition's deliveries, the row the lock that sends it once
- ``pages``: the reads of the web's story and watchlist pages
- ``scheduler``: the key/value state and the sources' next polls
- ``search``: the full-text search index of the articles and its queries
- ``search_dialect``: search's queries on PostgreSQL (a ``tsquery``, its rank)
- ``subscribers``: subscriptions made on the web, unsubscribes, token versions and
  the requests waiting for a confirmation (its rows are imported from there)
- ``queue``: the work queue's tables on PostgreSQL (procrastinate's schema, created
  with the migrations) and the queue's counts and workers for the status
- ``changes``: PostgreSQL's change counter, bumped by every write transaction, that
  tells the web's page cache the database changed (SQLite's ``data_version``)
- ``dump``: backups of PostgreSQL with ``pg_dump`` (SQLite's are in ``connection``)
- ``run_lock``: the one ``trendwatch run`` per PostgreSQL database (an advisory lock)
- ``admin``: what the admin pages read (the preview's recent articles, deliveries per
  subscriber), with its rows
- ``rows``, ``article_rows`` and ``digest_rows``: the dataclasses handed across (the
  reads return typed rows, not dicts; SQL and column names stay in this package)
- ``values``: how values are stored, and ``typed_row``, which reads them back
- ``prepared``: what the store writes of a processed article, as text, made where it
  was analysed

A new method goes into the part of the tables it reads or writes.
"""

from __future__ import annotations

from pipeline.store.admin import AdminMixin
from pipeline.store.analysis import AnalysisMixin
from pipeline.store.analysis_results import (
    AnalysisOutcome,
    AnalysisResultsMixin,
    FailedAnalysis,
    StoredAnalysis,
)
from pipeline.store.article_rows import (
    AnalysedArticle,
    ArticleInfo,
    ArticleToProcess,
    DedupCandidate,
    ExportedArticle,
    StoredFeatures,
    StoredStory,
    TaggedArticle,
)
from pipeline.store.articles import ArticlesMixin
from pipeline.store.changes import ChangesMixin
from pipeline.store.connection import BUSY_TIMEOUT_MS, StoreBase, StoreError, backup_file_name
from pipeline.store.deliveries import DeliveriesMixin
from pipeline.store.digest_rows import (
    DeliveryRow,
    EditionRow,
    MatchedArticle,
    PeriodArticle,
    StoryMember,
    UnfinishedDelivery,
)
from pipeline.store.dump import DumpMixin, DumpToolMissing
from pipeline.store.editions import EditionsMixin
from pipeline.store.matches import MatchesMixin
from pipeline.store.pages import PagesMixin, StoredTrend, StoryArticle, StorySource, WatchlistStory
from pipeline.store.prepared import feature_text, match_row
from pipeline.store.queue import QueueCount, QueueJob, QueueMixin, WorkerBeat
from pipeline.store.rows import (
    CrawlRecord,
    FeatureText,
    MatchRow,
    ProcessedArticle,
    SaveResult,
    SourceRow,
    StoryRow,
)
from pipeline.store.run_lock import RunHolder, RunLockMixin
from pipeline.store.scheduler import SchedulerMixin
from pipeline.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from pipeline.store.search import SearchMixin
from pipeline.store.sources import SourcesMixin
from pipeline.store.stories import StoriesMixin
from pipeline.store.subscribers import SubscribersMixin
from pipeline.store.trends import TrendsMixin
from pipeline.store.values import from_iso, iso

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AnalysedArticle",
    "AnalysisOutcome",
    "ArticleInfo",
    "ArticleToProcess",
    "CrawlRecord",
    "DedupCandidate",
    "DeliveryRow",
    "DumpToolMissing",
    "EditionRow",
    "ExportedArticle",
    "FailedAnalysis",
    "FeatureText",
    "MatchRow",
    "MatchedArticle",
    "PeriodArticle",
    "ProcessedArticle",
    "QueueCount",
    "QueueJob",
    "RunHolder",
    "SaveResult",
    "SourceRow",
    "Store",
    "StoreError",
    "StoredAnalysis",
    "StoredFeatures",
    "StoredStory",
    "StoredTrend",
    "StoryArticle",
    "StoryMember",
    "StoryRow",
    "StorySource",
    "TaggedArticle",
    "UnfinishedDelivery",
    "WatchlistStory",
    "WorkerBeat",
    "backup_file_name",
    "feature_text",
    "from_iso",
    "iso",
    "match_row",
]


class Store(
    SourcesMixin,
    ArticlesMixin,
    AnalysisMixin,
    AnalysisResultsMixin,
    MatchesMixin,
    StoriesMixin,
    TrendsMixin,
    EditionsMixin,
    DeliveriesMixin,
    SubscribersMixin,
    PagesMixin,
    SchedulerMixin,
    AdminMixin,
    SearchMixin,
    QueueMixin,
    RunLockMixin,
    DumpMixin,
    ChangesMixin,
    StoreBase,
):
    """A trendwatch database: ``Store(path)`` opens it (creating or migrating it), and
    ``with Store(path) as store:`` closes it again. Each part adds its tables' methods."""
