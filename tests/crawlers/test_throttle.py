"""The per-host delay policy (crawlers.throttle.AutoThrottle): pure, numbers in and out."""

from __future__ import annotations

import pytest

from crawlers.throttle import AutoThrottle, is_success

POLICY = AutoThrottle(target_concurrency=1.0, start_delay=1.0, max_delay=60.0)


def test_before_any_answer_the_gap_is_the_start_delay_or_the_floor() -> None:
    assert POLICY.gap(None) == 1.0
    assert POLICY.gap(None, floor=2.5) == 2.5  # per_host_delay or Crawl-delay above it
    assert POLICY.gap(0.2) == 0.2
    assert POLICY.gap(0.2, floor=0.5) == 0.5
    assert POLICY.gap(None, floor=600) == 60.0  # even a floor is capped


def test_the_first_answer_sets_the_delay_to_its_latency() -> None:
    assert POLICY.after_answer(None, 0.1, 200) == pytest.approx(0.1)
    assert POLICY.after_answer(None, 0.1, 304) == pytest.approx(0.1)  # a 304 counts
    two = AutoThrottle(target_concurrency=2.0)
    assert two.after_answer(None, 0.1, 200) == pytest.approx(0.05)  # latency / target


def test_a_slower_server_gets_room_at_once_a_faster_one_halfway() -> None:
    assert POLICY.after_answer(0.1, 0.8, 200) == pytest.approx(0.8)  # up: straight to target
    assert POLICY.after_answer(0.8, 0.2, 200) == pytest.approx(0.5)  # down: (0.8 + 0.2) / 2
    delay = 2.0
    for _ in range(20):  # steady fast answers bring it down to the latency, not below
        delay = POLICY.after_answer(delay, 0.1, 200)
    assert delay == pytest.approx(0.1, abs=1e-5)


def test_errors_never_speed_up_and_429_503_slow_down() -> None:
    for status in (301, 302, 404, 500):
        assert POLICY.after_answer(0.5, 0.01, status) == 0.5  # quick error page: no faster
        assert POLICY.after_answer(0.5, 2.0, status) == 2.0  # slow error: slower
    assert POLICY.after_answer(None, 0.01, 500) == 1.0  # first answer an error: start delay
    assert POLICY.after_answer(0.5, 0.01, 429) == 1.0  # at least doubled (and start delay)
    assert POLICY.after_answer(4.0, 0.01, 503) == 8.0
    assert POLICY.after_answer(40.0, 0.01, 503) == 60.0  # capped


def test_no_answer_doubles_the_delay() -> None:
    assert POLICY.after_failure(None) == 2.0
    assert POLICY.after_failure(0.1) == 1.0  # at least the start delay
    assert POLICY.after_failure(3.0) == 6.0
    assert POLICY.after_failure(50.0) == 60.0


def test_the_floor_and_the_cap_bound_every_delay() -> None:
    assert POLICY.after_answer(None, 0.01, 200, floor=1.5) == 1.5
    assert POLICY.after_answer(2.0, 0.01, 200, floor=1.5) == 1.5
    assert POLICY.after_answer(2.0, 300, 200) == 60.0
    assert POLICY.after_answer(None, -1.0, 200) == 0.0  # a clock step back: no negative delay


def test_retry_after_pauses_only_on_429_and_503() -> None:
    assert POLICY.pause(429, 30.0) == 30.0
    assert POLICY.pause(503, 7200.0) == 7200.0
    assert POLICY.pause(503, None) is None
    assert POLICY.pause(503, -5.0) is None  # a date in the past: no pause
    assert POLICY.pause(500, 30.0) is None
    assert POLICY.pause(200, 30.0) is None


def test_success_is_2xx_and_304() -> None:
    assert [s for s in (200, 204, 299, 301, 304, 404, 429, 500) if is_success(s)] == [
        200,
        204,
        299,
        304,
    ]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        AutoThrottle(target_concurrency=0)
    with pytest.raises(ValueError):
        AutoThrottle(start_delay=90, max_delay=60)
