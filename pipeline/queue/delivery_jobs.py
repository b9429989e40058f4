"""The digest queue's delivery jobs deferred in bulk: the build job defers one delivery
job per (edition, reader), and is run again each minute while the digest is due, until
every reader's delivery is finished. At 50,000 readers one ``INSERT`` per reader, most
of them refused by the queueing lock of the job already waiting, cost a round trip and
an error each, every minute.

Here the readers whose delivery job waits or runs already are left out first (one query,
by the jobs' locks), and the rest are deferred :data:`CHUNK` at a time, each chunk one
statement (procrastinate's batch deferral). The queueing locks still forbid doubles:
a chunk in which one job's lock is taken meanwhile (a delivery job re-deferring itself
for its retry, or another deferral) is refused whole, nothing of it inserted
(``AlreadyEnqueued``); that chunk is then checked again and deferred one job at a time,
each refused lock skipped. Whichever way, each (edition, reader) has one job waiting
at most, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job

from pipeline.queue.decide import delivery_lock
from pipeline.store.worker_sql import BUSY_LOCKS

CHUNK = 1000  # delivery jobs per statement


@dataclass(frozen=True)
class Deferred:
    """What a bulk deferral did: jobs deferred, readers skipped (their job waits or
    runs already), statements it took."""

    deferred: int = 0
    skipped: int = 0
    statements: int = 0


def to_defer(wanted: Iterable[tuple[str, str]], busy: set[str]) -> list[tuple[str, str, str]]:
    """Of the wanted deliveries (edition key, email), each once, those without a job
    waiting or running (``busy``: their locks); each with its lock."""
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for key, email in wanted:
        lock = delivery_lock(key, email)
        if lock not in busy and lock not in seen:
            seen.add(lock)
            out.append((key, email, lock))
    return out


def chunks(items: Sequence[tuple[str, str, str]], size: int = CHUNK) -> list[list]:
    """``items`` cut into lists of ``size`` at most, in order."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


async def busy_locks(app: procrastinate.App, locks: Sequence[str]) -> set[str]:
    """Of ``locks``, those of a delivery job waiting or running now."""
    if not locks:
        return set()
    rows = await app.connector.execute_query_all_async(BUSY_LOCKS, locks=list(locks))
    return {row["lock"] for row in rows}


def _job(template: Job, key: str, email: str, lock: str) -> Job:
    return template.evolve(lock=lock, queueing_lock=lock, task_kwargs={"key": key, "email": email})


async def defer_deliveries(
    app: procrastinate.App,
    task: procrastinate.tasks.Task,
    wanted: Sequence[tuple[str, str]],
    size: int = CHUNK,
) -> Deferred:
    """Defer a job of ``task`` (the delivery task) for each wanted (edition key, email)
    that has none waiting or running, ``size`` per statement; see the module's
    docstring."""
    locks = [delivery_lock(key, email) for key, email in wanted]
    todo = to_defer(wanted, await busy_locks(app, locks))
    template = task.configure().job
    deferred, statements = 0, 1
    for chunk in chunks(todo, size):
        jobs = [_job(template, key, email, lock) for key, email, lock in chunk]
        statements += 1
        try:
            await app.job_manager.batch_defer_jobs_async(jobs)
            deferred += len(jobs)
        except AlreadyEnqueued:  # a lock taken since: nothing of the chunk was inserted
            done, tried = await _one_by_one(app, jobs)
            deferred += done
            statements += 1 + tried
    return Deferred(deferred, len(set(locks)) - deferred, statements)


async def _one_by_one(app: procrastinate.App, jobs: list[Job]) -> tuple[int, int]:
    """The jobs of a refused chunk deferred one at a time, those whose lock is busy
    now left out; (deferred, statements tried)."""
    busy = await busy_locks(app, [str(job.queueing_lock) for job in jobs])
    done = tried = 0
    for job in jobs:
        if job.queueing_lock in busy:
            continue
        tried += 1
        try:
            await app.job_manager.defer_job_async(job)
            done += 1
        except AlreadyEnqueued:
            pass
    return done, tried
