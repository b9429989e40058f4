"""The digest queue: a periodic task (every minute) defers a build job for each
audience whose digest is due (the decision of ``trendwatch run``'s scheduler:
:func:`pipeline.digest.job.due_audiences`) as one build job; the build job builds and
stores those editions as the digest job does, from one read of the store (its lock:
one build at a time across all workers; an edition stored already is never built
again), writes their archive pages and the indexes, and defers one delivery job per
(edition, subscriber) (its queueing lock: one waiting at most; its lock: never two at
once). The delivery job sends that one mail by the digest job's own steps
(:func:`pipeline.digest.delivery.deliver_one`): the deliveries table is the source of
truth, a delivery is claimed before it is sent, one already sent is a no-op, one left
'sending' by a worker that died is sent again (with the same Message-ID, as a run
does). A temporary failure leaves the delivery pending with its back-off
(:mod:`pipeline.digest.retry`); the job then defers its successor for that time, taken
from the database's clock, until the delivery is sent, fails for good or is given up
(7 days after its edition). Should that chain be lost (a job that failed for good on
database errors), the periodic task defers the job of a pending delivery of a current
edition that no job carries again (:func:`redefer_lost_deliveries`).

A worker sends at most ``sends`` messages at once (:class:`Senders`), each over one of
as many SMTP connections that stay open across jobs. The blocking work runs in
threads, each with its own store connection (:func:`pipeline.queue.crawl.thread_store`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from digests.model import Edition
from digests.render import EditionRenderer, edition_renderer
from pipeline.digest.archive import write_archive_index
from pipeline.digest.delivery import Transport, deliver_one, open_transport
from pipeline.digest.frozen import edition_from_json
from pipeline.digest.job import DigestReport, build_editions_once, due_audiences
from pipeline.digest.retry import PENDING_GIVE_UP, expired
from pipeline.queue.crawl import thread_store
from pipeline.queue.decide import (
    BUILD_LOCK,
    FINISHED,
    delivery_lock,
    lost_deliveries,
    retry_delay,
    to_deliver,
)
from pipeline.queue.delivery_jobs import busy_locks, defer_deliveries
from pipeline.settings import Settings, Subscriber
from pipeline.store import Store
from pipeline.store.subscribers import email_key
from pipeline.subscriptions import readers, with_readers

log = logging.getLogger("trendwatch")

QUEUE = "digest"
SCHEDULE = "digest.schedule"
BUILD = "digest.build"
DELIVER = "digest.deliver"
SCHEDULE_CRON = "* * * * *"  # every minute: the due editions are built then
SENDS = 4  # messages a worker sends at once by default
JOB_ATTEMPTS = 3  # a job that raised (the database went away) is tried again
_KEPT_EDITIONS = 32  # decoded editions a worker keeps for the next deliveries


def utcnow() -> datetime:
    return datetime.now(UTC)


class Senders:
    """At most ``size`` messages in flight in one worker, each over its own transport
    (``[smtp]``: one connection each, opened on first use and kept across jobs; the
    transport reconnects when the server closed an idle one)."""

    def __init__(self, settings: Settings, size: int = SENDS) -> None:
        self.size = max(1, size)
        self._settings = settings
        self._free: queue.LifoQueue[tuple[Transport, str] | None] = queue.LifoQueue()
        for _ in range(self.size):
            self._free.put(None)  # opened when first taken
        self._opened: list[Transport] = []
        self._lock = threading.Lock()

    @contextmanager
    def transport(self) -> Iterator[tuple[Transport, str]]:
        """A transport and its kind ("smtp" or "outbox") for one send; waits while
        ``size`` sends are in flight."""
        taken = self._free.get()
        try:
            if taken is None:
                taken = open_transport(self._settings)
                with self._lock:
                    self._opened.append(taken[0])
            yield taken
        finally:
            self._free.put(taken)

    def close(self) -> None:
        """Close every connection opened (the worker stops)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for transport in opened:
            transport.__exit__(None, None, None)


@dataclass(frozen=True)
class _Kept:
    edition_id: int
    edition: Edition
    built_at: datetime
    renderer: EditionRenderer


