"""Running one ``trendwatch worker``: the App opened on the configured PostgreSQL, a
procrastinate worker on the chosen queues until SIGTERM or SIGINT (it finishes the jobs
it holds, then unregisters), and beside it the recovery of the jobs of dead workers.

A worker sends a heartbeat every ``heartbeat`` seconds; one silent for three of them
is taken for dead (``kill -9``, a lost machine): any live worker puts its running jobs
back in their queues (:func:`pipeline.queue.app.retry_stalled`), where the locks and
:func:`pipeline.queue.decide.still_due` keep a retried fetch from fetching twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

import procrastinate

from pipeline.queue.app import ensure_schema, make_app, retry_stalled
from pipeline.settings import Settings
from pipeline.settings.database import shown_url

log = logging.getLogger("trendwatch")

HEARTBEAT_SECONDS = 10.0
# How often an idle worker asks for jobs besides being told of new ones (NOTIFY): a job
# held back by its lock (a host's next fetch) becomes free without a notification.
POLL_SECONDS = 1.0
STALLED_HEARTBEATS = 3  # silent for this many heartbeats: the worker is dead


def stalled_after(heartbeat: float) -> float:
    """Seconds without a heartbeat after which a worker is taken for dead."""
    return heartbeat * STALLED_HEARTBEATS


async def _recover(app: procrastinate.App, heartbeat: float) -> None:
    while True:
        try:
            await retry_stalled(app, stalled_after(heartbeat))
        except Exception:  # the database away for a moment: try at the next beat
            log.exception("could not look for the jobs of dead workers")
        await asyncio.sleep(heartbeat)


class _EarlyStop:
    """A SIGTERM or SIGINT that came before procrastinate put its own handlers in place
    (while the worker starts): remembered, and the worker stopped as soon as it runs,
    instead of the process dying at once (exit status -15, nothing unregistered)."""

    asked = False

    @classmethod
    def install(cls) -> None:
        def remember(signum: int, frame: object) -> None:
            cls.asked = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, remember)


async def _stopped_early(worker: asyncio.Task[None]) -> None:
    """Stop ``worker`` (cancelling it: it finishes its jobs and unregisters) if a stop
    was asked for before its own signal handlers were in place."""
    while not _EarlyStop.asked:
        await asyncio.sleep(0.05)
    log.info("stop asked for while the worker started: stopping it")
    worker.cancel()


async def serve(
    app: procrastinate.App,
    settings: Settings,
    queues: Sequence[str],
    *,
    concurrency: int = 1,
    heartbeat: float = HEARTBEAT_SECONDS,
    poll: float = POLL_SECONDS,
) -> None:
    """Run a worker of ``app`` on ``queues`` until it is stopped (SIGTERM/SIGINT)."""
    async with app.open_async():
        recovery = asyncio.create_task(_recover(app, heartbeat), name="recover stalled jobs")
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=list(queues),
                concurrency=concurrency,
                fetch_job_polling_interval=poll,
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after(heartbeat),
                additional_context={"settings": settings, "concurrency": concurrency},
                delete_jobs="successful",
                install_signal_handlers=True,
            ),
            name="worker",
        )
        early = asyncio.create_task(_stopped_early(worker), name="stop asked early")
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        finally:
            for task in (early, recovery):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def run(
    settings: Settings,
    queues: Sequence[str],
    *,
    concurrency: int = 1,
    heartbeat: float = HEARTBEAT_SECONDS,
    poll: float = POLL_SECONDS,
) -> None:
    """``trendwatch worker``: the schema brought up to date, then :func:`serve`."""
    _EarlyStop.install()
    url = str(settings.database)
    ensure_schema(url)
    app = make_app(url, pool_size=concurrency + 3)
    log.info(
        "worker on %s: queues %s, concurrency %d", shown_url(url), ",".join(queues), concurrency
    )
    asyncio.run(
        serve(app, settings, queues, concurrency=concurrency, heartbeat=heartbeat, poll=poll)
    )
