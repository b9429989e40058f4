"""The SQL of trendwatch's queue workers (:mod:`pipeline.queue.manager`), run through
procrastinate's connector on its tables: the liveness of workers, heartbeats that
register a pruned worker again, jobs taken back, and stalled jobs ended once. Kept with
the store, which alone writes SQL."""

from __future__ import annotations

# The first number of a worker's liveness lock (the second: its id, in 31 bits); apart
# from the store's locks (APPLICATION_ID, the run lock's pair).
LIVENESS_CLASS = 0x54575752  # "TWWR"
LIVENESS_ID_BITS = 0x7FFFFFFF
# A worker whose liveness lock is held is taken for dead only when its heartbeats are
# this many seconds late (hung with its connection open), or this many times the
# stalled time when that is longer.
HUNG_AFTER = 600.0
HUNG_FACTOR = 10


def hung_after(stalled_after: float) -> float:
    """Seconds of late heartbeats after which a worker holding its liveness lock is
    taken for dead all the same."""
    return max(HUNG_AFTER, HUNG_FACTOR * stalled_after)


def live_params(stalled_after: float) -> dict[str, float | int]:
    """The parameters of :data:`LIVE` for a stalled time of ``stalled_after`` seconds."""
    return {"cls": LIVENESS_CLASS, "bits": LIVENESS_ID_BITS, "hung": hung_after(stalled_after)}


# The workers alive by their liveness lock, unless hung; in the store's own placeholder
# style (``:name``), as ``trendwatch status`` reads it through the store too.
LIVE = """
SELECT w.id FROM procrastinate_workers AS w
  JOIN pg_locks AS l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
   AND l.classid::bigint = :cls AND l.objid::bigint = (w.id & :bits)
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
 WHERE w.last_heartbeat > now() - make_interval(secs => :hung)
"""
PRUNE = """
DELETE FROM procrastinate_workers
 WHERE last_heartbeat < now() - make_interval(secs => %(seconds)s)
   AND NOT (id = ANY(%(live)s))
RETURNING id
"""

# A heartbeat: the worker's row stamped with the database's time; no row, no id back.
BEAT = (
    "UPDATE procrastinate_workers SET last_heartbeat = now() WHERE id = %(worker_id)s RETURNING id"
)
# The worker's row made again under its own id (an identity column: the id was handed
# out once, so no other worker has it), stamped now.
REJOIN = (
    "INSERT INTO procrastinate_workers (id, last_heartbeat) OVERRIDING SYSTEM VALUE"
    " VALUES (%(worker_id)s, now())"
    " ON CONFLICT (id) DO UPDATE SET last_heartbeat = now()"
)
# The jobs a worker still runs taken back: those put back in their queue and not taken
# by another worker ('todo'), and those whose worker link the pruning cut and not yet
# put back ('doing' with no worker); never one whose lock another running job holds.
RECLAIM = """
UPDATE procrastinate_jobs AS job SET status = 'doing', worker_id = %(worker_id)s
 WHERE job.id = ANY(%(job_ids)s)
   AND (job.status = 'todo' OR (job.status = 'doing' AND job.worker_id IS NULL))
   AND NOT EXISTS (
       SELECT 1 FROM procrastinate_jobs AS other
        WHERE job.lock IS NOT NULL AND other.lock = job.lock
          AND other.status = 'doing' AND other.id <> job.id)
RETURNING job.id
"""


# A stalled job ended only if it is still the dead worker's: two live workers look for
# stalled jobs at once, and one may have put a job back and another taken it already.
STALLED = "id = %(id)s AND status = 'doing' AND worker_id IS NOT DISTINCT FROM %(worker)s::bigint"
GIVE_UP = (
    "UPDATE procrastinate_jobs SET status = 'failed', attempts = attempts + 1,"
    f" abort_requested = false WHERE {STALLED} RETURNING id"
)
PUT_BACK = (
    "UPDATE procrastinate_jobs SET status = 'todo', attempts = attempts + 1,"
    f" scheduled_at = now() WHERE {STALLED} RETURNING id"
)
ABORT = (
    "UPDATE procrastinate_jobs SET status = 'aborted', attempts = attempts + 1,"
    f" abort_requested = false WHERE {STALLED} RETURNING id"
)

# the delivery locks of jobs waiting (the queueing lock's unique index) or running
# (the lock's unique index); a delivery job's lock and queueing lock are the same
BUSY_LOCKS = """
SELECT queueing_lock AS lock FROM procrastinate_jobs
 WHERE status = 'todo' AND queueing_lock = ANY(%(locks)s::varchar[])
UNION
SELECT lock FROM procrastinate_jobs
 WHERE status = 'doing' AND lock = ANY(%(locks)s::varchar[])
"""
