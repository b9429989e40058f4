"""The process job: every new or changed article analysed (language, spaCy tags,
keyphrases), matched against every watchlist, marked as a near duplicate or not,
assigned to a story, and the week's trends updated; stored articles matched again for
watchlists that are new or whose query changed.

Two halves (:mod:`pipeline.process.batch`): the analysis, and :func:`store_batch`, the
sequential half (near duplicates, stories, one transaction a batch). ``process`` runs
both in one process; the work queue runs them apart (:mod:`pipeline.process.staged`).

spaCy and numpy load when the job runs, not when the CLI starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from pipeline.heap import frozen_heap
from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.watchlists.matching import CompiledQuery, MatchDoc
from pipeline.settings import Settings
from pipeline.store import AnalysedArticle, AnalysisOutcome, ArticleToProcess, Store

if TYPE_CHECKING:
    from pipeline.process.batch import Analysed, Failed, Processor
    from pipeline.process.trend_job import Computer

log = logging.getLogger("trendwatch")

PROCESS_BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProcessReport:
    articles: int = 0
    matches: int = 0
    rematched: tuple[str, ...] = ()
    duplicates: int = 0
    new_stories: int = 0
    trend_weeks: tuple[str, ...] = ()


def _stored_features(row: AnalysedArticle) -> ArticleFeatures:
    entities = tuple(Entity(**e) for e in row.entities)
    lang = row.detected_language or row.language or "und"
    return ArticleFeatures(id=row.id, lang=lang, published=None, entities=entities)


def rematch_watchlists(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[str]:
    """Match stored articles again for the watchlists that are new or whose query
    changed (the first step of :func:`process`, on its own: after the watchlist editor
    saved, or ``run`` reloaded the config); the names matched again. Loads no spaCy.
    ``stop`` is asked after each watchlist."""
    return _rematch(settings, store, now or utcnow(), stop)[0]


def _rematch(
    settings: Settings, store: Store, now: datetime, stop: Callable[[], bool] | None
) -> tuple[list[str], int]:
    """Step 1 of :func:`process`: (the watchlists matched again, the matches stored)."""
    from pipeline.process.batch import match_watchlist, worker_config

    specs = {w.name: w for w in worker_config(settings).watchlists}
    stale = store.sync_watchlists(settings.watchlists)
    matches = 0
    through = store.max_processed_id()
    progress = store.watchlist_progress()
    done: list[str] = []
    for name in stale:
        if stop is not None and stop():
            break
        query = CompiledQuery(specs[name].query) if specs[name].query.strip() else None
        after = progress.get(name, 0)
        while rows := store.processed_articles(after, through, PROCESS_BATCH):
            results = []
            for r in rows:
                feats = _stored_features(r)
                doc = MatchDoc.build(r.title, r.text or "", r.url, feats.lang)
                results.append((r.id, name, match_watchlist(query, specs[name], doc, feats)))
            after = rows[-1].id
            matches += store.save_matches(results, progress={name: after}, now=now)
        store.save_matches([], progress={name: through}, now=now)
        done.append(name)
        log.info("watchlist %r: matched again against stored articles", name)
    return done, matches


@dataclass
class Tally:
    """What the sequential half stored so far in one run."""

    processed: int = 0
    matches: int = 0
    duplicates: int = 0
    new_stories: int = 0
    dates: set[datetime] = field(default_factory=set)

    def report(
        self,
        settings: Settings,
        store: Store,
        stale: list[str],
        now: datetime,
        compute: Computer | None = None,
    ) -> ProcessReport:
        """The run's report, the week's trends updated first when anything was stored
        (computed by ``compute``, see :func:`~.trend_job.update_trends`)."""
        from pipeline.process.trend_job import update_trends

        weeks: tuple[str, ...] = ()
        if self.processed:
            weeks = update_trends(settings, store, self.dates, now, compute)
            log.info(
                "processed %d articles: %d watchlist matches, %d near duplicates, %d new stories",
                self.processed,
                self.matches,
                self.duplicates,
                self.new_stories,
            )
        return ProcessReport(
            self.processed, self.matches, tuple(stale), self.duplicates, self.new_stories, weeks
        )


def store_batch(
    settings: Settings,
    store: Store,
    processor: Processor,
    rows: Sequence[ArticleToProcess],
    results: Sequence[Analysed | Failed],
    tally: Tally,
    now: datetime,
) -> None:
    """The sequential half for one batch: ``rows`` (id order) with their analysis
    results (the failed ones marked), deduplicated, clustered and stored in one
    transaction with the clusterer's state; counted in ``tally``."""
    from pipeline.process.batch import STATE_KEY, Analysed, Failed, article_input
    from pipeline.process.stored_analysis import fingerprint

    by_id = {r.id: r for r in rows}
    analysed = [a for a in results if isinstance(a, Analysed)]
    failed = [
        AnalysisOutcome(f.id, fingerprint(article_input(by_id[f.id])), error=f.error)
        for f in results
        if isinstance(f, Failed)
    ]
    clustered = {r.id for r in rows if r.story_id is not None}
    batch = processor.run(analysed, clustered)
    matches = [row for a in analysed for row in a.matches]
    top = max(r.id for r in rows)
    state = processor.state()
    tally.matches += store.save_processed(
        batch.processed,
        matches=matches,
        progress={w.name: top for w in settings.watchlists},
        stories=batch.stories,
        state={STATE_KEY: state.header},
        cluster_stories=(state.changed, state.removed),
        repoint=batch.repoint,
        merges=batch.merges,
        moves=batch.moves,
        failed=failed,
        now=now,
    )
    processor.stored()
    tally.processed += len(rows)
    tally.duplicates += batch.duplicates
    tally.new_stories += batch.new_stories
    tally.dates.update(r.published or r.fetched for r in rows)


def process(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ProcessReport:
    """Analyse new and changed articles (language, spaCy tags, keyphrases), match them
    against every watchlist, mark near duplicates, assign stories and update the week's
    trends; re-match stored articles for watchlists that are new or whose query changed.
    ``stop`` is asked after each batch (one transaction): when it says yes, the rest
    waits for the next run."""
    # spaCy and numpy load here, not when the CLI starts
    from pipeline.process.batch import Analyser, Processor, article_input, worker_config

    now = now or utcnow()
    config = worker_config(settings)
    processor: Processor | None = None
    with Analyser(config, settings.nlp.n_process) as analyser, frozen_heap() as freeze:
        rows = store.articles_to_process(PROCESS_BATCH)
        if rows:  # the workers load spaCy while step 1 runs and the state loads
            analyser.start()
        stale, matches = _rematch(settings, store, now, stop)
        # 2. new and changed articles: analyse, match, dedup, cluster; one transaction a
        # batch; the workers analyse the next batch while this process stores the current
        tally = Tally(matches=matches)
        pending = analyser.submit([article_input(r) for r in rows]) if rows else None
        while rows and pending is not None:
            following = store.articles_to_process(PROCESS_BATCH, after_id=rows[-1].id)
            ahead = analyser.submit([article_input(r) for r in following]) if following else None
            processor = processor or Processor(settings, store, now)
            store_batch(settings, store, processor, rows, pending.result(), tally, now)
            freeze()  # the clusterer's state lives on: full collections walk it no more
            if on_batch:
                on_batch(len(rows))
            rows, pending = following, ahead
            if stop is not None and stop() and rows:
                log.warning("process: stopping; %d+ articles left for the next run", len(rows))
                break
        # the weeks' trends in the workers, idle now, a run of weeks each
        trends = partial(analyser.trends, store)
        return tally.report(settings, store, stale, now, trends)
