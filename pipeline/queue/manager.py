"""procrastinate's job manager as trendwatch's workers use it: retries timed by the
database's clock, and a live worker that was taken for dead taking its place back.

A worker whose heartbeats came late (a loaded machine, a long pause) may be pruned
from ``procrastinate_workers`` by a worker that starts, and its running jobs put back in
their queues by the recovery of stalled jobs (:func:`pipeline.queue.app.retry_stalled`).
procrastinate's own worker then crashes at its next fetch (the jobs table's foreign key
to the workers table) and never notices that its jobs went back. Here:

- a worker holds a *liveness lock* (a session advisory lock keyed by its id) on a
  connection of its own while it lives (:class:`Liveness`). The server drops it the
  moment the process dies (``kill -9``, a crash), and within about half a minute when
  its machine vanished (TCP keepalives on that connection), while a slow but live
  worker keeps it. A worker whose heartbeats are late but whose lock is held is not
  taken for dead (neither pruned nor its jobs put back) until its heartbeats are
  :data:`~pipeline.store.worker_sql.HUNG_AFTER` late (a process hung with its connection open);
- a worker registers again under its own id when its row is gone (at a heartbeat, or
  when a fetch finds it missing), so it carries on;
- at each heartbeat it takes back the jobs it still runs that were put back and that
  no other worker took meanwhile (``RECLAIM``), so they are not run twice; when
  another worker took one first, the queues' own guards (a source's queueing lock and
  due check, the deliveries table) keep its effect single;
- a stalled job is ended only while it is still the dead worker's (``STALLED``).

The SQL lives in :mod:`pipeline.store.worker_sql`. Every time here is the database's
``now()`` (heartbeats and the stalled check included), never the worker's clock, which
may be off (another machine).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

import psycopg
from procrastinate import exceptions, jobs, utils
from procrastinate.manager import JobManager

from pipeline.store.dialect import POSTGRESQL
from pipeline.store.worker_sql import (
    ABORT,
    BEAT,
    GIVE_UP,
    LIVE,
    LIVENESS_CLASS,
    LIVENESS_ID_BITS,
    PRUNE,
    PUT_BACK,
    RECLAIM,
    REJOIN,
    live_params,
)

log = logging.getLogger("trendwatch")

LIVE_PG = POSTGRESQL.sql(LIVE)  # the store writes it with ``:name`` placeholders

# The server's TCP keepalives on a liveness connection (seconds idle, between probes,
# probes): a worker's machine that vanished (no FIN, no RST) loses its lock within
# about half a minute, not the system's default two hours.
KEEPALIVES = (
    ("tcp_keepalives_idle", 10),
    ("tcp_keepalives_interval", 5),
    ("tcp_keepalives_count", 3),
)


def is_missing_worker(exc: BaseException) -> bool:
    """Whether ``exc`` (a connector error) says the worker's row is gone: the jobs
    table's link to the workers table refused."""
    cause = exc.__cause__
    return isinstance(cause, psycopg.errors.ForeignKeyViolation) and (
        cause.diag.constraint_name or ""
    ).endswith("worker_id_fkey")


class Liveness:
    """A worker's liveness lock, on a connection of its own to ``conninfo``: taken
    (again, on a new connection if the old one was cut) at each :meth:`hold`."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def hold(self, worker_id: int) -> None:
        """Hold the lock of worker ``worker_id``: a look at the connection when it
        holds it already; else (a first time, the connection cut) taken on a new one."""
        if self._conn is not None and not self._conn.closed:
            try:
                await self._conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:  # cut: a new connection below
                await self.close()
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        for name, value in KEEPALIVES:  # ignored on a Unix socket
            await conn.execute("SELECT set_config(%s, %s, false)", [name, str(value)])
        await conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [LIVENESS_CLASS, worker_id & LIVENESS_ID_BITS]
        )
        self._conn = conn

    async def close(self) -> None:
        """Let go of the lock (the worker stops)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


