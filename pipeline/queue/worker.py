"""Running one ``trendwatch worker``: the App opened on the configured PostgreSQL, a
procrastinate worker on the chosen queues until SIGTERM or SIGINT (it finishes the jobs
it holds, then unregisters), and beside it the recovery of the jobs of dead workers.

A worker sends a heartbeat every ``heartbeat`` seconds; one silent for three of them
is taken for dead (``kill -9``, a lost machine): any live worker puts its running jobs
back in their queues (:func:`pipeline.queue.app.retry_stalled`), where the locks and
:func:`pipeline.queue.decide.still_due` keep a retried fetch from fetching twice. A
worker taken for dead while alive (its heartbeats late) registers again and takes back
the jobs it still runs (:class:`LiveWorker`, :mod:`pipeline.queue.manager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions, job_context, jobs, retry
from procrastinate.worker import Worker

from pipeline.queue.app import ensure_schema, make_app, retry_stalled
from pipeline.queue.digest import SENDS, Senders
from pipeline.queue.manager import Liveness, WorkerJobManager
from pipeline.settings import Settings
from pipeline.settings.database import shown_url

log = logging.getLogger("trendwatch")

HEARTBEAT_SECONDS = 10.0
# How often an idle worker asks for jobs besides being told of new ones (NOTIFY): a job
# held back by its lock (a host's next fetch) becomes free without a notification.
POLL_SECONDS = 1.0
STALLED_HEARTBEATS = 3  # silent for this many heartbeats: the worker is dead


@dataclass(frozen=True)
class WorkerOptions:
    """How one worker runs (``trendwatch worker``'s options): jobs at a time, seconds
    between heartbeats and between an idle worker's looks for jobs, digest messages it
    sends at once at most, articles per analysis job it defers (None: the process
    queue's default)."""

    concurrency: int = 1
    heartbeat: float = HEARTBEAT_SECONDS
    poll: float = POLL_SECONDS
    sends: int = SENDS
    analysis_batch: int | None = None


def stalled_after(heartbeat: float) -> float:
    """Seconds without a heartbeat after which a worker is taken for dead."""
    return heartbeat * STALLED_HEARTBEATS


class LiveWorker(Worker):
    """procrastinate's worker, holding its liveness lock while it runs (``liveness``,
    :class:`~pipeline.queue.manager.Liveness`), and carrying on when it was taken for
    dead while alive all the same: each heartbeat registers it again if its row was
    pruned and takes back the jobs it still runs that were put back in their queue
    (:meth:`WorkerJobManager.beat`); a heartbeat that fails (the database away for a
    moment) is tried again at the next one instead of stopping the worker. A job whose
    outcome is being stored is no longer taken back (a retried job must stay in its
    queue)."""

    def __init__(self, *args: Any, liveness: Liveness | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._liveness = liveness
        self._settling: set[int] = set()  # jobs whose outcome is being stored
        self._claims = asyncio.Lock()  # a take-back and an outcome never cross

    def running_ids(self) -> set[int]:
        """The ids of the jobs this worker runs and has not finished."""
        ids = {c.job.id for c in self._running_jobs.values() if c.job.id is not None}
        self._settling &= ids
        return ids - self._settling

    async def _run_loop(self) -> None:
        assert self.worker_id is not None
        if self._liveness is not None:
            await self._liveness.hold(self.worker_id)
        try:
            await super()._run_loop()
        finally:
            if self._liveness is not None:
                await self._liveness.close()

    async def _update_heartbeat(self) -> None:
        manager = self.app.job_manager
        assert isinstance(manager, WorkerJobManager)  # make_app's
        while True:
            await asyncio.sleep(self.update_heartbeat_interval)
            assert self.worker_id is not None
            try:
                if self._liveness is not None:
                    await self._liveness.hold(self.worker_id)
                async with self._claims:
                    await manager.beat(self.worker_id, self.running_ids())
            except (exceptions.ConnectorException, psycopg.Error):
                log.exception(
                    "worker %s: heartbeat failed; next one in %s s",
                    self.worker_id,
                    self.update_heartbeat_interval,
                )

    async def _persist_job_status(
        self,
        job: jobs.Job,
        status: jobs.Status,
        retry_decision: retry.RetryDecision | None,
        context: job_context.JobContext,
        job_result: job_context.JobResult | None,
    ) -> None:
        assert job.id is not None
        async with self._claims:
            self._settling.add(job.id)
        try:
            await super()._persist_job_status(job, status, retry_decision, context, job_result)
        except exceptions.ConnectorException as exc:
            # taken for dead, its job put back and run by another worker meanwhile
            log.warning(
                "job %s (%s): its outcome (%s) not stored: %s",
                job.id,
                job.task_name,
                status.value,
                exc.__cause__ or exc,
            )


async def _recover(
    app: procrastinate.App, heartbeat: float, running: Callable[[], Collection[int]]
) -> None:
    while True:
        try:
            await retry_stalled(app, stalled_after(heartbeat), running())
        except Exception:  # the database away for a moment: try at the next beat
            log.exception("could not look for the jobs of dead workers")
        await asyncio.sleep(heartbeat)


async def serve(
    app: procrastinate.App,
    settings: Settings,
    queues: Sequence[str],
    options: WorkerOptions = WorkerOptions(),
) -> None:
    """Run a worker of ``app`` (made on ``settings.database``) on ``queues`` until it
    is stopped (SIGTERM/SIGINT)."""
    o = options
    senders = Senders(settings, o.sends)
    worker = LiveWorker(
        app=app,
        liveness=Liveness(str(settings.database)),
        queues=list(queues),
        concurrency=o.concurrency,
        fetch_job_polling_interval=o.poll,
        update_heartbeat_interval=o.heartbeat,
        stalled_worker_timeout=stalled_after(o.heartbeat),
        additional_context={
            "settings": settings,
            "senders": senders,
            "analysis_batch": o.analysis_batch,
            "concurrency": o.concurrency,
        },
        delete_jobs="successful",
        install_signal_handlers=True,
    )
    async with app.open_async():
        recovery = asyncio.create_task(
            _recover(app, o.heartbeat, worker.running_ids), name="recover stalled jobs"
        )
        try:
            app.perform_import_paths()
            await worker.run()
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery
            senders.close()


def _stop_before_start(signum: int, frame: object) -> None:
    """SIGTERM/SIGINT before procrastinate's own handlers are in place (the schema
    being brought up to date, the pool opening): no job is held yet, so stop at once
    with status 0, as a stop requested later does."""
    log.info("worker stopped (%s) before it took any job", signal.Signals(signum).name)
    raise SystemExit(0)


def run(
    settings: Settings, queues: Sequence[str], options: WorkerOptions = WorkerOptions()
) -> None:
    """``trendwatch worker``: the schema brought up to date, then :func:`serve`."""
    signal.signal(signal.SIGTERM, _stop_before_start)
    signal.signal(signal.SIGINT, _stop_before_start)
    url = str(settings.database)
    ensure_schema(url)
    app = make_app(url, pool_size=options.concurrency + 3)
    log.info(
        "worker on %s: queues %s, concurrency %d",
        shown_url(url),
        ",".join(queues),
        options.concurrency,
    )
    asyncio.run(serve(app, settings, queues, options))
