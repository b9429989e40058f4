"""Feed parsing in worker processes, so the event loop stays responsive.

feedparser costs about 13 ms per 27 KB feed, all of it CPU: with hundreds of feeds a
minute, parsing in the event loop stalls every fetch in flight. A :class:`ParsingPool`
is a drop-in ``parse`` for :func:`crawlers.feed_crawler.crawl_feed`::

    with ParsingPool() as pool:
        outcome = await crawl_feed(client, name, state, parse=pool.parse)
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import multiprocessing.spawn
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import SpawnContext, SpawnProcess
from types import TracebackType
from typing import Any

from crawlers.feeds import ParsedFeed, parse_feed

_SPAWNING = threading.local()  # .bare: this thread starts a pool worker now
_preparation_data = multiprocessing.spawn.get_preparation_data


def _bare_preparation_data(name: str) -> dict[str, Any]:
    """multiprocessing's data for a spawned child, without the parent's main module
    while a thread starts a :class:`_BareProcess`: a spawned child imports the parent's
    ``__main__`` again (the ``trendwatch`` script with the whole CLI and pipeline, 800
    modules, about a second of CPU and tens of MB each), which a parsing worker never
    uses: it needs :mod:`crawlers.feeds` (200 modules, 0.13 s)."""
    data = _preparation_data(name)
    if getattr(_SPAWNING, "bare", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


multiprocessing.spawn.get_preparation_data = _bare_preparation_data


class _BareProcess(SpawnProcess):
    """A spawned process that does not import the parent's main module."""

    def start(self) -> None:
        _SPAWNING.bare = True
        try:
            super().start()
        finally:
            _SPAWNING.bare = False


class _BareSpawnContext(SpawnContext):
    Process = _BareProcess


class ParsingPool:
    """A process pool that parses feeds; ``workers`` defaults to the CPU count.

    Workers are started with ``spawn`` (safe with the event loop's threads), without
    the parent's main module, and import :mod:`crawlers.feeds` once each.
    :class:`~crawlers.feeds.FeedParseError` crosses the process boundary like any
    exception.
    """

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn") -> None:
        self.workers = workers or os.cpu_count() or 1
        context = (
            _BareSpawnContext()
            if start_method == "spawn"
            else multiprocessing.get_context(start_method)
        )
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_warm_up
        )

    async def parse(
        self,
        content: bytes,
        url: str,
        *,
        content_type: str | None = None,
        default_language: str | None = None,
    ) -> ParsedFeed:
        call = functools.partial(
            parse_feed, content, url, content_type=content_type, default_language=default_language
        )
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsingPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _warm_up() -> None:
    """Runs once per worker at start; unpickling it imports this module and with it
    crawlers.feeds (and feedparser's switches), before the first job arrives."""


class AdaptiveParser:
    """A ``parse`` that works inline for the first ``inline_limit`` feeds with content
    and starts a :class:`ParsingPool` only when more come.

    A crawl cycle of the scheduler mostly meets feeds that answer 304 or carry a few new
    entries: parsing those inline costs milliseconds, while starting a pool worker costs
    a process with feedparser and the sanitizer loaded (about 100 MB and half a second of
    CPU), in every cycle. A large crawl still gets the pool after the first few feeds.
    """

    def __init__(self, workers: int | None = None, *, inline_limit: int = 50) -> None:
        self.workers = workers
        self.inline_limit = inline_limit
        self.parsed_inline = 0
        self.pool: ParsingPool | None = None

    async def parse(
        self,
        content: bytes,
        url: str,
        *,
        content_type: str | None = None,
        default_language: str | None = None,
    ) -> ParsedFeed:
        if self.pool is None and self.parsed_inline < self.inline_limit:
            self.parsed_inline += 1
            return parse_feed(
                content, url, content_type=content_type, default_language=default_language
            )
        if self.pool is None:
            self.pool = ParsingPool(self.workers)
        return await self.pool.parse(
            content, url, content_type=content_type, default_language=default_language
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