class _Editions:
    """The editions a worker's delivery jobs use, decoded once (stored editions are
    frozen: they never change), with their renderers, the last few kept."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: Settings, store: Store, key: str) -> _Kept | None:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        row = store.edition(key)
        if row is None:
            return None
        edition = edition_from_json(row.data)
        renderer = edition_renderer(
            edition, template_dir=settings.template_dir, sender=settings.sender
        )
        kept = _Kept(row.id, edition, row.built_at, renderer)
        with self._lock:
            self._kept[key] = kept
            while len(self._kept) > _KEPT_EDITIONS:
                self._kept.popitem(last=False)
        return kept


_editions = _Editions()


@dataclass(frozen=True)
class Outcome:
    """What a delivery job did: ``status`` sent, skipped (done before), empty,
    unsubscribed, not a reader, failed (for good), given up, no edition, or waiting
    (for its retry, ``retry_in`` seconds from now)."""

    status: str
    retry_in: float | None = None


def reader_of(settings: Settings, store: Store, email: str) -> Subscriber | None:
    """``email`` as a reader who gets the digest now (the config's or the web's; None
    when unsubscribed or gone), read from the store for this one address."""
    record = store.subscriber_record(email)
    key = email_key(email)
    found = readers(settings, [record] if record is not None else [])
    return next((s for s in found if email_key(s.email) == key), None)


def deliver_to(
    settings: Settings, senders: Senders, key: str, email: str, now: datetime
) -> Outcome:
    """The delivery job's work: edition ``key`` to ``email``, once."""
    store = thread_store(settings)
    kept = _editions.get(settings, store, key)
    if kept is None:
        return Outcome("no edition")
    sub = reader_of(settings, store, email)
    if sub is None:
        return Outcome("not a reader")
    gone = expired(kept.built_at, now, subscribed=True)
    if gone is not None:
        row = store.ensure_delivery(kept.edition_id, sub.email, now)
        if row.status in FINISHED:
            return Outcome(row.status)
        store.finish_delivery(row.id, "failed", now, error=gone.reason)
        log.warning("delivery %s -> %s: %s", key, sub.email, gone.reason)
        return Outcome("given up")
    report = DigestReport()
    with senders.transport() as (transport, kind):
        deliver_one(
            settings,
            store,
            report,
            transport,
            kind,
            (kept.edition_id, kept.edition, sub),
            now,
            kept.renderer,
        )
    if report.sent:
        return Outcome("sent")
    if report.failed or report.deferred:
        row = store.ensure_delivery(kept.edition_id, sub.email, now)
        if row.status == "pending":
            wait = retry_delay(row.next_attempt, now)
            return Outcome("waiting", wait.total_seconds())
        return Outcome(row.status)
    if report.empty:
        return Outcome("empty")
    if report.unsubscribed:
        return Outcome("unsubscribed")
    if report.failed_before:
        return Outcome("failed")
    return Outcome("skipped")


async def database_now(app: procrastinate.App) -> datetime:
    """The database's clock: what procrastinate compares a job's time with."""
    row = await app.connector.execute_query_one_async("SELECT now() AS now")
    return row["now"]


async def defer_delivery(
    app: procrastinate.App, key: str, email: str, retry_in: float = 0.0
) -> bool:
    """Defer the delivery job of edition ``key`` to ``email`` (``retry_in`` seconds
    from now by the database's clock); False when one waits already."""
    lock = delivery_lock(key, email)
    options: dict[str, Any] = {"lock": lock, "queueing_lock": lock}
    if retry_in > 0:
        options["schedule_at"] = await database_now(app) + timedelta(seconds=retry_in)
    try:
        await app.tasks[DELIVER].configure(**options).defer_async(key=key, email=email)
    except AlreadyEnqueued:
        return False
    return True


def _build(
    settings: Settings, at: dict[str, datetime], now: datetime
) -> list[tuple[str, list[str]]]:
    """Build (once) and store the editions of the audiences in ``at`` (slug -> the
    moment their period ends); each one's key and the readers who get a delivery job."""
    store = thread_store(settings)
    current = with_readers(settings, store)
    stored = build_editions_once(current, store, now, at)
    if any(s.built for s in stored):
        write_archive_index(current, store)
    send_empty = {s.email: s.send_empty for s in current.subscribers}
    out = []
    for one in stored:
        rows = store.deliveries(one.edition_id)
        finished = [r.subscriber for r in rows if r.status in FINISHED]
        emails = to_deliver(one.audience.emails, send_empty, one.edition.item_count, finished)
        out.append((one.edition.key, emails))
    return out


