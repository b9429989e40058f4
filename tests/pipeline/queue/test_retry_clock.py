"""Retried jobs are timed by the database's clock, not the worker's: a worker machine
whose clock runs a year ahead of the database (or a wrong clock) must not hold back
the jobs it puts back, neither a dead worker's nor a failed one's."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import time_machine
from procrastinate.jobs import Status

from pipeline.queue.app import make_app, retry_stalled
from pipeline.store import Store
from postgres_support import query

AHEAD = timedelta(days=365)


def test_a_dead_workers_job_put_back_by_a_worker_a_year_ahead_runs_at_once(
    postgres_url: str,
) -> None:
    with Store(postgres_url):  # schema
        pass

    async def stall() -> None:
        app = make_app(postgres_url)
        async with app.open_async():
            await app.tasks["crawl.fetch_source"].defer_async(
                name="A", deferred_at="2026-03-02T09:00:00+00:00"
            )
            dead = await app.job_manager.register_worker()
            assert await app.job_manager.fetch_job(["crawl"], dead) is not None

    asyncio.run(stall())
    with Store(postgres_url) as store:
        query(
            store,
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'",
            [],
        )

    async def recover_and_fetch() -> tuple[list[int], int | None]:
        app = make_app(postgres_url)
        async with app.open_async():
            retried = await retry_stalled(app, stalled_after=30)
            live = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(["crawl"], live)
            return retried, None if job is None else job.id

    with time_machine.travel(AHEAD, tick=True):
        retried, fetched = asyncio.run(recover_and_fetch())
    assert len(retried) == 1
    assert fetched == retried[0], "the retried job waits for the worker's clock"


def test_a_failed_jobs_retry_from_a_worker_a_year_ahead_waits_only_its_wait(
    postgres_url: str,
) -> None:
    with Store(postgres_url):
        pass

    async def fail_and_retry() -> tuple[float, str]:
        app = make_app(postgres_url)
        async with app.open_async():
            await app.tasks["crawl.fetch_source"].defer_async(
                name="A", deferred_at="2026-03-02T09:00:00+00:00"
            )
            worker = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(["crawl"], worker)
            assert job is not None
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            with time_machine.travel(AHEAD, tick=True):
                from procrastinate import utils

                # as the worker does for a task with a retry strategy: 60 s from "now"
                await app.job_manager.retry_job(
                    job, retry_at=utils.utcnow() + timedelta(seconds=60)
                )
            with Store(postgres_url) as store:
                rows = query(
                    store,
                    "SELECT extract(epoch FROM scheduled_at - now()), status::text"
                    " FROM procrastinate_jobs",
                    [],
                )
            return float(rows[0][0]), str(rows[0][1])

    wait, status = asyncio.run(fail_and_retry())
    assert status == "todo"
    assert 0 < wait <= 60, f"the retry waits {wait:.0f} s by the database's clock, not 60"
