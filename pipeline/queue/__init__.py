"""The work queue on PostgreSQL (procrastinate): ``trendwatch worker`` processes, on as
many machines as wanted, take the jobs; the embedded ``trendwatch run`` needs none.

- ``decide``: the pure decisions (queue names, the locks of a fetch, whether a
  deferred fetch is still due)
- ``app``: the procrastinate App made from the configured PostgreSQL URL, with the
  tasks registered, and the recovery of the jobs of dead workers
- ``crawl``: the crawl queue's tasks (a periodic one that defers the due sources, the
  fetch of one source)
- ``process``: the process queue (the process job, one at a time)
- ``worker``: running a worker until SIGTERM

procrastinate's tables are created with the store's migrations
(:mod:`pipeline.store.queue`).
"""
