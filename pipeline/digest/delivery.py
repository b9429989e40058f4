"""Delivering editions: each subscriber gets each edition exactly once.

One delivering run per data folder at a time (``delivery_lock``). Each delivery is a row
in the store: made pending, claimed ('sending', the row is the lock), then finished as
sent, pending a retry, or failed for good. When to try, wait or give up is the pure
policy in ``pipeline.digest.retry``; this module asks it and applies the answer
(rendering, sending through the outbox or SMTP, recording, logging). Deliveries of
earlier editions still pending are tried again too, and one left 'sending' by a run that
died is recovered first. Whoever unsubscribed gets nothing, even in the middle of a run:
the store is asked before each message. Over SMTP one sender thread waits for the
server while the next message is made; that one is claimed only after the one before
is recorded, so at most one message is ever 'sending'.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digests.deliver import DeliveryError, OutboxTransport, SmtpTransport
from digests.fsutil import make_private_dir
from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import EditionRenderer, Rendered, edition_renderer
from digests.wire import WireMessage, wire_edition
from pipeline.digest.frozen import edition_from_json
from pipeline.digest.retry import Wait, after_failure, before_send, expired, failure_of
from pipeline.digest.secret import recipient, token_secret
from pipeline.settings import Settings, Subscriber
from pipeline.store import DeliveryRow, Store

if TYPE_CHECKING:
    from pipeline.digest.job import DigestReport

log = logging.getLogger("trendwatch")

# an edition's id in the store, the edition, and the addresses it goes to
Outgoing = tuple[int, Edition, tuple[str, ...]]
Batch = list[Outgoing]
Transport = OutboxTransport | SmtpTransport


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def delivery_lock(settings: Settings) -> Iterator[bool]:
    """One delivering run per data folder at a time (the scheduler's and a manual one may
    overlap): yields False when another process holds the lock."""
    make_private_dir(settings.data_dir)
    with open(settings.data_dir / "delivery.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def deliver(
    settings: Settings,
    store: Store,
    editions: Iterable[Outgoing],
    report: DigestReport,
    now: datetime,
    stop: Callable[[], bool] | None = None,
    *,
    retry_now: bool = False,
    renderers: dict[int, EditionRenderer] | None = None,
) -> None:
    """Deliver ``editions`` and then the earlier editions' pending deliveries, unless
    another run is delivering (then ``report.busy``). ``editions`` may be an iterator
    that builds and stores each edition as it is asked for the next (the digest job's):
    each is delivered as it comes, and it is always run to its end, also when
    delivering stops early or another run delivers. ``renderers``: the caller's
    renderer of an edition, by edition id, looked up as each edition comes (its
    skeleton is reused; any other edition gets one)."""
    editions = iter(editions)
    with delivery_lock(settings) as mine:
        if not mine:
            report.busy = True
            log.warning("delivery: another trendwatch run is delivering; left to it")
            for _ in editions:  # built, stored and archived all the same
                pass
            return
        current: set[int] = set()
        transport, kind = _transport(settings, report)
        with transport, _sender(kind) as sender:
            run = _Delivering(settings, store, report, transport, kind, now, retry_now)
            run.renderers = renderers if renderers is not None else {}
            run.sender = sender
            try:
                whole = run.batch(_noting(editions, current), stop)
                for _ in editions:  # stopped early: the rest is still built and stored
                    pass
                if whole:
                    run.batch(_earlier_pending(settings, store, current, now), stop)
            finally:  # whatever ended the run, a message in flight is recorded
                run.settle()


def _noting(editions: Iterator[Outgoing], ids: set[int]) -> Iterator[Outgoing]:
    """``editions`` as they come, each one's id added to ``ids``."""
    for item in editions:
        ids.add(item[0])
        yield item


@contextmanager
def _sender(kind: str) -> Iterator[ThreadPoolExecutor | None]:
    """Over SMTP, one thread that waits for the server while the run makes the next
    message (only then: the outbox has nothing to wait for)."""
    if kind != "smtp":
        yield None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendwatch-smtp") as pool:
        yield pool


@dataclass
class _InFlight:
    """The message the sender thread is sending: claimed, not yet recorded."""

    future: Future[None]
    delivery_id: int
    label: str
    started: float


def _earlier_pending(settings: Settings, store: Store, current: set[int], now: datetime) -> Batch:
    """Deliveries of earlier editions still pending (a temporary failure at the end of
    a period): delivered late, or given up as the retry policy says."""
    subscribers = {s.email for s in settings.subscribers}
    out: dict[int, tuple[Edition, list[str]]] = {}
    for row in store.unfinished_deliveries():
        if row.edition_id in current:
            continue
        gone = expired(row.built_at, now, subscribed=row.subscriber in subscribers)
        if gone is not None:
            store.finish_delivery(row.id, "failed", now, error=gone.reason)
            log.warning("delivery %s -> %s: %s", row.edition_key, row.subscriber, gone.reason)
            continue
        if row.edition_id not in out:
            out[row.edition_id] = (edition_from_json(row.data), [])
        out[row.edition_id][1].append(row.subscriber)
    return [(eid, edition, tuple(emails)) for eid, (edition, emails) in out.items()]


def _transport(settings: Settings, report: DigestReport) -> tuple[Transport, str]:
    transport, kind = open_transport(settings)
    if isinstance(transport, OutboxTransport):
        report.outbox = str(settings.outbox_dir)
    return transport, kind


def open_transport(settings: Settings) -> tuple[Transport, str]:
    """The way mail goes out (digests, and the confirmation of a subscription): the
    ``[smtp]`` server, else the outbox folder; and its name, "smtp" or "outbox"."""
    smtp = settings.smtp
    if smtp is None:
        return OutboxTransport(settings.outbox_dir), "outbox"
    transport = SmtpTransport(
        smtp.host,
        smtp.port,
        starttls=smtp.starttls,
        ssl=smtp.ssl,
        username=smtp.username,
        password=smtp.password(),
        timeout=smtp.timeout,
    )
    return transport, "smtp"


class _Delivering:
    """One run's deliveries over one open transport."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        report: DigestReport,
        transport: Transport,
        kind: str,
        now: datetime,
        retry_now: bool,
    ) -> None:
        self.settings, self.store, self.report = settings, store, report
        self.transport, self.kind, self.now, self.retry_now = transport, kind, now, retry_now
        self.domain = settings.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
        self.phases = report.phases
        self.renderers: dict[int, EditionRenderer] = {}
        self.sender: ThreadPoolExecutor | None = None  # see _sender
        self._in_flight: _InFlight | None = None
        self._secret: bytes | None = None  # the link secret, read once per run

    def _reader(self, sub: Subscriber) -> Recipient:
        """``sub`` as its message's recipient, links signed with the run's secret."""
        if self._secret is None:
            self._secret = token_secret(self.settings)
        return recipient(self.settings, sub, self._secret)

    def _local(self, when: datetime | None) -> str:
        """A time as the reader of the CLI's report expects it: in the instance's time
        zone, to the minute, with the zone named."""
        if when is None:
            return "now"
        zone = ZoneInfo(self.settings.schedule.timezone)
        return f"{when.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"

    def batch(self, batch: Iterable[Outgoing], stop: Callable[[], bool] | None) -> bool:
        """Each edition to each of its readers, in order, until done, asked to stop, or
        the server refuses the session; True when done."""
        subscribers = {s.email: s for s in self.settings.subscribers}
        for edition_id, edition, emails in batch:
            if not self.settle():  # (its "known" must include the message in flight)
                return False
            # who has a delivery of it (in any state) when its turn comes: the others
            # get theirs made and claimed in one step as their message goes out
            with self.phases.timing("records"):
                known = self.store.delivered_to(edition_id)
            for email in emails:
                sub, new = subscribers[email], email not in known
                # made while the previous message is on its way (see _ahead); it is
                # claimed and sent only after that one is recorded, as without the thread
                ahead = self._ahead(edition_id, edition, sub) if new else None
                if not self.settle():
                    return False
                if stop is not None and stop():
                    self.report.stopped = True
                    log.warning("delivery: stopping; what is left stays pending for the next run")
                    return False
                if not self.one(edition_id, edition, sub, new, ahead):
                    return False
        return self.settle()

    def one(
        self,
        edition_id: int,
        edition: Edition,
        sub: Subscriber,
        new: bool = False,
        ahead: EmailMessage | WireMessage | None = None,
    ) -> bool:
        """Deliver ``edition`` to ``sub`` if the policy says so now; False: stop the run.
        ``new``: ``sub`` had no delivery of it when the edition's turn came; ``ahead``:
        its message, made already."""
        label = f"{edition.key} -> {sub.email}"
        if edition.item_count == 0 and not sub.send_empty:
            self.report.empty.append(label)
            return True  # nothing at all this period: not sent unless asked for
        with self.phases.timing("records"):
            record = self.store.subscriber_record(sub.email)
        if record is not None and not record.active:  # unsubscribed while this run went on
            self.report.unsubscribed.append(label)
            log.info("delivery %s: not sent: unsubscribed", label)
            return True
        delivery_key = f"{edition.key}/{sub.email}"
        if new:
            return self.send_new(edition_id, edition, sub, delivery_key, label, ahead)
        return self.existing(edition_id, edition, sub, delivery_key, label)

    def existing(
        self, edition_id: int, edition: Edition, sub: Subscriber, delivery_key: str, label: str
    ) -> bool:
        """The delivery as the store has it (made pending if it was not there): recover
        an interrupted one, skip one done, wait for a retry's time, or send."""
        with self.phases.timing("records"):
            row = self.store.ensure_delivery(edition_id, sub.email, self.now)
        if row.status == "sending":
            row = _recover_interrupted(self.store, row, self.transport, delivery_key, label)
        if row.status == "failed":
            self.report.failed_before.append(f"{label}: {row.last_error or 'no answer kept'}")
            return True
        if row.status != "pending":
            self.report.skipped.append(label)
            return True
        decision = before_send(row.next_attempt, self.now, retry_now=self.retry_now)
        if isinstance(decision, Wait):
            self.report.deferred.append(f"{label}: retry after {self._local(row.next_attempt)}")
            return True
        return self.send(row, edition, sub, delivery_key, label)

    def send(
        self, row: DeliveryRow, edition: Edition, sub: Subscriber, delivery_key: str, label: str
    ) -> bool:
        """Render, claim and send one message, and record how it went; False: stop."""
        # the Message-ID stays the same across attempts, so a resent copy is known
        message_id = row.message_id or make_message_id(delivery_key, self.domain)
        msg = self._prepared(row.edition_id, edition, sub, message_id)
        with self.phases.timing("records"):
            claimed = self.store.claim_delivery(row.id, self.kind, message_id)
        if not claimed:
            self.report.skipped.append(label)
            return True
        return self.transmit(row.id, row.attempts, msg, delivery_key, label)

    def send_new(
        self,
        edition_id: int,
        edition: Edition,
        sub: Subscriber,
        delivery_key: str,
        label: str,
        ahead: EmailMessage | WireMessage | None = None,
    ) -> bool:
        """As :meth:`send` for a reader who had no delivery of the edition: the delivery
        is made already claimed ('sending'), one write instead of three; if another run
        made it meanwhile, it is handled as it stands. With the sender thread the
        message goes out there, recorded by :meth:`settle` before anything else is."""
        message_id = make_message_id(delivery_key, self.domain)
        msg = ahead or self._prepared(edition_id, edition, sub, message_id)
        with self.phases.timing("records"):
            delivery_id = self.store.start_delivery(
                edition_id, sub.email, self.now, self.kind, message_id
            )
        if delivery_id is None:
            return self.existing(edition_id, edition, sub, delivery_key, label)
        if self.sender is None:
            return self.transmit(delivery_id, 0, msg, delivery_key, label)
        future = self.sender.submit(self.transport.send, msg, delivery_key)  # type: ignore[arg-type]
        self._in_flight = _InFlight(future, delivery_id, label, time.monotonic())
        return True

    def _ahead(
        self, edition_id: int, edition: Edition, sub: Subscriber
    ) -> EmailMessage | WireMessage | None:
        """A new reader's message, made while the sender thread is busy (None when
        there is no thread, or nothing is sent to ``sub``: then nothing is done early)."""
        if self.sender is None or (edition.item_count == 0 and not sub.send_empty):
            return None
        message_id = make_message_id(f"{edition.key}/{sub.email}", self.domain)
        return self._prepared(edition_id, edition, sub, message_id)

    def settle(self) -> bool:
        """Wait for the message in flight, if any, and record how it went; False: the
        run stops (see :meth:`transmit`)."""
        flight, self._in_flight = self._in_flight, None
        if flight is None:
            return True
        error = None
        try:
            with self.phases.timing("smtp wait"):
                flight.future.result()
        except DeliveryError as exc:
            error = exc
        return self._record(flight.delivery_id, 0, error, flight.label, flight.started)

    def _prepared(
        self, edition_id: int, edition: Edition, sub: Subscriber, message_id: str
    ) -> EmailMessage | WireMessage:
        with self.phases.timing("render"):
            reader = self._reader(sub)
            rendered = self._renderer(edition_id, edition).render(reader)
        with self.phases.timing("message"):
            return self._message(edition, reader, rendered, message_id)

    def transmit(
        self,
        delivery_id: int,
        attempts: int,
        msg: EmailMessage | WireMessage,
        delivery_key: str,
        label: str,
    ) -> bool:
        """Send a claimed message (``attempts``: before this one) and record how it
        went; False: stop the run."""
        started = time.monotonic()
        error = None
        try:
            with self.phases.timing(self.kind):
                self.transport.send(msg, delivery_key)  # type: ignore[arg-type]
        except DeliveryError as exc:
            error = exc
        return self._record(delivery_id, attempts, error, label, started)

    def _record(
        self,
        delivery_id: int,
        attempts: int,
        exc: DeliveryError | None,
        label: str,
        started: float,
    ) -> bool:
        """Record a send's outcome (``exc`` None: sent); False: stop the run."""
        store, now = self.store, self.now
        if exc is not None:
            decision = after_failure(failure_of(exc), attempts + 1, now, error=str(exc))
            if isinstance(decision, Wait):
                store.finish_delivery(
                    delivery_id, "pending", now, error=str(exc), next_attempt=decision.until
                )
            else:
                store.finish_delivery(delivery_id, "failed", now, error=decision.reason)
            self.report.failed.append(f"{label}: {exc}")
            if isinstance(decision, Wait) and decision.stop_run:
                # the server refused us, not this reader: keep it pending and stop here
                log.error("delivery stopped: %s; everything left stays pending", exc)
                return False
            log.error("delivery %s: %s", label, exc)
            return True
        with self.phases.timing("records"):
            store.finish_delivery(delivery_id, "sent", now)
        self.report.sent.append(label)
        log.info("delivery %s: sent via %s (%.2f s)", label, self.kind, time.monotonic() - started)
        return True

    def _renderer(self, edition_id: int, edition: Edition) -> EditionRenderer:
        """The edition's renderer: the caller's, else the one ``render_edition`` keeps."""
        renderer = self.renderers.get(edition_id)
        if renderer is None or renderer.edition is not edition:
            settings = self.settings
            renderer = edition_renderer(
                edition, template_dir=settings.template_dir, sender=settings.sender
            )
        return renderer

    def _message(
        self, edition: Edition, reader: Recipient, rendered: Rendered, message_id: str
    ) -> EmailMessage | WireMessage:
        """The message for ``reader``: over SMTP its bytes, made from what the edition's
        readers share (:mod:`digests.wire`); to the outbox (or when those bytes cannot
        be made that way) the message object."""
        sender = self.settings.sender
        if self.kind == "smtp":
            wire = wire_edition(edition, sender).message(reader, rendered, message_id=message_id)
            if wire is not None:
                return wire
        return build_message(edition, reader, rendered, sender=sender, message_id=message_id)


def _recover_interrupted(
    store: Store, row: DeliveryRow, transport: Transport, delivery_key: str, label: str
) -> DeliveryRow:
    """A delivery left in 'sending' by a run that died mid-message. An outbox file
    tells whether it was written. For SMTP nobody knows whether the server accepted it
    in the instant before the crash: it is sent again, with the same Message-ID, because
    losing a digest silently is worse than a duplicate that mail systems can recognise."""
    if isinstance(transport, OutboxTransport) and transport.already_delivered(delivery_key):
        store.finish_delivery(row.id, "sent", utcnow())
        log.warning("delivery %s: found written by an interrupted run; recorded", label)
    else:
        store.finish_delivery(row.id, "pending", utcnow(), error="interrupted while sending")
        log.warning("delivery %s: interrupted while sending; sending again", label)
    return store.delivery(row.id) or row


def deliver_one(
    settings: Settings,
    store: Store,
    report: DigestReport,
    transport: Transport,
    kind: str,
    delivery: tuple[int, Edition, Subscriber],
    now: datetime,
    renderer: EditionRenderer | None = None,
) -> None:
    """One edition (its id, the edition) to one subscriber, by the steps of a run (the
    digest queue's delivery job): nothing when it is empty and not asked for or the
    reader unsubscribed; else the delivery made already claimed if it was not there
    (one write, as a run does for a new reader), or as it stands: one left 'sending' by
    a dead sender recovered, nothing if it was sent or failed for good, nothing before
    its retry time, else claimed; then sent over ``transport`` (of ``kind``: "smtp" or
    "outbox") and recorded; what happened goes to ``report``.
    ``renderer``: the edition's, kept by the caller across messages."""
    edition_id, edition, sub = delivery
    run = _Delivering(settings, store, report, transport, kind, now, retry_now=False)
    if renderer is not None:
        run.renderers[edition_id] = renderer
    run.one(edition_id, edition, sub, new=True)
