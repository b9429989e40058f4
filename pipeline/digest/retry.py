"""The digest's retry policy: whether a delivery is sent now, waits, or is given up.

Pure decisions, as reader's update ``Decider``: no store, no clock, no network. The
delivery loop (``pipeline.digest.delivery``) asks and applies the answer::

    pending delivery  --before_send-->   Send | Wait(until)
    earlier edition   --expired------>   GiveUp(why) | None
    failed attempt    --after_failure->  Wait(until[, stop_run]) | GiveUp(why)

Temporary failures (4xx replies, connection trouble, timeouts) are retried after 5
minutes, doubling per attempt, at most 6 hours apart. A delivery not made within 7 days
of its edition, or to someone no longer subscribed, is given up. Permanent failures
(5xx replies, a refused recipient) are given up at once and stay failed. A refused
session (greeting, STARTTLS, login, our sender) keeps the delivery pending and stops the
run, so every delivery left stays pending as well. The scheduler waits for the back-off;
``trendwatch digest`` run by hand (``retry_now``) tries the waiting ones at once, as
flushing a mail queue does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from digests.deliver import DeliveryError, SessionDeliveryError

RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
PENDING_GIVE_UP = timedelta(days=7)


class Failure(Enum):
    """What kind of failure an attempt ended in."""

    TEMPORARY = "temporary"  # this message, for now: retry it later
    PERMANENT = "permanent"  # this message, for good: never retried
    SESSION = "session"  # the server refused us, not this reader: nothing can be sent


def failure_of(exc: DeliveryError) -> Failure:
    """The kind of a transport's error."""
    if isinstance(exc, SessionDeliveryError):
        return Failure.SESSION
    return Failure.TEMPORARY if exc.temporary else Failure.PERMANENT


@dataclass(frozen=True)
class Send:
    """Try the delivery now."""


@dataclass(frozen=True)
class Wait:
    """Keep the delivery pending until ``until``; with ``stop_run`` send nothing more in
    this run (everything left stays pending for the next one)."""

    until: datetime
    stop_run: bool = False


@dataclass(frozen=True)
class GiveUp:
    """Record the delivery as failed for good, with ``reason`` as its last error."""

    reason: str


def retry_after(attempts: int) -> timedelta:
    """Back-off after a temporary failure: 5 minutes, doubling per attempt, at most 6 h."""
    # the cap comes after 7 doublings; more would overflow timedelta from attempt 40 on
    doublings = min(max(0, attempts - 1), 16)
    return min(RETRY_FIRST * 2**doublings, RETRY_MAX)


def before_send(next_attempt: datetime | None, now: datetime, *, retry_now: bool) -> Send | Wait:
    """A pending delivery: sent now, unless its back-off runs past ``now`` and the run is
    the scheduler's (``retry_now`` false)."""
    if next_attempt is not None and next_attempt > now and not retry_now:
        return Wait(next_attempt)
    return Send()


def expired(built_at: datetime, now: datetime, *, subscribed: bool) -> GiveUp | None:
    """A delivery of an earlier edition still pending: given up when the reader is no
    longer a subscriber or the edition is older than PENDING_GIVE_UP, else None."""
    if not subscribed:
        return GiveUp("given up: no longer a subscriber")
    if now - built_at > PENDING_GIVE_UP:
        return GiveUp("given up: not delivered within 7 days of the edition")
    return None


def after_failure(failure: Failure, attempt: int, now: datetime, *, error: str) -> Wait | GiveUp:
    """What becomes of a delivery whose ``attempt``-th attempt failed with ``error``."""
    if failure is Failure.PERMANENT:
        return GiveUp(error)
    return Wait(now + retry_after(attempt), stop_run=failure is Failure.SESSION)
