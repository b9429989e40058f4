"""The crawl queue's politeness per host, shared by every worker (PostgreSQL): one
row per host with when its next request may start, who holds it now (one request in
flight per host across all workers), its learned delay (:mod:`crawlers.throttle`), its
own minimum (robots.txt ``Crawl-delay``) and a pause it asked for (``Retry-After``).

Every time here is the database's (``clock_timestamp()``): a worker whose clock is off
never holds a host back nor lets it go early. A worker that dies holding a host (its
connection gone) loses it at once; a stuck one at the end of its lease.

:class:`pipeline.queue.hosts.SharedHostLimiter` takes and gives back the turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.store.connection import StoreBase
from pipeline.store.dialect import POSTGRESQL

HOSTS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS crawl_hosts (
    host TEXT PRIMARY KEY,
    next_start TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    busy_until TIMESTAMPTZ,
    holder TEXT,
    holder_pid INTEGER,
    delay DOUBLE PRECISION,
    min_gap DOUBLE PRECISION NOT NULL DEFAULT 0,
    paused_until TIMESTAMPTZ
)
"""

DUE_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS sources_due ON sources (next_poll)"
    " WHERE in_config = 1 AND enabled = 1 AND disabled_reason IS NULL"
)

# the host is free: nobody holds it (or the holder's lease ran out, or its connection
# is gone: a killed worker), its gap has passed and it asked for no pause
_FREE = (
    "(h.busy_until IS NULL OR h.busy_until <= clock_timestamp()"
    " OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.holder_pid))"
    " AND h.next_start <= clock_timestamp()"
    " AND (h.paused_until IS NULL OR h.paused_until <= clock_timestamp())"
)


@dataclass(frozen=True)
class HostClaim:
    """The answer to a request for a host's turn. Granted: ``started`` is the
    database's time of the start, ``delay`` and ``floor`` what the host's row knew.
    Refused: ``wait`` seconds until its gap or pause ends (0 when another holds it),
    ``paused`` the seconds of a pause it asked for (None without one)."""

    granted: bool
    started: float | None = None  # seconds since 1970 by the database's clock
    delay: float | None = None
    floor: float = 0.0
    wait: float = 0.0
    paused: float | None = None


@dataclass(frozen=True)
class HostWait:
    """How long until a host may be asked again: seconds, and that moment by the
    database's clock (None when it may be asked now)."""

    seconds: float
    allowed_at: datetime | None


class HostsMixin(StoreBase):
    """The crawl hosts' shared pace (PostgreSQL only)."""

    def _apply_crawl_queue_schema(self) -> None:
        """The hosts' table, and the index the crawl queue's tick picks due sources by
        (idempotent; the tick runs on PostgreSQL only)."""
        if self.dialect is POSTGRESQL:
            self._x(HOSTS_TABLE_SQL)
            self._x(DUE_INDEX_SQL)

    def claim_host(self, host: str, holder: str, lease: float) -> HostClaim:
        """Take ``host``'s turn for ``holder`` for at most ``lease`` seconds, if it is
        free (see the module's doc); else say how long to wait."""
        row = self._one(
            "INSERT INTO crawl_hosts AS h (host, busy_until, holder, holder_pid)"
            " VALUES (?, clock_timestamp() + make_interval(secs => ?), ?, pg_backend_pid())"
            " ON CONFLICT (host) DO UPDATE SET busy_until = excluded.busy_until,"
            f" holder = excluded.holder, holder_pid = excluded.holder_pid WHERE {_FREE}"
            " RETURNING h.delay, h.min_gap, extract(epoch FROM clock_timestamp()) AS started",
            [host, lease, holder],
        )
        if row is not None:
            return HostClaim(True, float(row["started"]), row["delay"], float(row["min_gap"]))
        state = self._one(
            "SELECT extract(epoch FROM greatest(next_start, paused_until) - clock_timestamp())"
            " AS wait, extract(epoch FROM paused_until - clock_timestamp()) AS paused"
            " FROM crawl_hosts WHERE host = ?",
            [host],
        )
        if state is None:  # gone meanwhile: ask again
            return HostClaim(False)
        paused = state["paused"]
        return HostClaim(
            False,
            wait=max(0.0, float(state["wait"] or 0.0)),
            paused=float(paused) if paused is not None and paused > 0 else None,
        )

    def release_host(
        self,
        host: str,
        holder: str,
        started: float | None,
        delay: float | None,
        gap: float,
        pause: float | None = None,
        since: float = 0.0,
    ) -> None:
        """Give ``host``'s turn back: its next request starts ``gap`` seconds after
        this one ended at the earliest (``since`` seconds before now, as the worker
        measured it, and never before its turn ``started``; None: now), it keeps
        the learned ``delay``, and a ``pause`` (seconds from now) holds it back further.
        A holder whose lease ran out and was taken over changes nothing."""
        self._x(
            "UPDATE crawl_hosts SET busy_until = NULL, holder = NULL, holder_pid = NULL,"
            " delay = ?, next_start = greatest(next_start,"
            " greatest(coalesce(to_timestamp(?), clock_timestamp()),"
            " clock_timestamp() - make_interval(secs => ?)) + make_interval(secs => ?)),"
            " paused_until = CASE WHEN CAST(? AS double precision) IS NULL THEN paused_until"
            " ELSE clock_timestamp() + make_interval(secs => ?) END"
            " WHERE host = ? AND holder = ?",
            [delay, started, max(0.0, since), gap, pause, pause, host, holder],
        )

    def set_host_floor(self, host: str, seconds: float) -> None:
        """The least seconds between two requests to ``host`` (its Crawl-delay)."""
        self._x(
            "INSERT INTO crawl_hosts (host, min_gap) VALUES (?, ?)"
            " ON CONFLICT (host) DO UPDATE SET min_gap = excluded.min_gap",
            [host, seconds],
        )

    def host_wait(self, host: str) -> HostWait:
        """How long until ``host``'s gap and pause are over (not who holds it)."""
        row = self._one(
            "SELECT extract(epoch FROM greatest(next_start, paused_until)) AS allowed,"
            " extract(epoch FROM greatest(next_start, paused_until) - clock_timestamp())"
            " AS wait FROM crawl_hosts WHERE host = ?",
            [host],
        )
        if row is None or row["wait"] is None or float(row["wait"]) <= 0:
            return HostWait(0.0, None)
        return HostWait(float(row["wait"]), datetime.fromtimestamp(float(row["allowed"]), UTC))
