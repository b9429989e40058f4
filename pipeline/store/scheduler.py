"""Scheduler state: the ``state`` table of keys and values (the clusterer's header, the
scheduler's marks) and the sources' next polls, which the scheduler reads and spreads."""

from __future__ import annotations

from datetime import datetime

from pipeline.crawl.decide import poll_time
from pipeline.store.connection import StoreBase
from pipeline.store.values import from_iso, iso


class SchedulerMixin(StoreBase):
    """Key/value state and the sources' next polls."""

    def state(self, key: str) -> str | bytes | None:
        row = self._x(self.dialect.STATE_SELECT, [key]).fetchone()
        return self.dialect.state_value(row) if row else None

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self._x(self.dialect.STATE_UPSERT, self.dialect.state_params(key, value))

    def next_polls(self) -> dict[str, datetime | None]:
        """Each crawlable source's next poll (None: never polled), by name, as
        :func:`pipeline.crawl.decide.poll_time` has it (a pending Retry-After counts);
        sources switched off are left out."""
        rows = self._x(
            "SELECT name, next_poll, retry_after FROM sources WHERE in_config = 1"
            " AND enabled = 1 AND disabled_reason IS NULL"
        ).fetchall()
        return {name: poll_time(from_iso(when), from_iso(wait)) for name, when, wait in rows}

    def postpone_polls(self, polls: dict[str, datetime]) -> None:
        """Move sources' next polls (the scheduler spreads overdue ones after a restart)."""
        with self.transaction():
            for name, when in polls.items():
                self._x("UPDATE sources SET next_poll = ? WHERE name = ?", [iso(when), name])
