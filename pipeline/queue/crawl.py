"""The crawl queue: a periodic task defers one fetch job per due source (the due
decision of ``trendwatch run``'s crawl: :meth:`Store.due_sources`), and the fetch job
crawls that one source with the crawl job's code (entries and health saved in one
transaction). The locks of :mod:`pipeline.queue.decide` keep one fetch per source and
one worker per host.

The jobs run in the worker's threads (the store's connections are blocking); each
thread keeps one store connection open for the jobs it runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import JobDeferrer

from pipeline.queue.decide import host_lock, source_lock, still_due
from pipeline.settings import Settings
from pipeline.store import SourceRow, Store

log = logging.getLogger("trendwatch")

QUEUE = "crawl"
FETCH = "crawl.fetch_source"
SCHEDULE = "crawl.schedule"
SCHEDULE_CRON = "* * * * *"  # every minute: the due sources are deferred then
FETCH_ATTEMPTS = 3  # a fetch job that raised (the database went away) is tried again

_stores = threading.local()


def utcnow() -> datetime:
    return datetime.now(UTC)


def thread_store(settings: Settings) -> Store:
    """This thread's open store of ``settings``' database (opened on first use)."""
    key = str(settings.database)
    stores: dict[str, Store] = _stores.__dict__.setdefault("by_url", {})
    if key not in stores:
        stores[key] = Store(settings.database)
    return stores[key]


async def defer_unless_waiting(job: JobDeferrer | procrastinate.Task, **args: Any) -> bool:
    """Defer ``job`` (a task, or one configured with locks) with ``args``; False when
    one of its queueing lock waits already (that one does the work)."""
    try:
        await job.defer_async(**args)
    except AlreadyEnqueued:
        return False
    return True


@dataclass(frozen=True)
class Deferred:
    """What one scheduling tick did: fetch jobs deferred, sources already waiting."""

    deferred: int
    waiting: int


def due_rows(settings: Settings, store: Store, now: datetime) -> list[SourceRow]:
    """The sources a crawl at ``now`` takes, after the config is synced, as the crawl
    job (and so ``trendwatch run``) decides it."""
    store.sync_sources(settings.sources, now)
    return store.due_sources(now)


async def defer_due(app: procrastinate.App, settings: Settings, now: datetime) -> Deferred:
    """Defer a fetch job for each source due at ``now``; a source whose job still
    waits keeps that one (its queueing lock)."""
    rows = await asyncio.to_thread(lambda: due_rows(settings, thread_store(settings), now))
    fetch = app.tasks[FETCH]
    deferred = waiting = 0
    for row in rows:
        job = fetch.configure(lock=host_lock(row.url), queueing_lock=source_lock(row.name))
        if await defer_unless_waiting(job, name=row.name, deferred_at=now.isoformat()):
            deferred += 1
        else:
            waiting += 1
    if rows:
        log.info("crawl: %d fetch jobs deferred, %d still waiting", deferred, waiting)
    return Deferred(deferred, waiting)


def fetch_source(settings: Settings, name: str, deferred_at: datetime) -> dict[str, Any]:
    """Crawl the source ``name`` if it is still due as of ``deferred_at``; what
    happened, for the job's result."""
    from pipeline.crawl.job import crawl_source_async

    store = thread_store(settings)
    row = store.source(name)
    if not still_due(row, deferred_at):
        return {"source": name, "status": "skipped"}
    assert row is not None
    report = asyncio.run(crawl_source_async(settings, store, row))
    return {"source": name, "status": report.status, "new": report.new}


def register(app: procrastinate.App) -> None:
    """Add the crawl queue's tasks to ``app``; the worker's context carries the
    settings (``additional_context={"settings": ...}``)."""

    @app.task(name=FETCH, queue=QUEUE, pass_context=True, retry=FETCH_ATTEMPTS - 1)
    def fetch(context: procrastinate.JobContext, name: str, deferred_at: str) -> dict[str, Any]:
        settings = context.additional_context["settings"]
        return fetch_source(settings, name, datetime.fromisoformat(deferred_at))

    @app.periodic(cron=SCHEDULE_CRON)
    @app.task(name=SCHEDULE, queue=QUEUE, pass_context=True, queueing_lock=SCHEDULE)
    async def schedule(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
        settings = context.additional_context["settings"]
        done = await defer_due(app, settings, utcnow())
        return {"deferred": done.deferred, "waiting": done.waiting}
