"""What PostgreSQL's change counter (pipeline/store/changes.py) costs: small write
transactions per second with the counter bumped before each commit (as the store does)
and without it, alternating, with 1 and 4 writing threads (one connection each); and
what a cached page pays to ask whether the database changed (``change_stamp``) against
the bare round trip ``SELECT 1`` on the same connection (the floor of any query).

Needs ``$TRENDWATCH_TEST_POSTGRES_URL`` (``eval "$(.ci/postgres.sh start)"``); each run
gets a fresh database. Run under the shared lock:

    flock /tmp/tw-bench.lock python bench/changes.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from migrate_db import fresh_database

from pipeline.store import Store


def writes_per_second(url: str, threads: int, per_thread: int, counter: bool) -> float:
    """Transactions a second of ``threads`` connections, each writing one row
    ``per_thread`` times in a transaction of its own."""
    stores = [Store(url) for _ in range(threads)]
    if not counter:
        for store in stores:
            store._change_slot = None  # as before the counter: no bump before COMMIT
    start = threading.Barrier(threads + 1)

    def work(n: int, store: Store) -> None:
        start.wait()
        for i in range(per_thread):
            with store.transaction():
                store._x(
                    "INSERT INTO state (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [f"bench-{n}-{i % 50}", str(i)],
                )

    workers = [threading.Thread(target=work, args=(n, s)) for n, s in enumerate(stores)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    for store in stores:
        store.close()
    return threads * per_thread / seconds


def round_trips(url: str, calls: int) -> tuple[float, float]:
    """Median µs of ``change_stamp()`` and of ``SELECT 1`` on one connection."""
    with Store(url) as store:
        stamp, floor = [], []
        for _ in range(calls):
            t = time.perf_counter()
            store.change_stamp()
            stamp.append(time.perf_counter() - t)
            t = time.perf_counter()
            store._x("SELECT 1").fetchone()
            floor.append(time.perf_counter() - t)
    return statistics.median(stamp) * 1e6, statistics.median(floor) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transactions", type=int, default=2000, help="per thread")
    args = parser.parse_args()
    admin = os.environ.get("TRENDWATCH_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("bench/changes.py needs $TRENDWATCH_TEST_POSTGRES_URL (.ci/postgres.sh start)")
    print(f"load average at start: {os.getloadavg()}")
    results: dict[str, list[float]] = {}
    for run in range(1, args.runs + 1):
        with fresh_database(admin) as url:
            Store(url).close()  # the schema, once
            for threads in (1, 4):
                n = args.transactions // threads
                for counter in (False, True) if run % 2 else (True, False):
                    rate = writes_per_second(url, threads, n, counter)
                    key = f"{threads} thread(s), counter {'on' if counter else 'off'}"
                    results.setdefault(key, []).append(rate)
            stamp, floor = round_trips(url, 2000)
            results.setdefault("change_stamp() µs", []).append(stamp)
            results.setdefault("SELECT 1 µs", []).append(floor)
        print(f"run {run}: load {os.getloadavg()[0]:.1f}", flush=True)
    for key, values in results.items():
        shown = ", ".join(f"{v:,.0f}" for v in values)
        unit = "" if "µs" in key else " transactions/s"
        print(f"{key}: median {statistics.median(values):,.0f}{unit} ({shown})")
    for threads in (1, 4):
        off = statistics.median(results[f"{threads} thread(s), counter off"])
        on = statistics.median(results[f"{threads} thread(s), counter on"])
        print(f"{threads} thread(s): +{(1 / on - 1 / off) * 1e6:,.0f} µs a transaction")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
