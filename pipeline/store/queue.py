"""The work queue's tables on PostgreSQL: procrastinate's schema, applied with the
store's migrations (and the migrations a newer procrastinate ships, each once, named in
``queue_migrations``), and what ``trendwatch status`` reads of the queue (jobs per queue
and state, the workers' heartbeats).

procrastinate (:mod:`pipeline.queue`) owns its tables (``procrastinate_*``) and their
rows; the store only creates them once, beside its own, and reads them. On SQLite
there is no queue: the reads return nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.store.connection import StoreBase
from pipeline.store.dialect import POSTGRESQL
from pipeline.store.hosts import HostsMixin
from pipeline.store.values import chunks, from_iso
from pipeline.store.worker_sql import LIVE, live_params

# a worker whose heartbeat is older than this is taken for dead (procrastinate's default
# ``stalled_worker_timeout``); its running jobs are stalled
STALLED_AFTER_SECONDS = 30.0
# the procrastinate that made the queue's tables of databases from before
# ``queue_migrations`` (trendwatch asked for >= 3.10; 3.10 ships migrations to 03.04)
LEGACY_VERSION = "03.10.00"


@dataclass(frozen=True)
class QueueCount:
    """The jobs of one queue by state: waiting (todo), running (doing, by a live
    worker: a fresh heartbeat, or its liveness lock held and not hung), stalled (doing,
    by a worker taken for dead), failed."""

    queue: str
    waiting: int
    running: int
    stalled: int
    failed: int
    succeeded: int


@dataclass(frozen=True)
class QueueJob:
    """One job: its id, status, attempts so far and arguments."""

    id: int
    status: str
    attempts: int
    args: dict[str, Any]


@dataclass(frozen=True)
class WorkerBeat:
    """One registered worker and its last heartbeat."""

    id: int
    last_heartbeat: datetime | None
    running: int  # jobs it holds now
    # by the database's clock, which stamped the heartbeat: a machine whose clock is off
    # (or a test's shifted clock) still shows the right age
    seconds_since: float | None = None
    # its process holds its liveness lock (:mod:`pipeline.queue.manager`): alive even
    # when its heartbeats are late, and its jobs are not taken for stalled
    alive: bool = False


def queue_schema_sql() -> str | None:
    """procrastinate's schema (its SQL, as the installed version ships it), or None
    when procrastinate is not installed (no queue then)."""
    try:
        from procrastinate.schema import SchemaManager
    except ImportError:
        return None
    return str(SchemaManager.get_schema())


def queue_migrations() -> list[tuple[str, str]]:
    """The migrations the installed procrastinate ships (file name, SQL), in the order
    they apply (by name: version, then step); empty without procrastinate."""
    try:
        from procrastinate.schema import SchemaManager
    except ImportError:
        return []
    folder = Path(SchemaManager.get_migrations_path())
    return [(p.name, p.read_text("utf-8")) for p in sorted(folder.glob("*.sql"))]


def migration_version(name: str) -> str:
    """The procrastinate version a migration file belongs to: ``"03.04.00"``."""
    return name.split("_", 1)[0]


def pending_migrations(shipped: list[str], applied: set[str]) -> list[str]:
    """The shipped migrations not applied yet, in the order they apply."""
    return sorted(name for name in shipped if name not in applied)


class QueueMixin(HostsMixin, StoreBase):
    """procrastinate's tables: created once on PostgreSQL, read for the status."""

    def _apply_queue_schema(self) -> bool:
        """Create procrastinate's tables when they are absent, or apply the migrations
        of a newer procrastinate to them, and the crawl hosts' table (PostgreSQL only;
        a no-op on SQLite or without procrastinate). Runs inside the migration's
        transaction and advisory lock, so processes opening one database at once do it
        once. The migrations applied are named in ``queue_migrations``; a schema made
        before that table existed was made by procrastinate :data:`LEGACY_VERSION`.
        True when it created procrastinate's tables."""
        if self.dialect is not POSTGRESQL:
            return False
        self._apply_crawl_queue_schema()
        schema = queue_schema_sql()
        if schema is None:
            return False
        had_jobs = self._x("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None
        had_record = self._x("SELECT to_regclass('queue_migrations')").fetchone()[0] is not None
        self._x(
            "CREATE TABLE IF NOT EXISTS queue_migrations (name TEXT PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        shipped = queue_migrations()
        if not had_jobs:
            self._dbapi.cursor().execute(schema)  # no parameters: '%' is taken literally
            self._record_migrations([name for name, _ in shipped])
            return True
        if not had_record:
            self._record_migrations(
                [n for n, _ in shipped if migration_version(n) <= LEGACY_VERSION]
            )
        applied = {r[0] for r in self._x("SELECT name FROM queue_migrations").fetchall()}
        sql = dict(shipped)
        for name in pending_migrations(list(sql), applied):
            self._dbapi.cursor().execute(sql[name])
            self._record_migrations([name])
        return False

    def _record_migrations(self, names: list[str]) -> None:
        self._many(
            "INSERT INTO queue_migrations (name) VALUES (?) ON CONFLICT DO NOTHING",
            [[n] for n in names],
        )

    def applied_queue_migrations(self) -> list[str]:
        """The names of procrastinate's migrations this database has, in order."""
        if self.dialect is not POSTGRESQL:
            return []
        if self._x("SELECT to_regclass('queue_migrations')").fetchone()[0] is None:
            return []
        rows = self._x("SELECT name FROM queue_migrations ORDER BY name").fetchall()
        return [r[0] for r in rows]

    def has_queue(self) -> bool:
        """Whether this database holds the work queue (PostgreSQL with procrastinate)."""
        if self.dialect is not POSTGRESQL:
            return False
        return self._x("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None

    def queue_counts(self, stalled_after: float = STALLED_AFTER_SECONDS) -> list[QueueCount]:
        """Each queue's jobs by state, by queue name; empty without a queue."""
        if not self.has_queue():
            return []
        rows = self._rows(
            "WITH live AS (SELECT id FROM procrastinate_workers"
            " WHERE last_heartbeat >= now() - make_interval(secs => :stalled)"
            f" UNION {LIVE})"
            " SELECT j.queue_name AS queue,"
            " sum(CASE WHEN j.status = 'todo' THEN 1 ELSE 0 END) AS waiting,"
            " sum(CASE WHEN j.status = 'doing' AND l.id IS NOT NULL THEN 1 ELSE 0 END)"
            " AS running,"
            " sum(CASE WHEN j.status = 'doing' AND l.id IS NULL THEN 1 ELSE 0 END)"
            " AS stalled,"
            " sum(CASE WHEN j.status = 'failed' THEN 1 ELSE 0 END) AS failed,"
            " sum(CASE WHEN j.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded"
            " FROM procrastinate_jobs j LEFT JOIN live l ON l.id = j.worker_id"
            " GROUP BY j.queue_name ORDER BY j.queue_name",
            {"stalled": stalled_after, **live_params(stalled_after)},
        )
        return [
            QueueCount(
                r["queue"],
                int(r["waiting"]),
                int(r["running"]),
                int(r["stalled"]),
                int(r["failed"]),
                int(r["succeeded"]),
            )
            for r in rows
        ]

    def queue_workers(self, stalled_after: float = STALLED_AFTER_SECONDS) -> list[WorkerBeat]:
        """The registered workers, newest heartbeat first; empty without a queue."""
        if not self.has_queue():
            return []
        rows = self._rows(
            f"WITH held AS ({LIVE})"
            " SELECT w.id, w.last_heartbeat, (SELECT count(*) FROM procrastinate_jobs j"
            " WHERE j.worker_id = w.id AND j.status = 'doing') AS running,"
            " extract(epoch FROM now() - w.last_heartbeat) AS seconds_since,"
            " w.id IN (SELECT id FROM held) AS alive"
            " FROM procrastinate_workers w ORDER BY w.last_heartbeat DESC, w.id",
            live_params(stalled_after),
        )
        return [
            WorkerBeat(
                int(r["id"]),
                from_iso(r["last_heartbeat"]),
                int(r["running"]),
                None if r["seconds_since"] is None else float(r["seconds_since"]),
                bool(r["alive"]),
            )
            for r in rows
        ]

    def queue_jobs(self, task_name: str, statuses: Sequence[str]) -> list[QueueJob]:
        """The jobs of task ``task_name`` in one of ``statuses``, by id; empty without
        a queue."""
        if not self.has_queue() or not statuses:
            return []
        marks = ",".join("?" * len(statuses))
        rows = self._rows(
            "SELECT id, status, attempts, args::text AS args FROM procrastinate_jobs"
            f" WHERE task_name = ? AND status::text IN ({marks}) ORDER BY id",
            [task_name, *statuses],
        )
        return [
            QueueJob(int(r["id"]), str(r["status"]), int(r["attempts"]), json.loads(r["args"]))
            for r in rows
        ]

    def forget_failed_jobs(self, ids: Iterable[int]) -> None:
        """Delete the failed jobs ``ids`` (their failure is recorded elsewhere now: the
        marks of the articles they were to analyse)."""
        with self.transaction():
            for chunk, marks in chunks(sorted(set(ids))):
                self._x(
                    f"DELETE FROM procrastinate_jobs WHERE id IN ({marks}) AND status = 'failed'",
                    chunk,
                )