async def build_and_defer(
    app: procrastinate.App, settings: Settings, at: dict[str, datetime], now: datetime
) -> dict[str, Any]:
    """The build job: the editions built once, then a delivery job per reader who has
    none waiting or running (in bulk: :func:`.delivery_jobs.defer_deliveries`)."""
    built = await asyncio.to_thread(_build, settings, at, now)
    wanted = [(key, email) for key, emails in built for email in emails]
    done = await defer_deliveries(app, app.tasks[DELIVER], wanted)
    if built:
        log.info("digest: %d editions, %d delivery jobs deferred", len(built), done.deferred)
    return {"editions": len(built), "deferred": done.deferred, "waiting": done.skipped}


def _due(settings: Settings, now: datetime) -> dict[str, datetime]:
    store = thread_store(settings)
    return due_audiences(with_readers(settings, store), store, now)


async def defer_due_editions(app: procrastinate.App, settings: Settings, now: datetime) -> int:
    """Defer the build job of the audiences whose digest is due at ``now`` (none when
    none is; one waits at most); how many audiences it builds (0: none deferred)."""
    due = await asyncio.to_thread(_due, settings, now)
    if not due:
        return 0
    job = app.tasks[BUILD].configure(lock=BUILD_LOCK, queueing_lock=BUILD_LOCK)
    try:
        await job.defer_async(at={slug: slot.isoformat() for slug, slot in due.items()})
    except AlreadyEnqueued:
        return 0
    log.info("digest: %d editions due, their build job deferred", len(due))
    return len(due)


def _pending(settings: Settings, now: datetime) -> list[tuple[str, str, datetime | None]]:
    return thread_store(settings).pending_deliveries(built_since=now - PENDING_GIVE_UP)


async def redefer_lost_deliveries(app: procrastinate.App, settings: Settings, now: datetime) -> int:
    """Defer again the delivery job of each pending delivery of a current edition that
    no waiting or running job carries (its chain lost: a job that failed on database
    errors for good), at its retry's time; how many. The queueing lock per delivery
    keeps one job waiting at most."""
    pending = await asyncio.to_thread(_pending, settings, now)
    locks = [delivery_lock(key, email) for key, email, _ in pending]
    lost = lost_deliveries(pending, await busy_locks(app, locks), now)
    deferred = 0
    for key, email, retry_in in lost:
        if await defer_delivery(app, key, email, retry_in):
            deferred += 1
    if deferred:
        log.warning("digest: %d pending deliveries had lost their job; deferred again", deferred)
    return deferred


def register(app: procrastinate.App) -> None:
    """Add the digest queue's tasks to ``app``; the worker's context carries the
    settings and its :class:`Senders` (``additional_context``)."""

    @app.periodic(cron=SCHEDULE_CRON)
    @app.task(name=SCHEDULE, queue=QUEUE, pass_context=True, queueing_lock=SCHEDULE)
    async def schedule(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
        settings = context.additional_context["settings"]
        now = utcnow()
        return {
            "deferred": await defer_due_editions(app, settings, now),
            "redeferred": await redefer_lost_deliveries(app, settings, now),
        }

    @app.task(name=BUILD, queue=QUEUE, pass_context=True, retry=JOB_ATTEMPTS - 1)
    async def build(context: procrastinate.JobContext, at: dict[str, str]) -> dict[str, Any]:
        settings = context.additional_context["settings"]
        moments = {slug: datetime.fromisoformat(slot) for slug, slot in at.items()}
        return await build_and_defer(app, settings, moments, utcnow())

    @app.task(name=DELIVER, queue=QUEUE, pass_context=True, retry=JOB_ATTEMPTS - 1)
    async def deliver(context: procrastinate.JobContext, key: str, email: str) -> dict[str, Any]:
        settings = context.additional_context["settings"]
        senders = context.additional_context.get("senders") or Senders(settings, 1)
        outcome = await asyncio.to_thread(deliver_to, settings, senders, key, email, utcnow())
        if outcome.retry_in is not None:
            await defer_delivery(app, key, email, outcome.retry_in)
        return asdict(outcome)
