"""The crawl queue: a periodic task defers one fetch job per due source (the due
decision of ``trendwatch run``'s crawl: :meth:`Store.due_sources`), and the fetch job
crawls that one source with the crawl job's code (entries and health saved in one
transaction). The locks of :mod:`pipeline.queue.decide` keep one fetch per source and
one worker per host.

Every request of a fetch job (the feed, its article pages on any host, robots.txt, a
blog's spider as a whole) takes its host's turn from the database
(:mod:`pipeline.queue.hosts`), so the embedded crawler's politeness (one request to a
host at a time, its delay, Crawl-delay and Retry-After) holds across all workers.

The jobs run in the worker's threads (the store's connections are blocking), as many
as it runs jobs at once; each thread keeps one store connection open for the jobs it
runs, so the connections are reused job after job.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import JobDeferrer

from pipeline.queue.decide import host_lock, host_of, source_lock, still_due
from pipeline.queue.hosts import SharedHostLimiter
from pipeline.settings import Settings
from pipeline.store import SourceRow, Store

log = logging.getLogger("trendwatch")

QUEUE = "crawl"
FETCH = "crawl.fetch_source"
SCHEDULE = "crawl.schedule"
SCHEDULE_CRON = "* * * * *"  # every minute: the due sources are deferred then
FETCH_ATTEMPTS = 3  # a fetch job that raised (the database went away) is tried again
INLINE_WAIT = 5.0  # seconds a fetch job waits for its host at most; longer: deferred
LATER_PRIORITY = 1  # a fetch deferred to its host's moment goes before the host's others

_stores = threading.local()
_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


def utcnow() -> datetime:
    return datetime.now(UTC)


def job_threads(concurrency: int) -> ThreadPoolExecutor:
    """The worker's threads for fetch jobs, as many as it runs jobs at once: each keeps
    its store's connection open for the jobs it runs (:func:`thread_store`), so a
    worker holds ``concurrency`` connections of its own at most, reused job after job."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="fetch")
        return _threads


def close_thread_store(settings: Settings) -> None:
    """Close this thread's store of ``settings``' database, if it opened one."""
    stores: dict[str, Store] = _stores.__dict__.get("by_url", {})
    store = stores.pop(str(settings.database), None)
    if store is not None:
        store.close()


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
    """The sources a crawl at ``now`` takes, as the crawl job (and so ``trendwatch
    run``) decides it, after the config is synced if it changed since the last sync."""
    store.sync_sources_if_changed(settings.sources, now)
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
    happened, for the job's result. Every request takes its host's turn from the
    database (:class:`~pipeline.queue.hosts.SharedHostLimiter`). A source whose host
    may not be asked for more than :data:`INLINE_WAIT` seconds yet (a Crawl-delay, a
    Retry-After pause) is not waited for: the result says ``"later"`` and when, by the
    database's clock, for :func:`register`'s task to defer the job again."""
    from pipeline.crawl.job import crawl_source_async

    store = thread_store(settings)
    row = store.source(name)
    if not still_due(row, deferred_at):
        return {"source": name, "status": "skipped"}
    assert row is not None
    wait = store.host_wait(host_of(row.url))
    if wait.seconds > INLINE_WAIT:
        assert wait.allowed_at is not None
        at = wait.allowed_at.isoformat()
        return {"source": name, "status": "later", "at": at, "url": row.url}
    c = settings.crawl
    limiter = SharedHostLimiter(store, c.per_host_delay, timeout=c.timeout)
    report = asyncio.run(crawl_source_async(settings, store, row, limiter=limiter))
    return {"source": name, "status": report.status, "new": report.new}


async def defer_later(
    app: procrastinate.App, outcome: dict[str, Any], deferred_at: str
) -> dict[str, Any]:
    """Defer a fetch again at the moment its host may be asked (``outcome["at"]``, the
    database's time), ahead of the host's other waiting jobs (a higher priority: they
    wait behind it on the host's lock). A job of the source waiting already does it."""
    job = app.tasks[FETCH].configure(
        lock=host_lock(outcome["url"]),
        queueing_lock=source_lock(outcome["source"]),
        schedule_at=datetime.fromisoformat(outcome["at"]),
        priority=LATER_PRIORITY,
    )
    try:
        await job.defer_async(name=outcome["source"], deferred_at=deferred_at)
    except AlreadyEnqueued:
        return {**outcome, "status": "waiting"}
    log.info(
        "crawl: %s deferred to %s, when its host may be asked", outcome["source"], outcome["at"]
    )
    return outcome


def register(app: procrastinate.App) -> None:
    """Add the crawl queue's tasks to ``app``; the worker's context carries the
    settings (``additional_context={"settings": ...}``)."""

    @app.task(name=FETCH, queue=QUEUE, pass_context=True, retry=FETCH_ATTEMPTS - 1)
    async def fetch(
        context: procrastinate.JobContext, name: str, deferred_at: str
    ) -> dict[str, Any]:
        settings = context.additional_context["settings"]
        when = datetime.fromisoformat(deferred_at)
        threads = job_threads(context.additional_context.get("concurrency", 1))
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(threads, fetch_source, settings, name, when)
        if outcome["status"] == "later":
            outcome = await defer_later(app, outcome, deferred_at)
        return outcome

    @app.periodic(cron=SCHEDULE_CRON)
    @app.task(name=SCHEDULE, queue=QUEUE, pass_context=True, queueing_lock=SCHEDULE)
    async def schedule(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
        settings = context.additional_context["settings"]
        done = await defer_due(app, settings, utcnow())
        return {"deferred": done.deferred, "waiting": done.waiting}
