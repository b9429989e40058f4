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
from dataclasses import dataclass

import procrastinate

from pipeline.queue.app import ensure_schema, make_app, retry_stalled
from pipeline.queue.digest import SENDS, Senders
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


async def _recover(app: procrastinate.App, heartbeat: float) -> None:
    while True:
        try:
            await retry_stalled(app, stalled_after(heartbeat))
        except Exception:  # the database away for a moment: try at the next beat
            log.exception("could not look for the jobs of dead workers")
        await asyncio.sleep(heartbeat)


async def serve(
    app: procrastinate.App,
    settings: Settings,
    queues: Sequence[str],
    options: WorkerOptions = WorkerOptions(),
) -> None:
    """Run a worker of ``app`` on ``queues`` until it is stopped (SIGTERM/SIGINT)."""
    o = options
    senders = Senders(settings, o.sends)
    async with app.open_async():
        recovery = asyncio.create_task(_recover(app, o.heartbeat), name="recover stalled jobs")
        try:
            await app.run_worker_async(
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
