"""The work queue's decisions, pure: which queues a worker takes, the locks a fetch
job carries, and whether a fetch deferred at some moment is still to be done; for the
digest queue, the lock of a delivery, who gets a delivery job, how
long a delivery waits for its retry, and which pending deliveries lost their job.

A fetch job carries two locks: a *queueing lock* per source (procrastinate keeps at
most one job of a lock waiting), and a *lock* per host (procrastinate runs at most one
job of a lock at a time, across all workers, in the order they were deferred), so one
host is fetched by one worker at a time and two fetches of one source never overlap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
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


# --- the digest queue --------------------------------------------------------------------

FINISHED = ("sent", "failed")  # a delivery in these states is never tried again


# the lock (and queueing lock) of the build job: one build at a time across all workers
# (two never build one edition), one waiting at most
BUILD_LOCK = "digest-build"


def delivery_lock(edition_key: str, email: str) -> str:
    """The lock (and queueing lock) of one delivery job: never two jobs of one
    (edition, subscriber) at once, one waiting at most."""
    return f"digest-delivery:{edition_key}/{email.casefold()}"


def to_deliver(
    emails: Iterable[str],
    send_empty: Mapping[str, bool],
    item_count: int,
    finished: Iterable[str],
) -> list[str]:
    """The audience's readers who get a delivery job for an edition of ``item_count``
    articles: the current readers (``send_empty``: theirs, by address) who want it
    (an empty edition only when asked for) and whose delivery is not finished."""
    done = {e.casefold() for e in finished}
    return [
        e
        for e in emails
        if e in send_empty and (item_count > 0 or send_empty[e]) and e.casefold() not in done
    ]


def retry_delay(next_attempt: datetime | None, now: datetime) -> timedelta:
    """How long a delivery waiting for its retry at ``next_attempt`` still waits at
    ``now`` (never negative; none without a time)."""
    if next_attempt is None:
        return timedelta(0)
    return max(timedelta(0), next_attempt - now)


def lost_deliveries(
    pending: Iterable[tuple[str, str, datetime | None]], busy: Collection[str], now: datetime
) -> list[tuple[str, str, float]]:
    """The pending deliveries ((edition key, subscriber, next attempt)) whose job chain
    was lost: no waiting or running delivery job carries their lock (``busy``: the
    locks that jobs carry). Each with the seconds its retry still waits at ``now``."""
    return [
        (key, email, retry_delay(next_attempt, now).total_seconds())
        for key, email, next_attempt in pending
        if delivery_lock(key, email) not in busy
    ]


def analysis_batches(waiting: Sequence[int], held: Collection[int], size: int) -> list[list[int]]:
    """The ids of ``waiting`` (articles without a stored analysis, id order) that no
    waiting or running analysis job holds (``held``), cut into batches of ``size``."""
    free = [i for i in waiting if i not in held]
    return [free[at : at + size] for at in range(0, len(free), max(1, size))]


def analysis_batch_lock(ids: Sequence[int]) -> str:
    """The queueing lock of one analysis batch: one job of it waiting at most."""
    return f"process-batch:{ids[0]}-{ids[-1]}:{len(ids)}"
