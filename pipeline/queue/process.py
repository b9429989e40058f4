"""The process queue: analysis in parallel batch jobs, then dedup, stories and trends
as one job at a time, so the result equals one ``trendwatch process`` run.

- ``process.schedule`` (every minute, one at a time) cuts the articles waiting without
  a stored analysis into batches of ids (:func:`pipeline.queue.decide.analysis_batches`:
  none of an id a waiting or running batch job holds) and defers one
  ``process.analyse`` job per batch, with a queueing lock per batch; it marks the
  articles of batch jobs that failed for good (their retries spent, or their worker
  killed again and again) as failed, so they block nothing; and it defers
  ``process.run``.
- ``process.analyse`` (any number at once, on any workers) analyses its batch and
  stores the results in one transaction (:func:`pipeline.process.staged.analyse_batch`),
  then defers ``process.run``. A batch job done twice analyses nothing the second time.
- ``process.run`` (a procrastinate lock: one at a time across all workers; at most one
  waiting) takes the analysed articles in id order, up to the first not analysed yet
  (:func:`pipeline.process.staged.process_analysed`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import procrastinate

from pipeline.queue.crawl import defer_unless_waiting, thread_store
from pipeline.queue.decide import analysis_batch_lock, analysis_batches
from pipeline.settings import Settings
from pipeline.store import AnalysisOutcome, Store

log = logging.getLogger("trendwatch")

QUEUE = "process"
SCHEDULE = "process.schedule"
ANALYSE = "process.analyse"
PROCESS = "process.run"
PROCESS_CRON = "* * * * *"  # every minute; a run finds nothing new quickly
ANALYSIS_BATCH = 200  # articles per analysis job
ANALYSE_ATTEMPTS = 3  # an analysis job that raised, or whose worker died, runs again
# Tests only: while the file this names exists, an analysis job waits between analysing
# and storing (so a test can kill its worker at that very moment).
HOLD_ENV = "TRENDWATCH_TEST_HOLD_ANALYSIS"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _hold() -> None:
    path = os.environ.get(HOLD_ENV)
    if path and os.path.exists(path):
        log.warning("analysis batch analysed; holding before storing (%s)", HOLD_ENV)
        while os.path.exists(path):
            time.sleep(0.05)


def analyse_ids(settings: Settings, ids: list[int]) -> int:
    """The analysis job on this thread's store: how many results it stored."""
    from pipeline.process.staged import analyse_batch

    return analyse_batch(settings, thread_store(settings), ids, before_storing=_hold)


def run_process(settings: Settings) -> dict[str, Any]:
    """The sequential job on this thread's store; its report."""
    from pipeline.process.staged import process_analysed

    return asdict(process_analysed(settings, thread_store(settings)))


def mark_given_up(store: Store, now: datetime) -> int:
    """The articles of analysis jobs that failed for good and have no stored analysis
    yet: marked as failed (so the sequential job passes them); those jobs deleted (the
    marks record them). The count marked."""
    from pipeline.process.batch import article_input
    from pipeline.process.stored_analysis import fingerprint

    jobs = store.queue_jobs(ANALYSE, ["failed"])
    if not jobs:
        return 0
    ids = {int(i) for job in jobs for i in job.args.get("ids", [])}
    have = store.stored_analysis(ids)
    why = {int(i): job for job in jobs for i in job.args.get("ids", [])}
    outcomes = [
        AnalysisOutcome(
            r.id,
            fingerprint(article_input(r)),
            error=f"its analysis job {why[r.id].id} failed {why[r.id].attempts + 1} times",
        )
        for r in store.articles_to_process_by_id(sorted(ids - set(have)))
    ]
    marked = store.save_analysis(outcomes, now)
    store.forget_failed_jobs(job.id for job in jobs)
    if marked:
        log.warning("process: %d articles of failed analysis jobs marked as failed", marked)
    return marked


def plan_batches(settings: Settings, batch: int) -> tuple[list[list[int]], int]:
    """(The batches of ids to defer now, the articles marked as given up.)"""
    store = thread_store(settings)
    marked = mark_given_up(store, utcnow())
    busy = store.queue_jobs(ANALYSE, ["todo", "doing"])
    held = {int(i) for job in busy for i in job.args.get("ids", [])}
    return analysis_batches(store.unanalysed_ids(), held, batch), marked


async def defer_run(app: procrastinate.App) -> bool:
    """Defer the sequential job unless one waits already; whether it was deferred."""
    return await defer_unless_waiting(app.tasks[PROCESS])


async def defer_batches(app: procrastinate.App, settings: Settings, batch: int) -> dict[str, int]:
    """One tick of ``process.schedule``: analysis jobs deferred, the sequential job too."""
    batches, marked = await asyncio.to_thread(plan_batches, settings, batch)
    deferred = waiting = 0
    for ids in batches:
        job = app.tasks[ANALYSE].configure(queueing_lock=analysis_batch_lock(ids))
        if await defer_unless_waiting(job, ids=ids):
            deferred += 1
        else:
            waiting += 1
    if batches:
        log.info("process: %d analysis jobs deferred, %d still waiting", deferred, waiting)
    await defer_run(app)
    return {"deferred": deferred, "waiting": waiting, "given_up": marked}


def register(app: procrastinate.App) -> None:
    """Add the process queue's tasks to ``app``; the worker's context carries the
    settings and, optionally, the articles per analysis job (``analysis_batch``)."""

    @app.periodic(cron=PROCESS_CRON)
    @app.task(name=SCHEDULE, queue=QUEUE, pass_context=True, lock=SCHEDULE, queueing_lock=SCHEDULE)
    async def schedule(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
        extra = context.additional_context
        batch = extra.get("analysis_batch") or ANALYSIS_BATCH
        return await defer_batches(app, extra["settings"], batch)

    @app.task(name=ANALYSE, queue=QUEUE, pass_context=True, retry=ANALYSE_ATTEMPTS - 1)
    async def analyse(context: procrastinate.JobContext, ids: list[int]) -> dict[str, int]:
        settings = context.additional_context["settings"]
        stored = await asyncio.to_thread(analyse_ids, settings, ids)
        await defer_run(app)
        return {"articles": len(ids), "stored": stored}

    @app.task(name=PROCESS, queue=QUEUE, pass_context=True, lock=PROCESS, queueing_lock=PROCESS)
    def run(context: procrastinate.JobContext) -> dict[str, Any]:
        return run_process(context.additional_context["settings"])
