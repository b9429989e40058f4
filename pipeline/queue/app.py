"""The procrastinate App of a trendwatch database: made from the configured PostgreSQL
URL (psycopg connector), with trendwatch's tasks registered (crawl, process, digest);
and the recovery of the jobs that dead workers held.

procrastinate's tables are created with the store's migrations
(:mod:`pipeline.store.queue`): opening the :class:`~pipeline.store.Store` once, as
:func:`ensure_schema` does, is enough.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import procrastinate
from procrastinate import exceptions

from pipeline.queue import crawl, digest, process
from pipeline.queue.manager import WorkerJobManager
from pipeline.settings.database import is_postgresql, shown_url
from pipeline.store import Store

log = logging.getLogger("trendwatch")


# Tasks whose stalled jobs are given up (failed) after this many attempts: an analysis
# batch whose worker dies each time (an article that exhausts its memory) must not come
# back forever; the process queue marks its articles as failed.
GIVE_UP_AFTER = {process.ANALYSE: process.ANALYSE_ATTEMPTS}


class NotPostgreSQL(ValueError):
    """The work queue needs PostgreSQL; the config names SQLite."""


def ensure_schema(url: str) -> None:
    """Bring the database at ``url`` up to date: the store's migrations and the
    queue's tables (idempotent; processes doing it at once do it once)."""
    with Store(url):
        pass


def make_app(url: str, *, pool_size: int = 4) -> procrastinate.App:
    """The App of the PostgreSQL database at ``url``, not opened yet, with the
    queues' tasks. ``pool_size``: the connections it may hold at most."""
    if not is_postgresql(url):
        raise NotPostgreSQL(f"the work queue needs PostgreSQL, not {shown_url(url)}")
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=max(2, pool_size))
    app = procrastinate.App(connector=connector)
    app.job_manager = WorkerJobManager(connector=connector)
    crawl.register(app)
    process.register(app)
    digest.register(app)
    return app


async def retry_stalled(
    app: procrastinate.App, stalled_after: float, running: Collection[int] = ()
) -> list[int]:
    """Put the jobs of workers that sent no heartbeat for ``stalled_after`` seconds
    (killed, or their machine gone) back in their queue; their ids. One of a task in
    :data:`GIVE_UP_AFTER` that has had its attempts fails instead. A job whose twin
    waits already (the same queueing lock: a fetch of its source deferred meanwhile)
    is ended as aborted instead, the twin doing its work. Jobs another worker dealt
    with first (no longer the dead worker's) are left alone, and so are the jobs this
    process's worker still runs (``running``: it may be the one whose heartbeats came
    late)."""
    manager = app.job_manager
    assert isinstance(manager, WorkerJobManager)
    retried = []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        if job.id in running:
            continue
        give_up = job.attempts + 1 >= GIVE_UP_AFTER.get(job.task_name, job.attempts + 2)
        try:
            became = await manager.end_stalled(job, give_up)
        except exceptions.ConnectorException as exc:  # the database away a moment
            log.debug("stalled job %s left alone: %r", job.id, exc)
            continue
        if became == "failed":
            log.warning(
                "job %s (%s) of a dead worker failed for good: its worker died %d times",
                job.id,
                job.task_name,
                job.attempts + 1,
            )
        elif became == "aborted":
            log.warning(
                "job %s (%s) of a dead worker ended: the same job waits already",
                job.id,
                job.task_name,
            )
        elif became == "todo":
            retried.append(job.id)
            log.warning("job %s (%s) of a dead worker put back in its queue", job.id, job.task_name)
    return retried
