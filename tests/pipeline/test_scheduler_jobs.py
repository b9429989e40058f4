"""The scheduler's own bookkeeping, in-process with a real APScheduler: jobs that plan
their next run themselves must never be lost, and a reload never overlaps a job."""

from __future__ import annotations

import threading
import time

from pipeline.scheduler import Runner

CONFIG = """
from = "Trendwatch <digest@example.nl>"
[[watchlists]]
name = "werk"
title = "Werk"
query = "werk"
"""


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

    def crawl_cycle(self) -> None:
        self.runs += 1
        self.started.set()
        # it plans its next run first, then is slow to return: the next run comes due
        # while APScheduler still counts this one as running
        self._schedule("crawl", self.crawl_cycle, self.clock())
        self.release.wait(10)
        self.finished += 1


def test_a_self_planned_run_that_comes_while_the_last_one_finishes_is_not_lost(
    make_settings,
) -> None:
    runner = Blocking(make_settings(CONFIG))
    runner.start()  # its startup job plans the first crawl
    try:
        assert runner.started.wait(20)
        time.sleep(0.5)  # the run planned for "now" fires and is skipped meanwhile
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
        # the job the runner says is running, crawl runs started, crawl runs returned
        order.append((runner.current, runner.runs, runner.finished))
        reloaded.append(original_reload())
        return reloaded[-1]

    runner.reload = reload  # type: ignore[method-assign]
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        assert wait(lambda: runner.scheduler.get_job("crawl") is not None or runner.runs > 0)
        assert runner.started.wait(20)
        runner.reload_requested.set()  # as SIGHUP does
        time.sleep(1.5)
        assert order == []  # not while the crawl job holds the thread
        runner.release.set()
        assert wait(lambda: bool(reloaded))
        # a job of its own on the job thread, after the crawl run returned
        current, runs, finished = order[0]
        assert current == "reload" and runs == finished >= 1
        assert reloaded == [True] and runner.settings is not settings  # a fresh config
    finally:
        runner.release.set()
        runner.stopping.set()
        thread.join(15)
    assert not thread.is_alive()
