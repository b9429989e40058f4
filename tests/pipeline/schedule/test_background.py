"""A stop that comes while the scheduler finishes a due one-off job ends it quietly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.date import DateTrigger

from pipeline.schedule.background import Scheduler


class StopsOnSubmit(BaseExecutor):
    """Takes a job and, at that moment, stops the scheduler as ``shutdown()`` from
    another thread does first (it marks the scheduler stopped before it waits for the
    job stores): the race of a stop with a due job, made certain."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted = threading.Event()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self._scheduler.state = STATE_STOPPED
        self.submitted.set()


def run_until_stopped(scheduler: BackgroundScheduler) -> list[BaseException]:
    """Start ``scheduler`` with a due one-off job on :class:`StopsOnSubmit`; the
    exceptions its thread ended with."""
    errors: list[BaseException] = []
    executor = StopsOnSubmit()
    scheduler.add_executor(executor, "stops")
    past = datetime.now(UTC) - timedelta(seconds=1)
    scheduler.add_job(print, DateTrigger(run_date=past), id="crawl", executor="stops")
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)  # type: ignore[assignment,misc]
    try:
        scheduler.start()
        assert executor.submitted.wait(10)
        scheduler._thread.join(10)  # it ends: the scheduler is stopped
        assert not scheduler._thread.is_alive()
    finally:
        threading.excepthook = previous
    return errors


def test_a_stop_while_a_one_off_job_falls_due_ends_the_scheduler_without_an_error() -> None:
    assert run_until_stopped(Scheduler(timezone=UTC)) == []


def test_apschedulers_own_scheduler_fails_there_which_is_why_ours_exists() -> None:
    errors = run_until_stopped(BackgroundScheduler(timezone=UTC))
    if not errors:  # a later APScheduler fixed it: Scheduler can go
        pytest.fail("APScheduler no longer raises here: use its BackgroundScheduler again")
    assert type(errors[0]).__name__ == "JobLookupError"
