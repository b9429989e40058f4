"""The build job's delivery jobs deferred in bulk: a reader whose delivery job waits or
runs gets no second one, the rest are deferred a chunk per statement, a run again
(each minute while the digest is due) defers nothing when every reader has a job, and
a chunk refused because one of its locks was taken meanwhile still defers the others,
each reader's job once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
import pytest
from procrastinate.exceptions import AlreadyEnqueued

from pipeline.queue import delivery_jobs
from pipeline.queue.app import make_app
from pipeline.queue.decide import delivery_lock
from pipeline.queue.delivery_jobs import chunks, defer_deliveries, to_defer
from pipeline.queue.digest import DELIVER
from pipeline.store import Store
from postgres_support import query

KEY = "2026-W48/nl-a"
READERS = [f"reader{i}@example.nl" for i in range(7)]


def test_who_gets_a_job_and_in_what_chunks() -> None:
    wanted = [(KEY, "a@x.nl"), (KEY, "B@x.nl"), (KEY, "b@x.nl"), (KEY, "c@x.nl")]
    busy = {delivery_lock(KEY, "c@x.nl")}
    # c's job waits or runs already; B and b are one reader (one lock)
    assert to_defer(wanted, busy) == [
        (KEY, "a@x.nl", delivery_lock(KEY, "a@x.nl")),
        (KEY, "B@x.nl", delivery_lock(KEY, "b@x.nl")),
    ]
    assert chunks([(str(i), "", "") for i in range(5)], 2) == [
        [("0", "", ""), ("1", "", "")],
        [("2", "", ""), ("3", "", "")],
        [("4", "", "")],
    ]


def _run(url: str, work: Callable[[procrastinate.App], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        app = make_app(url)
        async with app.open_async():
            return await work(app)

    return asyncio.run(go())


def _jobs(url: str) -> dict[str, list[str]]:
    """The delivery jobs in the queue: status -> their emails, sorted."""
    with Store(url) as store:
        rows = query(
            store,
            "SELECT status, args->>'email' FROM procrastinate_jobs WHERE task_name = ? ORDER BY 2",
            [DELIVER],
        )
    out: dict[str, list[str]] = {}
    for status, email in rows:
        out.setdefault(status, []).append(email)
    return out


def _wanted(emails: list[str]) -> list[tuple[str, str]]:
    return [(KEY, e) for e in emails]


@pytest.fixture
def queue_url(postgres_url: str) -> str:
    with Store(postgres_url):  # the schema, the queue's tables with it
        pass
    return postgres_url


def test_procrastinate_refuses_a_whole_batch_when_one_lock_waits(queue_url: str) -> None:
    """What the bulk deferral must handle: one statement, all or nothing."""

    async def work(app: procrastinate.App) -> None:
        await defer_deliveries(app, app.tasks[DELIVER], _wanted(READERS[1:2]))
        template = app.tasks[DELIVER].configure().job
        jobs = [
            template.evolve(
                lock=delivery_lock(KEY, e),
                queueing_lock=delivery_lock(KEY, e),
                task_kwargs={"key": KEY, "email": e},
            )
            for e in READERS[:3]
        ]
        with pytest.raises(AlreadyEnqueued):
            await app.job_manager.batch_defer_jobs_async(jobs)

    _run(queue_url, work)
    assert _jobs(queue_url) == {"todo": [READERS[1]]}


def test_readers_with_a_job_waiting_or_running_get_none_and_a_rerun_defers_nothing(
    queue_url: str,
) -> None:
    async def work(app: procrastinate.App) -> list[delivery_jobs.Deferred]:
        task = app.tasks[DELIVER]
        first = await defer_deliveries(app, task, _wanted(READERS[:2]))
        worker = await app.job_manager.register_worker()
        running = await app.job_manager.fetch_job(["digest"], worker)  # reader 0's job runs
        assert running is not None and running.task_kwargs["email"] == READERS[0]
        all_ = await defer_deliveries(app, task, _wanted(READERS), size=2)
        again = await defer_deliveries(app, task, _wanted(READERS), size=2)
        return [first, all_, again]

    first, all_, again = _run(queue_url, work)
    assert (first.deferred, first.skipped) == (2, 0)
    # reader 0's runs, reader 1's waits: the other five deferred, in three statements
    assert (all_.deferred, all_.skipped, all_.statements) == (5, 2, 1 + 3)
    # every reader has a job: one query, nothing deferred
    assert (again.deferred, again.skipped, again.statements) == (0, 7, 1)
    assert _jobs(queue_url) == {"doing": [READERS[0]], "todo": READERS[1:]}


def test_a_chunk_refused_for_a_lock_taken_meanwhile_defers_the_others_one_by_one(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = delivery_jobs.busy_locks
    calls: list[int] = []

    async def late_twin(app: procrastinate.App, locks: list[str]) -> set[str]:
        """The first check finds no job; reader 3's job is deferred right after it
        (as by its delivery job's retry), before the chunks go in."""
        calls.append(len(locks))
        if len(calls) == 1:
            found = await real(app, locks)
            await (
                app.tasks[DELIVER]
                .configure(
                    lock=delivery_lock(KEY, READERS[3]),
                    queueing_lock=delivery_lock(KEY, READERS[3]),
                )
                .defer_async(key=KEY, email=READERS[3])
            )
            return found
        return await real(app, locks)

    monkeypatch.setattr(delivery_jobs, "busy_locks", late_twin)
    done = _run(
        queue_url, lambda app: defer_deliveries(app, app.tasks[DELIVER], _wanted(READERS), size=3)
    )
    # chunks [0 1 2] [3 4 5] [6]: the second refused whole, then 4 and 5 one by one
    assert (done.deferred, done.skipped) == (6, 1)
    assert calls == [7, 3]
    assert _jobs(queue_url) == {"todo": READERS}
