"""The scheduler's own bookkeeping, in-process with a real APScheduler: jobs that plan
their next run themselves must never be lost, and a reload never overlaps a job.

Each scenario also runs with the wall clock a year ahead (time-machine), which shows it
does not depend on the date. Under libfaketime (``faketime -f +365d pytest``) they hang
instead, whatever the offset, even +0d: libfaketime 0.9.10 also fakes CLOCK_MONOTONIC
(to a value near the epoch time) but does not wrap sem_clockwait, which Python 3.11
uses for every timed lock wait (Event.wait, Condition.wait, Lock.acquire with a
timeout). The deadline Python hands the kernel is then decades away, so APScheduler's
timed wait for the next job, and the Runner's stopping.wait(0.5), only end when
something sets the event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent

from pipeline.schedule.runner import Runner
from pipeline.settings import ConfigError, ConfigProblem
from tests_support import travel

CONFIG = """
from = "Trendwatch <digest@example.nl>"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
"""


@pytest.fixture(autouse=True, params=[0, 365], ids=["today", "a-year-ahead"])
def wall_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """The wall clock today, or moved ``param`` days ahead (time-machine, ticking; the
    monotonic clock of timed waits is left alone)."""
    if not request.param:
        yield
        return
    traveller = travel(timedelta(days=request.param))
    try:
        yield
    finally:
        traveller.stop()


def wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Blocking(Runner):
    """A crawl job that holds the job thread until released, then plans itself."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.release = threading.Event()
        self.started = threading.Event()
        self.runs = 0
        self.finished = 0  # crawl runs that returned
        self.in_crawl = False

    def crawl_cycle(self) -> None:
        self.runs += 1
        self.in_crawl = True
        self.started.set()
        try:
            # it plans its next run first, then is slow to return: the next run comes
            # due while APScheduler still counts this one as running
            self._schedule("crawl", self.crawl_cycle, self.clock())
            self.release.wait(60)  # until the test lets go (the 60 s only guard a hang)
        finally:
            self.in_crawl = False
            self.finished += 1


def on_event(runner: Runner, mask: int, job_id: str) -> threading.Event:
    """Set when the scheduler reports ``mask`` for the job ``job_id``."""
    seen = threading.Event()

    def listener(event: JobEvent) -> None:
        if event.job_id == job_id:
            seen.set()

    runner.scheduler.add_listener(listener, mask)
    return seen


def test_a_self_planned_run_that_comes_while_the_last_one_finishes_is_not_lost(
    make_settings,
) -> None:
    runner = Blocking(make_settings(CONFIG))
    skipped = on_event(runner, EVENT_JOB_MAX_INSTANCES, "crawl")
    runner.start()  # its startup job plans the first crawl
    try:
        assert runner.started.wait(20)
        # the run planned for "now" fires while this one still runs, and is dropped
        assert skipped.wait(20)
        runner.release.set()
        assert wait(lambda: runner.runs >= 3)  # it went on being planned
        assert wait(lambda: runner.scheduler.get_job("crawl") is not None)
    finally:
        runner.stopping.set()
        runner.release.set()
        runner.scheduler.shutdown(wait=False)


def test_a_reload_runs_between_jobs_not_during_one(make_settings, tmp_path) -> None:
    settings = make_settings(CONFIG)
    runner = Blocking(settings)
    order: list[tuple[str, int, int]] = []
    reloaded: list[bool] = []
    original_reload = runner.reload

    def reload() -> bool:
        # the job the runner says is running, crawl runs started and returned, and
        # whether a crawl is still in progress
        order.append((runner.current, runner.runs, runner.finished, runner.in_crawl))
        reloaded.append(original_reload())
        return reloaded[-1]

    runner.reload = reload  # type: ignore[method-assign]
    submitted = on_event(runner, EVENT_JOB_SUBMITTED, "reload")
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        assert wait(lambda: runner.scheduler.get_job("crawl") is not None or runner.runs > 0)
        assert runner.started.wait(20)
        runner.reload_requested.set()  # as SIGHUP does
        # the run loop hands the reload to the job thread, which the crawl still holds
        assert wait(lambda: submitted.is_set() or bool(order))
        assert order == []  # not while the crawl job holds the thread
        runner.release.set()
        assert wait(lambda: bool(reloaded))
        # a job of its own on the job thread, after the crawl run returned
        current, runs, finished, in_crawl = order[0]
        assert current == "reload" and runs == finished >= 1 and not in_crawl
        assert reloaded == [True] and runner.settings is not settings  # a fresh config
    finally:
        runner.release.set()
        runner.stopping.set()
        thread.join(15)
    assert not thread.is_alive()


def test_a_job_that_meets_a_config_problem_logs_it_in_one_line_without_a_traceback(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(CONFIG)
    runner = Runner(settings)
    problem = ConfigProblem("data/secret.key", "secret.key", "the link secret is 3 bytes")

    def digest() -> None:
        raise ConfigError([problem])

    with caplog.at_level(logging.INFO, "trendwatch"):
        runner._job("digest", digest)()
    [record] = [r for r in caplog.records if r.name == "trendwatch.run"]
    assert record.levelno == logging.ERROR and record.exc_info is None
    assert "digest: failed after" in record.getMessage()
    assert record.getMessage().endswith(f"invalid configuration: {problem}")
    assert runner.current == "" and runner.idle.is_set()  # the next job can run
