"""``trendwatch run``: APScheduler keeps crawling, processing, digests and the archive going.

The scheduler holds no truth of its own. Every job asks the store what is due (next
polls, unprocessed articles, editions and deliveries) and calls the same job functions
as the CLI, so a restart neither repeats nor forgets work. What is due when comes from
the pure functions in :mod:`pipeline.schedule.decide`.

Jobs run one at a time on one worker thread, each with its own store connection. The
main thread waits for signals: SIGTERM/SIGINT stop taking work and give the running job
``STOP_WAIT`` seconds to reach a safe point (between sources, batches, messages);
SIGHUP, or a changed file with ``--watch-config``, reloads the config (the web's
watchlist editor sends SIGHUP after a save: :mod:`pipeline.schedule.reload`); stored
articles are matched again for watchlists that are new or changed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.crawl.decide import spread_overdue
from pipeline.digest import archive as archive_job
from pipeline.digest import job as digest_job
from pipeline.process import job as process_job
from pipeline.schedule.background import Scheduler
from pipeline.schedule.decide import next_slot, next_wakeup
from pipeline.schedule.locks import DatabaseRunLock, database_lock, run_lock
from pipeline.settings import ConfigError, Settings, load_settings, show_duration
from pipeline.store import Store
from pipeline.store.queue import STALLED_AFTER_SECONDS
from pipeline.subscriptions import with_readers

if TYPE_CHECKING:
    from pipeline.crawl import job as crawl_job

log = logging.getLogger("trendwatch.run")

STOP_WAIT = 8.0  # seconds the running job gets to reach a safe point after SIGTERM
CRAWL_FLOOR = timedelta(seconds=1)  # never wake the crawler sooner than this
# ...nor later than this: every next poll is in the store, so this only catches sources
# a one-off command made due (e.g. `sources enable`)
CRAWL_CEILING = timedelta(minutes=10)
SPREAD_MAX = timedelta(minutes=10)  # overdue sources are spread over at most this
ARCHIVE_EVERY = timedelta(hours=1)
DIGEST_CEILING = timedelta(hours=6)  # look at the digests at least this often
WATCH_EVERY = 1.0  # seconds between config file checks with --watch-config


def utcnow() -> datetime:
    return datetime.now(UTC)


def live_workers(store: Store) -> int:
    """How many ``trendwatch worker`` processes live (PostgreSQL): a heartbeat lately,
    or their liveness lock held."""
    return sum(
        1
        for w in store.queue_workers()
        if w.alive or (w.seconds_since is not None and w.seconds_since < STALLED_AFTER_SECONDS)
    )


# --- the scheduler ------------------------------------------------------------------


class Runner:
    """The jobs of ``trendwatch run`` on an APScheduler BackgroundScheduler."""

    def __init__(
        self,
        settings: Settings,
        *,
        watch_config: bool = False,
        clock: Callable[[], datetime] = utcnow,
        database_lock: DatabaseRunLock | None = None,
    ) -> None:
        self.settings = settings
        self.watch_config = watch_config
        self.database_lock = database_lock  # PostgreSQL: checked at every tick
        self.clock = clock
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.current = ""  # the job running now, for the log on stop
        self.scheduler = Scheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._config_stamp = self._stamp()

    # --- life cycle -------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit status."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
            if in_main  # signals reach the main thread only (tests run it in another)
        }
        try:
            self.start()
            while not self.stopping.wait(WATCH_EVERY if self.watch_config else 0.5):
                if self.watch_config and self._stamp() != self._config_stamp:
                    log.info("config: %s changed", self.settings.path)
                    self.reload_requested.set()
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    # on the job thread, so it never interleaves with a running job
                    self.scheduler.add_job(
                        self._job("reload", self.reload), id="reload", replace_existing=True
                    )
                lost = self.database_lock.keep() if self.database_lock else None
                if lost:
                    log.error("run: %s; stopping", lost)
                    self.stop(status=1)
                    return 1
            return self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self) -> None:
        s = self.settings
        log.info(
            "run: started (pid %d) with %s: %d sources, %d watchlists, %d subscribers",
            os.getpid(),
            s.path,
            len(s.sources),
            len(s.watchlists),
            len(s.subscribers),
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        self.scheduler.add_job(self._job("startup", self.startup), id="startup")
        self.scheduler.add_job(
            self._job("archive", self.refresh_archive),
            IntervalTrigger(seconds=ARCHIVE_EVERY.total_seconds(), timezone=UTC),
            id="archive",
        )

    def stop(self, status: int = 0) -> int:
        """Take no new work; give the running job STOP_WAIT seconds to finish; the
        exit status (``status``)."""
        self.stopping.set()
        self.scheduler.shutdown(wait=False)
        if not self.idle.wait(STOP_WAIT):
            # a fetch or a message that does not end in time is abandoned: every write
            # is a transaction, so the store keeps what was committed and nothing else
            log.warning("run: stopped while %s was still busy; abandoned", self.current)
            logging.shutdown()
            os._exit(status)
        log.info("run: stopped")
        return status

    def _on_skipped(self, event: JobSubmissionEvent) -> None:
        """A one-off run of a job that plans itself came while its previous run was
        still finishing, so APScheduler dropped it: plan it again, or it would stop."""
        jobs_planning_themselves = {"crawl": self.crawl_cycle, "digest": self.digest_check}
        fn = jobs_planning_themselves.get(event.job_id)
        if fn is not None and self.scheduler.get_job(event.job_id) is None:
            self._schedule(event.job_id, fn, self.clock() + timedelta(seconds=1))

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload_requested.set()
            return
        if not self.stopping.is_set():
            log.info("run: %s received; stopping", signal.Signals(signum).name)
        self.stopping.set()

    def reload(self) -> bool:
        """Load the config again; keep the running one if the new one is invalid."""
        path = self.settings.path
        try:
            fresh = load_settings(path)
        except ConfigError as exc:
            log.error("config: reload of %s rejected; still running the old config", path)
            for problem in exc.problems:
                log.error("config: %s", problem)
            return False
        finally:
            self._config_stamp = self._stamp()
        if fresh.data_dir != self.settings.data_dir:
            log.error(
                "config: reload rejected: data_dir changed from %s to %s; restart to switch",
                self.settings.data_dir,
                fresh.data_dir,
            )
            return False
        if fresh.database != self.settings.database:
            log.error("config: reload rejected: database_url changed; restart to switch")
            return False
        changed = fresh.watchlists != self.settings.watchlists
        self.settings = fresh
        log.info(
            "config: reloaded %s: %d sources, %d watchlists, %d subscribers",
            path,
            len(fresh.sources),
            len(fresh.watchlists),
            len(fresh.subscribers),
        )
        if changed:  # a watchlist saved in the web's editor, or edited by hand
            self._schedule("rematch", self.rematch, self.clock())
        # new sources and new digest times count from now
        self._schedule("crawl", self.crawl_cycle, self.clock())
        self._schedule("digest", self.digest_check, self.clock())
        return True

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.settings.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    # --- jobs -------------------------------------------------------------------

    def _job(self, name: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            if self.stopping.is_set():
                return
            self.idle.clear()
            self.current = name
            started = time.monotonic()
            try:
                fn()
            except ConfigError as exc:  # bad local configuration: say what, no traceback
                log.error(
                    "%s: failed after %.1f s, invalid configuration: %s",
                    name,
                    time.monotonic() - started,
                    "; ".join(str(p) for p in exc.problems),
                )
            except Exception:  # a failing job is logged; the others go on
                log.exception("%s: failed after %.1f s", name, time.monotonic() - started)
            finally:
                self.current = ""
                self.idle.set()

        return run

    def _schedule(self, name: str, fn: Callable[[], None], when: datetime) -> None:
        if self.stopping.is_set():
            return
        self.scheduler.add_job(
            self._job(name, fn), DateTrigger(run_date=when), id=name, replace_existing=True
        )
        log.debug("%s: next at %s", name, when.isoformat(timespec="seconds"))

    def _store(self) -> Store:
        return Store(self.settings.database)

    def startup(self) -> None:
        """After a (re)start: spread overdue sources, finish processing left over from
        a stopped run, send digests that came due within the grace period."""
        try:
            now = self.clock()
            window = min(self.settings.schedule.crawl_every, SPREAD_MAX)
            with self._store() as store:
                store.sync_sources(self.settings.sources, now)
                moved = spread_overdue(store.next_polls(), now, window)
                if moved:
                    store.postpone_polls(moved)
                    log.info(
                        "crawl: %d sources due, spread over the next %s",
                        len(moved),
                        show_duration(window),
                    )
                left = store.unprocessed_count()
                workers = live_workers(store)
            if workers:
                log.warning(
                    "run: %d trendwatch worker(s) are running on this database too; run"
                    " does all the work itself: stop them, or stop run and keep the workers",
                    workers,
                )
            if left:
                log.info("process: %d articles left from before; processing", left)
                self.process()
        finally:
            # the digests and the crawler are planned even when the catch-up failed
            try:
                self.digest_check()
            finally:
                self._schedule("crawl", self.crawl_cycle, self.clock())

    def crawl_cycle(self) -> None:
        """Crawl the sources that are due, process what arrived, plan the next cycle."""
        settings = self.settings
        started = time.monotonic()
        try:
            with self._store() as store:
                reports = self._crawl(settings, store)
                left = store.unprocessed_count()
            if reports:
                log.info(
                    "crawl: %d sources polled, %d new articles, %d failed (%.1f s)",
                    len(reports),
                    sum(r.new for r in reports),
                    sum(r.status == "error" for r in reports),
                    time.monotonic() - started,
                )
            if left and not self.stopping.is_set():
                self.process()
        finally:
            with self._store() as store:
                polls = store.next_polls().values()
            wake = next_wakeup(polls, self.clock(), floor=CRAWL_FLOOR, ceiling=CRAWL_CEILING)
            self._schedule("crawl", self.crawl_cycle, wake)

    def _crawl(self, settings: Settings, store: Store) -> list[crawl_job.SourceReport]:
        """One crawl; SIGTERM cancels the fetches in flight (sources already stored stay
        stored, the others stay due). The crawling stack is imported here, on first
        use, so `status` (which reads the run lock from this module) never loads it."""
        from pipeline.crawl import job as crawl_job

        async def until_stopped() -> list[crawl_job.SourceReport]:
            task = asyncio.ensure_future(crawl_job.crawl_async(settings, store))
            while not task.done():
                if self.stopping.is_set():
                    task.cancel()
                    break
                await asyncio.wait({task}, timeout=0.2)
            try:
                return await task
            except asyncio.CancelledError:
                log.warning("crawl: stopped; sources not finished stay due for the next run")
                return []

        return asyncio.run(until_stopped())

    def process(self) -> None:
        started = time.monotonic()
        with self._store() as store:
            report = process_job.process(self.settings, store, stop=self.stopping.is_set)
        if report.articles or report.rematched:
            log.info(
                "process: %d articles, %d matches, %d near duplicates, %d new stories (%.1f s)",
                report.articles,
                report.matches,
                report.duplicates,
                report.new_stories,
                time.monotonic() - started,
            )

    def rematch(self) -> None:
        """Match stored articles again for watchlists that are new or changed."""
        with self._store() as store:
            process_job.rematch_watchlists(self.settings, store, stop=self.stopping.is_set)

    def digest_check(self) -> None:
        """Send the digests that are due (and retries whose time has come); plan the
        next look at the next digest moment or retry."""
        settings = readers = self.settings
        now = self.clock()
        retry = None
        try:
            with self._store() as store:
                report = digest_job.digest(
                    settings, store, now=now, due=True, stop=self.stopping.is_set
                )
                retry = store.next_delivery_attempt()
                readers = with_readers(settings, store)  # the web's subscribers too
            for key in report.built:
                log.info("digest: edition %s built", key)
            if report.sent or report.failed or report.deferred:
                log.info(
                    "digest: %d sent, %d failed, %d waiting for a retry",
                    len(report.sent),
                    len(report.failed),
                    len(report.deferred),
                )
        finally:
            moments = [next_slot(now, a.when) for a in digest_job.digest_audiences(readers)]
            after = self.clock()
            wake = next_wakeup(
                [*moments, retry], after, floor=timedelta(seconds=1), ceiling=DIGEST_CEILING
            )
            self._schedule("digest", self.digest_check, wake)

    def refresh_archive(self) -> None:
        with self._store() as store:
            archive_job.write_archive_index(self.settings, store)

    def next_runs(self) -> dict[str, str | None]:
        """The next time of each scheduled job (UTC ISO), for the log and tests."""
        out: dict[str, str | None] = {}
        for job in self.scheduler.get_jobs():
            when = job.next_run_time
            out[job.id] = when.isoformat(timespec="seconds") if when else None
        return out


def run(path: Path, *, watch_config: bool = False) -> int:
    """``trendwatch run``: hold the data folder and run until stopped (exit status)."""
    settings = load_settings(path)
    with run_lock(settings.data_dir), database_lock(settings.database) as held:
        return Runner(settings, watch_config=watch_config, database_lock=held).run()
