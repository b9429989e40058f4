"""The process job: every new or changed article analysed (language, spaCy tags,
keyphrases), matched against every watchlist, marked as a near duplicate or not,
assigned to a story, and the week's trends updated; stored articles matched again for
watchlists that are new or whose query changed.

spaCy and numpy load when the job runs, not when the CLI starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.process.analysis.features import ArticleFeatures, Entity
from pipeline.process.watchlists.matching import CompiledQuery, MatchDoc
from pipeline.settings import Settings
from pipeline.store import AnalysedArticle, Store

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
    from pipeline.process.batch import (
        STATE_KEY,
        Analyser,
        Processor,
        article_input,
        worker_config,
    )
    from pipeline.process.trend_job import update_trends

    now = now or utcnow()
    config = worker_config(settings)
    specs = {w.name: w for w in config.watchlists}
    stale, matches = _rematch(settings, store, now, stop)
    # 2. new and changed articles: analyse, match, dedup, cluster; one transaction a batch
    processed = duplicates = new_stories = 0
    dates: set[datetime] = set()
    processor: Processor | None = None
    with Analyser(config, settings.nlp.n_process) as analyser:
        # the workers analyse the next batch while this process stores the current one
        rows = store.articles_to_process(PROCESS_BATCH)
        pending = analyser.submit([article_input(r) for r in rows]) if rows else None
        while rows and pending is not None:
            following = store.articles_to_process(PROCESS_BATCH, after_id=rows[-1].id)
            ahead = analyser.submit([article_input(r) for r in following]) if following else None
            processor = processor or Processor(settings, store, now)
            analysed = pending.result()
            clustered = {r.id for r in rows if r.story_id is not None}
            batch = processor.run(analysed, clustered)
            results = [(a.features.id, n, why) for a in analysed for n, why in a.matches.items()]
            top = max(r.id for r in rows)
            state = processor.state()
            matches += store.save_processed(
                batch.processed,
                matches=results,
                progress={name: top for name in specs},
                stories=batch.stories,
                state={STATE_KEY: state.header},
                cluster_stories=(state.changed, state.removed),
                repoint=batch.repoint,
                merges=batch.merges,
                moves=batch.moves,
                now=now,
            )
            processor.stored()
            processed += len(rows)
            duplicates += batch.duplicates
            new_stories += batch.new_stories
            dates.update(r.published or r.fetched for r in rows)
            if on_batch:
                on_batch(len(rows))
            rows, pending = following, ahead
            if stop is not None and stop() and rows:
                log.warning("process: stopping; %d+ articles left for the next run", len(rows))
                break
    weeks: tuple[str, ...] = ()
    if processed:
        weeks = update_trends(settings, store, dates, now)
        log.info(
            "processed %d articles: %d watchlist matches, %d near duplicates, %d new stories",
            processed,
            matches,
            duplicates,
            new_stories,
        )
    return ProcessReport(processed, matches, tuple(stale), duplicates, new_stories, weeks)