class WorkerJobManager(JobManager):
    """procrastinate's job manager with retries timed by the database's clock and the
    heartbeat, rejoin and reclaim of a worker taken for dead while alive."""

    async def retry_job_by_id_async(
        self,
        job_id: int,
        retry_at: datetime.datetime,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        """procrastinate schedules a retried job at the worker's time (``utcnow()``
        plus the wait), while the database decides with its own ``now()`` whether a job
        may run: a worker whose clock runs ahead of the database's (another machine, a
        wrong clock) would hold its retries back by as much. Here the wait the worker
        meant is added to the database's now instead."""
        wait = max(retry_at - utils.utcnow(), datetime.timedelta(0))
        row = await self.connector.execute_query_one_async("SELECT now() AS now")
        await super().retry_job_by_id_async(
            job_id, row["now"] + wait, priority=priority, queue=queue, lock=lock
        )

    async def rejoin(self, worker_id: int) -> None:
        """Register worker ``worker_id`` again, under its own id (its row was pruned)."""
        await self.connector.execute_query_async(REJOIN, worker_id=worker_id)
        log.warning(
            "worker %d was taken for dead (its heartbeats came late) and removed; registered again",
            worker_id,
        )

    async def beat(self, worker_id: int, running: Iterable[int] = ()) -> list[int]:
        """A heartbeat of worker ``worker_id``, registering it again if its row is
        gone; then the jobs it still runs (``running``) taken back where they were put
        back meanwhile. The ids taken back."""
        rows = await self.connector.execute_query_all_async(BEAT, worker_id=worker_id)
        if not rows:
            await self.rejoin(worker_id)
        job_ids = sorted(running)
        if not job_ids:
            return []
        rows = await self.connector.execute_query_all_async(
            RECLAIM, worker_id=worker_id, job_ids=job_ids
        )
        taken = sorted(row["id"] for row in rows)
        if taken:
            log.warning(
                "worker %d took back jobs %s that it still runs (they had been put back"
                " in their queue as a dead worker's)",
                worker_id,
                ", ".join(map(str, taken)),
            )
        return taken

    async def update_heartbeat(self, worker_id: int) -> None:
        await self.beat(worker_id)

    async def end_stalled(self, job: jobs.Job, give_up: bool) -> str | None:
        """End stalled ``job`` (a dead worker's): failed for good (``give_up``), else
        put back in its queue, due now by the database's clock ('todo'), or aborted
        when its twin waits already (the same queueing lock). What it became; None
        when it is no longer that worker's (another live worker dealt with it)."""
        params = {"id": job.id, "worker": job.worker_id}
        if give_up:
            rows = await self.connector.execute_query_all_async(GIVE_UP, **params)
            return "failed" if rows else None
        try:
            rows = await self.connector.execute_query_all_async(PUT_BACK, **params)
            return "todo" if rows else None
        except exceptions.UniqueViolation:
            rows = await self.connector.execute_query_all_async(ABORT, **params)
            return "aborted" if rows else None

    async def live_workers(self, stalled_after: float) -> set[int]:
        """The workers holding their liveness lock, unless hung."""
        rows = await self.connector.execute_query_all_async(LIVE_PG, **live_params(stalled_after))
        return {int(row["id"]) for row in rows}

    async def get_stalled_jobs(
        self,
        nb_seconds: int | None = None,
        queue: str | None = None,
        task_name: str | None = None,
        seconds_since_heartbeat: float = 30,
    ) -> Iterable[jobs.Job]:
        """procrastinate's stalled jobs, less those of workers alive by their liveness
        lock (late heartbeats only: a loaded machine)."""
        stalled = list(
            await super().get_stalled_jobs(
                nb_seconds, queue, task_name, seconds_since_heartbeat=seconds_since_heartbeat
            )
        )
        if not stalled:
            return stalled
        live = await self.live_workers(seconds_since_heartbeat)
        return [job for job in stalled if job.worker_id not in live]

    async def prune_stalled_workers(self, seconds_since_heartbeat: float) -> list[int]:
        """procrastinate's pruning of workers with late heartbeats, sparing those alive
        by their liveness lock."""
        live = await self.live_workers(seconds_since_heartbeat)
        rows = await self.connector.execute_query_all_async(
            PRUNE, seconds=seconds_since_heartbeat, live=sorted(live)
        )
        return [int(row["id"]) for row in rows]

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> jobs.Job | None:
        """procrastinate's fetch; a worker whose row was pruned registers again and
        fetches once more instead of crashing."""
        try:
            return await super().fetch_job(queues, worker_id)
        except exceptions.ConnectorException as exc:
            if not is_missing_worker(exc):
                raise
        await self.rejoin(worker_id)
        return await super().fetch_job(queues, worker_id)
