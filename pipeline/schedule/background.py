"""APScheduler's background scheduler, with its stop made safe.

``shutdown()`` from another thread marks the scheduler stopped at once and only then
waits for the lock of its job stores. If the scheduler thread is meanwhile looking for
due jobs and finishes a one-off job, it removes that job, and ``remove_job`` of a
stopped scheduler looks only among the jobs that wait for a start: it raises
``JobLookupError`` and the thread ends with a traceback (APScheduler 3.11). A stop of
``trendwatch run`` that came while a job fell due printed one; here it is what it is,
the end of the scheduler's work.
"""

from __future__ import annotations

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED


class Scheduler(BackgroundScheduler):
    """A :class:`BackgroundScheduler` whose look for due jobs ends quietly when a stop
    came in the middle of it."""

    def _process_jobs(self) -> float | None:
        try:
            wait: float | None = super()._process_jobs()
        except JobLookupError:
            if self.state == STATE_STOPPED:  # stopped while it removed a finished job
                return None
            raise
        return wait
