"""Building a run's new editions in two processes.

Most of a digest run's CPU goes into its editions: each is built from the store,
measured (its mail rendered) to fit the size mail programs clip at, and rendered as
its archive page. Editions do not depend on each other, so with more than one core
and enough of them a second process (spawned: nothing of this one's state is shared)
builds some while this one builds the others: it opens the store itself, and each
side claims the next edition of the list not yet claimed (one shared counter), so the
faster side takes more. For each edition it built the second process sends back what
the job needs from it: the edition, its store row (JSON made there), its archive page
and its mail's rendered skeleton (:class:`digests.personalise.EditionRenderer`), so
this process renders none of that again. The second process is forked when this one
runs a single thread (it starts at once, with what this one imported and compiled),
else spawned (forking a process whose other threads may hold locks is not safe; a
spawned one imports what it needs, about a second of CPU).

:func:`build_editions` yields the editions in the list's order, the same as built
one after another here (tests compare the two). If the second process fails or dies,
this one builds what it did not send. Nothing is written by either: storing and the
archive stay the caller's, in order.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digests.model import Edition
from digests.render import edition_renderer
from pipeline.digest.build import edition_row, new_edition
from pipeline.digest.editions import Audience, Period
from pipeline.digest.reads import EditionReads
from pipeline.heap import frozen_heap
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger("trendwatch")

# a second process costs about a second of CPU to start: worth it from this many
# editions to build (the benchmark's editions take 40-90 ms each)
PARALLEL_FROM = 12

Job = tuple[Audience, Period]


@dataclass(frozen=True)
class Built:
    """One new edition; from the second process also its store row, archive page
    (HTML) and mail skeletons (None when built in this process: the caller makes
    them as it would have)."""

    edition: Edition
    row: dict[str, Any] | None = None
    page: str | None = None
    skeletons: dict[Any, Any] | None = None


@dataclass
class Helper:
    """What the second process did: editions built, its CPU and wall seconds, and why
    it stopped early (None: it did not)."""

    built: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    error: str | None = None
    used: bool = False


def build_editions(
    settings: Settings,
    store: Store,
    jobs: Sequence[Job],
    now: datetime,
    *,
    helper: Helper | None = None,
    parallel_from: int | None = None,
) -> Iterator[Built]:
    """Each job's new edition (:func:`pipeline.digest.build.new_edition`), in order;
    with ``[digest] processes = 2`` (the default), two or more cores and at least
    ``parallel_from`` (default :data:`PARALLEL_FROM`) jobs, some built by a second
    process. ``helper``, if given, is filled in with what that process did."""
    with frozen_heap() as freeze:
        yield from _build(settings, store, jobs, now, helper, parallel_from, freeze)


def _build(
    settings: Settings,
    store: Store,
    jobs: Sequence[Job],
    now: datetime,
    helper: Helper | None,
    parallel_from: int | None,
    freeze: Callable[[], None],
) -> Iterator[Built]:
    """:func:`build_editions`, ``freeze`` called once the shared rows are read and
    after each edition built here (see :func:`pipeline.heap.frozen_heap`)."""
    helper = helper if helper is not None else Helper()
    reads = EditionReads(store)
    subscribers = {s.email: s for s in settings.subscribers}

    def here(index: int) -> Built:
        audience, period = jobs[index]
        built = Built(new_edition(settings, reads, audience, period, now, subscribers))
        freeze()  # what building it kept (shared caches, the edition) is walked no more
        return built

    threshold = PARALLEL_FROM if parallel_from is None else parallel_from
    early: dict[int, Built] = {}  # built before the second process started
    child = None
    if jobs:
        # what every edition shares is read first: the period's rows (then kept
        # out of the collector's passes), and inherited by a forked second process
        reads.warm(dict.fromkeys(period for _, period in jobs))
        freeze()
    if uses_second_process(settings, len(jobs), threshold):
        method = start_method()
        if method == "fork":
            # and (by building the first edition) the locale data and the compiled
            # templates
            early[0] = here(0)
        child = _start(settings, jobs, now, method, reads if method == "fork" else None, len(early))
    yield from _built(jobs, here, child, helper, early)


def _built(
    jobs: Sequence[Job],
    here: Callable[[int], Built],
    child: Any,
    helper: Helper,
    early: dict[int, Built],
) -> Iterator[Built]:
    """The editions in order: built here, or by the second process ``child`` (if it
    started) with this side building what it claims."""
    if child is None:
        for index in range(len(jobs)):
            yield early.pop(index) if index in early else here(index)
        return
    process, counter, results = child
    helper.used = True
    try:
        finished = yield from _merged(len(jobs), here, process, counter, results, helper, early)
        while not finished:  # its last word: the CPU it took
            finished = _receive(results, {}, helper, process, wait=True)
    finally:
        _claim_all(counter, len(jobs))  # nothing more for it to take
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join()
        results.close()


def uses_second_process(settings: Settings, count: int, threshold: int | None = None) -> bool:
    """Whether ``count`` editions to build are worth a second process: the settings
    allow one (``[digest] processes``), the machine has a second core and there are at
    least ``threshold`` (default :data:`PARALLEL_FROM`) of them."""
    threshold = PARALLEL_FROM if threshold is None else threshold
    return (
        settings.digest.processes > 1 and count >= max(2, threshold) and (os.cpu_count() or 1) > 1
    )


def start_method() -> str:
    """How the second process starts: forked when this process runs one thread (and
    the platform forks), else spawned."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _start(
    settings: Settings,
    jobs: Sequence[Job],
    now: datetime,
    method: str,
    reads: EditionReads | None = None,
    claimed: int = 0,
) -> Any:
    """The second process, started (``reads``: this side's, handed on to a forked one
    as they are, never pickled), its claim counter and its result queue; None if it
    could not start. ``claimed``: the jobs this side built already (the first ones)."""
    context = multiprocessing.get_context(method)
    counter = context.Value("i", claimed)
    results = context.Queue()
    process = context.Process(
        target=_second,
        args=(settings, list(jobs), now, counter, results, reads),
        name="trendwatch-editions",
    )
    try:
        process.start()
    except Exception as exc:  # e.g. a daemonic process may not start one
        log.info("editions: built in one process (%s)", exc)
        return None
    return process, counter, results


