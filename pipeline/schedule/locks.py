"""One ``trendwatch run`` at a time: per data folder, ``run.lock`` (an flock the
kernel drops with the process, holding the run's pid for ``status`` and for the web's
SIGHUP after a config change, :mod:`pipeline.schedule.reload`); per PostgreSQL
database, also an advisory lock the server drops with the run's connection
(:mod:`pipeline.store.run_lock`), so that two runs on two machines sharing one database
refuse clearly too."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from digests.fsutil import make_private_dir
from pipeline.store import Store
from pipeline.store.run_lock import holder_name

RUN_LOCK = "run.lock"


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


@contextmanager
def database_lock(database: Path | str) -> Iterator[None]:
    """On PostgreSQL, hold the database's run lock (:mod:`pipeline.store.run_lock`) on a
    connection of its own while the body runs; RunLockHeld when another ``run``, on
    any machine, holds it. On SQLite nothing: the data folder's run.lock guards it."""
    if isinstance(database, Path):
        yield
        return
    with Store(database) as store:
        if not store.take_run_lock(holder_name(os.getpid(), socket.gethostname())):
            holder = store.run_lock_holder()
            raise RunLockHeld(
                store.location,
                holder.describe() if holder else "another trendwatch run",
                "database",
            )
        yield


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
