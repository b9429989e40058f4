"""The process queue, first step: the process job of ``trendwatch process`` (analysis,
watchlist matches, near duplicates, stories, trends) as one job at a time across all
workers (a procrastinate lock), deferred every minute by a periodic task (one waiting
at most: its queueing lock), so the result equals a single-process run.

Not yet: analysis batches in parallel on several workers (dedup and story clustering
after them, in id order); today the one job analyses with the configured
``[nlp] n_process`` processes of its own machine.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import procrastinate

from pipeline.queue.crawl import thread_store
from pipeline.settings import Settings

QUEUE = "process"
PROCESS = "process.run"
PROCESS_CRON = "* * * * *"  # every minute; a run finds nothing new quickly


def run_process(settings: Settings) -> dict[str, Any]:
    """The process job on this thread's store; its report."""
    from pipeline.process.job import process

    report = process(settings, thread_store(settings))
    return asdict(report)


def register(app: procrastinate.App) -> None:
    """Add the process queue's task to ``app`` (the settings from the worker's context)."""

    @app.periodic(cron=PROCESS_CRON)
    @app.task(name=PROCESS, queue=QUEUE, pass_context=True, lock=PROCESS, queueing_lock=PROCESS)
    def run(context: procrastinate.JobContext, timestamp: int) -> dict[str, Any]:
        return run_process(context.additional_context["settings"])
