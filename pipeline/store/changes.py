"""PostgreSQL's change counter: what tells a process that the database changed, as
``PRAGMA data_version`` does on SQLite, for the web's page cache (:mod:`.page_cache`,
``Store.page_cached``).

``trendwatch_changes`` holds :data:`SLOTS` counters. Every write transaction of the
store (``StoreBase.transaction``) adds one to the counter of its connection's slot
(the server process id modulo :data:`SLOTS`) as its last statement, sent with the
``COMMIT`` in one round trip:
in the same transaction as its rows, so whoever sees the rows sees the new count and
whoever sees the new count sees the rows. The sum of the counters only grows. A
reader that reads the sum first and the page's rows after can keep the page until
the sum moves: the rows it read are at least as new as the sum.

Why slots, at the end of the transaction: an ``UPDATE`` locks its row until the
commit, so one shared counter would make every writer wait for every other one's
commit; bumped last, a slot is held only for the commit itself, and two connections
wait for each other only when they share a slot (never in a cycle: the bump is the
last thing each does). Why not LISTEN/NOTIFY: a notification is lost when the
listening connection drops, and every connection of the web would need to listen.
Why not ``pg_current_snapshot()``: it moves with any write anywhere on the server
(the queue's heartbeats, other databases), which would empty the cache every second.

Writes that bypass the store (``psql``, a restore) do not move the counter: a
process's cache then shows them after the next write of the store, or after a restart.
"""

from __future__ import annotations

from pipeline.store.connection import StoreBase
from pipeline.store.dialect import POSTGRESQL

TABLE = "trendwatch_changes"
SLOTS = 16

CREATE = (
    f"CREATE TABLE {TABLE} (slot INTEGER PRIMARY KEY, count BIGINT NOT NULL DEFAULT 0)",
    f"INSERT INTO {TABLE} (slot) SELECT generate_series(0, {SLOTS - 1})"
    " ON CONFLICT (slot) DO NOTHING",
)
BUMP_SQL = f"UPDATE {TABLE} SET count = count + 1 WHERE slot = {{slot}}"
STAMP = f"SELECT coalesce(sum(count), 0) FROM {TABLE}"


def slot_of(backend_pid: int) -> int:
    """The counter a connection bumps: its server process's (a stable spread)."""
    return backend_pid % SLOTS


class ChangesMixin(StoreBase):
    """The change counter (PostgreSQL; on SQLite, ``data_version`` does this)."""

    def _apply_change_counter(self) -> None:
        """Create the counters when absent (inside the migration's transaction and
        advisory lock), then have every later write transaction bump this
        connection's slot."""
        if self.dialect is not POSTGRESQL:
            return
        if self._x(f"SELECT to_regclass('{TABLE}')").fetchone()[0] is None:
            for statement in CREATE:
                self._x(statement)
        self._change_slot = slot_of(int(self._dbapi.info.backend_pid))

    def _commit_statement(self) -> str:
        """The bump and the ``COMMIT`` in one round trip (two statements in one simple
        query: no parameters, the slot is a number of ours)."""
        slot = getattr(self, "_change_slot", None)
        if slot is None:
            return "COMMIT"
        return f"{BUMP_SQL.format(slot=int(slot))}; COMMIT"

    def change_stamp(self) -> int:
        """A number that moves whenever the store committed a write (PostgreSQL)."""
        return int(self._x(STAMP).fetchone()[0])
