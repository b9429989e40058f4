"""The work queue's decisions, pure: which queues a worker takes, the locks a fetch
job carries, and whether a fetch deferred at some moment is still to be done.

A fetch job carries two locks: a *queueing lock* per source (procrastinate keeps at
most one job of a lock waiting), and a *lock* per host (procrastinate runs at most one
job of a lock at a time, across all workers, in the order they were deferred), so one
host is fetched by one worker at a time and two fetches of one source never overlap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from pipeline.crawl.decide import is_due
from pipeline.store import SourceRow, from_iso

QUEUES = ("crawl", "process", "digest")


class UnknownQueue(ValueError):
    """A queue name that trendwatch does not have."""


def parse_queues(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"crawl,process"`` (or a list of such) as queue names, in :data:`QUEUES`'
    order, without repeats; UnknownQueue names the unknown ones. Empty: all."""
    parts = [text] if isinstance(text, str) else list(text)
    names = {n.strip().lower() for part in parts for n in part.split(",") if n.strip()}
    unknown = sorted(names - set(QUEUES))
    if unknown:
        raise UnknownQueue(
            f"unknown queue {', '.join(repr(n) for n in unknown)}; the queues are"
            f" {', '.join(QUEUES)}"
        )
    return tuple(q for q in QUEUES if q in names) or QUEUES


def host_of(url: str) -> str:
    """The host a source's URL names, lower case ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def host_lock(url: str) -> str:
    """The lock that serialises the fetch jobs of one host across all workers."""
    return f"crawl-host:{host_of(url)}"


def source_lock(name: str) -> str:
    """The queueing lock of one source's fetch job: one waiting at most."""
    return f"crawl-source:{name}"


def still_due(row: SourceRow | None, deferred_at: datetime) -> bool:
    """Whether a fetch job deferred at ``deferred_at`` still has work: the source is
    configured and switched on, and was due then as the scheduler decides
    (:func:`pipeline.crawl.decide.is_due`). A fetch that ran since (its next poll moved
    on) or a Retry-After received since makes a waiting or retried job a no-op, so a
    source is never fetched twice for one tick."""
    if row is None or not row.in_config or not row.enabled or row.disabled_reason:
        return False
    return is_due(from_iso(row.next_poll), from_iso(row.retry_after), deferred_at)


def analysis_batches(waiting: Sequence[int], held: Collection[int], size: int) -> list[list[int]]:
    """The ids of ``waiting`` (articles without a stored analysis, id order) that no
    waiting or running analysis job holds (``held``), cut into batches of ``size``."""
    free = [i for i in waiting if i not in held]
    return [free[at : at + size] for at in range(0, len(free), max(1, size))]


def analysis_batch_lock(ids: Sequence[int]) -> str:
    """The queueing lock of one analysis batch: one job of it waiting at most."""
    return f"process-batch:{ids[0]}-{ids[-1]}:{len(ids)}"
