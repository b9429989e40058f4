"""One ``trendwatch run`` per PostgreSQL database: a session advisory lock.

On SQLite the data folder's ``run.lock`` (an flock, :mod:`pipeline.schedule.runner`)
keeps a second ``run`` away; a PostgreSQL database is shared by processes on several
machines, so there the guard is the database's: ``pg_try_advisory_lock`` on a
connection the run keeps open while it runs. The server drops the lock with that
connection (a run that dies, or loses its connection, frees it). The holder names
itself in its connection's ``application_name`` (pid and host), so a refused run can
say who holds it.

The lock's key is the pair (``APPLICATION_ID``, 1): the two-number form of advisory
locks, apart from the one-number lock the migrations take (``APPLICATION_ID``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.store.connection import StoreBase
from pipeline.store.dialect import POSTGRESQL
from pipeline.store.schema import APPLICATION_ID

RUN_LOCK_OBJECT = 1  # the second number of the run lock's key
LABEL = "trendwatch run"
NAME_MAX = 63  # PostgreSQL keeps this many bytes of an application_name


@dataclass(frozen=True)
class RunHolder:
    """Who holds the run lock: the application name its connection gave (``trendwatch
    run pid=123 host=box``) and since when the connection is open (UTC ISO)."""

    name: str
    since: str | None

    def describe(self) -> str:
        """``trendwatch run (pid 123 on box, connected since 2026-12-05T18:00:00+00:00)``."""
        fields = dict(part.split("=", 1) for part in self.name.split() if "=" in part)
        where = " ".join(
            f"{label} {fields[key]}"
            for key, label in (("pid", "pid"), ("host", "on"))
            if key in fields
        )
        since = f", connected since {self.since}" if self.since else ""
        if not where:
            return f"another trendwatch run{since}".strip()
        return f"{LABEL} ({where}{since})"


def holder_name(pid: int, host: str) -> str:
    """The ``application_name`` of a run's lock connection (cut to what PostgreSQL keeps)."""
    return f"{LABEL} pid={pid} host={host}".encode()[:NAME_MAX].decode(errors="ignore")


class RunLockMixin(StoreBase):
    """The run lock (PostgreSQL; a no-op on SQLite, which has the folder's flock)."""

    def take_run_lock(self, name: str) -> bool:
        """Hold the run lock on this store's connection until it closes, naming the
        connection ``name``; False when another connection holds it."""
        if self.dialect is not POSTGRESQL:
            return True
        self._x("SELECT set_config('application_name', ?, false)", [name])
        got = self._x(
            "SELECT pg_try_advisory_lock(?, ?)", [APPLICATION_ID, RUN_LOCK_OBJECT]
        ).fetchone()[0]
        return bool(got)

    def holds_run_lock(self) -> bool:
        """Whether this store's connection holds the run lock (True on SQLite); raises
        the driver's error when the connection was cut."""
        if self.dialect is not POSTGRESQL:
            return True
        row = self._one(
            "SELECT count(*) AS n FROM pg_locks WHERE pid = pg_backend_pid()"
            " AND locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid::bigint = ? AND objid::bigint = ?",
            [APPLICATION_ID, RUN_LOCK_OBJECT],
        )
        return bool(row and row["n"])

    def run_lock_holder(self) -> RunHolder | None:
        """Who holds the run lock of this database now (None: nobody; SQLite: None)."""
        if self.dialect is not POSTGRESQL:
            return None
        row = self._one(
            "SELECT coalesce(a.application_name, '') AS name, a.backend_start AS since"
            " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
            " AND l.classid::bigint = ? AND l.objid::bigint = ?"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [APPLICATION_ID, RUN_LOCK_OBJECT],
        )
        if row is None:
            return None
        return RunHolder(str(row["name"]), row["since"])
