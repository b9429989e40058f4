"""The digest's retry policy (pipeline/digest/retry.py) as pure decisions: no store, no
server, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digests.deliver import (
    DeliveryError,
    PermanentDeliveryError,
    SessionDeliveryError,
    TemporaryDeliveryError,
)
from pipeline.digest.retry import (
    Failure,
    GiveUp,
    Send,
    Wait,
    after_failure,
    before_send,
    expired,
    failure_of,
    retry_after,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [
        *[(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (5, 80), (6, 160), (7, 320)],
        *[(8, 360), (9, 360), (40, 360), (10_000, 360)],  # capped; no overflow after many
    ],
)
def test_back_off_is_five_minutes_doubling_at_most_six_hours(attempts: int, minutes: int) -> None:
    assert retry_after(attempts) == timedelta(minutes=minutes)


def test_a_new_delivery_is_sent() -> None:
    assert before_send(None, NOW, retry_now=False) == Send()
    assert before_send(None, NOW, retry_now=True) == Send()


def test_the_scheduler_waits_for_the_back_off() -> None:
    later = NOW + timedelta(minutes=5)
    assert before_send(later, NOW, retry_now=False) == Wait(later)
    assert before_send(NOW, NOW, retry_now=False) == Send()  # its moment has come
    assert before_send(NOW - timedelta(seconds=1), NOW, retry_now=False) == Send()


def test_a_manual_run_tries_a_waiting_delivery_at_once() -> None:
    assert before_send(NOW + timedelta(hours=6), NOW, retry_now=True) == Send()


def test_a_temporary_failure_waits_for_the_back_off() -> None:
    for attempt in (1, 2, 3, 9):
        decision = after_failure(Failure.TEMPORARY, attempt, NOW, error="451 busy")
        assert decision == Wait(NOW + retry_after(attempt), stop_run=False)
    assert after_failure(Failure.TEMPORARY, 1, NOW, error="451") == Wait(NOW + timedelta(minutes=5))


def test_a_permanent_failure_is_given_up_with_the_servers_answer() -> None:
    decision = after_failure(Failure.PERMANENT, 1, NOW, error="550 no such user")
    assert decision == GiveUp("550 no such user")


def test_a_refused_session_keeps_the_delivery_pending_and_stops_the_run() -> None:
    """Not the reader's fault: this delivery waits like a temporary one, and every one
    after it in the run stays pending (the loop stops)."""
    decision = after_failure(Failure.SESSION, 2, NOW, error="535 authentication failed")
    assert decision == Wait(NOW + timedelta(minutes=10), stop_run=True)


def test_a_failed_attempt_then_a_manual_run_then_the_scheduler() -> None:
    first = after_failure(Failure.TEMPORARY, 1, NOW, error="421 try later")
    assert isinstance(first, Wait)
    soon = NOW + timedelta(minutes=1)
    assert before_send(first.until, soon, retry_now=False) == Wait(first.until)
    assert before_send(first.until, soon, retry_now=True) == Send()
    assert before_send(first.until, first.until, retry_now=False) == Send()


def test_an_earlier_edition_is_given_up_after_seven_days() -> None:
    built = NOW - timedelta(days=7)
    assert expired(built, NOW, subscribed=True) is None  # exactly 7 days: still tried
    assert expired(NOW - timedelta(days=1), NOW, subscribed=True) is None
    late = expired(built - timedelta(seconds=1), NOW, subscribed=True)
    assert late == GiveUp("given up: not delivered within 7 days of the edition")


def test_a_reader_no_longer_subscribed_is_given_up() -> None:
    gone = GiveUp("given up: no longer a subscriber")
    assert expired(NOW, NOW, subscribed=False) == gone
    assert expired(NOW - timedelta(days=30), NOW, subscribed=False) == gone


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TemporaryDeliveryError("451"), Failure.TEMPORARY),
        (DeliveryError("connection reset"), Failure.TEMPORARY),
        (PermanentDeliveryError("550"), Failure.PERMANENT),
        (SessionDeliveryError("535", code=535), Failure.SESSION),
        (SessionDeliveryError("421", code=421), Failure.SESSION),
    ],
)
def test_failure_kinds(error: DeliveryError, kind: Failure) -> None:
    assert failure_of(error) is kind
