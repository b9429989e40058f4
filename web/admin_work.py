"""The admin pages' work beside the requests: the watchlist preview's index of recent
articles, and matching stored articles again after a save.

:class:`PreviewIndexes` keeps one :class:`~pipeline.process.watchlists.preview.PreviewIndex`
per database: built in a thread of its own on first use (reading the last 30 days'
processed articles, :data:`LOAD_CHUNK` at a time, through a store of its own), topped
up with the articles processed since at most every :data:`REFRESH_EVERY` seconds, and
built anew after :data:`REBUILD_AFTER` (articles leave the window; one processed again
after a change is read again then). A preview waits a little for a first build and
otherwise says how far it got.

:class:`Rematcher` runs :func:`pipeline.process.job.rematch_watchlists` in a thread of
its own, one at a time (a save during a run makes it run once more). The admin's
:class:`AdminWork` (one per application, :func:`admin_work`) holds both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from starlette.requests import HTTPConnection

from pipeline.process.watchlists.matching import MatchDoc
from pipeline.process.watchlists.preview import WINDOW, PreviewDoc, PreviewIndex, PreviewResult
from pipeline.process.watchlists.query import Node
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.admin import PreviewArticle

log = logging.getLogger("trendwatch.web")

LOAD_CHUNK = 500
REFRESH_EVERY = 10.0  # seconds between looks for newly processed articles
REBUILD_AFTER = timedelta(days=1)
SHOWN_KEPT = 200  # articles kept ready to be explained


def preview_doc(row: PreviewArticle) -> PreviewDoc:
    """An article as the preview indexes it; its language as the process job has it."""
    language = row.detected_language or row.language or "und"
    return PreviewDoc(row.id, row.title, row.text or "", row.url, language, row.date)


@dataclass(frozen=True)
class Preparing:
    """A preview index still being built: how many articles it has read of how many."""

    done: int
    total: int


class _Held:
    """The index of one database, the one being built, and their progress; and the
    articles last shown, ready to be explained again (the newest matches change little
    from one keystroke to the next)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # around the index's use: matching and topping up
        self.shown: OrderedDict[int, tuple[PreviewArticle, MatchDoc]] = OrderedDict()
        self.index: PreviewIndex | None = None
        self.built_for: datetime | None = None  # the "now" the index was built at
        self.refreshed = 0.0  # time.monotonic() of the last top-up
        self.builder: threading.Thread | None = None
        self.progress = Preparing(0, 0)


class PreviewIndexes:
    """The preview index of each database (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Path | str, _Held] = {}

    def _of(self, database: Path | str) -> _Held:
        with self._lock:
            return self._held.setdefault(database, _Held())

    def start(self, database: Path | str, now: datetime) -> None:
        """Build the index of ``database`` in the background if it has none (or an old
        one) and no build is under way."""
        held = self._of(database)
        with self._lock:
            fresh = held.built_for is not None and now - held.built_for < REBUILD_AFTER
            if fresh or (held.builder is not None and held.builder.is_alive()):
                return
            held.builder = threading.Thread(
                target=self._build, args=(held, database, now), name="preview-index", daemon=True
            )
            held.builder.start()

    def _build(self, held: _Held, database: Path | str, now: datetime) -> None:
        try:
            index = PreviewIndex()
            with Store(database) as store:
                ids = store.recent_article_ids(now - WINDOW)
                held.progress = Preparing(0, len(ids))
                for start in range(0, len(ids), LOAD_CHUNK):
                    rows = store.preview_articles(ids[start : start + LOAD_CHUNK])
                    index.add(preview_doc(r) for r in rows)
                    held.progress = Preparing(min(start + LOAD_CHUNK, len(ids)), len(ids))
            index.compact()
            with held.lock:
                held.index, held.built_for, held.refreshed = index, now, time.monotonic()
                held.shown.clear()
            log.info("admin: preview index of %d articles ready", len(index))
        except Exception:
            log.exception("admin: building the preview index failed")

    def wait(self, database: Path | str, timeout: float | None = None) -> bool:
        """Wait for a build under way; whether an index is there."""
        held = self._of(database)
        builder = held.builder
        if builder is not None:
            builder.join(timeout)
        return held.index is not None

    def preview(
        self, store: Store, tree: Node, now: datetime, *, wait: float = 0.0
    ) -> PreviewResult | Preparing:
        """What ``tree`` matches in the 30 days before ``now`` (the index topped up
        first), or how far the first build got after waiting ``wait`` seconds."""
        database = store.database
        self.start(database, now)
        held = self._of(database)
        if held.index is None and not self.wait(database, wait):
            return held.progress
        with held.lock:
            index = held.index
            assert index is not None
            if time.monotonic() - held.refreshed >= REFRESH_EVERY:
                new = [i for i in store.recent_article_ids(now - WINDOW) if i not in index]
                for start in range(0, len(new), LOAD_CHUNK):
                    rows = store.preview_articles(new[start : start + LOAD_CHUNK])
                    index.add(preview_doc(r) for r in rows)
                held.refreshed = time.monotonic()
            return index.match(tree, now - WINDOW, now + timedelta(seconds=1))

    def articles(self, store: Store, ids: list[int]) -> list[tuple[PreviewArticle, MatchDoc]]:
        """The articles ``ids`` (those still there, in that order), each ready to be
        matched and explained; the last :data:`SHOWN_KEPT` are kept."""
        held = self._of(store.database)
        with held.lock:
            missing = [i for i in ids if i not in held.shown]
            for row in store.preview_articles(missing):
                doc = preview_doc(row)
                held.shown[row.id] = (
                    row,
                    MatchDoc.build(doc.title, doc.text, doc.url, doc.language),
                )
            found = []
            for i in ids:
                if i in held.shown:
                    held.shown.move_to_end(i)
                    found.append(held.shown[i])
            while len(held.shown) > SHOWN_KEPT:
                held.shown.popitem(last=False)
        return found


class Rematcher:
    """Matches stored articles again for changed watchlists, in a thread of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next: Settings | None = None  # settings saved while a run was under way

    def start(self, settings: Settings) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._next = settings
                return
            self._thread = threading.Thread(
                target=self._run, args=(settings,), name="rematch", daemon=True
            )
            self._thread.start()

    def _run(self, settings: Settings) -> None:
        from pipeline.process.job import rematch_watchlists

        while True:
            try:
                with Store(settings.database) as store:
                    names = rematch_watchlists(settings, store)
                log.info("admin: matched stored articles again for %s", names or "nothing")
            except Exception:
                log.exception("admin: matching stored articles again failed")
            with self._lock:
                if self._next is None:
                    return
                settings, self._next = self._next, None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


class AdminWork:
    """The admin's work of one application."""

    def __init__(self) -> None:
        self.previews = PreviewIndexes()
        self.rematcher = Rematcher()


_create_lock = threading.Lock()


def admin_work(conn: HTTPConnection) -> AdminWork:
    """The application's :class:`AdminWork` (made on first use)."""
    state = conn.app.state
    with _create_lock:
        work: AdminWork | None = getattr(state, "trendwatch_admin", None)
        if work is None:
            work = AdminWork()
            state.trendwatch_admin = work
    return work