def _claim(counter: Any, count: int) -> int | None:
    """The next job nobody claimed, now this side's; None when all are."""
    with counter.get_lock():
        index = counter.value
        if index >= count:
            return None
        counter.value = index + 1
        return index


def _claim_all(counter: Any, count: int) -> None:
    with counter.get_lock():
        counter.value = max(counter.value, count)


def _merged(
    count: int,
    here: Any,
    process: Any,
    counter: Any,
    results: Any,
    helper: Helper,
    early: dict[int, Built],
) -> Generator[Built, None, bool]:
    """The editions in order (``early``: those built before the other side started):
    this side builds what it claims; what the other side claimed is waited for, or
    built here if that side stopped without sending it. Returns whether the other side
    has said it stopped."""
    done: dict[int, Built] = dict(early)
    finished = False  # the second process said it stopped (or died)
    position = 0
    while position < count:
        if position in done:
            yield done.pop(position)
            position += 1
            continue
        finished = _receive(results, done, helper, process, wait=False) or finished
        if position in done:
            continue
        index = _claim(counter, count)
        if index is not None:
            done[index] = here(index)
        elif finished:  # claimed by the other side, which stopped without it
            done[position] = here(position)
        else:
            finished = _receive(results, done, helper, process, wait=True)
    return finished


def _receive(
    results: Any, done: dict[int, Built], helper: Helper, process: Any, *, wait: bool
) -> bool:
    """Take what the second process sent (waiting for one message if ``wait``); True
    when it has stopped."""
    while True:
        try:
            message = results.get(timeout=0.5) if wait else results.get_nowait()
        except queue.Empty:
            if not wait:
                return False
            if process.is_alive():
                continue
            try:  # it may have sent its last messages just before it ended
                message = results.get(timeout=0.5)
            except queue.Empty:
                if helper.error is None and process.exitcode:
                    helper.error = f"it ended with exit code {process.exitcode}"
                    log.warning("editions: the second process stopped: %s", helper.error)
                return True
        kind, payload = message
        if kind == "built":
            index, built = payload
            done[index] = built
            helper.built += 1
            wait = False
            continue
        helper.cpu, helper.wall, helper.error = payload
        if helper.error is not None:
            log.warning("editions: the second process stopped: %s", helper.error)
        return True


def _second(
    settings: Settings,
    jobs: list[Job],
    now: datetime,
    counter: Any,
    results: Any,
    warmed: EditionReads | None = None,
) -> None:
    """(The second process.) Build the jobs it claims and send each back; ``warmed``:
    the first process's reads, when forked (read through this process's own store)."""
    wall, cpu = time.perf_counter(), time.process_time()
    error = None
    try:
        with Store(settings.database) as store:
            reads = warmed.on(store) if warmed is not None else EditionReads(store)
            subscribers = {s.email: s for s in settings.subscribers}
            while (index := _claim(counter, len(jobs))) is not None:
                audience, period = jobs[index]
                edition = new_edition(settings, reads, audience, period, now, subscribers)
                renderer = edition_renderer(
                    edition, template_dir=settings.template_dir, sender=settings.sender
                )
                built = Built(
                    edition, edition_row(edition), renderer.archive_html(), renderer.skeletons()
                )
                results.put(("built", (index, built)))
                gc.freeze()  # (this process ends after building: nothing to undo)
    except Exception as exc:  # the caller builds what is left
        error = f"{type(exc).__name__}: {exc}"
    results.put(("end", (time.process_time() - cpu, time.perf_counter() - wall, error)))
    results.close()
    results.join_thread()
