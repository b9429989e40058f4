"""One ``trendwatch run`` at a time: per data folder, ``run.lock`` (an flock the
kernel drops with the process, holding the run's pid for ``status`` and for the web's
SIGHUP after a config change, :mod:`pipeline.schedule.reload`); per PostgreSQL
database, also an advisory lock the server drops with the run's connection
(:mod:`pipeline.store.run_lock`), so that two runs on two machines sharing one database
refuse clearly too. The run checks its database lock at every tick
(:meth:`DatabaseRunLock.keep`): the server drops it silently when the connection is cut
(a server restart, the network), so the run takes it again, or stops when another run
took it meanwhile or the database stays out of reach."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from digests.fsutil import make_private_dir
from pipeline.store import Store
from pipeline.store.run_lock import holder_name

log = logging.getLogger("trendwatch.run")

RUN_LOCK = "run.lock"
# Seconds a run whose database lock went with its connection goes on trying to take it
# again while the database cannot be reached (a server restart), before it stops.
RETAKE_FOR = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunLockHeld(Exception):
    """Another ``trendwatch run`` holds the data folder (``path``, its run.lock) or the
    PostgreSQL database (``path``, its URL without the password)."""

    def __init__(self, path: Path | str, holder: str, scope: str = "data folder") -> None:
        self.path = path
        self.holder = holder
        self.scope = scope
        super().__init__(f"{path} is held by {holder}")


def _describe_holder(text: str) -> str:
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if "pid" not in fields:
        return "another trendwatch run"
    since = f", running since {fields['started']}" if "started" in fields else ""
    return f"trendwatch run (pid {fields['pid']}{since})"


@contextmanager
def run_lock(data_dir: Path) -> Iterator[Path]:
    """Hold ``data_dir/run.lock`` (flock, released by the kernel when the process dies)
    with this process's pid in it; RunLockHeld when another process holds it."""
    make_private_dir(data_dir)
    path = data_dir / RUN_LOCK
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise RunLockHeld(path, _describe_holder(handle.read())) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid={os.getpid()}\nstarted={utcnow().isoformat(timespec='seconds')}\n")
            handle.flush()
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


class DatabaseRunLock:
    """The run lock of the PostgreSQL database at ``url``, held on a connection of its
    own (:mod:`pipeline.store.run_lock`)."""

    def __init__(self, url: str, retake_for: float = RETAKE_FOR) -> None:
        self.url = url
        self.retake_for = retake_for
        self._store: Store | None = None
        self._lost_at: float | None = None  # monotonic time the lock was found lost

    def take(self) -> None:
        """Take the lock on a new connection; RunLockHeld when another ``run``, on any
        machine, holds it."""
        store = Store(self.url)
        try:
            if not store.take_run_lock(holder_name(os.getpid(), socket.gethostname())):
                holder = store.run_lock_holder()
                raise RunLockHeld(
                    store.location,
                    holder.describe() if holder else "another trendwatch run",
                    "database",
                )
        except BaseException:
            store.close()
            raise
        self._store = store

    def keep(self) -> str | None:
        """Check that the lock is still held (one cheap query on its connection); if
        its connection was cut, take it again. None while the run may go on; why it
        must stop when another run took the lock meanwhile, or when the database could
        not be reached for ``retake_for`` seconds."""
        if self._store is not None:
            try:
                if self._store.holds_run_lock():
                    return None
                why = "its connection no longer holds it"
            except Exception as exc:  # the driver's error: the connection was cut
                why = f"its connection was cut ({first_line(exc)})"
                self._store.conn.invalidate()  # no rollback tried on a dead connection
            self.close()
            self._lost_at = time.monotonic()
            log.warning("run: the database's run lock was lost: %s; taking it again", why)
        try:
            self.take()
        except RunLockHeld as exc:
            return f"the database's run lock was lost, and {exc.holder} holds it now"
        except Exception as exc:  # the database out of reach: try at the next tick
            lost_at = self._lost_at if self._lost_at is not None else time.monotonic()
            if time.monotonic() - lost_at >= self.retake_for:
                return (
                    "the database's run lock was lost and could not be taken again"
                    f" for {self.retake_for:.0f} s: {first_line(exc)}"
                )
            return None
        log.warning("run: the database's run lock taken again")
        self._lost_at = None
        return None

    def close(self) -> None:
        """Let the lock go with its connection."""
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # a connection already cut
                log.debug("run: closing the lock's cut connection failed", exc_info=True)


def first_line(exc: BaseException) -> str:
    """An error's message, its first line only (drivers add context lines)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@contextmanager
def database_lock(database: Path | str) -> Iterator[DatabaseRunLock | None]:
    """On PostgreSQL, hold the database's run lock (:class:`DatabaseRunLock`) while
    the body runs; RunLockHeld when another ``run``, on any machine, holds it. On
    SQLite nothing (None): the data folder's run.lock guards it."""
    if isinstance(database, Path):
        yield None
        return
    lock = DatabaseRunLock(database)
    lock.take()
    try:
        yield lock
    finally:
        lock.close()


def database_lock_holder(store: Store) -> str | None:
    """Who runs the scheduler on ``store``'s PostgreSQL database (None: nobody, or
    SQLite, where :func:`lock_holder` tells)."""
    holder = store.run_lock_holder()
    return holder.describe() if holder else None


def lock_holder(data_dir: Path) -> str | None:
    """Who runs the scheduler for ``data_dir`` (None: nobody)."""
    path = data_dir / RUN_LOCK
    if not path.exists():
        return None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _describe_holder(handle.read())
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
