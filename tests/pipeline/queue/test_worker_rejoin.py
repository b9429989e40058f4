"""A live worker is not taken for dead for late heartbeats alone: it holds a liveness
lock on a connection of its own, which the server drops only when the process dies.
And a live worker taken for dead all the same carries on. procrastinate deletes a worker whose
heartbeats came late from ``procrastinate_workers`` when another worker starts (its
"stalled worker" pruning), and the recovery of stalled jobs puts the jobs it runs back
in their queue. Before, that worker's next fetch crashed it (the jobs table's foreign
key to the workers table) and its job could be run a second time; now it registers
again under its own id, takes back the job it still runs, finishes it once and goes on
taking jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
import pytest

from pipeline.queue.app import ensure_schema, make_app, retry_stalled
from pipeline.queue.manager import Liveness
from pipeline.queue.worker import WorkerOptions, serve
from pipeline.store import Store

QUEUE = "tests"
HOLD = "tests.hold"
# a heartbeat a second: the test prunes the worker just after one, long before the next
BEATS = WorkerOptions(heartbeat=1.0, poll=0.1)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, f"never got to {what} within {timeout} s"
        await asyncio.sleep(0.05)


async def rows(app: procrastinate.App, sql: str, **params: Any) -> list[dict[str, Any]]:
    return await app.connector.execute_query_all_async(sql, **params)


def on_queue(url: str, scenario: Callable[[procrastinate.App], Awaitable[None]]) -> None:
    """Run ``scenario`` with an opened App of the (migrated) database at ``url``."""
    ensure_schema(url)

    async def opened() -> None:
        app = make_app(url)
        async with app.open_async():
            await scenario(app)

    asyncio.run(opened())


async def running_job(app: procrastinate.App, n: int) -> tuple[int, int]:
    """A worker registered and running a job it fetched: (its id, the job's)."""
    wid = await app.job_manager.register_worker()
    job = await app.configure_task(HOLD, queue=QUEUE).defer_async(n=n)
    fetched = await app.job_manager.fetch_job([QUEUE], wid)
    assert fetched is not None and fetched.id == job
    return wid, job


async def just_beat(app: procrastinate.App, wid: int) -> None:
    """Return just after worker ``wid``'s next heartbeat."""
    sql = "SELECT last_heartbeat FROM procrastinate_workers WHERE id = %(id)s"
    before = await rows(app, sql, id=wid)

    async def beat() -> bool:
        return await rows(app, sql, id=wid) != before

    await eventually(beat, f"a heartbeat of worker {wid}")


def test_a_live_worker_whose_row_was_pruned_carries_on_and_runs_its_job_once(
    postgres_url: str, make_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_schema(postgres_url)
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    settings = make_settings("")
    runs: list[int] = []

    async def scenario() -> None:
        release = asyncio.Event()
        app = make_app(postgres_url)  # the worker's

        @app.task(name=HOLD, queue=QUEUE)
        async def hold(n: int) -> None:
            runs.append(n)
            if n == 1:
                await release.wait()

        other = make_app(postgres_url)  # another worker's, and the test's view
        async with other.open_async():
            worker = asyncio.create_task(serve(app, settings, [QUEUE], BEATS))

            async def registered() -> bool:
                assert not worker.done(), worker.exception()
                return bool(await rows(other, "SELECT id FROM procrastinate_workers"))

            await eventually(registered, "the worker registered")
            [(wid,)] = [
                (r["id"],) for r in await rows(other, "SELECT id FROM procrastinate_workers")
            ]
            job = await other.configure_task(HOLD, queue=QUEUE).defer_async(n=1)

            async def ran(count: int) -> bool:
                assert not worker.done(), worker.exception()
                return len(runs) >= count

            await eventually(lambda: ran(1), "the first job running")

            # just after a heartbeat: what a starting worker does to a worker it takes
            # for dead, then what the recovery of stalled jobs does with its job
            await just_beat(other, wid)
            await rows(
                other, "DELETE FROM procrastinate_workers WHERE id = %(id)s RETURNING id", id=wid
            )
            put_back = await retry_stalled(other, stalled_after=30)
            # (the worker's next heartbeat may, on a starved machine, come first)
            assert put_back in ([job], [])

            async def taken_back() -> bool:
                assert not worker.done(), worker.exception()
                got = await rows(
                    other,
                    "SELECT j.status, j.worker_id, w.id AS registered FROM procrastinate_jobs j"
                    " LEFT JOIN procrastinate_workers w ON w.id = %(wid)s WHERE j.id = %(job)s",
                    wid=wid,
                    job=job,
                )
                return got == [{"status": "doing", "worker_id": wid, "registered": wid}]

            await eventually(taken_back, "the worker registered again, its job taken back")
            # no other worker takes it now: it is a live worker's again
            assert await retry_stalled(other, stalled_after=30) == []

            release.set()

            async def gone() -> bool:
                return not await rows(
                    other, "SELECT id FROM procrastinate_jobs WHERE id = %(job)s", job=job
                )

            await eventually(gone, "the first job finished")

            # the worker goes on taking jobs, also after its row went again while idle
            await other.configure_task(HOLD, queue=QUEUE).defer_async(n=2)
            await eventually(lambda: ran(2), "a second job run")
            await rows(
                other, "DELETE FROM procrastinate_workers WHERE id = %(id)s RETURNING id", id=wid
            )
            await other.configure_task(HOLD, queue=QUEUE).defer_async(n=3)
            await eventually(lambda: ran(3), "a third job run")

            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        assert runs == [1, 2, 3]

    asyncio.run(scenario())


def test_a_fetch_by_a_worker_whose_row_is_gone_registers_it_again(postgres_url: str) -> None:
    async def scenario(app: procrastinate.App) -> None:
        manager = app.job_manager
        wid = await manager.register_worker()
        await app.connector.execute_query_async(
            "DELETE FROM procrastinate_workers WHERE id = %(id)s", id=wid
        )
        job = await app.configure_task(HOLD, queue=QUEUE).defer_async(n=1)
        fetched = await manager.fetch_job([QUEUE], wid)
        assert fetched is not None and fetched.id == job
        assert await rows(app, "SELECT id FROM procrastinate_workers") == [{"id": wid}]
        assert await rows(
            app, "SELECT status, worker_id FROM procrastinate_jobs WHERE id = %(j)s", j=job
        ) == [{"status": "doing", "worker_id": wid}]

    on_queue(postgres_url, scenario)


def test_a_heartbeat_takes_back_the_jobs_put_back_that_the_worker_still_runs(
    postgres_url: str,
) -> None:
    async def scenario(app: procrastinate.App) -> None:
        manager = app.job_manager
        wid, mine = await running_job(app, 1)
        # another worker taken for dead, and put back, a second one it ran
        other, theirs = await running_job(app, 2)
        await app.connector.execute_query_async(
            "DELETE FROM procrastinate_workers WHERE id = ANY(%(ids)s)", ids=[wid, other]
        )
        assert sorted(await retry_stalled(app, stalled_after=30)) == [mine, theirs]

        assert await manager.beat(wid, [mine]) == [mine]
        assert await rows(app, "SELECT id FROM procrastinate_workers") == [{"id": wid}]
        got = await rows(app, "SELECT id, status, worker_id FROM procrastinate_jobs ORDER BY id")
        assert got == [
            {"id": mine, "status": "doing", "worker_id": wid},
            {"id": theirs, "status": "todo", "worker_id": None},
        ]
        # once taken back, it is a live worker's job: not put back again
        assert await retry_stalled(app, stalled_after=30) == []
        assert await manager.beat(wid, [mine]) == []

    on_queue(postgres_url, scenario)


def test_a_worker_alive_by_its_liveness_lock_is_not_taken_for_dead_for_late_heartbeats(
    postgres_url: str,
) -> None:
    async def scenario(app: procrastinate.App) -> None:
        manager = app.job_manager
        slow, slow_job = await running_job(app, 1)
        dead, dead_job = await running_job(app, 2)
        lives = {slow: Liveness(postgres_url), dead: Liveness(postgres_url)}
        for wid, liveness in lives.items():
            await liveness.hold(wid)
        await lives[dead].close()  # its process died: the server let go of its lock

        async def late(interval: str) -> None:
            await app.connector.execute_query_async(
                f"UPDATE procrastinate_workers SET last_heartbeat = now() - interval '{interval}'"
            )

        try:
            await late("1 minute")  # 40 heartbeats of 0.5 s missed by both
            # `trendwatch status` agrees: the slow worker's job runs, the dead one's is
            # stalled, and the slow worker is shown alive
            with Store(postgres_url) as store:
                [counts] = store.queue_counts(stalled_after=1.5)
                alive = {w.id: w.alive for w in store.queue_workers(stalled_after=1.5)}
            assert (counts.running, counts.stalled) == (1, 1)
            assert alive == {slow: True, dead: False}
            assert await retry_stalled(app, stalled_after=1.5) == [dead_job]
            assert await manager.prune_stalled_workers(1.5) == [dead]
            # hung with its connection open: taken for dead after HUNG_AFTER
            await late("1 hour")
            assert await retry_stalled(app, stalled_after=1.5) == [slow_job]
        finally:
            await lives[slow].close()

    on_queue(postgres_url, scenario)


def test_two_workers_recovering_one_stalled_job_at_once_put_it_back_once(
    postgres_url: str,
) -> None:
    async def scenario(app: procrastinate.App) -> None:
        manager = app.job_manager
        dead, job = await running_job(app, 1)
        await app.connector.execute_query_async(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
        )
        # both live workers see the stalled job; the first puts it back and a worker
        # takes it before the second gets to it with what it saw
        [first] = await manager.get_stalled_jobs(seconds_since_heartbeat=30)
        [second] = await manager.get_stalled_jobs(seconds_since_heartbeat=30)
        assert await manager.end_stalled(first, give_up=False) == "todo"
        live = await manager.register_worker()
        taken = await manager.fetch_job([QUEUE], live)
        assert taken is not None and taken.id == job
        assert await manager.end_stalled(second, give_up=False) is None
        assert await manager.end_stalled(second, give_up=True) is None
        got = await rows(app, "SELECT status, worker_id, attempts FROM procrastinate_jobs")
        assert got == [{"status": "doing", "worker_id": live, "attempts": 1}]
        assert dead != live

    on_queue(postgres_url, scenario)
