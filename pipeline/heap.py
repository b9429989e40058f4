"""Keeping long-lived objects out of the garbage collector's full passes during a job.

A job that holds tens of thousands of objects for its whole run (the digest job's rows
and editions, the process job's clusterer state) and keeps allocating makes Python's
collector walk all of them again at every full collection. :func:`frozen_heap` yields a
function that moves every object alive at that moment out of the collector's sight
(``gc.freeze``); at the end they come back under it (``gc.unfreeze``). Only the
collector's work changes: what it would have freed among them it frees after the job.

Not done when something in the process keeps objects frozen already (the search code
freezes its lemma pipelines for the life of the process): unfreezing at the end would
undo that, and freezing again would keep the job's garbage for good.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[Callable[[], None]]:
    """Yields ``freeze()``: call it when what is alive now will live on (after reading
    the shared rows, after each batch stored); undone at the end."""
    ours = gc.get_freeze_count() == 0
    frozen = False

    def freeze() -> None:
        nonlocal frozen
        if ours:
            gc.freeze()
            frozen = True

    try:
        yield freeze
    finally:
        if frozen:
            gc.unfreeze()
