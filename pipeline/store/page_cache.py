"""A cache of page reads shared by every connection of this process to one database,
kept until the database changes (:meth:`pipeline.store.pages.PagesMixin.page_cached`).

The web serves requests from a pool of threads, each with its own connection; a cache
per connection would read a watchlist's aggregates once per thread. Here the threads
share one cache per database file. Each connection notices a change by its own
``PRAGMA data_version`` (another connection committed) and ``total_changes`` (it
wrote): the first connection to notice one empties the cache for all. A new connection
cannot tell what changed before it, so its first look empties the cache too (once per
thread of the web's pool). A value read while the cache was emptied is not kept (it
may predate the change).

On PostgreSQL the change counter (:mod:`.changes`) is the database's, not a
connection's: the cache keeps the highest count seen and empties itself when a
connection reads a higher one (:meth:`SharedPageCache.advance`). A connection that read
a lower one (it looked just before another did) changes nothing: what it reads next is
at least as new as the count it read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MAX_CACHED = 64  # values kept per database; the least recently used go first


class SharedPageCache:
    """The values of one database, with a generation that moves on every change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.generation = 0
        self.stamp: int | None = None  # PostgreSQL: the highest change count seen

    def changed(self) -> None:
        with self.lock:
            self.values.clear()
            self.generation += 1

    def advance(self, stamp: int) -> None:
        """The database's change count is ``stamp`` (PostgreSQL): empty the cache when
        it moved past the highest count seen so far."""
        with self.lock:
            if self.stamp is not None and stamp <= self.stamp:
                return
            self.stamp = stamp
            self.values.clear()
            self.generation += 1

    def get(self, key: tuple[Any, ...], read: Callable[[], T], limit: int) -> T:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                hit: T = self.values[key]
                return hit
            generation = self.generation
        value = read()  # outside the lock: other pages go on meanwhile
        with self.lock:
            if generation == self.generation:
                self.values[key] = value
                while len(self.values) > limit:
                    self.values.popitem(last=False)
        return value


_CACHES: dict[Path | str, SharedPageCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_cache(database: Path | str) -> SharedPageCache:
    """The cache of the database at ``database`` (one per SQLite file or PostgreSQL URL
    in this process)."""
    key = database.resolve() if isinstance(database, Path) else database
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = SharedPageCache()
        return cache
