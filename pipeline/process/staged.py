"""The process job in two stages, for the work queue: :func:`analyse_batch` (language,
spaCy, watchlist matches: stateless per article, so batch jobs run it in parallel on any
workers, each storing its results in one transaction) and :func:`process_analysed`
(near duplicates, stories, trends: one job at a time, over the analysed articles in id
order, with the clusterer's state stored as ``trendwatch process`` stores it).

Both halves are :mod:`pipeline.process.job`'s: the analysis of :mod:`~.batch`
(:func:`~.batch.analyse_or_fail`) and :func:`~.job.store_batch`, so the result equals
one ``trendwatch process`` run on the same articles. An article is never clustered
before every article with a smaller id is analysed, or marked as failed
(:func:`ready_prefix`); a failed one is processed without features and shown by
``trendwatch status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.heap import frozen_heap
from pipeline.process.job import PROCESS_BATCH, ProcessReport, Tally, _rematch, store_batch, utcnow
from pipeline.settings import Settings
from pipeline.store import AnalysisOutcome, ArticleToProcess, Store, StoredAnalysis

log = logging.getLogger("trendwatch.process")


@dataclass(frozen=True)
class Ready:
    """Of the articles waiting in id order: those whose analysis is stored and current,
    up to the first that is not (``blocked``); ``stale``: results of articles that
    changed since they were analysed (to be dropped and analysed again)."""

    rows: list[tuple[ArticleToProcess, StoredAnalysis]]
    stale: list[int]
    blocked: bool


def ready_prefix(
    rows: Sequence[ArticleToProcess],
    stored: Mapping[int, StoredAnalysis],
    fingerprints: Mapping[int, str],
) -> Ready:
    """Which of ``rows`` (id order) the sequential half may take now: the longest
    prefix with a stored analysis (a result or a failure) of the article as it is."""
    ready: list[tuple[ArticleToProcess, StoredAnalysis]] = []
    for row in rows:
        found = stored.get(row.id)
        if found is None:
            return Ready(ready, [], True)
        if found.fingerprint != fingerprints[row.id]:
            return Ready(ready, [row.id], True)
        ready.append((row, found))
    return Ready(ready, [], False)


def analyse_batch(
    settings: Settings,
    store: Store,
    ids: Sequence[int],
    *,
    now: datetime | None = None,
    before_storing: Callable[[], None] | None = None,
) -> int:
    """Analyse those of ``ids`` still waiting without a current stored analysis, and
    store the results (failures marked) in one transaction; how many were stored. A
    batch done before (a job deferred twice, or retried after its results were stored)
    analyses nothing."""
    from pipeline.process.batch import Analysed, analyse_or_fail, article_input, worker_config
    from pipeline.process.stored_analysis import encode, fingerprint

    rows = store.articles_to_process_by_id(ids)
    inputs = [article_input(r) for r in rows]
    prints = {a.id: fingerprint(a) for a in inputs}
    have = store.stored_analysis(prints)
    todo = [a for a in inputs if a.id not in have or have[a.id].fingerprint != prints[a.id]]
    if not todo:
        return 0
    outcomes = [
        AnalysisOutcome(r.features.id, prints[r.features.id], result=encode(r))
        if isinstance(r, Analysed)
        else AnalysisOutcome(r.id, prints[r.id], error=r.error)
        for r in analyse_or_fail(todo, worker_config(settings))
    ]
    if before_storing is not None:
        before_storing()
    return store.save_analysis(outcomes, now or utcnow())


def process_analysed(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    stop: Callable[[], bool] | None = None,
) -> ProcessReport:
    """The sequential half over the stored analyses: watchlists matched again where
    they changed, then the waiting articles in id order, as far as they are analysed,
    deduplicated, clustered and stored a batch at a time; the week's trends. ``stop``
    is asked after each batch."""
    from pipeline.process.batch import Analysed, Failed, Processor, article_input
    from pipeline.process.stored_analysis import decode, fingerprint

    now = now or utcnow()
    stale, matches = _rematch(settings, store, now, stop)
    tally = Tally(matches=matches)
    processor: Processor | None = None
    after = 0
    with frozen_heap() as freeze:
        while rows := store.articles_to_process(PROCESS_BATCH, after_id=after):
            prints = {r.id: fingerprint(article_input(r)) for r in rows}
            ready = ready_prefix(rows, store.stored_analysis(prints), prints)
            if ready.stale:
                log.info("process: %d changed articles to analyse again", len(ready.stale))
                store.drop_analysis(ready.stale)
            if ready.rows:
                processor = processor or Processor(settings, store, now)
                results: list[Analysed | Failed] = [
                    decode(s.result) if s.result is not None else Failed(row.id, s.error or "")
                    for row, s in ready.rows
                ]
                taken = [row for row, _ in ready.rows]
                store_batch(settings, store, processor, taken, results, tally, now)
                freeze()  # the clusterer's state lives on: full collections walk it no more
                after = taken[-1].id
            if ready.blocked or (stop is not None and stop()):
                break
    return tally.report(settings, store, stale, now)
