"""The procrastinate App of a trendwatch database: made from the configured PostgreSQL
URL (psycopg connector), with trendwatch's tasks registered (crawl, process); and the
recovery of the jobs that dead workers held.

procrastinate's tables are created with the store's migrations
(:mod:`pipeline.store.queue`): opening the :class:`~pipeline.store.Store` once, as
:func:`ensure_schema` does, is enough.
"""

from __future__ import annotations

import datetime
import logging

import procrastinate
from procrastinate import exceptions, utils
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from pipeline.queue import crawl, process
from pipeline.settings.database import is_postgresql, shown_url
from pipeline.store import Store

log = logging.getLogger("trendwatch")


class NotPostgreSQL(ValueError):
    """The work queue needs PostgreSQL; the config names SQLite."""


def ensure_schema(url: str) -> None:
    """Bring the database at ``url`` up to date: the store's migrations and the
    queue's tables (idempotent; processes doing it at once do it once)."""
    with Store(url):
        pass


class DatabaseClockJobManager(JobManager):
    """procrastinate's job manager with retries timed by the database's clock.

    procrastinate schedules a retried job at the worker's time (``utcnow()`` plus the
    wait), while the database decides with its own ``now()`` whether a job may run: a
    worker whose clock runs ahead of the database's (another machine, a wrong clock)
    would hold its retries back by as much, a year ahead for a year. Here the wait the
    worker meant is added to the database's now instead."""

    async def retry_job_by_id_async(
        self,
        job_id: int,
        retry_at: datetime.datetime,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        wait = max(retry_at - utils.utcnow(), datetime.timedelta(0))
        row = await self.connector.execute_query_one_async("SELECT now() AS now")
        await super().retry_job_by_id_async(
            job_id, row["now"] + wait, priority=priority, queue=queue, lock=lock
        )


def make_app(url: str, *, pool_size: int = 4) -> procrastinate.App:
    """The App of the PostgreSQL database at ``url``, not opened yet, with the crawl
    queue's tasks. ``pool_size``: the connections it may hold at most."""
    if not is_postgresql(url):
        raise NotPostgreSQL(f"the work queue needs PostgreSQL, not {shown_url(url)}")
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=max(2, pool_size))
    app = procrastinate.App(connector=connector)
    app.job_manager = DatabaseClockJobManager(connector=connector)
    crawl.register(app)
    process.register(app)
    return app


async def retry_stalled(app: procrastinate.App, stalled_after: float) -> list[int]:
    """Put the jobs of workers that sent no heartbeat for ``stalled_after`` seconds
    (killed, or their machine gone) back in their queue; their ids. A job whose twin
    waits already (the same queueing lock: a fetch of its source deferred meanwhile)
    is ended as aborted instead, the twin doing its work; jobs another worker dealt
    with first are left alone."""
    manager = app.job_manager
    retried = []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        try:
            try:
                await manager.retry_job(job)
            except exceptions.UniqueViolation:
                await manager.finish_job(job, status=Status.ABORTED, delete_job=False)
                log.warning(
                    "job %s (%s) of a dead worker ended: the same job waits already",
                    job.id,
                    job.task_name,
                )
                continue
        except Exception as exc:  # dealt with by another worker just now
            log.debug("stalled job %s left alone: %r", job.id, exc)
            continue
        retried.append(job.id)
        log.warning("job %s (%s) of a dead worker put back in its queue", job.id, job.task_name)
    return retried
